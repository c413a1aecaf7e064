"""Learning-rate schedules with Keras 3's names, arguments and formulas.

A schedule maps the optimizer's step count (a Python int: ``optimizer.iterations``
before the update) to a learning rate (a Python float). Everything is plain
Python arithmetic, so evaluating a schedule once per training step never
touches the GPU or waits for it.

Example::

    from kerasish.optimizers import SGD, schedules

    lr = schedules.ExponentialDecay(0.1, decay_steps=1000, decay_rate=0.96)
    opt = SGD(learning_rate=lr)
    lr(0), lr(1000)          # 0.1, 0.096

Schedules serialize to Keras 3's dict form
(``{"module": "keras.optimizers.schedules", "class_name", "config", "registered_name"}``),
so a Keras ``.keras`` file that names one loads here and the other way round.
"""

from __future__ import annotations

import inspect
import math
import numbers

from kerasish.saving import serialization_lib

__all__ = [
    "LearningRateSchedule",
    "ExponentialDecay",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "InverseTimeDecay",
    "CosineDecay",
    "CosineDecayRestarts",
    "serialize",
    "deserialize",
]

_KERAS_MODULE = "keras.optimizers.schedules"


def _step_value(step) -> float:
    """The step as a Python float (a tensor step is read once: avoid on device in a loop)."""
    if isinstance(step, bool):
        raise TypeError(f"A learning-rate schedule needs an integer step. Received: step={step!r}")
    if isinstance(step, numbers.Real):
        return float(step)
    try:
        return float(step)
    except (TypeError, ValueError):
        raise TypeError(f"A learning-rate schedule needs an integer step. Received: step={step!r}") from None


def _number(value, name, positive=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
        raise ValueError(f"Argument `{name}` must be a number. Received: {name}={value!r}")
    if positive and value <= 0:
        raise ValueError(f"Argument `{name}` must be > 0. Received: {name}={value}")
    return value


class LearningRateSchedule:
    """Base class: ``schedule(step) -> float``.

    Subclasses implement ``__call__(self, step)`` and ``get_config()``.

    Example::

        class InverseSqrt(LearningRateSchedule):
            def __init__(self, base):
                self.base = base

            def __call__(self, step):
                return self.base / (step + 1) ** 0.5

            def get_config(self):
                return {"base": self.base}
    """

    def __call__(self, step):
        raise NotImplementedError(
            f"Learning rate schedule '{self.__class__.__name__}' must override `__call__(self, step)`."
        )

    def get_config(self):
        raise NotImplementedError(
            f"Learning rate schedule '{self.__class__.__name__}' must override `get_config()` in order to be serializable."
        )

    @classmethod
    def from_config(cls, config):
        """Make the schedule again from :meth:`get_config`'s output."""
        return cls(**config)

    def __repr__(self):
        try:
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        except NotImplementedError:
            args = ""
        return f"{type(self).__name__}({args})"


class ExponentialDecay(LearningRateSchedule):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``.

    Args:
        initial_learning_rate: float, the rate at step 0.
        decay_steps: int > 0.
        decay_rate: float.
        staircase: if True, ``step / decay_steps`` is floored (decay in steps).
        name: kept in the config (Keras's default ``"ExponentialDecay"``).

    Example: ``ExponentialDecay(0.1, 10, 0.5)(20) == 0.025``.
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name="ExponentialDecay"):
        self.initial_learning_rate = _number(initial_learning_rate, "initial_learning_rate")
        self.decay_steps = _number(decay_steps, "decay_steps", positive=True)
        self.decay_rate = _number(decay_rate, "decay_rate")
        self.staircase = staircase
        self.name = name

    def __call__(self, step):
        p = _step_value(step) / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return float(self.initial_learning_rate * self.decay_rate**p)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while ``step <= boundaries[0]``, ``values[1]`` while
    ``step <= boundaries[1]``, ..., ``values[-1]`` after the last boundary.

    Args:
        boundaries: strictly increasing step numbers.
        values: one more value than boundaries.
        name: kept in the config (Keras's default ``"PiecewiseConstant"``).

    Example: ``PiecewiseConstantDecay([100, 200], [1.0, 0.5, 0.1])(150) == 0.5``.
    """

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        boundaries, values = list(boundaries), list(values)
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. "
                f"Received: boundaries={boundaries} of length {len(boundaries)}, and values={values} "
                f"of length {len(values)}."
            )
        for i, b in enumerate(boundaries):
            _number(b, f"boundaries[{i}]")
        for i, v in enumerate(values):
            _number(v, f"values[{i}]")
        if any(b >= c for b, c in zip(boundaries, boundaries[1:])):
            raise ValueError(f"Argument `boundaries` must be strictly increasing. Received: boundaries={boundaries}")
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step):
        step = _step_value(step)
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return float(value)
        return float(self.values[-1])

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """``(initial - end) * (1 - min(step, decay_steps) / decay_steps) ** power + end``.

    With ``cycle=True`` the decay restarts: ``decay_steps`` is multiplied by
    ``ceil(step / decay_steps)`` (1 at step 0).

    Args:
        initial_learning_rate: float.
        decay_steps: int > 0.
        end_learning_rate: float, default 0.0001.
        power: float, default 1.0 (linear).
        cycle: bool, default False.
        name: kept in the config.

    Example: ``PolynomialDecay(0.1, 100, 0.0)(50) == 0.05``.
    """

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0, cycle=False, name="PolynomialDecay"):
        self.initial_learning_rate = _number(initial_learning_rate, "initial_learning_rate")
        self.decay_steps = _number(decay_steps, "decay_steps", positive=True)
        self.end_learning_rate = _number(end_learning_rate, "end_learning_rate")
        self.power = _number(power, "power")
        self.cycle = cycle
        self.name = name

    def __call__(self, step):
        step = _step_value(step)
        decay_steps = float(self.decay_steps)
        if self.cycle:
            multiplier = 1.0 if step == 0 else math.ceil(step / self.decay_steps)
            decay_steps = decay_steps * multiplier
        else:
            step = min(step, decay_steps)
        p = step / decay_steps
        return float((self.initial_learning_rate - self.end_learning_rate) * (1 - p) ** self.power + self.end_learning_rate)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "cycle": self.cycle,
            "name": self.name,
        }


class InverseTimeDecay(LearningRateSchedule):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)``
    (``floor(step / decay_steps)`` with ``staircase=True``).

    Args:
        initial_learning_rate: float.
        decay_steps: > 0.
        decay_rate: float.
        staircase: bool, default False.
        name: kept in the config.

    Example: ``InverseTimeDecay(0.1, 1, 0.5)(2) == 0.05``.
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name="InverseTimeDecay"):
        self.initial_learning_rate = _number(initial_learning_rate, "initial_learning_rate")
        self.decay_steps = _number(decay_steps, "decay_steps", positive=True)
        self.decay_rate = _number(decay_rate, "decay_rate")
        self.staircase = staircase
        self.name = name

    def __call__(self, step):
        p = _step_value(step) / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return float(self.initial_learning_rate / (1.0 + self.decay_rate * p))

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class CosineDecay(LearningRateSchedule):
    """Optional linear warmup, then cosine decay.

    Without ``warmup_target``: ``initial * ((1 - alpha) * 0.5 * (1 + cos(pi * s / decay_steps)) + alpha)``
    with ``s = min(step, decay_steps)``. With ``warmup_target``: a linear ramp
    from ``initial_learning_rate`` to ``warmup_target`` over ``warmup_steps``,
    then the cosine decay from ``warmup_target`` over ``decay_steps``.

    Args:
        initial_learning_rate: float.
        decay_steps: int > 0.
        alpha: floor of the decay as a fraction of the start value, default 0.0.
        name: kept in the config.
        warmup_target: float or None (no warmup).
        warmup_steps: int, default 0.

    Example: ``CosineDecay(0.1, 100)(50) == 0.05``.
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay", warmup_target=None, warmup_steps=0):
        self.initial_learning_rate = _number(initial_learning_rate, "initial_learning_rate")
        self.decay_steps = _number(decay_steps, "decay_steps", positive=True)
        self.alpha = _number(alpha, "alpha")
        self.name = name
        self.warmup_steps = _number(warmup_steps, "warmup_steps")
        if self.warmup_steps < 0:
            raise ValueError(f"Argument `warmup_steps` must be >= 0. Received: warmup_steps={warmup_steps}")
        self.warmup_target = None if warmup_target is None else _number(warmup_target, "warmup_target")

    def _decay(self, step, start):
        cosine = 0.5 * (1.0 + math.cos(math.pi * step / self.decay_steps))
        return start * ((1 - self.alpha) * cosine + self.alpha)

    def __call__(self, step):
        step = _step_value(step)
        if self.warmup_target is None:
            return float(self._decay(min(step, self.decay_steps), self.initial_learning_rate))
        step = min(step, self.decay_steps + self.warmup_steps)
        if step < self.warmup_steps:
            delta = self.warmup_target - self.initial_learning_rate
            return float(delta * (step / self.warmup_steps) + self.initial_learning_rate)
        return float(self._decay(step - self.warmup_steps, self.warmup_target))

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR).

    The multiplier decays from 1 to ``alpha`` over ``first_decay_steps``, then
    restarts; each period is ``t_mul`` times longer and starts ``m_mul`` times
    lower than the previous one.

    Args:
        initial_learning_rate: float.
        first_decay_steps: int > 0.
        t_mul: float, default 2.0.
        m_mul: float, default 1.0.
        alpha: float, default 0.0.
        name: kept in the config (Keras's default ``"SGDRDecay"``).

    Example: ``CosineDecayRestarts(0.1, 10)(10) == 0.1`` (a restart).
    """

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0, name="SGDRDecay"):
        self.initial_learning_rate = _number(initial_learning_rate, "initial_learning_rate")
        self.first_decay_steps = _number(first_decay_steps, "first_decay_steps", positive=True)
        self._t_mul = _number(t_mul, "t_mul", positive=True)
        self._m_mul = _number(m_mul, "m_mul")
        self.alpha = _number(alpha, "alpha")
        self.name = name

    def __call__(self, step):
        fraction = _step_value(step) / self.first_decay_steps
        t_mul = float(self._t_mul)
        if t_mul == 1.0:
            restart = math.floor(fraction)
            fraction -= restart
        else:
            restart = math.floor(math.log(1.0 - fraction * (1.0 - t_mul)) / math.log(t_mul))
            done = (1.0 - t_mul**restart) / (1.0 - t_mul)
            fraction = (fraction - done) / t_mul**restart
        cosine = 0.5 * self._m_mul**restart * (1.0 + math.cos(math.pi * fraction))
        return float(self.initial_learning_rate * ((1 - self.alpha) * cosine + self.alpha))

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "first_decay_steps": self.first_decay_steps,
            "t_mul": self._t_mul,
            "m_mul": self._m_mul,
            "alpha": self.alpha,
            "name": self.name,
        }


ALL_SCHEDULES = {
    cls.__name__: cls
    for cls in (
        LearningRateSchedule,
        ExponentialDecay,
        PiecewiseConstantDecay,
        PolynomialDecay,
        InverseTimeDecay,
        CosineDecay,
        CosineDecayRestarts,
    )
}


serialization_lib.register_builtins("schedules", _KERAS_MODULE, ALL_SCHEDULES)


def serialize(learning_rate_schedule):
    """Keras 3's dict form of a schedule."""
    if not isinstance(learning_rate_schedule, LearningRateSchedule):
        raise ValueError(
            f"Cannot serialize {learning_rate_schedule!r}: expected a LearningRateSchedule instance."
        )
    return serialization_lib.serialize_class_instance(learning_rate_schedule)


def deserialize(config, custom_objects=None):
    """Make a schedule from :func:`serialize`'s output (or the plain
    ``{"class_name", "config"}`` form). Custom classes are found in
    ``custom_objects``, active ``custom_object_scope``\\ s and the
    ``register_keras_serializable`` registry."""
    if isinstance(config, LearningRateSchedule):
        return config
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Could not interpret learning rate schedule config: {config!r}")
    cls = serialization_lib.resolve(config, custom_objects, ALL_SCHEDULES)
    if cls is None or not (inspect.isclass(cls) and issubclass(cls, LearningRateSchedule)):
        raise serialization_lib.unknown_object_error(
            config.get("registered_name") or config["class_name"], "learning rate schedule", known=sorted(ALL_SCHEDULES)
        )
    return serialization_lib.instantiate(cls, config, custom_objects)
