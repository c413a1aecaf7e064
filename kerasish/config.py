"""``kerasish.config``: where models train and how files load.

Device choice, in order: ``set_device(...)``, then the ``KERASISH_DEVICE``
environment variable, then (under torchrun) this process's device of the
data-parallel run, then CUDA, MPS, CPU, whichever is there first. A model
the user moved with ``model.to(device)`` stays where it was put.
"""

from __future__ import annotations

import os

import torch

from kerasish.distribution import data_parallel as _data_parallel
from kerasish.saving.object_registration import enable_unsafe_deserialization, in_safe_mode

_device_override: torch.device | None = None


def _parse(device) -> torch.device:
    try:
        return torch.device(device)
    except (RuntimeError, TypeError) as e:
        raise ValueError(f"Unknown device {device!r}: use 'cpu', 'cuda', 'cuda:1', 'mps', ...") from e


def set_device(device) -> None:
    """Train and predict on ``device`` (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``);
    ``None`` goes back to the automatic choice."""
    global _device_override
    if device is None:
        _device_override = None
        return
    dev = _parse(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"set_device({device!r}): CUDA is not available on this machine.")
    if dev.type == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        raise ValueError(f"set_device({device!r}): MPS is not available on this machine.")
    _device_override = dev


def explicit_device() -> torch.device | None:
    """The device the user asked for (``set_device`` or ``KERASISH_DEVICE``), if any."""
    if _device_override is not None:
        return _device_override
    env = os.environ.get("KERASISH_DEVICE")
    if env:
        return _parse(env)
    return None


def get_device() -> torch.device:
    """The device kerasish uses for new work."""
    explicit = explicit_device()
    if explicit is not None:
        return explicit
    dist = _data_parallel.distribution()
    if dist is not None and dist.enabled:  # one device per process: this process's
        return dist.device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if hasattr(torch.backends, "mps") and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def image_data_format() -> str:
    return "channels_last"


def floatx() -> str:
    return "float32"


def backend() -> str:
    return "torch"


_interactive_logging = True


def enable_interactive_logging() -> None:
    """Progress bars and messages print to stdout (the default), as Keras's."""
    global _interactive_logging
    _interactive_logging = True


def disable_interactive_logging() -> None:
    """Progress bars and messages go to the ``kerasish`` logger (``logging.info``)
    instead of stdout, one line per finished epoch: for jobs whose output is a log."""
    global _interactive_logging
    _interactive_logging = False


def is_interactive_logging_enabled() -> bool:
    """Whether progress prints to stdout (True) or to the ``kerasish`` logger."""
    return _interactive_logging


__all__ = ["backend", "disable_interactive_logging", "enable_interactive_logging", "is_interactive_logging_enabled", "enable_unsafe_deserialization", "explicit_device", "floatx", "get_device", "image_data_format", "in_safe_mode", "set_device"]
