"""compile / fit / evaluate / predict: Keras's training API on a lean torch loop.

The step is what a hand-written PyTorch loop does (forward, loss, backward,
optimizer step) and no more: batches are sliced from tensors converted once,
loss and metric sums stay on the device, and the host reads them only when the
progress bar redraws or an epoch ends. When the model ends in softmax or
sigmoid and the loss is the matching crossentropy, the loss is computed from
the logits (the output layer runs without its activation in training), which is
faster and never takes the log of zero.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping

import numpy as np
import torch

from kerasish.engine import data_adapter as D
from kerasish.engine import layout
from kerasish.engine.workspace import Workspace


class _LazyLogs(Mapping):
    """Batch logs whose values are device tensors computed on access, so that
    only a callback that reads them (the progress bar, when it redraws) syncs."""

    def __init__(self, trainer, prefix=""):
        self._trainer = trainer
        self._prefix = prefix
        self._cache = (None, None)

    def _values(self):
        # One computation per step, however many keys a callback reads.
        step = self._trainer._steps_done
        if self._cache[0] != step:
            self._cache = (step, self._trainer._current_logs(self._prefix))
        return self._cache[1]

    def __getitem__(self, key):
        return self._values()[key]

    def __iter__(self):
        return iter(self._trainer._log_names(self._prefix))

    def __len__(self):
        return len(self._trainer._log_names(self._prefix))


class _PendingCrossentropy:
    """``loss="crossentropy"`` before the targets are seen (see ``_resolve_pending_losses``)."""

    def __init__(self, identifier):
        self.identifier = identifier
        self.name = identifier


def _is_crossentropy_alias(identifier):
    return isinstance(identifier, str) and identifier.lower() in ("crossentropy", "ce")


class _CompileState:
    pending = False

    def __init__(self):
        self.losses = []  # per output: Loss object or None
        self.loss_weights = []
        self.metric_ids = []  # per output: list of identifiers
        self.weighted_metric_ids = []
        self.metrics = None  # per output: list of Metric, built on the first batch
        self.fused = []  # per output: activation to apply for metrics, or None
        self.output_names = []


class Trainer:
    """The training API mixed into :class:`kerasish.Model`."""

    # ------------------------------------------------------------------
    # compile
    # ------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None, weighted_metrics=None, run_eagerly=False,
                steps_per_execution=1, jit_compile="auto", auto_scale_loss=True, **kwargs):
        """Configure training, with Keras's arguments.

        Args:
            optimizer: name (``"adam"``) or ``kerasish.optimizers`` instance.
            loss: name, function or ``kerasish.losses.Loss``; a list or dict
                (by output name) for several outputs.
            loss_weights: list or dict of floats weighting each output's loss.
            metrics: list of names / functions / Metric objects (a list of lists
                or a dict for several outputs). ``"accuracy"`` is resolved from the
                loss and the output's shape, as Keras does.
            weighted_metrics: metrics that take ``sample_weight`` / ``class_weight``.
            jit_compile: ``True`` compiles the forward pass and loss with
                ``torch.compile``; ``"auto"`` and ``False`` run eagerly.
        """
        from kerasish import losses as losses_mod
        from kerasish import optimizers as optimizers_mod

        if kwargs:
            raise ValueError(f"compile() got unexpected keyword arguments: {sorted(kwargs)}")
        self._ensure_built_for_training("compile")
        self.optimizer = optimizers_mod.get(optimizer)
        state = _CompileState()
        names = self._output_names_for_compile()
        state.output_names = names
        n_out = len(names)

        # "crossentropy" / "ce" (Keras's shape-resolved alias) waits for the
        # first targets to become binary, sparse or categorical crossentropy.
        state.losses = [None if l is None else _PendingCrossentropy(l) if _is_crossentropy_alias(l) else losses_mod.get_loss_object(l)
                        for l in self._per_output(loss, "loss", names)]
        state.pending = any(isinstance(l, _PendingCrossentropy) for l in state.losses)
        if all(l is None for l in state.losses):
            raise ValueError("compile() needs a `loss`; e.g. loss='categorical_crossentropy'.")
        weights = self._per_output(loss_weights, "loss_weights", names) if loss_weights is not None else [1.0] * n_out
        state.loss_weights = [1.0 if w is None else float(w) for w in weights]
        state.metric_ids = self._per_output_metrics(metrics, "metrics", names)
        state.weighted_metric_ids = self._per_output_metrics(weighted_metrics, "weighted_metrics", names)
        self._compile_args = {"optimizer": optimizer, "loss": loss, "loss_weights": loss_weights, "metrics": metrics,
                              "weighted_metrics": weighted_metrics, "jit_compile": jit_compile}
        self._compile_state = state
        self._setup_fused_outputs()
        self.jit_compile = jit_compile is True
        self._compiled_forward = None
        self.compiled = True
        self.stop_training = False
        self._loss_tracker = None
        self._regularized = [(v.regularizer, v) for v in self.weights if v.regularizer is not None]
        self._activity_layers = self._layers_with_activity_losses()
        self._optimizer_built_for = None
        self._scales_loss = getattr(self.optimizer, "loss_scale_factor", None) is not None
        self._steps_done = 0
        self._loss_sum, self._loss_count, self._out_loss_sums = None, 0, None

    def _layers_with_activity_losses(self):
        """Layers whose ``_activity_losses`` count in the training loss: those
        with an activity regularizer, and user layers / models (``add_loss``)."""
        from kerasish.engine.layer import Layer

        out, seen = [], set()
        for layer in [*self._all_layers(), *self.modules()]:
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

    def _is_subclassed(self) -> bool:
        from kerasish.engine.functional import Functional
        from kerasish.engine.sequential import Sequential

        return not isinstance(self, (Functional, Sequential))

    def _build_from_data(self, x, device):
        """A subclassed model compiled before it was built: build it on one
        sample of ``x`` (Keras builds such models on the first batch)."""
        if self.built or not self._is_subclassed():
            return

        def first(s):
            if isinstance(s, (np.ndarray, torch.Tensor)):
                return s[:1]
            if isinstance(s, (list, tuple)) and s and all(isinstance(t, (np.ndarray, torch.Tensor)) for t in s):
                return type(s)(t[:1] for t in s)
            if isinstance(s, Mapping) and s and all(isinstance(t, (np.ndarray, torch.Tensor)) for t in s.values()):
                return {k: t[:1] for k, t in s.items()}
            return None

        sample = first(x)
        if sample is None:
            sample = _first_sample_of_dataset(x)
        if sample is None:
            raise ValueError(
                f"Model '{self.name}' is not built yet: call it on a batch of data or use `model.build(input_shape)` "
                f"before passing a {type(x).__name__} to fit/evaluate/predict."
            )
        with torch.no_grad():
            self._forward(D.to_device(sample, self._device() or torch.device("cpu")), False)
        self.to(device)
        if getattr(self, "compiled", False):
            self._regularized = [(v.regularizer, v) for v in self.weights if v.regularizer is not None]
            self._activity_layers = self._layers_with_activity_losses()

    def _ensure_built_for_training(self, what):
        if not self.built and what in ("compile", "predict") and self._is_subclassed():
            return  # built on the first batch, as in Keras
        if not self.built:
            raise ValueError(
                f"Model '{self.name}' is not built yet, so it cannot {what}: give it an input shape "
                "(Input(...) first, input_shape=..., or model.build(input_shape))."
            )

    def _output_names_for_compile(self):
        outputs = getattr(self, "_outputs_flat", None)
        if outputs is None:
            return ["output"]
        struct = self._output_struct
        if isinstance(struct, dict):
            return list(struct)
        return [t._keras_history.layer.name for t in outputs]

    def _per_output(self, value, arg, names):
        n = len(names)
        if isinstance(value, Mapping):
            unknown = set(value) - set(names)
            if unknown:
                raise ValueError(f"`{arg}` has keys {sorted(unknown)} that are not outputs of model '{self.name}'; outputs: {names}.")
            return [value.get(name) for name in names]
        if isinstance(value, (list, tuple)) and (n > 1 or len(value) == 1):
            if len(value) != n:
                raise ValueError(f"`{arg}` has {len(value)} entries but model '{self.name}' has {n} outputs ({names}).")
            return list(value)
        return [value] * n  # one value for every output, as Keras allows

    def _per_output_metrics(self, metrics, arg, names):
        n = len(names)
        if metrics is None:
            return [[] for _ in names]
        if isinstance(metrics, Mapping):
            out = []
            for name in names:
                m = metrics.get(name, [])
                out.append(list(m) if isinstance(m, (list, tuple)) else [m])
            unknown = set(metrics) - set(names)
            if unknown:
                raise ValueError(f"`{arg}` has keys {sorted(unknown)} that are not outputs of model '{self.name}'; outputs: {names}.")
            return out
        if not isinstance(metrics, (list, tuple)):
            raise TypeError(f"`{arg}` must be a list or dict, got {type(metrics).__name__}: {metrics!r}")
        if n > 1 and metrics and all(isinstance(m, (list, tuple)) for m in metrics):
            if len(metrics) != n:
                raise ValueError(f"`{arg}` has {len(metrics)} lists but model '{self.name}' has {n} outputs.")
            return [list(m) for m in metrics]
        return [list(metrics) for _ in names]

    def _resolve_pending_losses(self, y_true, x=None):
        """Turn ``loss="crossentropy"`` into the crossentropy Keras picks from
        the targets' and the outputs' shapes (binary when the output has one
        unit, sparse when the targets are class indices, else categorical)."""
        from kerasish import losses as losses_mod

        state = self._compile_state
        outputs = getattr(self, "_outputs_flat", None)
        if outputs is not None:
            pred_shapes = [tuple(t.shape) for t in outputs]
        else:  # a subclassed model: one forward pass tells the output shapes
            with torch.no_grad():
                pred_shapes = [tuple(o.shape) for o in self._forward(x, False)]
        for i, loss in enumerate(state.losses):
            if isinstance(loss, _PendingCrossentropy) and y_true[i] is not None:
                state.losses[i] = losses_mod.resolve_loss(loss.identifier, tuple(y_true[i].shape), pred_shapes[i])
        state.pending = any(isinstance(l, _PendingCrossentropy) for l in state.losses)
        self._setup_fused_outputs()

    def _setup_fused_outputs(self):
        """Compute softmax / sigmoid crossentropies from logits where possible."""
        from kerasish import activations
        from kerasish.engine.functional import Functional

        state = self._compile_state
        state.fused = [None] * len(state.losses)
        self._train_steps = getattr(self, "_steps", None)
        if not isinstance(self, Functional):
            return
        steps = list(self._steps)
        changed = False
        for i, (loss, tensor) in enumerate(zip(state.losses, self._outputs_flat)):
            loss = _crossentropy_object(loss)
            if loss is None or not hasattr(loss, "from_logits") or loss.from_logits:
                continue
            layer = tensor._keras_history.layer
            act = getattr(layer, "activation", None)
            kind = type(loss).__name__
            wants = activations.sigmoid if kind == "BinaryCrossentropy" else activations.softmax if "CategoricalCrossentropy" in kind else None
            if wants is None or act is not wants or not hasattr(layer, "native_call_pre_activation"):
                continue
            if len(layer._inbound_nodes) != 1 or getattr(loss, "label_smoothing", 0) and kind == "SparseCategoricalCrossentropy":
                continue
            for j, step in enumerate(steps):
                if step.layer is layer:
                    steps[j] = step._replace(pre_activation=True)
                    changed = True
            config = loss.get_config()
            config["from_logits"] = True
            state.losses[i] = type(loss).from_config(config)
            state.fused[i] = act
        self._train_steps = steps if changed else self._steps

    # ------------------------------------------------------------------
    # Compile config (saved in .keras files)
    # ------------------------------------------------------------------
    def get_compile_config(self):
        if not getattr(self, "compiled", False):
            return None
        from kerasish import losses as losses_mod
        from kerasish import optimizers as optimizers_mod

        def ser_loss(l):
            if l is None or isinstance(l, str):
                return l
            if isinstance(l, (list, tuple)):
                return [ser_loss(x) for x in l]
            if isinstance(l, Mapping):
                return {k: ser_loss(v) for k, v in l.items()}
            return losses_mod.serialize(l)

        def ser_metrics(m):
            if m is None:
                return None
            if isinstance(m, str):
                return m
            if isinstance(m, (list, tuple)):
                return [ser_metrics(x) for x in m]
            if isinstance(m, Mapping):
                return {k: ser_metrics(v) for k, v in m.items()}
            from kerasish import metrics as metrics_mod

            return metrics_mod.serialize(m)

        args = self._compile_args
        return {
            "optimizer": optimizers_mod.serialize(self.optimizer),
            "loss": ser_loss(args["loss"]),
            "loss_weights": args["loss_weights"],
            "metrics": ser_metrics(args["metrics"]),
            "weighted_metrics": ser_metrics(args["weighted_metrics"]),
            "run_eagerly": False,
            "steps_per_execution": 1,
            "jit_compile": bool(args["jit_compile"] is True),
        }

    def compile_from_config(self, config):
        from kerasish import losses as losses_mod
        from kerasish import optimizers as optimizers_mod

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
            if isinstance(m, dict):
                from kerasish import metrics as metrics_mod

                return metrics_mod.deserialize(m)
            return m

        optimizer = optimizers_mod.deserialize(config["optimizer"]) if isinstance(config.get("optimizer"), dict) else config.get("optimizer", "rmsprop")
        self.compile(optimizer=optimizer, loss=de_loss(config.get("loss")), loss_weights=config.get("loss_weights"),
                     metrics=de_metrics(config.get("metrics")), weighted_metrics=de_metrics(config.get("weighted_metrics")),
                     jit_compile=config.get("jit_compile", False) or "auto")
        # The optimizer's slots are created now so that the weights file's
        # optimizer/vars can be restored into them.
        self._prepare_optimizer()

    # ------------------------------------------------------------------
    # Devices, precision, randomness
    # ------------------------------------------------------------------
    def _training_device(self):
        from kerasish import config
        from kerasish.distribution.data_parallel import active

        active()  # under torchrun: start the process group first (it sets this process's CUDA device)
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
        from kerasish import mixed_precision

        dtype = mixed_precision.global_policy().autocast_dtype
        if dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=device.type, dtype=dtype)

    def _grad_scaler(self, device):
        from kerasish import mixed_precision

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
    # The steps
    # ------------------------------------------------------------------
    def _require_compiled(self, what):
        if not getattr(self, "compiled", False):
            raise ValueError(f"You must call compile() before {what}() on model '{self.name}'.")

    def _prepare_optimizer(self):
        variables = self.trainable_weights
        key = tuple(id(v.tensor) for v in variables)
        if self._optimizer_built_for != key:
            if not variables:
                raise ValueError(f"Model '{self.name}' has no trainable weights to train (all layers frozen?).")
            self.optimizer.build(variables)
            self._optimizer_built_for = key

    def _forward(self, x, training, logits=False, workspace=None):
        """Model outputs (Keras layout) as a flat list; logits where fused.
        ``workspace``: the inference loop's reused buffers (engine/workspace.py)."""
        from kerasish.engine.functional import Functional

        if isinstance(self, Functional):
            steps = self._train_steps if logits else self._steps
            if type(x) is torch.Tensor and len(self._inputs_flat) == 1 and x.dtype is self._input_dtypes[0]:  # the common case, kept short
                outs = self._run_graph([x.permute(0, 3, 1, 2) if x.dim() == 4 else x], training, steps, workspace)
            else:
                flat = self._cast_inputs(self._flat_model_inputs((x,)))
                outs = self._run_graph([layout.to_internal(t) for t in flat], training, steps, workspace)
            return [o.permute(0, 2, 3, 1) if o.dim() == 4 else o for o in outs]
        y = self(x, training=training) if not isinstance(x, (list, tuple)) else self(*x, training=training)
        return D.flat_leaves(y)

    def _train_forward(self, x):
        """The training forward pass: through DistributedDataParallel in a
        data-parallel fit (so gradients are averaged), else straight."""
        ddp = self.__dict__.get("_ddp")
        if ddp is not None:
            return ddp(x)
        return self._forward(x, True, logits=True)

    # ------------------------------------------------------------------
    # Data parallelism (see kerasish/engine/distributed.py)
    # ------------------------------------------------------------------
    def _distribution(self):
        from kerasish.distribution.data_parallel import active

        return active()

    def _sync_weights_once(self, dp):
        """Rank 0's weights everywhere, once per set of weights: processes
        that initialised the model with different random draws then agree."""
        key = tuple(id(p) for p in self.parameters())
        if self.__dict__.get("_dist_synced") != key:
            dp.sync_parameters(self)
            object.__setattr__(self, "_dist_synced", key)

    def _prepare_ddp(self, dp):
        """Wrap the forward pass in DistributedDataParallel (rebuilt when the
        set of trainable weights changed, e.g. after unfreezing)."""
        from kerasish.engine.distributed import TrainForward

        key = tuple(id(v.tensor) for v in self.trainable_weights)
        if self.__dict__.get("_ddp") is not None and self.__dict__.get("_ddp_key") == key:
            return
        object.__setattr__(self, "_ddp", None)  # plain attributes: never a submodule, never in state_dict
        unused = any(l is None for l in self._compile_state.losses)
        ddp = dp.wrap(TrainForward(self), find_unused_parameters=unused)
        object.__setattr__(self, "_ddp", ddp)
        object.__setattr__(self, "_ddp_key", key)
        object.__setattr__(self, "_dist_synced", tuple(id(p) for p in self.parameters()))

    def _release_ddp(self):
        object.__setattr__(self, "_ddp", None)
        object.__setattr__(self, "_ddp_key", None)

    def _flat_targets(self, y):
        names = self._compile_state.output_names
        if isinstance(y, Mapping):
            missing = [n for n in names if n not in y and self._compile_state.losses[names.index(n)] is not None]
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

    def _build_metrics(self, y_true, y_pred):
        """Resolve metric identifiers on the first batch, as Keras does."""
        from kerasish import metrics as metrics_mod

        state = self._compile_state
        state.metrics = []
        multi = len(state.output_names) > 1
        for i, name in enumerate(state.output_names):
            built = []
            for ids, weighted in ((state.metric_ids[i], False), (state.weighted_metric_ids[i], True)):
                for ident in ids:
                    m = metrics_mod.resolve_metric(ident, y_true[i], y_pred[i], loss=state.losses[i])
                    if multi:
                        m.name = f"{name}_{m.name}"
                    built.append((m, weighted))
            state.metrics.append(built)
        # Ranking metrics give the same result on logits as on softmax
        # probabilities; only other metrics need the activation applied.
        ranking = (metrics_mod.CategoricalAccuracy, metrics_mod.SparseCategoricalAccuracy,
                   metrics_mod.TopKCategoricalAccuracy, metrics_mod.SparseTopKCategoricalAccuracy)
        from kerasish import activations

        self._metric_activations = [
            None if act is None or (act is activations.softmax and all(isinstance(m, ranking) for m, _ in built)) else act
            for act, built in zip(state.fused, state.metrics)
        ]
        self._loss_sum = None

    def _compute_loss(self, y_true, y_pred, sample_weight):
        state = self._compile_state
        total = None
        per_output = []
        for i, loss in enumerate(state.losses):
            if loss is None:
                per_output.append(None)
                continue
            sw = sample_weight[i] if isinstance(sample_weight, list) else sample_weight
            value = loss(y_true[i], y_pred[i], sample_weight=sw)
            per_output.append(value)
            w = state.loss_weights[i]
            term = value if w == 1.0 else value * w
            total = term if total is None else total + term
        if self._regularized:
            total = total + sum(reg(v.value) for reg, v in self._regularized)
        for layer in self._activity_layers:
            for l in layer._activity_losses:
                total = total + l
        return total, per_output

    def _metric_preds(self, y_pred, activations=None):
        acts = activations if activations is not None else self._compile_state.fused
        return [p if act is None else _apply_output_activation(act, p) for p, act in zip(y_pred, acts)]

    def _update_trackers(self, loss, per_output, y_true, y_pred, sample_weight, batch_size):
        with torch.no_grad():
            loss = loss.detach().float()
            if self._loss_sum is None:
                self._loss_sum = torch.zeros((), device=loss.device)
                self._loss_count = 0
                self._out_loss_sums = [None if p is None else torch.zeros((), device=loss.device) for p in per_output]
            self._loss_sum.add_(loss, alpha=batch_size)
            # per-step counters go straight into __dict__: nn.Module.__setattr__ costs ~4 us a call
            self.__dict__["_loss_count"] += batch_size
            if len(per_output) > 1:
                for i, p in enumerate(per_output):
                    if p is not None:
                        self._out_loss_sums[i] += p.detach().float() * batch_size
            preds = self._metric_preds(y_pred, self._metric_activations)
            for i, built in enumerate(self._compile_state.metrics):
                for m, weighted in built:
                    sw = sample_weight[i] if isinstance(sample_weight, list) else sample_weight
                    m.update_state(y_true[i], preds[i], sample_weight=sw if weighted else None)

    def _reset_trackers(self):
        self._loss_sum = None
        self._loss_count = 0
        if self._compile_state.metrics:
            for built in self._compile_state.metrics:
                for m, _ in built:
                    m.reset_state()

    def _log_names(self, prefix=""):
        names = ["loss"]
        state = self._compile_state
        if len(state.output_names) > 1:
            names += [f"{n}_loss" for n, l in zip(state.output_names, state.losses) if l is not None]
        if state.metrics:
            names += [m.name for built in state.metrics for m, _ in built]
        return [prefix + n for n in names]

    def _current_logs(self, prefix=""):
        """Logs as 0-d device tensors (no sync here)."""
        logs = {}
        if self._loss_sum is not None and self._loss_count:
            logs[prefix + "loss"] = self._loss_sum / self._loss_count
            state = self._compile_state
            if len(state.output_names) > 1:
                for n, s in zip(state.output_names, self._out_loss_sums):
                    if s is not None:
                        logs[f"{prefix}{n}_loss"] = s / self._loss_count
        if self._compile_state.metrics:
            for built in self._compile_state.metrics:
                for m, _ in built:
                    logs[prefix + m.name] = m.result()
        return logs

    def _float_logs(self, prefix=""):
        """Logs as Python floats: one host sync for all of them."""
        logs = self._current_logs(prefix)
        if not logs:
            return {}
        # A metric with several thresholds (Recall(thresholds=[0.3, 0.5])) gives
        # a vector: it stays an array, as in Keras; the scalars come over at once.
        keys = [k for k, v in logs.items() if not isinstance(v, torch.Tensor) or v.numel() == 1]
        out = {}
        if keys:
            device = next(v.device for v in logs.values() if isinstance(v, torch.Tensor))
            values = torch.stack([torch.as_tensor(logs[k], dtype=torch.float32).reshape(()).to(device) for k in keys]).cpu().tolist()
            out = dict(zip(keys, values))
        return {k: out[k] if k in out else logs[k].detach().float().cpu().numpy() for k in logs}

    def _class_weight_tensor(self, class_weight, device):
        if not class_weight:
            return None
        if not isinstance(class_weight, Mapping):
            raise TypeError(f"`class_weight` must be a dict {{class_index: weight}}, got {type(class_weight).__name__}")
        if len(self._compile_state.output_names) > 1:
            raise ValueError("`class_weight` is only supported for models with a single output.")
        size = max(int(k) for k in class_weight) + 1
        table = torch.ones(size, dtype=torch.float32)
        for k, v in class_weight.items():
            table[int(k)] = float(v)
        return table.to(device)

    def _apply_class_weight(self, table, y, sw):
        yt = y[0]
        labels = yt.argmax(-1) if (yt.dim() > 1 and yt.shape[-1] > 1) else yt.reshape(yt.shape[0], math.prod(yt.shape[1:]))[:, 0].round().long()
        w = table[labels.clamp(0, table.shape[0] - 1)]
        return w if sw is None else sw * w

    def _sum_reduced_part(self, per_output):
        """The weighted terms of losses with ``reduction="sum"`` (None if none)."""
        state = self._compile_state
        part = None
        for i, p in enumerate(per_output):
            if p is not None and getattr(state.losses[i], "reduction", None) == "sum":
                term = p * state.loss_weights[i]
                part = term if part is None else part + term
        return part

    def _dp_tracked(self, loss, per_output, batch_scale, world, summed):
        """Data-parallel: what this process adds to the loss trackers, so that
        the sums over processes are the one-process figures. A mean over the
        piece, times the piece's size, adds up across processes; a sum over the
        piece must count with the global batch's size (``world / batch_scale``
        times the piece's)."""
        if batch_scale == 0 or summed is None:
            return loss, per_output
        factor = world / batch_scale
        state = self._compile_state
        loss = loss + summed.detach() * (factor - 1)
        per_output = [p * factor if p is not None and getattr(state.losses[i], "reduction", None) == "sum" else p
                      for i, p in enumerate(per_output)]
        return loss, per_output

    def _train_step(self, x, y, sw, scaler, device, class_table=None, batch_scale=1.0, world=1):
        y_true = self._flat_targets(y)
        if self._compile_state.pending:
            self._resolve_pending_losses(y_true, x)
        if class_table is not None:
            sw = self._apply_class_weight(class_table, y_true, sw)
        with self._autocast(device):
            if self._compiled_forward is not None:
                loss, per_output, y_pred = self._compiled_forward(x, y_true, sw)
            else:
                y_pred = self._train_forward(x)
                loss, per_output = self._compute_loss(y_true, y_pred, sw)
        scaled = self.optimizer.scale_loss(loss) if self._scales_loss else loss
        if world > 1:
            # Data-parallel: DDP averages the processes' gradients. A loss that
            # is a mean over the piece is weighed by the piece's share of the
            # global batch (exact with uneven pieces); a sum over the piece by
            # the number of processes. Either way: the one-process gradient.
            summed = self._sum_reduced_part(per_output)
            rescaled = scaled * batch_scale
            if summed is not None:
                rescaled = rescaled + (self.optimizer.scale_loss(summed) if self._scales_loss else summed) * (world - batch_scale)
            scaled = rescaled
            loss, per_output = self._dp_tracked(loss, per_output, batch_scale, world, summed)
        if scaler is not None:
            scaler.scale(scaled).backward()
        else:
            scaled.backward()
        self.optimizer.step(grad_scaler=scaler)
        self.optimizer.zero_grad()
        if self._compile_state.metrics is None:
            self._build_metrics(y_true, self._metric_preds(y_pred))
        self._update_trackers(loss, per_output, y_true, y_pred, sw, _batch_len(x))
        self.__dict__["_steps_done"] += 1  # a plain int: past nn.Module.__setattr__ (see _update_trackers)
        return loss

    def _loss_and_outputs(self, x, y_true, sw):
        y_pred = self._train_forward(x)
        loss, per_output = self._compute_loss(y_true, y_pred, sw)
        return loss, per_output, y_pred

    def _test_step(self, x, y, sw, device, batch_scale=1.0, world=1, workspace=None):
        y_true = self._flat_targets(y)
        if self._compile_state.pending:
            self._resolve_pending_losses(y_true, x)
        with torch.no_grad(), self._autocast(device):
            y_pred = self._forward(x, False, logits=True, workspace=workspace)
            loss, per_output = self._compute_loss(y_true, y_pred, sw)
        if self._compile_state.metrics is None:
            self._build_metrics(y_true, self._metric_preds(y_pred))
        if world > 1:
            loss, per_output = self._dp_tracked(loss, per_output, batch_scale, world, self._sum_reduced_part(per_output))
        self._update_trackers(loss, per_output, y_true, y_pred, sw, _batch_len(x))
        self.__dict__["_steps_done"] += 1  # a plain int: past nn.Module.__setattr__ (see _update_trackers)

    # ------------------------------------------------------------------
    # Input checks, once per call, before any step
    # ------------------------------------------------------------------
    def _check_x(self, x, arg="x"):
        from kerasish.engine.functional import Functional

        if D._is_number_list(x):
            x = np.asarray(x)
        if isinstance(self, Functional) and D.is_array_like(x):
            sample = D.map_nested(lambda a: D.to_tensor(a, arg)[:1], x)
            try:
                self._check_inputs(self._flat_model_inputs((sample,)))
            except (ValueError, TypeError) as e:
                raise type(e)(f"`{arg}` does not fit model '{self.name}': {e}") from None

    def _check_y(self, y, arg="y", x=None):
        from kerasish import losses as losses_mod

        if D._is_number_list(y):
            y = np.asarray(y)
        if y is None and x is not None and D.is_array_like(x):
            raise ValueError(f"`{arg}` is required: model '{self.name}' was compiled with a loss and `x` is an array, so targets must be given.")
        if y is None or not D.is_array_like(y):
            return
        state = self._compile_state
        targets = self._flat_targets(D.map_nested(lambda a: D.to_tensor(a, arg), y))
        outputs = getattr(self, "_outputs_flat", None)
        if state.pending and outputs is not None:
            self._resolve_pending_losses(targets)
        for i, (loss, t) in enumerate(zip(state.losses, targets)):
            if loss is None or t is None or outputs is None:
                continue
            try:
                losses_mod.check_targets(loss, t, outputs[i].shape)
            except ValueError as e:
                raise ValueError(f"`{arg}` does not fit output '{state.output_names[i]}' of model '{self.name}': {e}") from None

    # ------------------------------------------------------------------
    # fit
    # ------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1):
        """Train the model, with Keras's arguments; returns a ``History``."""
        from kerasish import callbacks as callbacks_mod

        self._require_compiled("fit")
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
            raise ValueError(f"`epochs` must be a non-negative int, got {epochs!r}")
        if validation_split and validation_data is not None:
            validation_split = 0.0  # Keras: validation_data wins
        if validation_split:
            (x, y, sample_weight), (vx, vy, vsw) = D.split_validation(x, y, sample_weight, validation_split)
            validation_data = (vx, vy, vsw)
        self._check_x(x)
        self._check_y(y, x=x)
        if hasattr(x, "class_names") and getattr(x, "class_names", None):
            # Remember a folder's class names with the model (saved in .keras
            # metadata), so that predictions can be named later.
            self.class_names = list(x.class_names)
        device = self._training_device()
        self._build_from_data(x, device)
        dp = self._distribution()  # data-parallel under torchrun, else None
        self._shuffle_generator = torch.Generator()
        seed = int(torch.randint(0, 2**62, (1,)).item())
        self._shuffle_generator.manual_seed(dp.shared_seed(seed) if dp is not None else seed)
        data = D.make_data(x, y, sample_weight, batch_size=batch_size, shuffle=shuffle is True or shuffle == "batch",
                           device=device, steps=steps_per_epoch, generator=self._shuffle_generator, shard=dp)
        val = None
        if validation_data is not None:
            vx, vy, vsw = _unpack_validation(validation_data)
            self._check_x(vx, "validation_data")
            val = D.make_data(vx, vy, vsw, batch_size=validation_batch_size or batch_size, shuffle=False, device=device,
                              steps=validation_steps, shard=dp, split_evenly=False)
        verbose = _resolve_verbose(verbose)
        scaler = self._grad_scaler(device)
        class_table = self._class_weight_tensor(class_weight, device)
        self._prepare_optimizer()
        if dp is not None:
            self._prepare_ddp(dp)
        if self.jit_compile and self._compiled_forward is None:
            self._compiled_forward = torch.compile(self._loss_and_outputs, dynamic=False)
        steps = data.num_batches
        cbs = callbacks_mod.CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, model=self,
                                         verbose=verbose, epochs=epochs, steps=steps)
        self.stop_training = False
        self._initial_epoch = None
        self.train()
        if dp is None:
            batch_logs = _LazyLogs(self)
        else:
            from kerasish.engine import distributed

            batch_logs = distributed.SyncedLogs()
            # Batch logs are averaged over the processes every `sync_every`
            # steps (one small all-reduce); every step when a callback may
            # stop training on them, and then the stop is agreed on too.
            every_step = distributed.needs_every_step(cbs.callbacks)
            sync_every = 1 if every_step else max(1, (steps or 1000) // 50)
        cbs.on_train_begin()
        start = self._initial_epoch if self._initial_epoch is not None else initial_epoch
        self._initial_epoch = None
        epoch_logs = {}
        try:
            for epoch in range(start, epochs):
                self._reset_trackers()
                self.train()
                cbs.on_epoch_begin(epoch)
                if dp is None:
                    for step, (bx, by, bsw) in enumerate(data.epoch(self._shuffle_generator)):
                        cbs.on_train_batch_begin(step)
                        self._train_step(bx, by, bsw, scaler, device, class_table)
                        cbs.on_train_batch_end(step, batch_logs)
                        if self.stop_training:
                            break
                    epoch_logs = self._float_logs()
                else:
                    for step, (bx, by, bsw) in enumerate(data.epoch(self._shuffle_generator)):
                        cbs.on_train_batch_begin(step)
                        try:
                            self._train_step(bx, by, bsw, scaler, device, class_table, data.batch_scale, dp.world_size)
                        except RuntimeError as e:  # gradients are averaged in backward: a lost peer shows here
                            dp.raise_if_lost(e, f"averaging gradients (epoch {epoch + 1}, step {step + 1})")
                            raise
                        if (step + 1) % sync_every == 0 or step + 1 == steps:
                            batch_logs.values = distributed.global_logs(self, dp)
                        cbs.on_train_batch_end(step, batch_logs)
                        if every_step and dp.any(self.stop_training):
                            self.stop_training = True
                        if self.stop_training:
                            break
                    distributed.reduce_trackers(self, dp)
                    epoch_logs = self._float_logs()
                    # Moving statistics (BatchNormalization) were last updated
                    # from each process's own piece: rank 0's win, so that
                    # validation, checkpoints and the final model agree everywhere.
                    dp.sync_parameters(self, buffers_only=True)
                if val is not None and _should_validate(epoch, validation_freq):
                    epoch_logs.update(self._evaluate_data(val, device, cbs, prefix="val_", dp=dp))
                cbs.on_epoch_end(epoch, epoch_logs)
                if dp is not None and dp.any(self.stop_training):
                    self.stop_training = True  # EarlyStopping & co. decide alike; this makes sure
                if self.stop_training:
                    break
        finally:
            self.eval()
            if dp is not None:
                self._release_ddp()
        cbs.on_train_end(epoch_logs)
        return self.history

    # ------------------------------------------------------------------
    # evaluate / predict
    # ------------------------------------------------------------------
    def _evaluate_data(self, data, device, cbs=None, prefix="", dp=None):
        saved = (self._loss_sum, getattr(self, "_loss_count", 0), getattr(self, "_out_loss_sums", None))
        saved_metrics = [[(m, [t.clone() for t in getattr(m, "variables", [])]) for m, _ in built] for built in (self._compile_state.metrics or [])]
        self._reset_trackers()
        self.eval()
        if cbs is not None:
            cbs.on_test_begin()
        logs_view = _LazyLogs(self)
        workspace = Workspace.checkout(self)
        for step, (bx, by, bsw) in enumerate(data.epoch()):
            if cbs is not None:
                cbs.on_test_batch_begin(step)
            if dp is None:
                self._test_step(bx, by, bsw, device, workspace=workspace)
            else:
                self._test_step(bx, by, bsw, device, data.batch_scale, dp.world_size, workspace)
            if cbs is not None:
                cbs.on_test_batch_end(step, logs_view)
        Workspace.checkin(self, workspace)
        if dp is not None:
            from kerasish.engine.distributed import reduce_trackers

            reduce_trackers(self, dp)  # sums over every process's piece: the exact figures
        logs = self._float_logs()
        if cbs is not None:
            cbs.on_test_end(logs)
        if prefix:
            # restore the training trackers so epoch logs stay the training ones
            self._loss_sum, self._loss_count, self._out_loss_sums = saved
            for built in saved_metrics:
                for m, values in built:
                    for var, v in zip(getattr(m, "variables", []), values):
                        var.copy_(v)
            logs = {prefix + k: v for k, v in logs.items()}
        return logs

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None, callbacks=None, return_dict=False, **kwargs):
        """Loss and metrics on data: a float, a list ``[loss, *metrics]``, or a dict."""
        from kerasish import callbacks as callbacks_mod

        self._require_compiled("evaluate")
        self._check_x(x)
        self._check_y(y)
        device = self._training_device()
        self._build_from_data(x, device)
        dp = self._distribution()
        if dp is not None:
            self._sync_weights_once(dp)
        data = D.make_data(x, y, sample_weight, batch_size=batch_size, shuffle=False, device=device, steps=steps, shard=dp,
                           split_evenly=False)
        verbose = _resolve_verbose(verbose)
        cbs = callbacks_mod.CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1,
                                         steps=data.num_batches)
        logs = self._evaluate_data(data, device, cbs, dp=dp)
        if return_dict:
            return logs
        values = [logs[k] for k in self._log_names() if k in logs]
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Outputs for ``x`` as numpy arrays (a list or dict for several outputs)."""
        from kerasish import callbacks as callbacks_mod

        self._ensure_built_for_training("predict")
        self._check_x(x)
        device = self._training_device()
        self._build_from_data(x, device)
        dp = self._distribution()
        if dp is not None and dp.auto_shard_dataset:
            return self._predict_distributed(x, batch_size, verbose, steps, callbacks, device, dp)
        data = D.make_data(x, None, None, batch_size=batch_size, shuffle=False, device=device, steps=steps)
        verbose = _resolve_verbose(verbose)
        cbs = callbacks_mod.CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1,
                                         steps=data.num_batches)
        self.eval()
        cbs.on_predict_begin()
        hooks = bool(cbs.callbacks)  # nothing to call per batch: keep the loop bare
        chunks = None
        forward = self._forward
        workspace = Workspace.checkout(self)
        with torch.inference_mode(), self._autocast(device):
            for step, (bx, _, _) in enumerate(data.epoch()):
                if hooks:
                    cbs.on_predict_batch_begin(step)
                outs = forward(bx, False, workspace=workspace)
                if chunks is None:
                    chunks = [[] for _ in outs]
                for c, o in zip(chunks, outs):
                    c.append(o)
                if hooks:
                    cbs.on_predict_batch_end(step, {"outputs": outs})
        Workspace.checkin(self, workspace)
        cbs.on_predict_end()
        if chunks is None:
            raise ValueError("predict() got no data.")
        arrays = [_numpy(torch.cat(c)) for c in chunks]
        return self._pack_outputs(arrays)

    def _predict_distributed(self, x, batch_size, verbose, steps, callbacks, device, dp):
        """predict() with each process taking its piece of every batch; the
        pieces are gathered back into the data's order on every process."""
        from kerasish import callbacks as callbacks_mod
        from kerasish.distribution.sharding import gather_in_order

        self._sync_weights_once(dp)
        data = D.make_data(x, None, None, batch_size=batch_size, shuffle=False, device=device, steps=steps, shard=dp, split_evenly=False)
        verbose = _resolve_verbose(verbose)
        cbs = callbacks_mod.CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1,
                                         steps=data.num_batches)
        self.eval()
        cbs.on_predict_begin()
        chunks, sizes = None, []
        workspace = Workspace.checkout(self)
        with torch.inference_mode(), self._autocast(device):
            for step, (bx, _, _) in enumerate(data.epoch()):
                cbs.on_predict_batch_begin(step)
                outs = self._forward(bx, False, workspace=workspace)
                if chunks is None:
                    chunks = [[] for _ in outs]
                for c, o in zip(chunks, outs):
                    c.append(o)
                sizes.append(int(outs[0].shape[0]))
                cbs.on_predict_batch_end(step, {"outputs": outs})
        Workspace.checkin(self, workspace)
        cbs.on_predict_end()
        if chunks is None:
            raise ValueError("predict() got no data.")
        with torch.inference_mode():
            merged = [gather_in_order(dp, c, sizes) for c in chunks]
        arrays = [_numpy(m) for m in merged]
        return self._pack_outputs(arrays)

    def _pack_outputs(self, arrays):
        struct = getattr(self, "_output_struct", None)
        if struct is None:
            return arrays[0] if len(arrays) == 1 else arrays
        from kerasish.engine.keras_tensor import pack_like

        return pack_like(struct, arrays)

    # ------------------------------------------------------------------
    # on_batch
    # ------------------------------------------------------------------
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        self._require_compiled("train_on_batch")
        device = self._training_device()
        self._build_from_data(x, device)
        self._prepare_optimizer()
        bx, by, bsw = (D.to_device(s, device) for s in (x, y, sample_weight))
        dp = self._distribution()
        scale = 1.0
        if dp is not None:
            if dp.auto_shard_dataset:  # the batch is global: train on this process's piece
                from kerasish.distribution.sharding import take_piece

                n = D._batch_size_of(bx)
                bx, by, bsw = (take_piece(s, dp.rank, dp.world_size) for s in (bx, by, bsw))
                scale = D._batch_size_of(bx) * dp.world_size / n if n else 1.0
            self._prepare_ddp(dp)
        self._reset_trackers()
        self.train()
        try:
            self._train_step(bx, by, bsw, self._grad_scaler(device), device, self._class_weight_tensor(class_weight, device), scale,
                             dp.world_size if dp is not None else 1)
        finally:
            self.eval()
        if dp is not None:
            from kerasish.engine.distributed import reduce_trackers

            reduce_trackers(self, dp)
        return self._batch_result(return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._require_compiled("test_on_batch")
        device = self._training_device()
        bx, by, bsw = (D.to_device(s, device) for s in (x, y, sample_weight))
        dp = self._distribution()
        scale, world = 1.0, 1
        if dp is not None:
            from kerasish.distribution.sharding import take_piece

            self._sync_weights_once(dp)
            world = dp.world_size
            if dp.auto_shard_dataset:
                n = D._batch_size_of(bx)
                bx, by, bsw = (take_piece(s, dp.rank, dp.world_size) for s in (bx, by, bsw))
                scale = D._batch_size_of(bx) * dp.world_size / n if n else 1.0
        self._reset_trackers()
        self.eval()
        self._test_step(bx, by, bsw, device, scale, world)
        if dp is not None:
            from kerasish.engine.distributed import reduce_trackers

            reduce_trackers(self, dp)
        return self._batch_result(return_dict)

    def predict_on_batch(self, x):
        self._ensure_built_for_training("predict_on_batch")
        device = self._training_device()
        dp = self._distribution()
        if dp is not None:  # the whole batch on every process, with the same weights
            self._sync_weights_once(dp)
        self.eval()
        with torch.inference_mode():
            outs = self._forward(D.to_device(x, device), False)
        return self._pack_outputs([_numpy(o) for o in outs])

    def _batch_result(self, return_dict):
        logs = self._float_logs()
        if return_dict:
            return logs
        values = [logs[k] for k in self._log_names() if k in logs]
        return values[0] if len(values) == 1 else values

    # ------------------------------------------------------------------
    @property
    def metrics_names(self):
        """``["loss", "accuracy", ...]``: the names of evaluate()'s values."""
        if not getattr(self, "compiled", False):
            return []
        if self._compile_state.metrics is None:
            return ["loss"]
        return self._log_names()

    @property
    def metrics(self):
        out = []
        if getattr(self, "compiled", False) and self._compile_state.metrics:
            out = [m for built in self._compile_state.metrics for m, _ in built]
        return out


def _numpy(t):
    """A model output as numpy (``ops.convert_to_numpy``: bfloat16 as float32,
    float64 stays float64), float16 as float32 as predict has always given it."""
    from kerasish.ops.core import convert_to_numpy

    return convert_to_numpy(t.float() if t.dtype == torch.float16 else t)


def _first_sample_of_dataset(x):
    """One input sample (with a batch axis) from a map-style Dataset, a
    DataLoader over one, or an image folder; None for streams that reading
    would consume (generators)."""
    from torch.utils.data import DataLoader, Dataset, IterableDataset

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


def _crossentropy_object(loss):
    """A crossentropy given by name or function (a LossFunctionWrapper) as its
    class, so that a from_logits twin can be made; anything else unchanged."""
    from kerasish import losses as L

    fn = getattr(loss, "fn", None)
    classes = {L.categorical_crossentropy: L.CategoricalCrossentropy, L.sparse_categorical_crossentropy: L.SparseCategoricalCrossentropy,
               L.binary_crossentropy: L.BinaryCrossentropy}
    if fn in classes:
        kwargs = dict(getattr(loss, "_fn_kwargs", {}))
        return classes[fn](name=loss.name, reduction=loss.reduction, **kwargs)
    return loss


def _apply_output_activation(act, logits):
    from kerasish import activations

    if act is activations.softmax:
        return torch.softmax(logits, dim=-1)
    return torch.sigmoid(logits)


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
