"""The optimizer base class: Keras 3's arguments and behaviour on a torch.optim optimizer.

A kerasish optimizer holds the Keras-side settings (learning rate or schedule,
weight decay, gradient clipping, step count) and drives a ``torch.optim``
optimizer made over the model's parameters: either one of torch's own (Adam
and AdamW, fused where the device has a fused kernel) or a small
``torch.optim.Optimizer`` subclass that applies Keras's update rule with
``torch._foreach_*`` ops. Nothing in :meth:`Optimizer.step` reads a value back
from the device, so a training step never waits for the GPU.

What one ``step()`` does, in Keras's order:

1. (``grad_scaler``) ``grad_scaler.unscale_(torch_optimizer)``;
2. gradients divided by ``loss_scale_factor`` when set;
3. clipping: ``clipvalue`` (elementwise), ``clipnorm`` (each tensor's L2 norm),
   or ``global_clipnorm`` (the norm over all), Keras's formulas;
4. the learning rate of this step: the schedule's value at ``iterations``;
5. inside the torch optimizer: decoupled weight decay
   ``var -= lr * weight_decay * var`` (every optimizer class, as Keras 3 does;
   variables excluded with :meth:`exclude_from_weight_decay` are left out),
   then the optimizer's own update;
6. variable constraints, then ``iterations += 1``.

Example (a hand-written training loop; ``model.fit`` does the same)::

    opt = kerasish.optimizers.Adam(learning_rate=1e-3, clipnorm=1.0)
    opt.build(model.trainable_weights)
    for x, y in batches:
        loss = loss_fn(y, model(x))
        loss.backward()
        opt.step()
        opt.zero_grad()

State in files: :meth:`save_own_variables` / :meth:`load_own_variables` use
Keras 3's ``optimizer/vars`` layout (``"0"`` iterations, ``"1"`` learning rate
unless a schedule is used, then the slot variables in Keras's order and in
Keras layout), so a ``.keras`` file written by Keras restores the optimizer
state here, and the other way round.
"""

from __future__ import annotations

import math
import numbers
import re
import warnings

import numpy as np
import torch

from kerasish.engine.naming import auto_name
from kerasish.saving import serialization_lib

from . import schedules as _schedules

__all__ = ["Optimizer"]


def _float32(value: float) -> float:
    """``value`` rounded to float32 (Keras keeps the learning rate in a float32 variable)."""
    return float(np.float32(value))


def _check_number(name, value, *, allow_none=True, minimum=None, minimum_inclusive=True, maximum=None, maximum_inclusive=True):
    """Return ``value`` (None or a float) or raise ValueError naming the argument."""
    if value is None:
        if allow_none:
            return None
        raise ValueError(f"Argument `{name}` must be a float. Received: {name}=None")
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value) or math.isinf(value):
        raise ValueError(f"Argument `{name}` must be a finite float. Received: {name}={value!r}")
    value = float(value)
    if minimum is not None and (value < minimum or (value == minimum and not minimum_inclusive)):
        bound = f">= {minimum}" if minimum_inclusive else f"> {minimum}"
        raise ValueError(f"Argument `{name}` must be {bound}. Received: {name}={value}")
    if maximum is not None and (value > maximum or (value == maximum and not maximum_inclusive)):
        bound = f"<= {maximum}" if maximum_inclusive else f"< {maximum}"
        raise ValueError(f"Argument `{name}` must be {bound}. Received: {name}={value}")
    return value


def _check_unit_interval(name, value, *, upper_inclusive=False):
    return _check_number(name, value, allow_none=False, minimum=0.0, maximum=1.0, maximum_inclusive=upper_inclusive)


class _StateView:
    """One of the optimizer's variables (iterations, learning rate, a slot), the
    way Keras shows it: ``shape``/``dtype``/``numpy()``/``assign()`` in Keras layout."""

    def __init__(self, name, path, shape, dtype, read, write):
        self.name = name
        self.path = path
        self.shape = tuple(shape)
        self.dtype = dtype
        self._read = read
        self._write = write

    @property
    def value(self):
        return self._read()

    def numpy(self):
        v = self._read()
        if isinstance(v, torch.Tensor):
            v = v.detach()
            if v.dtype == torch.bfloat16:  # numpy has no bfloat16 (Keras writes it as float32 too)
                v = v.float()
            return v.cpu().numpy().copy()
        return np.asarray(v, dtype="float32" if self.dtype == "bfloat16" else self.dtype)

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    def assign(self, value):
        array = np.asarray(value)
        if tuple(array.shape) != self.shape:
            raise ValueError(
                f"Cannot assign a value of shape {tuple(array.shape)} to optimizer variable '{self.path}' of shape {self.shape}."
            )
        self._write(array)
        return self

    def __repr__(self):
        return f"<OptimizerVariable path={self.path}, shape={self.shape}, dtype={self.dtype}>"


def _torch_of(variable) -> torch.Tensor:
    """The torch parameter behind a kerasish Variable (or a bare tensor)."""
    if isinstance(variable, torch.Tensor):
        return variable
    tensor = getattr(variable, "tensor", None)
    if isinstance(tensor, torch.Tensor):
        return tensor
    raise TypeError(
        f"An optimizer is built on kerasish Variables (such as `model.trainable_weights`) or torch tensors. "
        f"Received: {variable!r}"
    )


def _to_keras(variable, tensor):
    convert = getattr(variable, "_to_keras", None)
    return tensor if convert is None else convert(tensor)


def _from_keras(variable, tensor):
    convert = getattr(variable, "_from_keras", None)
    return tensor if convert is None else convert(tensor)


def _var_name(variable, index):
    return getattr(variable, "name", None) or f"variable_{index}"


def _var_path(variable, index):
    return getattr(variable, "path", None) or _var_name(variable, index)


class Optimizer:
    """Base class of kerasish optimizers (Keras 3's ``keras.optimizers.Optimizer``).

    Args:
        learning_rate: a float >= 0, a
            :class:`~kerasish.optimizers.schedules.LearningRateSchedule`, or a
            callable taking no argument and returning the rate.
        weight_decay: float or None. Decoupled weight decay applied before
            each update: ``var -= learning_rate * weight_decay * var``.
        clipnorm: float > 0 or None: clip each gradient to this L2 norm.
        clipvalue: float > 0 or None: clip each gradient element to
            ``[-clipvalue, clipvalue]``.
        global_clipnorm: float > 0 or None: clip all gradients together so their
            global L2 norm is at most this. Only one of ``clipnorm``,
            ``clipvalue`` and ``global_clipnorm`` may be set.
        use_ema: must be False (moving averages of the weights are not supported yet).
        ema_momentum, ema_overwrite_frequency: kept for Keras's config.
        loss_scale_factor: float or None. :meth:`scale_loss` multiplies the
            loss by it and :meth:`step` divides the gradients by it.
        gradient_accumulation_steps: must be None (not supported yet).
        name: string; default the snake-case class name made unique (``adam``, ``adam_1``...).

    Subclasses set the update rule: :meth:`_make_torch_optimizer`, the Keras
    slot names (:meth:`_slot_layout`) and how each maps to torch state
    (``_slot_keys``).
    """

    #: Keras slot name -> key in the torch optimizer's per-parameter state.
    _slot_keys: dict = {}

    def __init__(
        self,
        learning_rate,
        weight_decay=None,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        loss_scale_factor=None,
        gradient_accumulation_steps=None,
        name=None,
        **kwargs,
    ):
        if kwargs.pop("decay", None) is not None:
            warnings.warn("Argument `decay` is no longer supported and will be ignored.", stacklevel=3)
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        self.name = name if name is not None else auto_name(type(self))
        if not isinstance(self.name, str):
            raise ValueError(f"Argument `name` must be a string. Received: name={name!r}")
        self.weight_decay = _check_number("weight_decay", weight_decay, minimum=0.0)
        self.clipnorm = _check_number("clipnorm", clipnorm, minimum=0.0, minimum_inclusive=False)
        self.clipvalue = _check_number("clipvalue", clipvalue, minimum=0.0, minimum_inclusive=False)
        self.global_clipnorm = _check_number("global_clipnorm", global_clipnorm, minimum=0.0, minimum_inclusive=False)
        if sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. "
                f"Received: clipnorm={clipnorm}, clipvalue={clipvalue}, global_clipnorm={global_clipnorm}"
            )
        if use_ema:
            raise ValueError(
                f"Argument `use_ema=True` is not supported by kerasish optimizers yet. Received: use_ema={use_ema!r}"
            )
        self.use_ema = False
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = _check_number("loss_scale_factor", loss_scale_factor, minimum=0.0, minimum_inclusive=False)
        if gradient_accumulation_steps is not None:
            raise ValueError(
                "Argument `gradient_accumulation_steps` is not supported by kerasish optimizers yet; only None is "
                f"accepted. Received: gradient_accumulation_steps={gradient_accumulation_steps!r}"
            )
        self.gradient_accumulation_steps = None

        self._iterations = 0
        self._learning_rate = None
        self._lr_value = None
        self._set_learning_rate(learning_rate, initial=True)

        self.built = False
        self._variables = []  # kerasish Variables (Keras order), one per distinct parameter
        self._params = []  # their torch parameters
        self._torch_optimizer = None
        self._exclude_ids = set()
        self._exclude_pattern = None
        self._constrained = []
        self._pending_state = None
        self._warned_missing = False
        self._match_grad_strides = False

    # ------------------------------------------------------------------
    # learning rate and step count
    # ------------------------------------------------------------------
    def _set_learning_rate(self, learning_rate, initial=False):
        if isinstance(learning_rate, _schedules.LearningRateSchedule) or (
            callable(learning_rate) and not isinstance(learning_rate, (numbers.Real, torch.Tensor))
        ):
            self._learning_rate = learning_rate
            self._lr_value = None
            return
        if isinstance(learning_rate, torch.Tensor) and learning_rate.numel() == 1:
            learning_rate = float(learning_rate)
        if isinstance(learning_rate, bool) or not isinstance(learning_rate, numbers.Real):
            raise ValueError(
                "Argument `learning_rate` should be float, or an instance of LearningRateSchedule, or a callable "
                "(that takes in the current iteration value and returns the corresponding learning rate value). "
                f"Received instead: learning_rate={learning_rate!r}"
            )
        if not initial and self._lr_value is None and isinstance(self._learning_rate, _schedules.LearningRateSchedule):
            raise TypeError(
                "This optimizer was created with a `LearningRateSchedule` object as its `learning_rate` constructor "
                "argument, hence its learning rate is not settable. If you need the learning rate to be settable, "
                "you should instantiate the optimizer with a float `learning_rate` argument."
            )
        value = _check_number("learning_rate", learning_rate, allow_none=False, minimum=0.0)
        self._learning_rate = None
        self._lr_value = _float32(value)
        if not initial and self._torch_optimizer is not None:
            for group in self._torch_optimizer.param_groups:
                group["lr"] = self._lr_value

    def _current_learning_rate(self) -> float:
        if self._lr_value is not None:
            return self._lr_value
        if isinstance(self._learning_rate, _schedules.LearningRateSchedule):
            return float(self._learning_rate(self._iterations))
        return float(self._learning_rate())

    @property
    def learning_rate(self) -> float:
        """The learning rate of the next step (a float; a schedule's value at
        ``iterations``). Set it with a float, or with a schedule."""
        return self._current_learning_rate()

    @learning_rate.setter
    def learning_rate(self, value):
        self._set_learning_rate(value)

    @property
    def iterations(self) -> int:
        """How many updates were applied (a Python int; settable)."""
        return self._iterations

    @iterations.setter
    def iterations(self, value):
        if isinstance(value, torch.Tensor):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
            raise ValueError(f"`iterations` must be an integer >= 0. Received: iterations={value!r}")
        self._iterations = int(value)
        if self._torch_optimizer is not None:
            self._sync_torch_step()

    # ------------------------------------------------------------------
    # building
    # ------------------------------------------------------------------
    @property
    def torch_optimizer(self) -> torch.optim.Optimizer:
        """The ``torch.optim.Optimizer`` doing the updates (None before :meth:`build`)."""
        return self._torch_optimizer

    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Leave some variables out of weight decay.

        Args:
            var_list: variables (or their torch tensors) to exclude.
            var_names: strings; a variable whose Keras name (``kernel``,
                ``bias``, ``gamma``...) contains any of them (regex search) is excluded.

        May be called before or after :meth:`build`.
        """
        self._exclude_ids = set()
        for v in var_list or ():
            self._exclude_ids.add(id(v))
            self._exclude_ids.add(id(_torch_of(v)))
        if var_names:
            for n in var_names:
                if not isinstance(n, str):
                    raise ValueError(f"`var_names` must be strings. Received: {n!r}")
            self._exclude_pattern = re.compile("|".join(sorted(set(var_names))))
        else:
            self._exclude_pattern = None
        if self.built:
            self._build(self._variables, force=True)

    def _use_weight_decay(self, variable) -> bool:
        if not self.weight_decay:
            return False
        if id(variable) in self._exclude_ids or id(_torch_of(variable)) in self._exclude_ids:
            return False
        if self._exclude_pattern is not None and re.search(self._exclude_pattern, str(getattr(variable, "name", ""))):
            return False
        return True

    def build(self, variables):
        """Create the torch optimizer over ``variables`` (Keras order).

        Args:
            variables: the model's trainable weights (kerasish Variables, or
                torch tensors). Calling ``build`` again with another list
                (after unfreezing layers and compiling again) makes a new torch
                optimizer; the state of parameters present in both lists is kept.
        """
        self._build(variables)

    def _build(self, variables, force=False):
        variables = list(variables)
        if (
            not force
            and self.built
            and len(variables) == len(self._variables)
            and all(a is b for a, b in zip(variables, self._variables))
            and all(p.device == self._state_device and p.dtype == self._state_dtype for p in self._params[:1])
        ):
            return  # same weights: nothing to do
        unique, seen = [], set()
        for v in variables:
            t = _torch_of(v)
            if id(t) in seen:
                continue
            seen.add(id(t))
            if not t.is_floating_point():
                raise ValueError(
                    f"Optimizers update floating-point weights only. Received {v!r} of dtype {t.dtype}."
                )
            unique.append(v)
        old_state = {}
        if self._torch_optimizer is not None:
            for p in self._params:
                if p in self._torch_optimizer.state:
                    old_state[id(p)] = self._torch_optimizer.state[p]
            old_extra = self._extra_state()
        else:
            old_extra = None
        self._variables = unique
        self._params = [_torch_of(v) for v in unique]
        decay = [p for v, p in zip(unique, self._params) if self._use_weight_decay(v)]
        decay_ids = {id(p) for p in decay}
        no_decay = [p for p in self._params if id(p) not in decay_ids]
        groups = []
        if decay:
            groups.append({"params": decay, "weight_decay": self.weight_decay, "keras_weight_decay": self.weight_decay})
        if no_decay or not groups:
            groups.append({"params": no_decay, "weight_decay": 0.0, "keras_weight_decay": 0.0})
        lr = self._current_learning_rate()
        self._torch_optimizer = self._make_torch_optimizer(groups, lr)
        for p in self._params:
            previous = old_state.get(id(p))
            if previous is not None:
                self._torch_optimizer.state[p] = {
                    k: (v.to(p.device, p.dtype if v.is_floating_point() else v.dtype) if isinstance(v, torch.Tensor) and k != "step" else v)
                    for k, v in previous.items()
                }
        self._init_state()
        if old_extra is not None:
            self._set_extra_state(old_extra)
        self._sync_torch_step()
        self._state_device = self._params[0].device if self._params else None
        self._state_dtype = self._params[0].dtype if self._params else None
        self._constrained = [v for v in unique if getattr(v, "constraint", None) is not None]
        self._warned_missing = False
        self.built = True
        if self._pending_state is not None:
            pending, self._pending_state = self._pending_state, None
            self.load_own_variables(pending)

    # -- hooks for subclasses -------------------------------------------
    def _make_torch_optimizer(self, param_groups, lr) -> torch.optim.Optimizer:
        raise NotImplementedError(f"{type(self).__name__} must implement _make_torch_optimizer()")

    def _slot_layout(self) -> list:
        """Keras's slot variables: a list of name tuples; within a tuple Keras
        interleaves them per variable (``m(v0), v(v0), m(v1), v(v1)...``)."""
        return []

    def _init_state(self):
        """Create every slot now (Keras creates them in ``build``)."""
        init = getattr(self._torch_optimizer, "init_state", None)
        if init is not None:
            init()

    def _sync_torch_step(self):
        """Tell the torch optimizer the step count (for bias corrections)."""
        for group in self._torch_optimizer.param_groups:
            if "step" in group:
                group["step"] = self._iterations

    def _prepare_step(self, lr):
        """Per-step settings computed from Python numbers (no device sync)."""

    def _extra_variables(self) -> list:
        """Optimizer-wide variables Keras keeps after the slots (Nadam's ``u_product``)."""
        return []

    def _extra_state(self):
        return None

    def _set_extra_state(self, state):
        pass

    # ------------------------------------------------------------------
    # the update
    # ------------------------------------------------------------------
    def _check_built(self):
        if not self.built:
            raise ValueError(
                f"Optimizer '{self.name}' is not built: compile the model (`model.compile(optimizer=...)`) and train "
                "it, or call `optimizer.build(model.trainable_weights)` before `optimizer.step()`."
            )

    def scale_loss(self, loss):
        """``loss * loss_scale_factor`` when set (Keras's ``scale_loss``)."""
        if self.loss_scale_factor is not None:
            return loss * self.loss_scale_factor
        return loss

    def _grads(self):
        params, grads, missing = [], [], []
        for v, p in zip(self._variables, self._params):
            g = p.grad
            if g is None:
                missing.append(v)
            else:
                params.append(p)
                grads.append(g)
        if not grads:
            raise ValueError("No gradients provided for any variable.")
        if missing and not self._warned_missing:
            self._warned_missing = True
            names = [_var_path(v, i) for i, v in enumerate(missing)]
            warnings.warn(
                f"Gradients do not exist for variables {names} when minimizing the loss. If using `model.compile()`, "
                "did you forget to provide a `loss` argument?",
                stacklevel=3,
            )
        return params, grads

    def _clip_gradients(self, grads):
        if self.clipnorm is not None:
            # Keras: g * clipnorm / max(||g||, clipnorm), per tensor.
            norms = torch._foreach_norm(grads)
            torch._foreach_clamp_min_(norms, self.clipnorm)
            torch._foreach_reciprocal_(norms)
            torch._foreach_mul_(norms, self.clipnorm)
            torch._foreach_mul_(grads, norms)
        elif self.global_clipnorm is not None:
            # Keras: scale = c * min(1 / ||all||, 1 / c), NaN if the norm is not finite.
            norms = torch._foreach_norm(grads)
            device = grads[0].device
            total = torch.linalg.vector_norm(torch.stack([n.to(device=device, dtype=torch.float32) for n in norms]))
            scale = torch.clamp_max(total.reciprocal(), 1.0 / self.global_clipnorm) * self.global_clipnorm
            scale = scale + (total - total)
            by_device = {}
            for g in grads:
                s = by_device.get(g.device)
                if s is None:
                    s = by_device[g.device] = scale.to(g.device)
                g.mul_(s.to(g.dtype) if g.dtype != s.dtype else s)
        elif self.clipvalue is not None:
            torch._foreach_clamp_min_(grads, -self.clipvalue)
            torch._foreach_clamp_max_(grads, self.clipvalue)

    def step(self, grad_scaler=None):
        """Apply one update from the gradients in ``param.grad`` (call after ``loss.backward()``).

        Args:
            grad_scaler: optional ``torch.amp.GradScaler``; the gradients are
                unscaled before clipping, the update goes through
                ``grad_scaler.step`` (skipped on inf/NaN) and the scale is updated.
        """
        self._check_built()
        if self._params and (self._params[0].device != self._state_device or self._params[0].dtype != self._state_dtype):
            self._build(self._variables, force=True)  # the model moved (device or dtype): state follows
        opt = self._torch_optimizer
        if grad_scaler is not None:
            grad_scaler.unscale_(opt)
        params, grads = self._grads()
        if self._match_grad_strides:
            # Fused kernels walk a parameter and its gradient as flat memory:
            # give each gradient the parameter's strides (autograd already does).
            for i, (p, g) in enumerate(zip(params, grads)):
                if g.stride() != p.stride():
                    fixed = torch.empty_like(p, memory_format=torch.preserve_format)
                    fixed.copy_(g)
                    p.grad = grads[i] = fixed
        with torch.no_grad():
            if self.loss_scale_factor is not None:
                torch._foreach_div_(grads, self.loss_scale_factor)
            self._clip_gradients(grads)
        lr = self._current_learning_rate()
        for group in opt.param_groups:
            group["lr"] = lr
            if "step" in group:
                group["step"] = self._iterations
        self._prepare_step(lr)
        complete = grad_scaler is None and len(params) == len(self._params)
        if grad_scaler is not None:
            grad_scaler.step(opt)
            grad_scaler.update()
        elif not (complete and self._step_directly()):
            opt.step()
        # Every parameter got a gradient and none was skipped: torch's per-parameter
        # step counters now equal iterations + 1, so the next step need not reset them.
        self._torch_steps_at = self._iterations + 1 if complete else None
        if self._constrained:
            with torch.no_grad():
                for v in self._constrained:
                    v.assign(v.constraint(v.value))
        self._iterations += 1

    def _step_directly(self) -> bool:
        """Run the torch optimizer's update without its ``step()`` wrapper, when
        a subclass can (every parameter has a gradient); False: not done."""
        return False

    def zero_grad(self, set_to_none: bool = True):
        """Clear the gradients of every parameter the optimizer updates."""
        if self._torch_optimizer is None:
            return
        if set_to_none:
            # what torch's zero_grad(set_to_none=True) does, without its
            # profiler range and group walk (10-15 us a step)
            for p in self._params:
                p.grad = None
        else:
            self._torch_optimizer.zero_grad(set_to_none=False)

    def apply_gradients(self, grads_and_vars):
        """Keras's ``apply_gradients([(grad, variable), ...])``; returns ``iterations``."""
        pairs = list(grads_and_vars)
        if not pairs:
            return self._iterations
        grads, variables = zip(*pairs)
        self.apply(list(grads), list(variables))
        return self._iterations

    def apply(self, grads, trainable_variables=None):
        """Keras's ``apply(grads, trainable_variables=None)``: one update from
        explicit gradients, given in Keras layout (the shape of
        ``variable.shape``; a tensor shaped like the torch parameter is taken
        as torch layout when the two shapes differ). Builds on first use."""
        grads = list(grads)
        if not grads:
            return
        if trainable_variables is None:
            self._check_built()
            if len(grads) != len(self._variables):
                raise ValueError(
                    f"When passing `grads` as a list of gradient tensors, the gradients must match the optimizer's "
                    f"variables one-to-one. Received {len(grads)} gradients for {len(self._variables)} variables."
                )
            trainable_variables = self._variables
        else:
            trainable_variables = list(trainable_variables)
            if len(grads) != len(trainable_variables):
                # zip would drop the extra ones silently and train only part of the model
                raise ValueError(
                    f"`grads` and `trainable_variables` must have the same length: received {len(grads)} gradients "
                    f"for {len(trainable_variables)} variables."
                )
            if not self.built:
                self.build(trainable_variables)
            known = {id(p) for p in self._params}
            for v in trainable_variables:
                if id(_torch_of(v)) not in known:
                    raise ValueError(
                        f"Unknown variable: {v}. This optimizer can only be called for the variables it was "
                        "originally built with. When working with a new set of variables, you should recreate a new "
                        "optimizer instance."
                    )
        given = {}
        for i, (g, v) in enumerate(zip(grads, trainable_variables)):
            p = _torch_of(v)
            if g is None:
                continue
            g = torch.as_tensor(np.asarray(g) if not isinstance(g, torch.Tensor) else g)
            keras_shape = tuple(getattr(v, "shape", p.shape))
            torch_shape = tuple(p.shape)
            # Keras layout first: where both shapes agree (a square Dense
            # kernel) a gradient is read as Keras's, as ``v.value.grad`` gives it.
            if tuple(g.shape) == keras_shape:
                torch_g = _from_keras(v, g)
            elif tuple(g.shape) == torch_shape:
                torch_g = g
            else:
                raise ValueError(
                    f"The gradient for variable '{_var_path(v, i)}' has shape {tuple(g.shape)}, which matches neither "
                    f"the variable's Keras shape {keras_shape} nor its torch shape {torch_shape}."
                )
            given[id(p)] = torch_g.detach().to(device=p.device, dtype=p.dtype)
        saved = [p.grad for p in self._params]
        try:
            for p in self._params:
                g = given.get(id(p))
                if g is None:
                    p.grad = None
                else:
                    p.grad = torch.empty_like(p, memory_format=torch.preserve_format).copy_(g)
            self.step()
        finally:
            for p, g in zip(self._params, saved):
                p.grad = g

    # ------------------------------------------------------------------
    # Keras's view of the state: variables, save / load
    # ------------------------------------------------------------------
    def _state_of(self, p):
        return self._torch_optimizer.state[p]

    def _slot_view(self, variable, index, slot):
        p = self._params[index]
        key = self._slot_keys.get(slot, slot)

        def read():
            return _to_keras(variable, self._state_of(p)[key])

        def write(array):
            target = self._state_of(p)[key]
            value = _from_keras(variable, torch.as_tensor(np.ascontiguousarray(array)))
            with torch.no_grad():
                target.copy_(value.to(device=target.device, dtype=target.dtype))

        shape = tuple(variable.shape) if hasattr(variable, "shape") and not isinstance(variable, torch.Tensor) else tuple(p.shape)
        path = f"{self.name}/{_var_path(variable, index).replace('/', '_')}_{slot}"
        return _StateView(slot, path, shape, str(p.dtype).replace("torch.", ""), read, write)

    @property
    def variables(self) -> list:
        """The optimizer's state as Keras lists it: iterations, the learning rate
        (unless a schedule or callable is used), then the slot variables."""
        out = [
            _StateView(
                "iteration",
                f"{self.name}/iteration",
                (),
                "int32",
                lambda: np.asarray(self._iterations, dtype=np.int32),
                lambda a: setattr(self, "iterations", int(a)),
            )
        ]
        if self._lr_value is not None:
            out.append(
                _StateView(
                    "learning_rate",
                    f"{self.name}/learning_rate",
                    (),
                    "float32",
                    lambda: np.asarray(self._lr_value, dtype=np.float32),
                    lambda a: self._set_learning_rate(float(a)),
                )
            )
        if not self.built:
            return out
        for names in self._slot_layout():
            for i, v in enumerate(self._variables):
                for slot in names:
                    out.append(self._slot_view(v, i, slot))
        out.extend(self._extra_variables())
        return out

    def save_own_variables(self, store):
        """Write the state into ``store`` (an h5py group or a dict): ``"0"``, ``"1"``... in Keras's order."""
        for i, variable in enumerate(self.variables):
            key = str(i)
            if key in store:
                del store[key]
            store[key] = variable.numpy()

    def load_own_variables(self, store):
        """Read the state written by :meth:`save_own_variables` (or by Keras 3).

        Before :meth:`build`, the values are kept and applied when the
        optimizer is built. If the number of stored variables does not match,
        nothing is loaded and a warning says why (as in Keras). Every value's
        shape and dtype is checked before any variable changes.
        """
        self.commit_own_variables(self.prepare_own_variables(store))

    def prepare_own_variables(self, store, source=None):
        """Check and read ``store`` without changing the optimizer: the first
        half of :meth:`load_own_variables`, so that a model load can check
        the model's weights and the optimizer's state before writing either.

        Args:
            store: a mapping ``"0"``, ``"1"``... to arrays or h5py datasets
                (their declared ``shape`` / ``dtype`` are checked before reading).
            source: the file, named in errors.

        Returns:
            an opaque state for :meth:`commit_own_variables`, or None when the
            variable count does not match (warned; nothing will be loaded).

        Raises:
            ValueError: a value's shape or dtype does not fit its variable.
        """
        keys = list(store.keys())
        where = f" from '{source}'" if source else ""
        for k in keys:
            value = store[k]
            # h5py datasets declare a numpy dtype: checked without reading them.
            dtype = value.dtype if isinstance(getattr(value, "dtype", None), np.dtype) else np.asarray(value).dtype
            if dtype.kind not in "biuf":
                raise ValueError(f"Cannot load optimizer '{self.name}' variable '{k}'{where}: it is stored as {dtype}, not numbers.")
        if not self.built:
            # Keep the values until build() creates the slots (checked then); the step count shows at once.
            return ("pending", {k: np.asarray(store[k]) for k in keys})
        variables = self.variables
        if len(keys) != len(variables):
            warnings.warn(
                f"Skipping variable loading for optimizer '{self.name}', because it has {len(variables)} variables "
                f"whereas the saved optimizer has {len(keys)} variables. ",
                stacklevel=3,
            )
            return None
        for i, variable in enumerate(variables):
            value = store[str(i)] if str(i) in store else None
            shape = None if value is None else tuple(np.shape(value))
            if shape != variable.shape:
                entry = getattr(value, "name", None)  # an h5py dataset's path in its file
                raise ValueError(
                    f"Optimizer variable {variable.path} has shape {variable.shape} not compatible with provided "
                    f"weight shape {shape}{where}{f' (entry {entry!r})' if entry else ''}."
                )
        return ("assign", {str(i): np.asarray(store[str(i)]) for i in range(len(variables))})

    def commit_own_variables(self, state) -> None:
        """Apply what :meth:`prepare_own_variables` checked and read."""
        if state is None:
            return
        kind, stored = state
        if kind == "pending":
            self._pending_state = stored
            if "0" in stored and np.shape(stored["0"]) == ():
                self._iterations = int(stored["0"])
            return
        self._assign_all(stored)

    def _assign_all(self, stored):
        variables = self.variables
        if len(stored) != len(variables):
            warnings.warn(
                f"Skipping variable loading for optimizer '{self.name}', because it has {len(variables)} variables "
                f"whereas the saved optimizer has {len(stored)} variables. ",
                stacklevel=3,
            )
            return
        for i, variable in enumerate(variables):
            value = stored.get(str(i))
            if value is None or tuple(np.shape(value)) != variable.shape:
                raise ValueError(
                    f"Optimizer variable {variable.path} has shape {variable.shape} not compatible with provided "
                    f"weight shape {None if value is None else tuple(np.shape(value))}."
                )
            if np.asarray(value).dtype.kind not in "biuf":
                raise ValueError(f"Optimizer variable {variable.path} is {variable.dtype}, but the value given is {np.asarray(value).dtype}.")
        # iterations last: it also sets the torch step counters.
        for i, variable in list(enumerate(variables))[1:]:
            variable.assign(stored[str(i)])
        variables[0].assign(stored["0"])

    def get_weights(self):
        """The state as a list of numpy arrays (Keras's order)."""
        return [v.numpy() for v in self.variables]

    def set_weights(self, weights):
        """Set the state from a list of arrays (Keras's order)."""
        if not self.built:
            raise ValueError(
                "You are calling `set_weights()` on an optimizer that has not yet been built. Please call "
                "`optimizer.build(trainable_variables)` to create the optimizer weights before calling `set_weights()`."
            )
        self._assign_all({str(i): np.asarray(w) for i, w in enumerate(weights)})

    # ------------------------------------------------------------------
    # config
    # ------------------------------------------------------------------
    def get_config(self):
        """Keras 3's config keys (learning rate as a float, or the schedule's serialized form)."""
        if self._lr_value is not None:
            learning_rate = self._lr_value
        elif isinstance(self._learning_rate, _schedules.LearningRateSchedule):
            learning_rate = _schedules.serialize(self._learning_rate)
        else:
            learning_rate = serialization_lib.serialize_function(self._learning_rate)
        return {
            "name": self.name,
            "learning_rate": learning_rate,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Make the optimizer again from :meth:`get_config`'s output (no state)."""
        config = dict(config)
        lr = config.get("learning_rate")
        if isinstance(lr, dict):
            if lr.get("class_name") == "function":
                fn = serialization_lib.resolve(lr, custom_objects)
                if fn is None:
                    raise serialization_lib.unknown_object_error(lr.get("config"), "learning rate function", function=True, config=lr)
                config["learning_rate"] = fn
            else:
                config["learning_rate"] = _schedules.deserialize(lr, custom_objects=custom_objects)
        return cls(**config)

    def __repr__(self):
        lr = self._learning_rate if self._lr_value is None else self._lr_value
        return f"<{type(self).__name__} name={self.name}, learning_rate={lr!r}, built={self.built}>"
