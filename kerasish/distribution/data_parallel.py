"""Data parallelism on ``torch.distributed``: one process per device.

kerasish does not run several devices from one process (torch's
``nn.DataParallel`` is the slow way to do that); a data-parallel run is one
process per device, started by ``torchrun``, each holding a full copy of the
model. ``fit`` wraps the model's forward pass in ``DistributedDataParallel``,
which averages gradients across processes during ``backward``; the data is
split so that the processes together see exactly the batch a single process
would see. This module holds the process-group side: detecting torchrun,
choosing the device and backend, starting the group, and the few collectives
the trainer needs, each failing with a clear error when another process died.
"""

from __future__ import annotations

import datetime
import os

import torch
import torch.distributed as dist
from torch import nn

__all__ = ["DataParallel", "DistributedError", "active", "distribution", "initialize", "list_devices", "set_distribution", "torchrun_environment"]

_UNSET = object()
_explicit = _UNSET  # set_distribution(...) value; _UNSET: decide from the environment
_auto = None  # the DataParallel made for a torchrun launch, once


class DistributedError(RuntimeError):
    """A collective failed: another process stopped, or the group timed out."""


def torchrun_environment() -> dict | None:
    """``{"rank", "world_size", "local_rank"}`` when launched by torchrun (or
    any launcher that sets the same variables), else None."""
    if "WORLD_SIZE" not in os.environ or "RANK" not in os.environ:
        return None
    try:
        world = int(os.environ["WORLD_SIZE"])
        rank = int(os.environ["RANK"])
        local = int(os.environ.get("LOCAL_RANK", rank))
    except ValueError:
        raise ValueError(f"torchrun environment variables are not integers: WORLD_SIZE={os.environ.get('WORLD_SIZE')!r}, "
                         f"RANK={os.environ.get('RANK')!r}, LOCAL_RANK={os.environ.get('LOCAL_RANK')!r}") from None
    return {"rank": rank, "world_size": world, "local_rank": local}


def _parse_device(spec) -> torch.device:
    if isinstance(spec, torch.device):
        return spec
    text = str(spec).lower()
    if text.startswith("gpu"):  # Keras spells CUDA devices "gpu:0"
        text = "cuda" + text[3:]
    try:
        return torch.device(text)
    except (RuntimeError, TypeError):
        raise ValueError(f"DataParallel: unknown device {spec!r}; use 'cpu', 'cuda:0' (or Keras's 'gpu:0'), ...") from None


def list_devices(device_type=None) -> list[str]:
    """The devices this process can use, as Keras names them (``"gpu:0"``,
    ``"cpu:0"``). ``device_type``: ``"cpu"`` or ``"gpu"`` to choose."""
    if device_type not in (None, "cpu", "gpu", "cuda"):
        raise ValueError(f"list_devices: device_type must be 'cpu' or 'gpu', got {device_type!r}")
    want_gpu = device_type in ("gpu", "cuda") or (device_type is None and torch.cuda.is_available())
    if want_gpu:
        return [f"gpu:{i}" for i in range(torch.cuda.device_count())]
    return ["cpu:0"]


class DataParallel:
    """Data-parallel training: every process holds the whole model, sees its
    share of each batch, and gradients are averaged after ``backward``.

    Under ``torchrun`` kerasish makes one of these by itself; make one to
    choose devices, the backend or the timeout, then pass it to
    :func:`set_distribution`. ``set_distribution(None)`` turns data
    parallelism off (each process then trains on its own).

    Args:
        devices: one device per local process, e.g. ``["cuda:0", "cuda:1"]``
            (Keras's ``"gpu:0"`` spelling is accepted); the process with
            ``LOCAL_RANK`` ``i`` uses ``devices[i]``. Default: ``cuda:LOCAL_RANK``
            when CUDA is there, else the CPU.
        backend: ``"nccl"`` or ``"gloo"``; default nccl for CUDA, gloo for CPU.
        timeout: seconds a process waits for the others in a collective
            before failing (default 600).
        auto_shard_dataset: (Keras's argument) split the data across
            processes; ``False`` when each process already reads its own shard
            (then ``batch_size`` is per process).
        find_unused_parameters: passed to ``DistributedDataParallel``;
            default: on when some model output has no loss.
        device_mesh: accepted for Keras compatibility; only a 1-D mesh over
            the processes is supported.

    Example:
        >>> from kerasish import distribution
        >>> distribution.set_distribution(distribution.DataParallel(timeout=120))
    """

    def __init__(self, devices=None, backend=None, timeout=600, auto_shard_dataset=True, find_unused_parameters=None, device_mesh=None, **kwargs):
        if kwargs:
            raise ValueError(f"DataParallel() got unexpected keyword arguments: {sorted(kwargs)}")
        if device_mesh is not None and devices is None:
            devices = getattr(device_mesh, "devices", None)
            if devices is not None and hasattr(devices, "flatten"):
                devices = list(devices.flatten())
        env = torchrun_environment() or {"rank": 0, "world_size": 1, "local_rank": 0}
        self.rank = env["rank"]
        self.world_size = env["world_size"]
        self.local_rank = env["local_rank"]
        if devices is not None:
            if isinstance(devices, (str, torch.device)):
                devices = [devices]
            devices = [_parse_device(d) for d in devices]
            if not devices:
                raise ValueError("DataParallel(devices=[]): give at least one device.")
            if self.world_size == 1 and len(devices) > 1:
                raise ValueError(f"DataParallel(devices={[str(d) for d in devices]}) in a single process: kerasish runs one process "
                                 f"per device; launch the script with `torchrun --nproc_per_node={len(devices)} script.py`.")
            self.device = devices[self.local_rank % len(devices)]
        elif torch.cuda.is_available():
            self.device = torch.device("cuda", self.local_rank % torch.cuda.device_count())
        else:
            self.device = torch.device("cpu")
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"DataParallel: device {self.device} asked for, but CUDA is not available on this machine.")
        if self.device.type == "mps":
            raise ValueError("DataParallel: torch.distributed has no MPS backend; use the CPU ('cpu') on a Mac.")
        if backend is None:
            backend = "nccl" if self.device.type == "cuda" else "gloo"
        if backend not in ("nccl", "gloo", "mpi", "ucc"):
            raise ValueError(f"DataParallel: unknown backend {backend!r}; use 'nccl' (CUDA) or 'gloo' (CPU or CUDA).")
        if backend == "nccl" and self.device.type != "cuda":
            raise ValueError(f"DataParallel: backend 'nccl' needs CUDA devices, but this process uses {self.device}; use backend='gloo'.")
        self.backend = backend
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise ValueError(f"DataParallel: `timeout` must be a positive number of seconds, got {timeout!r}")
        self.timeout = float(timeout)
        self.auto_shard_dataset = bool(auto_shard_dataset)
        self.find_unused_parameters = find_unused_parameters
        self._announced = False
        self._in_chief_block = False

    def __repr__(self):
        return f"DataParallel(rank={self.rank}, world_size={self.world_size}, device={str(self.device)!r}, backend={self.backend!r})"

    # -- the group ------------------------------------------------------
    @property
    def enabled(self) -> bool:
        """True when there is more than one process to train with."""
        return self.world_size > 1

    @property
    def is_chief(self) -> bool:
        """Rank 0: the process that prints and writes files."""
        return self.rank == 0

    def initialize(self):
        """Start the process group (once; a group the user started is used as is)."""
        if not self.enabled:
            return self
        if not dist.is_initialized():
            if self.device.type == "cuda":
                torch.cuda.set_device(self.device)
            kwargs = {"backend": self.backend, "timeout": datetime.timedelta(seconds=self.timeout)}
            if self.backend == "nccl":
                kwargs["device_id"] = self.device
            try:
                dist.init_process_group(**kwargs)
            except Exception as e:  # rendezvous failures: name what was tried
                raise DistributedError(f"kerasish could not start the process group (backend {self.backend!r}, rank {self.rank} of "
                                       f"{self.world_size}, MASTER_ADDR={os.environ.get('MASTER_ADDR')!r}, "
                                       f"MASTER_PORT={os.environ.get('MASTER_PORT')!r}): {e}") from e
        elif dist.get_world_size() != self.world_size:
            raise ValueError(f"The process group has {dist.get_world_size()} processes but WORLD_SIZE says {self.world_size}.")
        if not self._announced and self.is_chief and os.environ.get("KERASISH_QUIET_DISTRIBUTED") is None:
            print(f"kerasish: data-parallel over {self.world_size} processes ({self.backend}, {self.device.type})", flush=True)
        self._announced = True
        return self

    # -- collectives, each with a clear error ----------------------------
    def _fail(self, what, e):
        raise DistributedError(
            f"kerasish data-parallel: {what} failed on rank {self.rank} of {self.world_size}: another process has probably "
            f"stopped (see its error above) or did not reach the same point in the script within {self.timeout:.0f} s. "
            f"Stopping this process too. (torch.distributed: {str(e).splitlines()[0] if str(e) else type(e).__name__})"
        ) from None  # the torch message is above, in ours; its C++ traceback helps no one

    def raise_if_lost(self, error, what):
        """Turn a torch.distributed failure raised inside a step (DDP's
        all-reduce runs in backward) into a clear DistributedError; other
        errors are left to the caller."""
        text = f"{type(error).__name__}: {error}"
        markers = ("gloo", "nccl", "NCCL", "Connection reset", "Connection closed", "Broken pipe", "DistBackendError",
                   "DistNetworkError", "timed out", "Timed out")
        if isinstance(error, getattr(dist, "DistError", ())) or any(m in text for m in markers):
            self._fail(what, error)

    def _comm_device(self):
        # NCCL moves CUDA tensors only; gloo moves CPU tensors (and CUDA ones).
        return self.device if self.backend == "nccl" else torch.device("cpu")

    def all_reduce(self, tensor, op="sum", what="averaging metrics"):
        """Reduce ``tensor`` over all processes; returns the result (a new tensor
        on ``tensor``'s device)."""
        if not self.enabled:
            return tensor
        buf = tensor.detach().to(self._comm_device(), copy=True)
        red = {"sum": dist.ReduceOp.SUM, "max": dist.ReduceOp.MAX, "min": dist.ReduceOp.MIN}[op]
        try:
            dist.all_reduce(buf, op=red)
        except Exception as e:
            self._fail(what, e)
        return buf.to(tensor.device)

    def broadcast(self, tensor, src=0, what="broadcasting from rank 0"):
        if not self.enabled:
            return tensor
        buf = tensor.detach().to(self._comm_device(), copy=True)
        try:
            dist.broadcast(buf, src=src)
        except Exception as e:
            self._fail(what, e)
        return buf.to(tensor.device)

    def all_gather(self, tensor, what="gathering results"):
        """``[tensor of rank 0, of rank 1, ...]``: every rank's ``tensor``
        (any first-axis length; the other axes must agree)."""
        if not self.enabled:
            return [tensor]
        dev = self._comm_device()
        n = torch.tensor([tensor.shape[0]], dtype=torch.int64, device=dev)
        sizes = [torch.zeros_like(n) for _ in range(self.world_size)]
        try:
            dist.all_gather(sizes, n)
            sizes = [int(s.item()) for s in sizes]
            longest = max(sizes)
            padded = torch.zeros((longest,) + tuple(tensor.shape[1:]), dtype=tensor.dtype, device=dev)
            padded[: tensor.shape[0]] = tensor.detach().to(dev)
            out = [torch.empty_like(padded) for _ in range(self.world_size)]
            dist.all_gather(out, padded)
        except Exception as e:
            self._fail(what, e)
        return [o[:s].to(tensor.device) for o, s in zip(out, sizes)]

    def any(self, flag: bool, what="agreeing to stop") -> bool:
        """True on every process when ``flag`` is true on any of them."""
        if not self.enabled:
            return bool(flag)
        return bool(self.all_reduce(torch.tensor([1 if flag else 0], dtype=torch.int32), op="max", what=what).item())

    def shared_seed(self, seed: int) -> int:
        """Rank 0's ``seed`` on every process (so shuffles agree)."""
        if not self.enabled:
            return int(seed)
        return int(self.broadcast(torch.tensor([int(seed)], dtype=torch.int64), what="agreeing on the shuffle seed").item())

    def chief_does(self, fn, what):
        """Run ``fn`` on rank 0 only; every process returns when it is done and
        raises when it failed there (so no process goes on with a missing file)."""
        if not self.enabled or self._in_chief_block:
            return fn()  # (nested: the outer call already does the waiting)
        error, result = None, None
        if self.is_chief:
            self._in_chief_block = True
            try:
                result = fn()
            except Exception as e:
                error = e
            finally:
                self._in_chief_block = False
        failed = self.broadcast(torch.tensor([0 if error is None else 1], dtype=torch.int32), what=what)
        if error is not None:
            raise error
        if int(failed.item()):
            raise DistributedError(f"{what} failed on rank 0 (see its error); rank {self.rank} stops too.")
        return result

    # -- the model ------------------------------------------------------
    def sync_parameters(self, module: nn.Module, buffers_only=False):
        """Give every process rank 0's parameters and buffers (models made
        with different random initial weights then agree). ``buffers_only``:
        just the buffers (BatchNormalization's moving statistics, which each
        process updates from its own piece of the batch)."""
        if not self.enabled:
            return
        tensors = list(module.buffers()) if buffers_only else list(module.parameters()) + list(module.buffers())
        if not tensors:
            return
        try:
            with torch.no_grad():
                for t in tensors:
                    buf = t.detach() if t.device == self._comm_device() else t.detach().to(self._comm_device())
                    dist.broadcast(buf, src=0)
                    if buf is not t:
                        t.copy_(buf)
        except Exception as e:
            self._fail("copying rank 0's weights", e)

    def wrap(self, module: nn.Module, find_unused_parameters=False) -> nn.Module:
        """``DistributedDataParallel`` around ``module`` (its construction also
        copies rank 0's weights to every process)."""
        from torch.nn.parallel import DistributedDataParallel

        ids = [self.device.index] if self.device.type == "cuda" else None
        fup = self.find_unused_parameters if self.find_unused_parameters is not None else find_unused_parameters
        try:
            return DistributedDataParallel(module, device_ids=ids, find_unused_parameters=bool(fup))
        except RuntimeError as e:
            if "trainable" in str(e) or "requires_grad" in str(e):
                raise ValueError(f"DataParallel: the model has no trainable weights to train ({e}).") from None
            self._fail("wrapping the model in DistributedDataParallel", e)


def set_distribution(value):
    """Use ``value`` (a :class:`DataParallel`) for training; ``None`` turns
    data parallelism off, even under torchrun."""
    global _explicit
    if value is not None and not isinstance(value, DataParallel):
        raise TypeError(f"set_distribution() takes a kerasish.distribution.DataParallel or None, got {type(value).__name__}")
    _explicit = value


def distribution():
    """The distribution in use (``DataParallel``) or None."""
    global _auto
    if _explicit is not _UNSET:
        return _explicit
    if os.environ.get("KERASISH_DISTRIBUTED", "").lower() in ("0", "false", "off"):
        return None
    env = torchrun_environment()
    if env is None or env["world_size"] <= 1:
        return None
    if _auto is None:
        _auto = DataParallel()
    return _auto


def active() -> DataParallel | None:
    """The distribution when it has more than one process, started; else None."""
    d = distribution()
    if d is None or not d.enabled:
        return None
    return d.initialize()


def initialize(job_addresses=None, num_processes=None, process_id=None):
    """Keras's ``keras.distribution.initialize`` for processes started without
    torchrun: ``job_addresses`` is ``"host:port"`` of process 0 (or a
    comma-separated list whose first entry is used), ``num_processes`` the
    world size and ``process_id`` this process's rank. Sets the variables
    torchrun would set, then starts the process group."""
    if job_addresses is not None:
        first = str(job_addresses).split(",")[0].strip()
        if ":" not in first:
            raise ValueError(f"initialize: job_addresses must be 'host:port', got {job_addresses!r}")
        host, port = first.rsplit(":", 1)
        os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = host, port
    for arg, value in (("num_processes", num_processes), ("process_id", process_id)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise ValueError(f"initialize: `{arg}` must be a non-negative int, got {value!r}")
    if num_processes is not None:
        os.environ["WORLD_SIZE"] = str(num_processes)
    if process_id is not None:
        os.environ["RANK"] = str(process_id)
        os.environ.setdefault("LOCAL_RANK", str(process_id))
    global _auto
    _auto = None
    d = distribution()
    if d is not None:
        d.initialize()
    return d
