"""What ``compile()`` turns its arguments into, as Keras's ``compile_utils``.

:class:`CompileLoss` holds the loss of each output (resolved on the first
targets when given as ``"crossentropy"``), the loss weights and, for models
with several outputs, a tracker per output (``"<output>_loss"``).
:class:`CompileMetrics` is one metric that holds the compiled metrics, built on
the first batch (``"accuracy"`` becomes the accuracy that fits the targets and
the loss). Both read and write flat lists (one entry per model output).

Where a model ends in softmax or sigmoid and the loss is the matching
crossentropy, :meth:`CompileLoss.plan_logits` tells the trainer which output
layers may stop before their activation: the loss is then computed from the
logits (faster, and never the log of zero). The losses given to ``compile()``
stay as they were for :meth:`Trainer.compute_loss`, which sees probabilities.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from kerasish import activations
from kerasish import losses as losses_mod
from kerasish import metrics as metrics_mod
from kerasish.metrics.metric import Metric
from kerasish.metrics.reduction_metrics import Mean

# Metrics that give the same result on logits as on softmax probabilities.
_RANKING = (metrics_mod.CategoricalAccuracy, metrics_mod.SparseCategoricalAccuracy, metrics_mod.TopKCategoricalAccuracy,
            metrics_mod.SparseTopKCategoricalAccuracy)


class LossTracker(Mean):
    """The running mean of a loss, weighted by batch size (Keras's ``Mean``
    named ``"loss"``), with an update for the built-in step that skips the
    public wrapper: no device check beyond one comparison, no grad-mode switch."""

    def _add(self, value, batch_size):
        value = value.detach()
        if self.total.device != value.device:
            self.to(value.device)
        self.total.add_(value.reshape(()).to(self.total.dtype), alpha=batch_size)
        self.count.add_(batch_size)


class _PendingCrossentropy:
    """``loss="crossentropy"`` before the targets are seen."""

    def __init__(self, identifier):
        self.identifier = identifier
        self.name = identifier


def _is_crossentropy_alias(identifier):
    return isinstance(identifier, str) and identifier.lower() in ("crossentropy", "ce")


def per_output(value, arg, names, model_name):
    """``value`` (one for all, a list, or a dict by output name) as a list per output."""
    n = len(names)
    if isinstance(value, Mapping):
        unknown = set(value) - set(names)
        if unknown:
            raise ValueError(f"`{arg}` has keys {sorted(unknown)} that are not outputs of model '{model_name}'; outputs: {names}.")
        return [value.get(name) for name in names]
    if isinstance(value, (list, tuple)) and (n > 1 or len(value) == 1):
        if len(value) != n:
            raise ValueError(f"`{arg}` has {len(value)} entries but model '{model_name}' has {n} outputs ({names}).")
        return list(value)
    return [value] * n  # one value for every output, as Keras allows


def per_output_metrics(metrics, arg, names, model_name):
    if metrics is None:
        return [[] for _ in names]
    if isinstance(metrics, Mapping):
        unknown = set(metrics) - set(names)
        if unknown:
            raise ValueError(f"`{arg}` has keys {sorted(unknown)} that are not outputs of model '{model_name}'; outputs: {names}.")
        out = []
        for name in names:
            m = metrics.get(name, [])
            out.append(list(m) if isinstance(m, (list, tuple)) else [m])
        return out
    if not isinstance(metrics, (list, tuple)):
        raise TypeError(f"`{arg}` must be a list or dict, got {type(metrics).__name__}: {metrics!r}")
    n = len(names)
    if n > 1 and metrics and all(isinstance(m, (list, tuple)) for m in metrics):
        if len(metrics) != n:
            raise ValueError(f"`{arg}` has {len(metrics)} lists but model '{model_name}' has {n} outputs.")
        return [list(m) for m in metrics]
    return [list(metrics) for _ in names]


def _crossentropy_object(loss):
    """A crossentropy given by name or function (a LossFunctionWrapper) as its
    class, so that a from_logits twin can be made; anything else unchanged."""
    L = losses_mod
    fn = getattr(loss, "fn", None)
    classes = {L.categorical_crossentropy: L.CategoricalCrossentropy, L.sparse_categorical_crossentropy: L.SparseCategoricalCrossentropy,
               L.binary_crossentropy: L.BinaryCrossentropy}
    if fn in classes:
        kwargs = dict(getattr(loss, "_fn_kwargs", {}))
        return classes[fn](name=loss.name, reduction=loss.reduction, **kwargs)
    return loss


def apply_output_activation(act, logits):
    if act is activations.softmax:
        return torch.softmax(logits, dim=-1)
    return torch.sigmoid(logits)


class CompileLoss:
    """The compiled loss of a model: one loss (or None) per output.

    Args:
        loss: what ``compile(loss=...)`` got: one loss for every output, a
            list, or a dict by output name.
        loss_weights: a list or dict of floats, or None.
        output_names: the model's output names (one per flat output).
        model_name: for error messages.
    """

    def __init__(self, loss, loss_weights, output_names, model_name):
        self.output_names = list(output_names)
        self.losses = [None if l is None else _PendingCrossentropy(l) if _is_crossentropy_alias(l) else losses_mod.get_loss_object(l)
                       for l in per_output(loss, "loss", self.output_names, model_name)]
        if all(l is None for l in self.losses):
            raise ValueError(f"`loss` gives no loss for any output of model '{model_name}' (outputs: {self.output_names}).")
        weights = per_output(loss_weights, "loss_weights", self.output_names, model_name) if loss_weights is not None else [None] * len(self.losses)
        self.loss_weights = [1.0 if w is None else float(w) for w in weights]
        self.pending = any(isinstance(l, _PendingCrossentropy) for l in self.losses)
        self.logits_losses = [None] * len(self.losses)  # from_logits twins (plan_logits)
        self.activations = [None] * len(self.losses)  # the activation each twin skips
        multi = len(self.output_names) > 1
        self.output_trackers = [LossTracker(name=f"{n}_loss") if multi and l is not None else None
                                for n, l in zip(self.output_names, self.losses)]

    @property
    def metrics(self):
        """The per-output loss trackers (models with several outputs)."""
        return [t for t in self.output_trackers if t is not None]

    def resolve_pending(self, y_true, pred_shapes):
        """``"crossentropy"`` becomes binary (one unit), sparse (class indices)
        or categorical crossentropy, from the targets' and outputs' shapes."""
        for i, loss in enumerate(self.losses):
            if isinstance(loss, _PendingCrossentropy) and y_true[i] is not None:
                self.losses[i] = losses_mod.resolve_loss(loss.identifier, tuple(y_true[i].shape), pred_shapes[i])
        self.pending = any(isinstance(l, _PendingCrossentropy) for l in self.losses)

    def plan_logits(self, output_layers):
        """Pick the outputs whose crossentropy can be computed from logits.

        Args:
            output_layers: the layer making each flat output, None where the
                model cannot stop it before its activation (``Functional._splittable_outputs``).
        Returns:
            the layers to run without their activation, in output order.
        """
        fused = []
        self.logits_losses = [None] * len(self.losses)
        self.activations = [None] * len(self.losses)
        for i, (loss, layer) in enumerate(zip(self.losses, output_layers)):
            loss = _crossentropy_object(loss)
            if layer is None or loss is None or not hasattr(loss, "from_logits") or loss.from_logits:
                continue
            act = getattr(layer, "activation", None)
            kind = type(loss).__name__
            wants = activations.sigmoid if kind == "BinaryCrossentropy" else activations.softmax if "CategoricalCrossentropy" in kind else None
            if wants is None or act is not wants:
                continue
            if len(layer._inbound_nodes) != 1 or getattr(loss, "label_smoothing", 0) and kind == "SparseCategoricalCrossentropy":
                continue
            config = loss.get_config()
            config["from_logits"] = True
            self.logits_losses[i] = type(loss).from_config(config)
            self.activations[i] = act
            fused.append(layer)
        return fused

    def __call__(self, y_true, y_pred, sample_weight=None, logits=False):
        """The weighted total and the per-output values (flat lists in, 0-d tensors out).

        ``logits``: ``y_pred`` holds logits where :meth:`plan_logits` fused them.
        """
        total, values = None, []
        for i, loss in enumerate(self.losses):
            if logits and self.logits_losses[i] is not None:
                loss = self.logits_losses[i]
            if loss is None:
                values.append(None)
                continue
            sw = sample_weight[i] if isinstance(sample_weight, list) else sample_weight
            value = loss(y_true[i], y_pred[i], sample_weight=sw)
            values.append(value)
            w = self.loss_weights[i]
            term = value if w == 1.0 else value * w
            total = term if total is None else total + term
        return total, values

    def summed_part(self, values):
        """The weighted terms of losses with ``reduction="sum"`` (None if none):
        data parallelism weighs them differently from means."""
        part = None
        for i, v in enumerate(values):
            if v is not None and getattr(self.losses[i], "reduction", None) == "sum":
                term = v * self.loss_weights[i]
                part = term if part is None else part + term
        return part

    def track(self, values, batch_size):
        for tracker, v in zip(self.output_trackers, values):
            if tracker is not None and v is not None:
                tracker._add(v, batch_size)


class CompileMetrics(Metric):
    """The metrics given to ``compile()``, as one metric named
    ``"compile_metrics"`` whose ``result()`` is a dict (as in Keras).

    Args:
        metrics / weighted_metrics: what ``compile()`` got.
        output_names: the model's output names.
        model_name: for error messages.
    """

    def __init__(self, metrics, weighted_metrics, output_names, model_name):
        super().__init__(name="compile_metrics")
        self.output_names = list(output_names)
        self._ids = per_output_metrics(metrics, "metrics", self.output_names, model_name)
        self._weighted_ids = per_output_metrics(weighted_metrics, "weighted_metrics", self.output_names, model_name)
        self.built = False
        self.per_output = None  # per output: [(Metric, weighted)]
        self.activations = [None] * len(self.output_names)

    def build(self, y_true, y_pred, compile_loss=None):
        """Resolve the identifiers on the first batch, as Keras does."""
        multi = len(self.output_names) > 1
        losses = compile_loss.losses if compile_loss is not None else [None] * len(self.output_names)
        self.per_output = []
        for i, name in enumerate(self.output_names):
            built = []
            for ids, weighted in ((self._ids[i], False), (self._weighted_ids[i], True)):
                for ident in ids:
                    m = metrics_mod.resolve_metric(ident, y_true[i], y_pred[i], loss=losses[i])
                    if weighted and any(u.name == m.name for u, w in built if not w):
                        m.name = f"weighted_{m.name}"  # one metric both ways: Keras tells them apart so
                    if multi:
                        m.name = f"{name}_{m.name}"
                    built.append((m, weighted))
            self.per_output.append(built)
        self.__dict__["_metrics"] = [m for built in self.per_output for m, _ in built]
        # On fused (logits) outputs, ranking metrics read the logits as they
        # are; only other metrics need the activation applied.
        acts = compile_loss.activations if compile_loss is not None else [None] * len(self.output_names)
        self.activations = [None if act is None or (act is activations.softmax and all(isinstance(m, _RANKING) for m, _ in built)) else act
                            for act, built in zip(acts, self.per_output)]
        self.built = True

    @property
    def metrics(self):
        return list(self.__dict__["_metrics"])

    def update_flat(self, y_true, y_pred, sample_weight=None, logits=False):
        """Update from flat lists (``logits``: fused outputs hold logits)."""
        if logits:
            y_pred = [p if act is None else apply_output_activation(act, p) for p, act in zip(y_pred, self.activations)]
        for i, built in enumerate(self.per_output):
            sw = sample_weight[i] if isinstance(sample_weight, list) else sample_weight
            for m, weighted in built:
                m.update_state(y_true[i], y_pred[i], sample_weight=sw if weighted else None)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = _flat_for(self.output_names, y_true), _flat_for(self.output_names, y_pred)
        if not self.built:
            self.build(y_true, y_pred)
        if isinstance(sample_weight, (list, tuple)):
            sample_weight = list(sample_weight)
        elif isinstance(sample_weight, Mapping):
            sample_weight = [sample_weight.get(n) for n in self.output_names]
        self.update_flat(y_true, y_pred, sample_weight)

    def result(self):
        return {m.name: m.result() for m in self.metrics}

    def reset_state(self):
        for m in self.metrics:
            m.reset_state()

    def get_config(self):
        return {"name": self.name}


def _flat_for(names, struct):
    """Targets or predictions (one array, a list, or a dict by output name) as a flat list."""
    if isinstance(struct, Mapping):
        return [struct.get(n) for n in names]
    if isinstance(struct, (list, tuple)) and (len(names) > 1 or len(struct) == 1):
        return list(struct)
    return [struct]
