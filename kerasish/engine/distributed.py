"""What the trainer does differently when several processes train together.

Kept apart from ``trainer.py`` so that the single-process hot path reads as
what it is. Every function here is a collective: all processes call it at the
same point of the loop (the loop's shape is the same everywhere, because every
process sees the same number of batches).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn


class TrainForward(nn.Module):
    """What ``DistributedDataParallel`` wraps: the model's training forward
    pass (logits where the loss is fused), so DDP's gradient hooks fire."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model._forward(x, True, logits=True)


def _metric_states(metric):
    """``(tensor, aggregation)`` for a metric's state and its sub-metrics'."""
    aggs = metric.__dict__.get("_aggregations", [])
    out = [(t, aggs[i] if i < len(aggs) else "sum") for i, t in enumerate(metric.__dict__.get("_variables", []))]
    for sub in metric.__dict__.get("_metrics", []):
        out.extend(_metric_states(sub))
    return out


def _tracker_states(trainer):
    items = []
    if trainer._loss_sum is not None:
        items.append((trainer._loss_sum, "sum"))
        for s in trainer._out_loss_sums or []:
            if s is not None:
                items.append((s, "sum"))
    for built in trainer._compile_state.metrics or []:
        for m, _ in built:
            items.extend(_metric_states(m))
    return items


def reduce_trackers(trainer, dp):
    """Make the loss and metric states the sums (or means, as each metric
    variable's ``aggregation`` says) over all processes, in place."""
    items = [(t, a) for t, a in _tracker_states(trainer) if a not in ("none", None)]
    if not items and trainer._loss_sum is None:
        return
    device = items[0][0].device if items else torch.device("cpu")
    parts = []
    for t, agg in items:
        v = t.detach().reshape(-1).to(torch.float64)
        if agg == "only_first_replica" and not dp.is_chief:
            v = torch.zeros_like(v)
        parts.append(v)
    parts.append(torch.tensor([float(trainer._loss_count)], dtype=torch.float64, device=device))
    total = dp.all_reduce(torch.cat(parts), what="averaging losses and metrics")
    offset = 0
    with torch.no_grad():
        for t, agg in items:
            n = t.numel()
            v = total[offset:offset + n]
            if agg == "mean":
                v = v / dp.world_size
            t.copy_(v.reshape(t.shape).to(t.dtype))
            offset += n
    trainer._loss_count = int(round(float(total[-1])))


def global_logs(trainer, dp, prefix=""):
    """The logs averaged over all processes, as floats, leaving this
    process's running sums as they were."""
    items = _tracker_states(trainer)
    saved = [t.clone() for t, _ in items]
    count = trainer._loss_count
    reduce_trackers(trainer, dp)
    try:
        return trainer._float_logs(prefix)
    finally:
        with torch.no_grad():
            for (t, _), s in zip(items, saved):
                t.copy_(s)
        trainer._loss_count = count


class SyncedLogs(Mapping):
    """Batch logs in a data-parallel fit: the values of the last
    synchronisation (every process holds the same ones, so callbacks decide
    alike)."""

    def __init__(self):
        self.values = {}

    def __getitem__(self, key):
        return self.values[key]

    def __iter__(self):
        return iter(self.values)

    def __len__(self):
        return len(self.values)


# Callbacks whose batch hooks neither decide to stop nor need fresh values
# on every step; with only these, logs sync a few dozen times per epoch.
def needs_every_step(callbacks) -> bool:
    from kerasish.callbacks.backup_and_restore import BackupAndRestore
    from kerasish.callbacks.callback import Callback
    from kerasish.callbacks.csv_logger import CSVLogger
    from kerasish.callbacks.history import History
    from kerasish.callbacks.model_checkpoint import ModelCheckpoint
    from kerasish.callbacks.progbar_logger import ProgbarLogger
    from kerasish.callbacks.tensorboard import TensorBoard

    relaxed = (ProgbarLogger, History, CSVLogger, TensorBoard, BackupAndRestore)
    for cb in callbacks:
        if isinstance(cb, relaxed) or (isinstance(cb, ModelCheckpoint) and cb.save_freq == "epoch"):
            continue
        hook = getattr(type(cb), "on_train_batch_end", None)
        if hook is not None and hook is not Callback.on_train_batch_end:
            return True
    return False
