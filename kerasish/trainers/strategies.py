"""How a training run is spread over devices: an object the one loop calls.

:class:`SingleDevice` is the plain case and does (almost) nothing.
:class:`DataParallelStrategy` is several processes under ``torchrun``, each
with its piece of every batch: the forward pass goes through
``DistributedDataParallel`` so gradients are averaged, losses are weighed so
that the result is the one-process gradient, and metric states are summed
over processes. Every method of it that talks to the other processes is a
collective: all processes call it at the same point of the loop (the loop's
shape is the same everywhere, because every process sees the same number of
batches). The idea is Lightning's ``Strategy``: the loop stays one loop.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from kerasish.callbacks.backup_and_restore import BackupAndRestore
from kerasish.callbacks.callback import Callback
from kerasish.callbacks.csv_logger import CSVLogger
from kerasish.callbacks.history import History
from kerasish.callbacks.model_checkpoint import ModelCheckpoint
from kerasish.callbacks.progbar_logger import ProgbarLogger
from kerasish.callbacks.tensorboard import TensorBoard
from kerasish.distribution.data_parallel import active
from kerasish.distribution.sharding import gather_in_order
from kerasish.trainers import data_adapter as D
from kerasish.trainers.data_adapter import take_piece


def strategy_for_run():
    """The strategy for this process: data-parallel under torchrun (or a
    ``DataParallel`` distribution that is set), else one device."""
    dp = active()
    return SingleDevice() if dp is None else DataParallelStrategy(dp)


class SingleDevice:
    """Everything on the model's one device."""

    world_size = 1
    shard = None  # what the data adapters cut each batch for (nothing here)

    def shuffle_seed(self, seed):
        return seed

    def begin_fit(self, model, callbacks, steps):
        pass

    def end_fit(self, model):
        pass

    def train_forward(self, model, x):
        return model._train_forward_local(x)

    def weigh_loss(self, model, scaled, loss, values):
        """The loss to differentiate and the loss to track (unchanged here)."""
        return scaled, loss, values

    def weigh_tracked(self, model, loss, values):
        return loss, values

    def batch_logs(self, model, logs, step, steps):
        return logs

    def agree_to_stop(self, flag, every_step=False):
        return flag

    def end_epoch(self, model):
        pass

    def reduce_metrics(self, model):
        pass

    def prepare_inference(self, model):
        pass

    def on_step_error(self, error, what):
        pass

    def piece_of_batch(self, batch):
        """A whole batch given to ``train_on_batch`` and friends: this process's piece."""
        return batch, 1.0

    def gather_predictions(self, chunks, sizes):
        return torch.cat(chunks)


class _TrainForward(nn.Module):
    """What ``DistributedDataParallel`` wraps: the model's training forward
    pass (logits where the loss is fused), so DDP's gradient hooks fire."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model._train_forward_local(x)


def _metric_states(metric):
    """``(tensor, aggregation)`` for a metric's state and its sub-metrics'."""
    aggs = metric.__dict__.get("_aggregations", [])
    out = [(t, aggs[i] if i < len(aggs) else "sum") for i, t in enumerate(metric.__dict__.get("_variables", []))]
    for sub in metric.__dict__.get("_metrics", []):
        out.extend(_metric_states(sub))
    return out


# Callbacks whose batch hooks neither decide to stop nor need fresh values
# on every step; with only these, logs sync a few dozen times per epoch.
_RELAXED = (ProgbarLogger, History, CSVLogger, TensorBoard, BackupAndRestore)


def needs_every_step(callbacks) -> bool:
    for cb in callbacks:
        if isinstance(cb, _RELAXED) or (isinstance(cb, ModelCheckpoint) and cb.save_freq == "epoch"):
            continue
        hook = getattr(type(cb), "on_train_batch_end", None)
        if hook is not None and hook is not Callback.on_train_batch_end:
            return True
    return False


class SyncedLogs(Mapping):
    """Batch logs in a data-parallel fit: the values of the last
    synchronisation (every process holds the same ones, so callbacks decide alike)."""

    def __init__(self):
        self.values = {}

    def __getitem__(self, key):
        return self.values[key]

    def __iter__(self):
        return iter(self.values)

    def __len__(self):
        return len(self.values)


class DataParallelStrategy:
    """One process of several, each training on its piece of every batch.

    Args:
        dp: the active :class:`~kerasish.distribution.DataParallel`.
    """

    def __init__(self, dp):
        self.dp = dp
        self.world_size = dp.world_size
        self.shard = dp
        self.data = None  # the data whose batches are being stepped through (its batch_scale)
        self._logs = SyncedLogs()
        self._sync_every = 1
        self._every_step = True

    def shuffle_seed(self, seed):
        return self.dp.shared_seed(seed)

    # -- fit ---------------------------------------------------------------
    def begin_fit(self, model, callbacks, steps):
        if model._custom_train_step():
            raise NotImplementedError(
                f"Model '{model.name}' overrides train_step: a data-parallel fit runs the built-in step only (its forward "
                "pass goes through DistributedDataParallel). Train with one process, or move the custom logic into "
                "compute_loss, which the built-in step calls."
            )
        self._wrap(model)
        # Batch logs are averaged over the processes every `sync_every`
        # steps (one small all-reduce); every step when a callback may stop
        # training on them, and then the stop is agreed on too.
        self._every_step = needs_every_step(callbacks)
        self._sync_every = 1 if self._every_step else max(1, (steps or 1000) // 50)
        self._logs = SyncedLogs()

    def _wrap(self, model):
        """Wrap the forward pass in DistributedDataParallel (rebuilt when the
        set of trainable weights changed, e.g. after unfreezing)."""
        key = tuple(id(v.tensor) for v in model.trainable_weights)
        d = model.__dict__
        if d.get("_ddp") is not None and d.get("_ddp_key") == key:
            return
        object.__setattr__(model, "_ddp", None)  # plain attributes: never a submodule, never in state_dict
        compile_loss = model._compile_loss
        unused = compile_loss is not None and any(l is None for l in compile_loss.losses)
        ddp = self.dp.wrap(_TrainForward(model), find_unused_parameters=unused)
        object.__setattr__(model, "_ddp", ddp)
        object.__setattr__(model, "_ddp_key", key)
        object.__setattr__(model, "_dist_synced", tuple(id(p) for p in model.parameters()))

    def end_fit(self, model):
        object.__setattr__(model, "_ddp", None)
        object.__setattr__(model, "_ddp_key", None)

    def train_forward(self, model, x):
        ddp = model.__dict__.get("_ddp")
        return ddp(x) if ddp is not None else model._train_forward_local(x)

    def weigh_loss(self, model, scaled, loss, values):
        """DDP averages the processes' gradients. A loss that is a mean over
        the piece is weighed by the piece's share of the global batch (exact
        with uneven pieces); a sum over the piece by the number of processes.
        Either way: the one-process gradient."""
        world, scale = self.world_size, self.data.batch_scale
        summed = model._compile_loss.summed_part(values) if model._compile_loss is not None else None
        rescaled = scaled * scale
        if summed is not None:
            rescaled = rescaled + model._scale_loss(summed) * (world - scale)
        loss, values = self._tracked(model, loss, values, summed)
        return rescaled, loss, values

    def weigh_tracked(self, model, loss, values):
        summed = model._compile_loss.summed_part(values) if model._compile_loss is not None else None
        return self._tracked(model, loss, values, summed)

    def _tracked(self, model, loss, values, summed):
        """What this process adds to the loss trackers, so that the sums over
        processes are the one-process figures. A mean over the piece, times
        the piece's size, adds up across processes; a sum over the piece must
        count with the global batch's size (``world / batch_scale`` times the piece's)."""
        scale = self.data.batch_scale
        if scale == 0 or summed is None:
            return loss, values
        factor = self.world_size / scale
        losses = model._compile_loss.losses
        loss = loss + summed.detach() * (factor - 1)
        values = [v * factor if v is not None and getattr(losses[i], "reduction", None) == "sum" else v for i, v in enumerate(values)]
        return loss, values

    def batch_logs(self, model, logs, step, steps):
        if (step + 1) % self._sync_every == 0 or step + 1 == steps:
            self._logs.values = self.global_logs(model)
        return self._logs

    def agree_to_stop(self, flag, every_step=False):
        if every_step and not self._every_step:
            return flag
        return self.dp.any(flag)

    def end_epoch(self, model):
        self.reduce_metrics(model)
        # Moving statistics (BatchNormalization) were last updated from each
        # process's own piece: rank 0's win, so that validation, checkpoints
        # and the final model agree everywhere.
        self.dp.sync_parameters(model, buffers_only=True)

    def on_step_error(self, error, what):
        if isinstance(error, RuntimeError):  # gradients are averaged in backward: a lost peer shows here
            self.dp.raise_if_lost(error, what)

    # -- metrics -----------------------------------------------------------
    def reduce_metrics(self, model):
        """Make every metric state the sum (or mean, as each variable's
        ``aggregation`` says) over all processes, in place."""
        items = [(t, a) for m in model.metrics for t, a in _metric_states(m) if a not in ("none", None)]
        if not items:
            return
        parts = []
        for t, agg in items:
            v = t.detach().reshape(-1).to(torch.float64)
            if agg == "only_first_replica" and not self.dp.is_chief:
                v = torch.zeros_like(v)
            parts.append(v)
        total = self.dp.all_reduce(torch.cat(parts), what="averaging losses and metrics")
        offset = 0
        with torch.no_grad():
            for t, agg in items:
                n = t.numel()
                v = total[offset:offset + n]
                if agg == "mean":
                    v = v / self.world_size
                t.copy_(v.reshape(t.shape).to(t.dtype))
                offset += n

    def global_logs(self, model):
        """The logs averaged over all processes, as floats, leaving this
        process's running sums as they were."""
        items = [t for m in model.metrics for t, _ in _metric_states(m)]
        saved = [t.clone() for t in items]
        self.reduce_metrics(model)
        try:
            return model._float_logs(model.get_metrics_result())
        finally:
            with torch.no_grad():
                for t, s in zip(items, saved):
                    t.copy_(s)

    # -- evaluate / predict --------------------------------------------------
    def prepare_inference(self, model):
        """Rank 0's weights everywhere, once per set of weights: processes
        that initialised the model with different random draws then agree."""
        key = tuple(id(p) for p in model.parameters())
        if model.__dict__.get("_dist_synced") != key:
            self.dp.sync_parameters(model)
            object.__setattr__(model, "_dist_synced", key)

    def piece_of_batch(self, batch):
        if not self.dp.auto_shard_dataset:
            return batch, 1.0
        x = batch[0]
        n = D._batch_size_of(x)
        batch = tuple(take_piece(s, self.dp.rank, self.world_size) for s in batch)
        return batch, (D._batch_size_of(batch[0]) * self.world_size / n if n else 1.0)

    def gather_predictions(self, chunks, sizes):
        if not self.dp.auto_shard_dataset:
            return torch.cat(chunks)
        return gather_in_order(self.dp, chunks, sizes)
