"""Output buffers that one inference loop reuses from batch to batch.

``predict`` and ``evaluate`` run the same graph on batch after batch of the
same shape. A layer whose output is large can write it into a buffer kept
here rather than into a fresh allocation: on a CPU, glibc's allocator returns
blocks above 32 MiB to the operating system as soon as they are freed, so a
fresh 40 MB activation is 10,000 page faults of newly zeroed memory on every
batch (a fifth of the fruit network's ``predict`` on this project's machine).

A buffer is only handed to a graph step whose output cannot outlive the batch:
not a model output, read only by layers whose outputs never share memory with
their inputs (see ``Layer._fresh_outputs``), and only while nobody has hooked
the step's module or its readers' (a hook could keep the tensor; checked on
every call, as a callback may add one mid-loop). Buffers are ordinary tensors,
never inference tensors, so that ``predict`` (under ``torch.inference_mode``)
and ``evaluate`` (under ``torch.no_grad``) can share them.

A loop checks a workspace out for itself and checks it back in when it ends,
so the next ``predict`` of the same model does not page-fault its buffers in
again; a loop running at the same time in another thread gets a workspace of
its own. The model keeps the buffers of its last loop (on the fruit network
three of 41 MB, on a CPU only) for as long as the model lives, up to
``KEEP_BYTES`` in all: a ``predict`` with a very large batch drops its buffers
when it ends, as torch's allocations would be dropped.
"""

from __future__ import annotations

import weakref

import torch

from kerasish.engine.hooks import has_forward_hooks

# model -> the workspace its last inference loop checked in
_idle: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
KEEP_BYTES = 256 * 2**20


class Workspace:
    """Buffers keyed by the graph slot they stand for."""

    def __init__(self):
        self._buffers: dict[int, torch.Tensor] = {}

    @classmethod
    def checkout(cls, model) -> Workspace | None:
        """A workspace for one inference loop of ``model``, or None where none may be used."""
        if not any(step.reusable for step in getattr(model, "_steps", ())):
            return None  # nothing in this graph would use one
        # hooks are checked per call (may_feed, native_call_reusing), not here:
        # a callback may add one after the loop has started
        return _idle.pop(model, None) or cls()

    @staticmethod
    def may_feed(readers) -> bool:
        """Whether a buffer may feed ``readers`` now: none of their modules is hooked."""
        return not any(r._torch_module is not None and has_forward_hooks(r._torch_module) for r in readers)

    @staticmethod
    def checkin(model, workspace: Workspace | None) -> None:
        """Keep ``workspace``'s buffers for ``model``'s next inference loop."""
        if workspace is not None and workspace._buffers and workspace.nbytes() <= KEEP_BYTES:
            _idle[model] = workspace

    def nbytes(self) -> int:
        return sum(b.numel() * b.element_size() for b in self._buffers.values())

    def buffer(self, key: int, shape: tuple, like: torch.Tensor) -> torch.Tensor:
        """An NCHW channels_last buffer of ``shape`` (contents undefined).

        A smaller batch (the last one) gets a view of the first rows of the
        buffer already kept, which is channels_last contiguous too.
        """
        buf = self._buffers.get(key)
        if buf is None or buf.shape[1:] != shape[1:] or buf.shape[0] < shape[0] or buf.dtype != like.dtype or buf.device != like.device:
            with torch.inference_mode(False):  # writable outside inference mode too
                buf = torch.empty(shape, dtype=like.dtype, device=like.device, memory_format=torch.channels_last)
            self._buffers[key] = buf
        return buf if buf.shape[0] == shape[0] else buf[: shape[0]]
