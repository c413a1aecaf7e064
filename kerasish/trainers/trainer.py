"""compile / fit / evaluate / predict, with Keras 3's public step methods.

``fit`` runs ``train_step(data)`` on each batch, ``evaluate`` runs
``test_step(data)``, ``predict`` runs ``predict_step(data)``: override any of
them (or ``compute_loss`` / ``compute_metrics``) as keras.io's "Customizing
what happens in fit() with PyTorch" does, and the loops run yours.

The built-in steps are what a hand-written PyTorch loop does (forward, loss,
backward, optimizer step) and no more: loss and metric sums stay on the
device, and the host reads them only when a callback reads the logs (the
progress bar when it redraws) or an epoch ends. When the model ends in softmax
or sigmoid and the loss is the matching crossentropy, the built-in step
computes the loss from the logits (``compile_utils.CompileLoss.plan_logits``).

Where the work is spread over processes is the strategy's business
(``strategies.py``): the loop calls the same methods either way.
"""

from __future__ import annotations

import contextlib
import inspect
import warnings
from collections.abc import Mapping

import numpy as np
import torch

from kerasish import config
from kerasish import losses as losses_mod
from kerasish import metrics as metrics_mod
from kerasish import mixed_precision
from kerasish import optimizers as optimizers_mod
from kerasish.callbacks.callback_list import CallbackList
from kerasish.engine import layout
from kerasish.engine.layer import Layer
from kerasish.engine.keras_tensor import flatten, pack_like
from kerasish.metrics.metric import Metric
from kerasish.ops.core import convert_to_numpy
from kerasish.trainers import data_adapter as D
from kerasish.trainers.py_dataset import PyDataset
from kerasish.trainers.compile_utils import CompileLoss, CompileMetrics, LossTracker, apply_output_activation
from kerasish.trainers.epoch_iterator import (EpochIterator, _weigh_by_class, class_weight_table, no_data_reason,
                                              pack_x_y_sample_weight, unpack_x_y_sample_weight, warn_ran_out)
from kerasish.trainers.strategies import SingleDevice, strategy_for_run


class _LazyLogs(Mapping):
    """Batch logs whose values are device tensors computed on access, so that
    only a callback that reads them (the progress bar, when it redraws) syncs."""

    def __init__(self, trainer):
        self._trainer = trainer
        self._cache = (None, None)

    def _values(self):
        # One computation per step, however many keys a callback reads.
        step = self._trainer._steps_done
        if self._cache[0] != step:
            self._cache = (step, self._trainer.get_metrics_result())
        return self._cache[1]

    def __getitem__(self, key):
        return self._values()[key]

    def __iter__(self):
        return iter(self._trainer._log_names())

    def __len__(self):
        return len(self._trainer._log_names())


class Trainer:
    """The training API mixed into :class:`kerasish.Model`."""

    compiled = False
    optimizer = None
    _compile_loss = None
    _compile_metrics = None
    _loss_tracker = None
    _strategy = SingleDevice()
    _steps_done = 0
    # What a run works out (_begin_run); these defaults serve a step called
    # outside fit / evaluate (a custom loop calling train_step itself).
    _run_device = torch.device("cpu")
    _scaler = None
    _scales_loss = False
    _has_trainable = True
    _fused_layers = ()
    jit_compile = False
    _compiled_forward = None

    # ------------------------------------------------------------------
    # compile
    # ------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None, weighted_metrics=None, run_eagerly=False,
                steps_per_execution=1, jit_compile="auto", auto_scale_loss=True, **kwargs):
        """Configure training, with Keras's arguments.

        Args:
            optimizer: name (``"adam"``) or ``kerasish.optimizers`` instance.
            loss: name, function or ``kerasish.losses.Loss``; a list or dict
                (by output name) for several outputs. May be left out when the
                model adds its own losses (``add_loss``) or overrides
                ``train_step`` / ``compute_loss``.
            loss_weights: list or dict of floats weighting each output's loss.
            metrics: list of names / functions / Metric objects (a list of lists
                or a dict for several outputs). ``"accuracy"`` is resolved from the
                loss and the output's shape, as Keras does.
            weighted_metrics: metrics that take ``sample_weight`` / ``class_weight``.
            jit_compile: ``True`` compiles the step with ``torch.compile`` (the
                built-in step's forward pass and loss, or an overridden
                ``train_step`` whole); ``"auto"`` and ``False`` run eagerly.

        Example:
            >>> import kerasish as keras
            >>> model = keras.Sequential([keras.layers.Dense(1, input_shape=(3,))])
            >>> model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
        """
        if kwargs:
            raise ValueError(f"compile() got unexpected keyword arguments: {sorted(kwargs)}")
        self.optimizer = optimizers_mod.get(optimizer) if optimizer is not None else None
        self._compile_args = {"optimizer": optimizer, "loss": loss, "loss_weights": loss_weights, "metrics": metrics,
                              "weighted_metrics": weighted_metrics, "jit_compile": jit_compile}
        self._compile_loss = None
        self._compile_metrics = None
        self._compile_built_for = None
        self._loss_tracker = LossTracker(name="loss")
        self.jit_compile = jit_compile is True
        self._compiled_forward = None
        self._compiled_steps = {}
        self.compiled = True
        self.stop_training = False
        self._optimizer_built_for = None
        self._steps_done = 0
        if self.built and self._graph_outputs() is not None:
            self._build_compile_objects()  # a wrong loss dict or metrics list fails here, not at fit

    def _graph_outputs(self):
        """The functional graph's flat outputs, None for a subclassed or unbuilt model."""
        return getattr(self, "_outputs_flat", None)

    def _output_names(self):
        outputs = self._graph_outputs()
        if outputs is None:
            return ["output"]
        struct = self._output_struct
        if isinstance(struct, dict):
            return sorted(struct)  # the flat outputs' order
        return [t._keras_history.layer.name for t in outputs]

    def _build_compile_objects(self):
        """CompileLoss / CompileMetrics for the model's outputs, once they are
        known (at compile for a built model, else on the first data); again
        when the outputs changed (``Sequential.add`` after compile)."""
        names = self._output_names()
        key = (tuple(names), self.__dict__.get("_graph_version"))  # bumped by every graph change
        if self._compile_built_for == key:
            return
        args = self._compile_args
        self._compile_loss = CompileLoss(args["loss"], args["loss_weights"], names, self.name) if _gives_a_loss(args["loss"]) else None
        if args["metrics"] or args["weighted_metrics"]:
            self._compile_metrics = CompileMetrics(args["metrics"], args["weighted_metrics"], names, self.name)
        else:
            self._compile_metrics = None
        self._compile_built_for = key

    # ------------------------------------------------------------------
    # Compile config (saved in .keras files)
    # ------------------------------------------------------------------
    def get_compile_config(self):
        if not self.compiled:
            return None

        def ser_loss(l):
            if l is None or isinstance(l, str):
                return l
            if isinstance(l, (list, tuple)):
                return [ser_loss(x) for x in l]
            if isinstance(l, Mapping):
                return {k: ser_loss(v) for k, v in l.items()}
            return losses_mod.serialize(l)

        def ser_metrics(m):
            if m is None or isinstance(m, str):
                return m
            if isinstance(m, (list, tuple)):
                return [ser_metrics(x) for x in m]
            if isinstance(m, Mapping):
                return {k: ser_metrics(v) for k, v in m.items()}
            return metrics_mod.serialize(m)

        args = self._compile_args
        return {
            "optimizer": optimizers_mod.serialize(self.optimizer) if self.optimizer is not None else None,
            "loss": ser_loss(args["loss"]),
            "loss_weights": args["loss_weights"],
            "metrics": ser_metrics(args["metrics"]),
            "weighted_metrics": ser_metrics(args["weighted_metrics"]),
            "run_eagerly": False,
            "steps_per_execution": 1,
            "jit_compile": bool(args["jit_compile"] is True),
        }

    def compile_from_config(self, config):
        def de_loss(l):
            if isinstance(l, list):
                return [de_loss(x) for x in l]
            if isinstance(l, dict) and "class_name" not in l:
                return {k: de_loss(v) for k, v in l.items()}
            return losses_mod.deserialize(l) if isinstance(l, dict) else l

        def de_metrics(m):
            if isinstance(m, list):
                return [de_metrics(x) for x in m]
            if isinstance(m, dict) and "class_name" not in m:
                return {k: de_metrics(v) for k, v in m.items()}
            return metrics_mod.deserialize(m) if isinstance(m, dict) else m

        optimizer = optimizers_mod.deserialize(config["optimizer"]) if isinstance(config.get("optimizer"), dict) else config.get("optimizer", "rmsprop")
        self.compile(optimizer=optimizer, loss=de_loss(config.get("loss")), loss_weights=config.get("loss_weights"),
                     metrics=de_metrics(config.get("metrics")), weighted_metrics=de_metrics(config.get("weighted_metrics")),
                     jit_compile=config.get("jit_compile", False) or "auto")
        # The optimizer's slots are created now so that the weights file's
        # optimizer/vars can be restored into them.
        if self.built and self.trainable_weights:
            self._prepare_optimizer()

    # ------------------------------------------------------------------
    # Metrics
    # ------------------------------------------------------------------
    @property
    def metrics(self):
        """The loss tracker, the per-output loss trackers, the compiled
        metrics (one ``CompileMetrics``) and any Metric set as a model
        attribute, as in Keras: ``for m in self.metrics: m.reset_state()``."""
        out = []
        if self.compiled:
            out.append(self._loss_tracker)
            if self._compile_loss is not None:
                out.extend(self._compile_loss.metrics)
            if self._compile_metrics is not None:
                out.append(self._compile_metrics)
        seen = {id(m) for m in out}
        for key, value in self.__dict__.items():
            if isinstance(value, Metric) and not key.startswith("_") and id(value) not in seen:
                seen.add(id(value))
                out.append(value)
        return out

    @property
    def metrics_names(self):
        """``["loss", "accuracy", ...]``: the names of evaluate()'s values."""
        return self._log_names()

    def reset_metrics(self):
        for m in self.metrics:
            m.reset_state()

    def get_metrics_result(self):
        """Every metric's current result by name (device tensors; no sync)."""
        logs = {}
        for m in self.metrics:
            r = m.result()
            if isinstance(r, dict):
                logs.update(r)
            else:
                logs[m.name] = r
        return logs

    def _log_names(self):
        names = []
        for m in self.metrics:
            if isinstance(m, CompileMetrics):
                names.extend(sub.name for sub in m.metrics)
            else:
                names.append(m.name)
        return names

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Update the compiled metrics with a batch; returns the metrics'
        results (``get_metrics_result()``). The loss tracker is updated by the step."""
        if self._compile_metrics is not None:
            self._compile_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def _get_metrics_result_or_logs(self, logs):
        """As Keras: the metrics' results when a step's logs name the same
        keys (the built-in steps), else the step's own logs."""
        results = self.get_metrics_result()
        if logs is None or isinstance(logs, _LazyLogs) or (isinstance(logs, Mapping) and set(logs) == set(results)):
            return results
        return logs

    @staticmethod
    def _float_logs(logs):
        """Logs as Python floats, nested dicts flattened: one host sync for
        every scalar. A metric with several thresholds gives a vector: it stays
        an array, as in Keras."""
        flat = {}

        def walk(d):
            for k, v in d.items():
                if isinstance(v, Mapping):
                    walk(v)
                else:
                    flat[k] = v

        walk(logs)
        tensors = [k for k, v in flat.items() if isinstance(v, torch.Tensor) and v.numel() == 1]
        out = dict(flat)
        if tensors:
            device = flat[tensors[0]].device
            values = torch.stack([flat[k].detach().to(device=device, dtype=torch.float32).reshape(()) for k in tensors]).cpu().tolist()
            out.update(zip(tensors, values))
        for k, v in out.items():
            if isinstance(v, torch.Tensor):
                out[k] = v.detach().float().cpu().numpy()
            elif isinstance(v, (np.floating, np.integer)) or (isinstance(v, np.ndarray) and v.size == 1):
                out[k] = float(v)
            elif isinstance(v, int) and not isinstance(v, bool):
                out[k] = float(v)
        return out

    # ------------------------------------------------------------------
    # Losses
    # ------------------------------------------------------------------
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The total loss of a batch: the compiled loss plus the model's own
        losses (weight regularizers, activity regularizers, ``add_loss``).

        Args:
            x: the inputs (unused by the default; an override may use them).
            y: the targets, one array or a list / dict by output.
            y_pred: the model's outputs (probabilities, as ``model(x)`` gives them).
            sample_weight: per-sample weights, or None.
            training: whether this is a training step.
        Returns:
            a 0-d tensor.
        """
        y_pred_flat = flatten(y_pred) if y_pred is not None else []
        total = None
        if self._compile_loss is not None:
            if self._compile_built_for is None:
                self._build_compile_objects()
            y_true = self._flat_targets(y)
            if self._compile_loss.pending:
                self._compile_loss.resolve_pending(y_true, [tuple(p.shape) for p in y_pred_flat])
            total, values = self._compile_loss(y_true, y_pred_flat, _flat_sample_weight(sample_weight, self._output_names()))
            if len(values) > 1 and y_pred_flat:
                self._compile_loss.track(values, int(y_pred_flat[0].shape[0]))
        extra = self._model_losses()
        if extra is not None:
            total = extra if total is None else total + extra
        if total is None:
            raise ValueError(self._no_loss_message())
        return total

    def _no_loss_message(self):
        return (f"Model '{self.name}' has no loss to compute: give one to compile() (e.g. "
                "`model.compile(optimizer='adam', loss='sparse_categorical_crossentropy')`), add one with "
                "`self.add_loss(...)` in call(), or override `train_step` / `compute_loss`.")

    def _refresh_loss_sources(self):
        """Weights with regularizers, and layers whose ``add_loss`` /
        activity-regularizer losses count: worked out again for each run, so
        that layers added or unfrozen since are seen."""
        self._regularized = [(v.regularizer, v) for v in self.weights if v.regularizer is not None]
        self._activity_layers = self._layers_with_activity_losses()

    def _model_losses(self):
        if "_regularized" not in self.__dict__:
            self._refresh_loss_sources()
        total = None
        for reg, v in self._regularized:
            term = reg(v.value)
            total = term if total is None else total + term
        for layer in self._activity_layers:
            for l in layer._activity_losses:
                total = l if total is None else total + l
        return total

    def _layers_with_activity_losses(self):
        """Layers whose ``_activity_losses`` count in the training loss: those
        with an activity regularizer, and user layers / models (``add_loss``)."""
        out, seen = [], set()
        for layer in [self, *self._all_layers(), *self.modules()]:
            if isinstance(layer, Layer) and id(layer) not in seen:
                if layer.activity_regularizer is not None or layer._user_class:
                    seen.add(id(layer))
                    out.append(layer)
        return out

    def _all_layers(self):
        out = []
        for layer in getattr(self, "layers", []):
            out.append(layer)
            if hasattr(layer, "_all_layers"):
                out.extend(layer._all_layers())
        return out

    def _scale_loss(self, loss):
        return self.optimizer.scale_loss(loss) if self._scales_loss else loss

    def _flat_targets(self, y):
        names = self._output_names()
        if isinstance(y, Mapping):
            losses = self._compile_loss.losses if self._compile_loss is not None else [None] * len(names)
            missing = [n for n, l in zip(names, losses) if n not in y and l is not None]
            if missing:
                raise ValueError(f"`y` has no entry for output(s) {missing} of model '{self.name}'; keys given: {sorted(y)}.")
            return [y.get(n) for n in names]
        if len(names) == 1:
            if isinstance(y, (list, tuple)) and len(y) == 1:
                return [y[0]]
            return [y]
        if not isinstance(y, (list, tuple)) or len(y) != len(names):
            raise ValueError(f"Model '{self.name}' has {len(names)} outputs ({names}); `y` must be a list of {len(names)} arrays or a dict by output name.")
        return list(y)

    # ------------------------------------------------------------------
    # The plan of a run: what the built-in steps do, worked out per run
    # ------------------------------------------------------------------
    def _custom_train_step(self):
        return type(self).train_step is not Trainer.train_step

    def _begin_run(self, x, training):
        """Device, build, compile objects and the step plan for one
        fit / evaluate / predict / *_on_batch call."""
        self._strategy = strategy_for_run()
        device = self._training_device()
        self._run_device = device
        self._build_from_data(x, device)
        if self.compiled:
            self._build_compile_objects()
        self._refresh_loss_sources()
        self._plan_logits()
        self._scales_loss = self.optimizer is not None and getattr(self.optimizer, "loss_scale_factor", None) is not None
        self._scaler = self._grad_scaler(device) if training else None
        return device

    def _plan_logits(self):
        """Which output layers the built-in steps run without their activation
        (their crossentropy then reads logits); none when ``compute_loss`` is
        overridden, since it must see what ``model(x)`` gives."""
        cl = self._compile_loss
        fused = ()
        outputs = self._graph_outputs()
        if cl is not None:
            layers = self._splittable_outputs() if outputs is not None else [None] * len(cl.losses)
            if type(self).compute_loss is not Trainer.compute_loss or cl.pending:
                layers = [None] * len(layers)
            fused = tuple(cl.plan_logits(layers))  # a tuple: torch.compile reads it as a constant
        self._fused_layers = fused

    def _build_from_data(self, x, device):
        """A model compiled before it was built (subclassed, or a Sequential
        without an input shape): build it on one sample of ``x``, as Keras
        builds such models on the first batch."""
        if self.built:
            return
        sample = _first_sample(x)
        if sample is None:
            sample = _first_sample_of_dataset(x)
        if sample is None:
            raise ValueError(
                f"Model '{self.name}' is not built yet: call it on a batch of data or use `model.build(input_shape)` "
                f"before passing a {type(x).__name__} to fit/evaluate/predict."
            )
        with torch.no_grad():
            inputs = D.to_device(sample, self._device() or torch.device("cpu"))
            self(*inputs) if isinstance(inputs, tuple) else self(inputs)
        self.to(device)

    # ------------------------------------------------------------------
    # Devices, precision, randomness
    # ------------------------------------------------------------------
    def _training_device(self):
        explicit = config.explicit_device()
        current = self._device() or torch.device("cpu")
        if explicit is not None:
            target = explicit
        elif current.type != "cpu":
            target = current  # the user moved the model: respect it
        else:
            target = config.get_device()
        if target.type == "cuda" and target.index is None:
            target = torch.device("cuda", torch.cuda.current_device())
        if current != target:
            self.to(target)
        return target

    def _autocast(self, device):
        dtype = mixed_precision.global_policy().autocast_dtype
        if dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=device.type, dtype=dtype)

    def _grad_scaler(self, device):
        if mixed_precision.global_policy().autocast_dtype is torch.float16 and device.type == "cuda":
            return torch.amp.GradScaler("cuda")
        return None

    def _get_training_rng_state(self):
        state = {"torch": torch.get_rng_state().numpy().copy()}
        gen = getattr(self, "_shuffle_generator", None)
        if gen is not None:
            state["shuffle"] = gen.get_state().numpy().copy()
        if torch.cuda.is_available():
            for i, s in enumerate(torch.cuda.get_rng_state_all()):
                state[f"cuda{i}"] = s.numpy().copy()
        return state

    def _set_training_rng_state(self, state):
        torch.set_rng_state(torch.from_numpy(np.asarray(state["torch"], dtype=np.uint8)))
        if "shuffle" in state:
            if getattr(self, "_shuffle_generator", None) is None:
                self._shuffle_generator = torch.Generator()
            self._shuffle_generator.set_state(torch.from_numpy(np.asarray(state["shuffle"], dtype=np.uint8)))
        if torch.cuda.is_available():
            for i in range(torch.cuda.device_count()):
                if f"cuda{i}" in state:
                    torch.cuda.set_rng_state(torch.from_numpy(np.asarray(state[f"cuda{i}"], dtype=np.uint8)), i)

    # ------------------------------------------------------------------
    # Forward passes
    # ------------------------------------------------------------------
    def _require_compiled(self, what):
        if not self.compiled:
            raise ValueError(f"You must call compile() before {what}() on model '{self.name}'.")

    def _prepare_optimizer(self):
        variables = self.trainable_weights
        key = tuple(id(v.tensor) for v in variables)
        if self._optimizer_built_for != key:
            if self.optimizer is None:
                raise ValueError(f"Model '{self.name}' was compiled without an optimizer; pass one to compile(optimizer=...).")
            self.optimizer.build(variables)
            self._optimizer_built_for = key

    def _forward(self, x, training, logits=False):
        """Model outputs (Keras layout) as a flat list; logits where fused."""
        if self._graph_outputs() is not None:
            program = self._program_for(self._fused_layers if logits else ())
            if (type(x) is torch.Tensor and len(program.input_slots) == 1 and x.dtype is program.input_dtypes[0]
                    and x.dim() == len(self._inputs_flat[0].shape)):  # the common case, kept short
                outs = self._run_graph([x.permute(0, 3, 1, 2) if x.dim() == 4 else x], training, program)
            else:
                flat = self._cast_inputs(self._flat_model_inputs((x,)), program)
                outs = self._run_graph([layout.to_internal(t) for t in flat], training, program)
            return [o.permute(0, 2, 3, 1) if o.dim() == 4 else o for o in outs]
        y = self(x, training=training) if not isinstance(x, tuple) else self(*x, training=training)
        return flatten(y)

    def _train_forward_local(self, x):
        return self._forward(x, True, logits=bool(self._fused_layers))

    def _pack_tensors(self, flat):
        struct = getattr(self, "_output_struct", None)
        if struct is None:
            return flat[0] if len(flat) == 1 else flat
        return pack_like(struct, flat)

    def _flat_loss(self, x, y, y_true, y_pred, sample_weight, training=True):
        """The built-in steps' loss: the compiled loss on (possibly fused)
        outputs plus the model's own losses, or an overridden compute_loss."""
        if type(self).compute_loss is not Trainer.compute_loss:
            kwargs = {"training": training} if _accepts(self.compute_loss, "training") else {}
            return self.compute_loss(x=x, y=y, y_pred=self._pack_tensors(y_pred), sample_weight=sample_weight, **kwargs), []
        cl = self._compile_loss
        total, values = (None, [])
        if cl is not None:
            sw = sample_weight if not isinstance(sample_weight, (tuple, Mapping)) else _flat_sample_weight(sample_weight, cl.output_names)
            total, values = cl(y_true, y_pred, sw, logits=bool(self._fused_layers))
        extra = self._model_losses()
        if extra is not None:
            total = extra if total is None else total + extra
        if total is None:
            raise ValueError(self._no_loss_message())
        return total, values

    def _loss_and_outputs(self, x, y, y_true, sample_weight):
        y_pred = self._strategy.train_forward(self, x)
        loss, values = self._flat_loss(x, y, y_true, y_pred, sample_weight)
        return loss, values, y_pred

    # ------------------------------------------------------------------
    # The steps
    # ------------------------------------------------------------------
    def train_step(self, data):
        """One training step on a batch; returns the logs (a mapping of metric
        results). ``data`` is what the dataset yields: ``x``, ``(x, y)`` or
        ``(x, y, sample_weight)``. Override it to change what ``fit`` does;
        call ``super().train_step(data)`` to run the built-in one."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        cl = self._compile_loss
        y_true = self._flat_targets(y) if y is not None else None
        if cl is not None and cl.pending:
            self._resolve_pending(y_true, x)
        with self._autocast(self._run_device):
            if self.jit_compile:
                if self._compiled_forward is None:
                    self._compiled_forward = torch.compile(self._loss_and_outputs, dynamic=False)
                loss, values, y_pred = self._compiled_forward(x, y, y_true, sample_weight)
            else:
                y_pred = self._strategy.train_forward(self, x)
                loss, values = self._flat_loss(x, y, y_true, y_pred, sample_weight)
        n = _batch_len(x)
        if self._has_trainable:
            scaled, loss, values = self._strategy.weigh_loss(self, self._scale_loss(loss), loss, values)
            scaler = self._scaler
            if scaler is not None:
                scaler.scale(scaled).backward()
            else:
                scaled.backward()
            self.optimizer.step(grad_scaler=scaler)
            self.optimizer.zero_grad()
        self._track(loss, values, y_true, y_pred, sample_weight, n)
        return self._lazy_logs

    def test_step(self, data):
        """One evaluation step on a batch; returns the logs. Override it to
        change what ``evaluate`` (and fit's validation) does."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        cl = self._compile_loss
        y_true = self._flat_targets(y) if y is not None else None
        if cl is not None and cl.pending:
            self._resolve_pending(y_true, x)
        with torch.no_grad(), self._autocast(self._run_device):
            y_pred = self._forward(x, False, logits=bool(self._fused_layers))
            loss, values = self._flat_loss(x, y, y_true, y_pred, sample_weight, training=False)
        loss, values = self._strategy.weigh_tracked(self, loss, values)
        self._track(loss, values, y_true, y_pred, sample_weight, _batch_len(x))
        return self._lazy_logs

    def predict_step(self, data):
        """The outputs for one batch (the model's output structure). Override
        it to change what ``predict`` returns."""
        x, _, _ = unpack_x_y_sample_weight(data)
        return self._pack_tensors(self._forward(x, False))

    def _track(self, loss, values, y_true, y_pred, sample_weight, n):
        """The built-in steps' tracker updates: sums on the device, no sync."""
        self._loss_tracker._add(loss, n)
        cl, cm = self._compile_loss, self._compile_metrics
        if cl is not None and len(values) > 1:
            cl.track(values, n)
        if cm is not None and y_true is not None:
            fused = bool(self._fused_layers)
            with torch.no_grad():
                if not cm.built:
                    preds = y_pred if not fused else [p if a is None else apply_output_activation(a, p) for p, a in zip(y_pred, cl.activations)]
                    cm.build(y_true, preds, cl)
                sw = sample_weight if not isinstance(sample_weight, (tuple, Mapping)) else _flat_sample_weight(sample_weight, cm.output_names)
                cm.update_flat(y_true, y_pred, sw, logits=fused)
        self.__dict__["_steps_done"] += 1  # a plain int: nn.Module.__setattr__ costs ~4 us a call

    @property
    def _lazy_logs(self):
        logs = self.__dict__.get("_lazy_logs_view")
        if logs is None:
            logs = self.__dict__["_lazy_logs_view"] = _LazyLogs(self)
        return logs

    def _resolve_pending(self, y_true, x=None):
        """``loss="crossentropy"``: binary, sparse or categorical from the
        targets' and outputs' shapes; then the logits plan can include it."""
        outputs = self._graph_outputs()
        if outputs is not None:
            pred_shapes = [tuple(t.shape) for t in outputs]
        else:  # a subclassed model: one forward pass tells the output shapes
            with torch.no_grad():
                pred_shapes = [tuple(o.shape) for o in self._forward(x, False)]
        self._compile_loss.resolve_pending(y_true, pred_shapes)
        self._plan_logits()

    def _step_function(self, name):
        """The step ``fit`` / ``evaluate`` / ``predict`` call: the (possibly
        overridden) method, under torch.compile when ``jit_compile=True`` and
        the method is the user's (the built-in step compiles its forward pass
        and loss itself)."""
        method = getattr(self, name)
        if not self.jit_compile or getattr(type(self), name) is getattr(Trainer, name):
            return method
        compiled = self._compiled_steps.get(name)
        if compiled is None:
            compiled = self._compiled_steps[name] = torch.compile(method)
        return compiled

    # ------------------------------------------------------------------
    # Input checks, once per call, before any step
    # ------------------------------------------------------------------
    def _check_x(self, x, arg="x"):
        if D._is_number_list(x):
            x = np.asarray(x)
        if self._graph_outputs() is not None and D.is_array_like(x):
            sample = D.map_nested(lambda a: D.to_tensor(a, arg)[:1], x)
            try:
                self._check_inputs(self._flat_model_inputs((sample,)))
            except (ValueError, TypeError) as e:
                raise type(e)(f"`{arg}` does not fit model '{self.name}': {e}") from None

    def _check_y(self, y, arg="y", x=None):
        if D._is_number_list(y):
            y = np.asarray(y)
        cl = self._compile_loss
        builtin = not self._custom_train_step() and type(self).compute_loss is Trainer.compute_loss
        if y is None and x is not None and D.is_array_like(x) and cl is not None and builtin:
            raise ValueError(f"`{arg}` is required: model '{self.name}' was compiled with a loss and `x` is an array, so targets must be given.")
        if y is None or not D.is_array_like(y) or cl is None:
            return
        targets = self._flat_targets(D.map_nested(lambda a: D.to_tensor(a, arg), y))
        outputs = self._graph_outputs()
        if outputs is None:
            return
        if cl.pending:
            self._resolve_pending(targets)
        for i, (loss, t) in enumerate(zip(cl.losses, targets)):
            if loss is None or t is None:
                continue
            try:
                losses_mod.check_targets(loss, t, outputs[i].shape)
            except ValueError as e:
                raise ValueError(f"`{arg}` does not fit output '{cl.output_names[i]}' of model '{self.name}': {e}") from None

    def _check_trainable(self):
        """Whether there is anything to train; a model with nothing to learn
        from and no step of its own fails before any step runs."""
        self._has_trainable = bool(self.trainable_weights)
        if self._has_trainable:
            self._prepare_optimizer()
        else:
            warnings.warn(f"Model '{self.name}' has no trainable weights: fit() will not change it.", stacklevel=3)
        if (self._compile_loss is None and not self._custom_train_step() and type(self).compute_loss is Trainer.compute_loss
                and not self._regularized and not self._activity_layers):
            raise ValueError(self._no_loss_message())

    # ------------------------------------------------------------------
    # fit
    # ------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1):
        """Train the model, with Keras's arguments; returns a ``History``.

        Each batch goes through ``self.train_step(data)``; validation batches
        through ``self.test_step(data)``.
        """
        self._require_compiled("fit")
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
            raise ValueError(f"`epochs` must be a non-negative int, got {epochs!r}")
        if validation_split and validation_data is not None:
            validation_split = 0.0  # Keras: validation_data wins
        if validation_split:
            (x, y, sample_weight), (vx, vy, vsw) = D.split_validation(x, y, sample_weight, validation_split)
            validation_data = (vx, vy, vsw)
        device = self._begin_run(x, training=True)
        self._check_x(x)
        self._check_y(y, x=x)
        if class_weight and len(self._output_names()) > 1:
            raise ValueError("`class_weight` is only supported for models with a single output.")
        if hasattr(x, "class_names") and getattr(x, "class_names", None):
            # Remember a folder's class names with the model (saved in .keras
            # metadata), so that predictions can be named later.
            self.class_names = list(x.class_names)
        strategy = self._strategy
        self._shuffle_generator = torch.Generator()
        seed = int(torch.randint(0, 2**62, (1,)).item())
        self._shuffle_generator.manual_seed(strategy.shuffle_seed(seed))
        data = EpochIterator(x, y, sample_weight, batch_size=batch_size, shuffle=shuffle is True or shuffle == "batch", device=device,
                             steps=steps_per_epoch, generator=self._shuffle_generator, shard=strategy.shard, class_weight=class_weight)
        val = None
        if validation_data is not None:
            vx, vy, vsw = _unpack_validation(validation_data)
            self._check_x(vx, "validation_data")
            val = EpochIterator(vx, vy, vsw, batch_size=validation_batch_size or batch_size, shuffle=False, device=device,
                                steps=validation_steps, shard=strategy.shard, split_evenly=False)
        verbose = _resolve_verbose(verbose)
        self._check_trainable()
        steps = data.num_batches
        cbs = CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=epochs, steps=steps)
        strategy.begin_fit(self, cbs.callbacks, steps)
        train_function = self._step_function("train_step")
        check_logs = True
        self.stop_training = False
        self._initial_epoch = None
        self.train()
        cbs.on_train_begin()
        start = self._initial_epoch if self._initial_epoch is not None else initial_epoch
        self._initial_epoch = None
        epoch_logs = {}
        seen_any = False  # a batch in this fit: without one, there was no data at all
        try:
            for epoch in range(start, epochs):
                self.reset_metrics()
                self.train()
                cbs.on_epoch_begin(epoch)
                strategy.data = data
                logs = None
                step = 0
                try:
                    for step, batch in data.enumerate_epoch(self._shuffle_generator):
                        cbs.on_train_batch_begin(step)
                        logs = train_function(batch)
                        if check_logs:
                            _check_step_logs(logs, "train_step")
                            check_logs = False
                        cbs.on_train_batch_end(step, strategy.batch_logs(self, logs, step, steps))
                        if strategy.agree_to_stop(self.stop_training, every_step=True):
                            self.stop_training = True
                            break
                except RuntimeError as e:
                    strategy.on_step_error(e, f"averaging gradients (epoch {epoch + 1}, step {step + 1})")
                    raise
                strategy.end_epoch(self)
                if data.ran_out and not self.stop_training:
                    if not seen_any and data.batches_seen == 0:
                        raise ValueError(f"fit() got no data: {no_data_reason(x)}. Nothing was trained.")
                    warn_ran_out(data.batches_seen, data.num_batches)
                seen_any = seen_any or data.batches_seen > 0
                # An epoch without a batch reports no training metrics (not
                # the zeros of metrics that saw nothing), and ends the fit:
                # the input is exhausted, as Keras's warning says.
                empty_epoch = data.batches_seen == 0
                epoch_logs = {} if empty_epoch else self._float_logs(self._get_metrics_result_or_logs(logs))
                if empty_epoch:
                    self.stop_training = True
                if val is not None and _should_validate(epoch, validation_freq):
                    val_logs = self._evaluate_data(val, cbs, where="validation")
                    epoch_logs.update({"val_" + k: v for k, v in val_logs.items()})
                cbs.on_epoch_end(epoch, epoch_logs)
                if strategy.agree_to_stop(self.stop_training):
                    self.stop_training = True  # EarlyStopping & co. decide alike; this makes sure
                if self.stop_training:
                    break
        finally:
            self.eval()
            strategy.end_fit(self)
        cbs.on_train_end(epoch_logs)
        return self.history

    # ------------------------------------------------------------------
    # evaluate / predict
    # ------------------------------------------------------------------
    def _evaluate_data(self, data, cbs=None, where="evaluate", x=None):
        """Runs ``test_step`` over ``data``; for no batch at all, ``evaluate``
        raises (as Keras) and validation warns and reports no metrics."""
        strategy = self._strategy
        self.reset_metrics()
        self.eval()
        if cbs is not None:
            cbs.on_test_begin()
        test_function = self._step_function("test_step")
        strategy.data = data
        logs = None
        for step, batch in data.enumerate_epoch():
            if cbs is not None:
                cbs.on_test_batch_begin(step)
            logs = test_function(batch)
            if step == 0:
                _check_step_logs(logs, "test_step")
            if cbs is not None:
                cbs.on_test_batch_end(step, logs)
        if data.batches_seen == 0:
            if where == "evaluate":
                raise ValueError(f"evaluate() got no data: {no_data_reason(x)}.")
            warn_ran_out(0, data.num_batches, where)
            if cbs is not None:
                cbs.on_test_end({})
            return {}
        if data.ran_out:
            warn_ran_out(data.batches_seen, data.num_batches, where)
        strategy.reduce_metrics(self)  # sums over every process's piece: the exact figures
        logs = self._float_logs(self._get_metrics_result_or_logs(logs))
        if cbs is not None:
            cbs.on_test_end(logs)
        return logs

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None, callbacks=None, return_dict=False, **kwargs):
        """Loss and metrics on data: a float, a list ``[loss, *metrics]``, or a
        dict. Each batch goes through ``self.test_step(data)``."""
        self._require_compiled("evaluate")
        device = self._begin_run(x, training=False)
        self._check_x(x)
        self._check_y(y, x=x)
        strategy = self._strategy
        strategy.prepare_inference(self)
        data = EpochIterator(x, y, sample_weight, batch_size=batch_size, shuffle=False, device=device, steps=steps, shard=strategy.shard,
                             split_evenly=False)
        verbose = _resolve_verbose(verbose)
        cbs = CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1, steps=data.num_batches)
        logs = self._evaluate_data(data, cbs, x=x)
        if return_dict:
            return logs
        return self._flatten_metrics_in_order(logs)

    def _flatten_metrics_in_order(self, logs):
        """evaluate()'s list: the metrics' order first, then other keys sorted (as Keras)."""
        names = self._log_names()
        values = [logs[k] for k in names if k in logs]
        values += [logs[k] for k in sorted(logs) if k not in names]
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Outputs for ``x`` as numpy arrays (a list or dict for several
        outputs). Each batch goes through ``self.predict_step(data)``."""
        device = self._begin_run(x, training=False)
        self._check_x(x)
        strategy = self._strategy
        strategy.prepare_inference(self)
        data = EpochIterator(x, None, None, batch_size=batch_size, shuffle=False, device=device, steps=steps, shard=strategy.shard,
                             split_evenly=False)
        verbose = _resolve_verbose(verbose)
        cbs = CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1, steps=data.num_batches)
        self.eval()
        cbs.on_predict_begin()
        hooks = bool(cbs.callbacks)  # nothing to call per batch: keep the loop bare
        builtin = type(self).predict_step is Trainer.predict_step
        predict_function = self._step_function("predict_step")
        forward = self._forward
        chunks, sizes, struct = None, [], None
        with torch.inference_mode(), self._autocast(device):
            for step, batch in data.enumerate_epoch():
                if hooks:
                    cbs.on_predict_batch_begin(step)
                if builtin:  # the flat outputs straight from the graph, packed once at the end
                    outs = forward(unpack_x_y_sample_weight(batch)[0], False)
                else:
                    result = predict_function(batch)
                    if struct is None:
                        struct = result
                    outs = flatten(result)
                if chunks is None:
                    chunks = [[] for _ in outs]
                for c, o in zip(chunks, outs):
                    c.append(o)
                sizes.append(int(outs[0].shape[0]) if outs and hasattr(outs[0], "shape") and outs[0].dim() else 0)
                if hooks:
                    cbs.on_predict_batch_end(step, {"outputs": outs})
        cbs.on_predict_end()
        if chunks is None:
            raise ValueError(f"predict() got no data: {no_data_reason(x)}.")
        with torch.inference_mode():
            arrays = [_numpy(strategy.gather_predictions([torch.as_tensor(t) for t in c], sizes)) for c in chunks]
        if builtin:
            return self._pack_outputs(arrays)
        return pack_like(struct, arrays)

    def _pack_outputs(self, arrays):
        struct = getattr(self, "_output_struct", None)
        if struct is None:
            return arrays[0] if len(arrays) == 1 else arrays
        return pack_like(struct, arrays)

    # ------------------------------------------------------------------
    # on_batch
    # ------------------------------------------------------------------
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One ``train_step`` on one batch; the batch's loss and metrics."""
        self._require_compiled("train_on_batch")
        device = self._begin_run(x, training=True)
        if class_weight and len(self._output_names()) > 1:
            raise ValueError("`class_weight` is only supported for models with a single output.")
        batch = tuple(D.to_device(s, device) for s in (x, y, sample_weight))
        batch, scale = self._strategy.piece_of_batch(batch)
        bx, by, bsw = batch
        if class_weight:
            bsw = _weigh_by_class(class_weight_table(class_weight, device), by, bsw)
        self._check_trainable()
        self._strategy.begin_fit(self, [], 1)
        self._strategy.data = _OneBatch(scale)
        self.reset_metrics()
        self.train()
        try:
            logs = self._step_function("train_step")(pack_x_y_sample_weight(bx, by, bsw))
            _check_step_logs(logs, "train_step")
        finally:
            self.eval()
            self._strategy.end_fit(self)
        self._strategy.reduce_metrics(self)
        return self._batch_result(logs, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """One ``test_step`` on one batch; the batch's loss and metrics."""
        self._require_compiled("test_on_batch")
        device = self._begin_run(x, training=False)
        batch = tuple(D.to_device(s, device) for s in (x, y, sample_weight))
        self._strategy.prepare_inference(self)
        batch, scale = self._strategy.piece_of_batch(batch)
        self._strategy.data = _OneBatch(scale)
        self.reset_metrics()
        self.eval()
        logs = self._step_function("test_step")(pack_x_y_sample_weight(*batch))
        _check_step_logs(logs, "test_step")
        self._strategy.reduce_metrics(self)
        return self._batch_result(logs, return_dict)

    def predict_on_batch(self, x):
        """``predict_step`` on one batch, as numpy."""
        device = self._begin_run(x, training=False)
        self._strategy.prepare_inference(self)  # the whole batch on every process, with the same weights
        self.eval()
        with torch.inference_mode():
            if type(self).predict_step is Trainer.predict_step:
                return self._pack_outputs([_numpy(o) for o in self._forward(D.to_device(x, device), False)])
            result = self.predict_step(D.to_device(x, device))
        return pack_like(result, [_numpy(torch.as_tensor(t)) for t in flatten(result)])

    def _batch_result(self, logs, return_dict):
        logs = self._float_logs(self._get_metrics_result_or_logs(logs))
        if return_dict:
            return logs
        return self._flatten_metrics_in_order(logs)


class _OneBatch:
    """What a strategy reads of the data for ``*_on_batch``: the batch's scale."""

    def __init__(self, batch_scale):
        self.batch_scale = batch_scale


def _accepts(method, name):
    """Whether ``method`` takes the keyword ``name`` (an override written
    for an older Keras may not take ``training``)."""
    params = inspect.signature(method).parameters
    return name in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def _gives_a_loss(loss):
    if loss is None:
        return False
    if isinstance(loss, Mapping):
        return any(v is not None for v in loss.values())
    if isinstance(loss, (list, tuple)):
        return any(v is not None for v in loss)
    return True


def _flat_sample_weight(sample_weight, names):
    if isinstance(sample_weight, Mapping):
        return [sample_weight.get(n) for n in names]
    if isinstance(sample_weight, (list, tuple)):
        return list(sample_weight)
    return sample_weight


def _check_step_logs(logs, method):
    """A step must return a dict of scalars (or nested dicts of them)."""
    if not isinstance(logs, Mapping):
        raise TypeError(f"{method}() must return a dict of metric results (name -> scalar), got {type(logs).__name__}: {logs!r:.100}")
    if isinstance(logs, _LazyLogs):
        return
    for k, v in logs.items():
        if isinstance(v, Mapping):
            _check_step_logs(v, method)
        elif isinstance(v, torch.Tensor) and v.numel() != 1 and v.dim() > 1:
            raise TypeError(f"{method}() returned {k!r} of shape {tuple(v.shape)}: log values must be scalars.")
        elif not isinstance(v, (torch.Tensor, int, float, np.number, np.ndarray)):
            raise TypeError(f"{method}() returned {k!r} as {type(v).__name__}: log values must be scalars.")


def _numpy(t):
    """A model output as numpy (``ops.convert_to_numpy``: bfloat16 as float32,
    float64 stays float64), float16 as float32 as predict has always given it."""
    return convert_to_numpy(t.float() if t.dtype == torch.float16 else t)


def _first_sample(x):
    """One sample (with a batch axis) of array data; None for anything else."""
    if isinstance(x, (np.ndarray, torch.Tensor)):
        return x[:1]
    if isinstance(x, (list, tuple)) and x and all(isinstance(t, (np.ndarray, torch.Tensor)) for t in x):
        return [t[:1] for t in x]
    if isinstance(x, Mapping) and x and all(isinstance(t, (np.ndarray, torch.Tensor)) for t in x.values()):
        return {k: t[:1] for k, t in x.items()}
    return None


def _first_sample_of_dataset(x):
    """One input sample (with a batch axis) from a map-style Dataset, a
    DataLoader over one, or an image folder; None for streams that reading
    would consume (generators)."""
    from torch.utils.data import DataLoader, Dataset, IterableDataset

    if isinstance(x, PyDataset):  # a batch per index: Keras builds on the first one
        n = x.num_batches
        if n is not None and n < 1:
            return None
        inputs, _, _ = D.pydataset_batch(x[0], x, 0)
        return D.map_nested(lambda t: D.to_tensor(t)[:1], inputs)
    ds = x.dataset if isinstance(x, DataLoader) else x
    if isinstance(ds, Dataset) and not isinstance(ds, IterableDataset) and len(ds):
        item = ds[0]
        inputs = item[0] if isinstance(item, (tuple, list)) else item
        return D.map_nested(lambda t: D.to_tensor(t)[None], inputs)
    if hasattr(x, "class_names") and hasattr(x, "file_paths"):  # image folders are re-iterable
        batch = next(iter(x))
        inputs = batch[0] if isinstance(batch, tuple) else batch
        return D.map_nested(lambda t: t[:1], inputs)
    return None


def _batch_len(x):
    leaves = D.flat_leaves(x)
    return int(leaves[0].shape[0]) if leaves else 0


def _unpack_validation(v):
    if isinstance(v, tuple) and len(v) in (2, 3):
        return (v[0], v[1], v[2] if len(v) == 3 else None)
    if isinstance(v, list) and len(v) in (2, 3) and all(D.is_array_like(p) for p in v if p is not None):
        return (v[0], v[1], v[2] if len(v) == 3 else None)
    return v, None, None


def _should_validate(epoch, freq):
    if isinstance(freq, int):
        return (epoch + 1) % freq == 0
    return (epoch + 1) in freq


def _resolve_verbose(verbose):
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2, True, False):
        raise ValueError(f"`verbose` must be 'auto', 0, 1 or 2, got {verbose!r}")
    return int(verbose)
