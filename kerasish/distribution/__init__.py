"""``kerasish.distribution``: data-parallel training under ``torchrun``.

Launch the same script with ``torchrun --nproc_per_node=N script.py`` and
``fit`` trains data-parallel: one process per device, the model wrapped in
``DistributedDataParallel``, each batch split across the processes, metrics
averaged over them, and only rank 0 printing and writing files. See
docs/distributed.md.

Example:
    >>> from kerasish import distribution
    >>> distribution.list_devices("cpu")
    ['cpu:0']
"""

from kerasish.distribution.data_parallel import (
    DataParallel,
    DistributedError,
    distribution,
    initialize,
    list_devices,
    set_distribution,
)


def is_chief() -> bool:
    """True in the process that prints and writes files (rank 0, or the only process)."""
    d = distribution()
    return d is None or d.is_chief


def process_index() -> int:
    """This process's rank (0 without data parallelism)."""
    d = distribution()
    return 0 if d is None else d.rank


def num_processes() -> int:
    """How many processes train together (1 without data parallelism)."""
    d = distribution()
    return 1 if d is None else d.world_size


__all__ = ["DataParallel", "DistributedError", "distribution", "initialize", "is_chief", "list_devices", "num_processes",
           "process_index", "set_distribution"]
