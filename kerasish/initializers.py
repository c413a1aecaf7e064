"""Keras 3 weight initializers producing torch tensors.

Each initializer is called as ``init(shape, dtype=None)`` with ``shape`` in
KERAS layout (a Conv2D kernel is ``(kh, kw, in, out)``, a Dense kernel is
``(in, out)``) and returns a new tensor (float32 unless ``dtype`` says
otherwise). Fans are computed exactly as Keras does (see ``compute_fans``), so
the engine must transpose a Keras-layout tensor into torch's weight layout
itself, after drawing.

Random draws use torch's global generator unless ``seed`` is given; then each
call uses a fresh ``torch.Generator`` seeded with it, so (like Keras with an
integer seed) the same seed gives the same values on every call.

Class names, argument names, defaults, ``get_config()`` keys and the
``serialize()`` dict form all match ``keras.initializers``.
"""

from __future__ import annotations

import inspect
import math
import numbers

import numpy as np
import torch

from kerasish.saving import serialization_lib

__all__ = [
    "Initializer",
    "Zeros",
    "Ones",
    "Constant",
    "Identity",
    "RandomNormal",
    "RandomUniform",
    "TruncatedNormal",
    "VarianceScaling",
    "GlorotUniform",
    "GlorotNormal",
    "HeNormal",
    "HeUniform",
    "LecunNormal",
    "LecunUniform",
    "Orthogonal",
    "compute_fans",
    "get",
    "serialize",
    "deserialize",
    # snake_case aliases
    "zeros",
    "ones",
    "constant",
    "identity",
    "random_normal",
    "random_uniform",
    "truncated_normal",
    "variance_scaling",
    "glorot_uniform",
    "glorot_normal",
    "he_normal",
    "he_uniform",
    "lecun_normal",
    "lecun_uniform",
    "orthogonal",
]

_KERAS_MODULE = "keras.initializers"

_DTYPES = {
    "float32": torch.float32,
    "float": torch.float32,
    "float64": torch.float64,
    "double": torch.float64,
    "float16": torch.float16,
    "half": torch.float16,
    "bfloat16": torch.bfloat16,
    "int8": torch.int8,
    "int16": torch.int16,
    "int32": torch.int32,
    "int64": torch.int64,
    "uint8": torch.uint8,
    "bool": torch.bool,
}


def _to_dtype(dtype) -> torch.dtype:
    """Map None / str / numpy / torch dtype to a torch dtype (None -> float32)."""
    if dtype is None:
        return torch.float32
    if isinstance(dtype, torch.dtype):
        return dtype
    name = dtype if isinstance(dtype, str) else getattr(np.dtype(dtype), "name", None)
    try:
        return _DTYPES[name]
    except KeyError:
        raise ValueError(f"Unsupported dtype for an initializer: {dtype!r}") from None


def _float_dtype(dtype) -> torch.dtype:
    d = _to_dtype(dtype)
    if not d.is_floating_point:
        raise ValueError(
            f"Random initializers need a floating dtype. Received: dtype={dtype!r}"
        )
    return d


def _to_shape(shape) -> tuple:
    if isinstance(shape, numbers.Integral):
        return (int(shape),)
    return tuple(int(d) for d in shape)


def _default_device() -> torch.device:
    getter = getattr(torch, "get_default_device", None)
    return getter() if getter is not None else torch.empty(()).device


def compute_fans(shape, input_axes=None, output_axes=None):
    """Return ``(fan_in, fan_out)`` for a Keras-layout shape, as Keras does.

    rank 0: (1, 1); rank 1: (n, n); rank 2: (in, out); rank >= 3 (conv
    kernels ``(..., in, out)``): receptive field ``prod(shape[:-2])`` times
    ``shape[-2]`` / ``shape[-1]``. Explicit ``input_axes``/``output_axes``
    (both given) override this.
    """
    shape = _to_shape(shape)
    if input_axes is not None and output_axes is not None:
        fan_in = math.prod(shape[a] for a in input_axes)
        fan_out = math.prod(shape[a] for a in output_axes)
        return int(fan_in), int(fan_out)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    rf = math.prod(shape[:-2])
    return int(shape[-2] * rf), int(shape[-1] * rf)


class Initializer:
    """Base class: subclasses implement ``__call__(shape, dtype=None)``."""

    def __call__(self, shape, dtype=None):
        """Return a new tensor of ``shape`` and ``dtype``."""
        raise NotImplementedError(
            "Initializer subclasses must implement the `__call__()` method."
        )

    def get_config(self):
        """JSON-serializable constructor arguments."""
        return {}

    @classmethod
    def from_config(cls, config):
        """Build an initializer from ``get_config()`` output."""
        return cls(**config)

    def clone(self):
        """A fresh instance with the same config."""
        return self.__class__.from_config(self.get_config())

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


# ------------------------------------------------------------ constants


class Zeros(Initializer):
    """All zeros."""

    def __call__(self, shape, dtype=None):
        return torch.zeros(_to_shape(shape), dtype=_to_dtype(dtype))


class Ones(Initializer):
    """All ones."""

    def __call__(self, shape, dtype=None):
        return torch.ones(_to_shape(shape), dtype=_to_dtype(dtype))


class Constant(Initializer):
    """Every element equal to ``value`` (a scalar; arrays broadcast to ``shape``)."""

    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        dt = _to_dtype(dtype)
        shape = _to_shape(shape)
        if isinstance(self.value, numbers.Number):
            return torch.full(shape, self.value, dtype=dt)
        val = torch.as_tensor(np.asarray(self.value) if not isinstance(self.value, torch.Tensor) else self.value)
        return val.to(dt).expand(shape).clone()

    def get_config(self):
        value = self.value
        if isinstance(value, torch.Tensor):
            value = value.tolist()
        elif isinstance(value, (np.ndarray, np.generic)):
            value = value.tolist()
        return {"value": value}

    @classmethod
    def from_config(cls, config):
        value = config.get("value", 0.0)  # keras.initializers.get("constant") gives {}
        if isinstance(value, dict) and "config" in value:
            # Keras serializes non-scalar values as a nested object dict.
            inner = value["config"]
            value = inner.get("value", inner) if isinstance(inner, dict) else inner
        return cls(value)


class Identity(Initializer):
    """``gain`` times the identity matrix (2D shapes only; may be rectangular)."""

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        shape = _to_shape(shape)
        if len(shape) != 2:
            raise ValueError(
                "Identity matrix initializer can only be used for 2D matrices. "
                f"Received: shape={shape} of rank {len(shape)}."
            )
        return self.gain * torch.eye(*shape, dtype=_to_dtype(dtype))

    def get_config(self):
        # Keras 3.15's Identity has no get_config (so its config is {} and the
        # gain is lost); we keep it, and keras accepts {"gain": ...} back.
        return {"gain": self.gain}


# --------------------------------------------------------------- random


def _check_seed(seed):
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise ValueError(
            f"`seed` argument should be an integer or None. Received: seed={seed!r}"
        )
    return int(seed)


class _Draw:
    """Random draws from the global generator, or a private seeded one."""

    def __init__(self, seed):
        if seed is None:
            self.gen = None
            self.device = _default_device()
        else:
            self.gen = torch.Generator()
            self.gen.manual_seed(seed)
            self.device = torch.device("cpu")

    def _empty(self, shape, dtype):
        # Draw in at least float32 (half-precision CPU kernels are patchy).
        work = dtype if dtype == torch.float64 else torch.float32
        return torch.empty(shape, dtype=work, device=self.device)

    def _finish(self, t, dtype):
        return t.to(device=_default_device(), dtype=dtype)

    def normal(self, shape, mean, stddev, dtype):
        t = self._empty(shape, dtype).normal_(mean, stddev, generator=self.gen)
        return self._finish(t, dtype)

    def uniform(self, shape, minval, maxval, dtype):
        t = self._empty(shape, dtype).uniform_(minval, maxval, generator=self.gen)
        return self._finish(t, dtype)

    def truncated_normal(self, shape, mean, stddev, dtype):
        """Normal truncated to ``mean ± 2 * stddev`` (exact inverse-CDF method)."""
        t = self._empty(shape, dtype)
        torch.nn.init.trunc_normal_(
            t, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=self.gen
        )
        return self._finish(t * stddev + mean, dtype)


class RandomInitializer(Initializer):
    """Base of the random initializers; holds the optional integer ``seed``."""

    def __init__(self, seed=None):
        self.seed = _check_seed(seed)

    def _draw(self):
        return _Draw(self.seed)

    def get_config(self):
        return {"seed": self.seed}


class RandomNormal(RandomInitializer):
    """Normal distribution with ``mean`` and ``stddev``."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        return self._draw().normal(
            _to_shape(shape), self.mean, self.stddev, _float_dtype(dtype)
        )

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class TruncatedNormal(RandomInitializer):
    """Normal with ``mean``/``stddev``, values beyond 2 stddevs from the mean redrawn."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        return self._draw().truncated_normal(
            _to_shape(shape), self.mean, self.stddev, _float_dtype(dtype)
        )

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class RandomUniform(RandomInitializer):
    """Uniform distribution on ``[minval, maxval)``."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval = minval
        self.maxval = maxval
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        return self._draw().uniform(
            _to_shape(shape), self.minval, self.maxval, _float_dtype(dtype)
        )

    def get_config(self):
        return {**super().get_config(), "minval": self.minval, "maxval": self.maxval}


class VarianceScaling(RandomInitializer):
    """Draws with variance ``scale / n``, ``n`` from ``mode`` (fan_in, fan_out, fan_avg).

    ``distribution``: ``"truncated_normal"`` (``"normal"`` is an alias, stddev
    is ``sqrt(scale/n) / 0.8796...``), ``"untruncated_normal"``, or
    ``"uniform"`` (limit ``sqrt(3 * scale / n)``).
    """

    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("uniform", "truncated_normal", "untruncated_normal")

    def __init__(
        self,
        scale=1.0,
        mode="fan_in",
        distribution="truncated_normal",
        seed=None,
        input_axes=None,
        output_axes=None,
    ):
        if not isinstance(scale, numbers.Real) or scale <= 0.0:
            raise ValueError(
                f"Argument `scale` must be positive float. Received: scale={scale}"
            )
        if mode not in self._MODES:
            raise ValueError(
                f"Invalid `mode` argument: {mode}. Please use one of {set(self._MODES)}"
            )
        distribution = str(distribution).lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in self._DISTRIBUTIONS:
            raise ValueError(
                f"Invalid `distribution` argument: {distribution}. "
                f"Please use one of {set(self._DISTRIBUTIONS)}"
            )
        self.scale = scale
        self.mode = mode
        self.distribution = distribution
        self.input_axes = input_axes
        self.output_axes = output_axes
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        shape = _to_shape(shape)
        dtype = _float_dtype(dtype)
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        if self.mode == "fan_in":
            n = max(1.0, fan_in)
        elif self.mode == "fan_out":
            n = max(1.0, fan_out)
        else:
            n = max(1.0, (fan_in + fan_out) / 2.0)
        scale = self.scale / n
        draw = self._draw()
        if self.distribution == "truncated_normal":
            # 0.8796... = stddev of a standard normal truncated to (-2, 2).
            stddev = math.sqrt(scale) / 0.87962566103423978
            return draw.truncated_normal(shape, 0.0, stddev, dtype)
        if self.distribution == "untruncated_normal":
            return draw.normal(shape, 0.0, math.sqrt(scale), dtype)
        limit = math.sqrt(3.0 * scale)
        return draw.uniform(shape, -limit, limit, dtype)

    def get_config(self):
        return {
            **super().get_config(),
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "input_axes": self.input_axes,
            "output_axes": self.output_axes,
        }


class _FixedVarianceScaling(VarianceScaling):
    """VarianceScaling preset; config is just ``seed``/``input_axes``/``output_axes``."""

    _PRESET = {}

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        super().__init__(
            seed=seed, input_axes=input_axes, output_axes=output_axes, **self._PRESET
        )

    def get_config(self):
        return {
            "seed": self.seed,
            "input_axes": self.input_axes,
            "output_axes": self.output_axes,
        }


class GlorotUniform(_FixedVarianceScaling):
    """Uniform in ``±sqrt(6 / (fan_in + fan_out))``."""

    _PRESET = {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform"}


class GlorotNormal(_FixedVarianceScaling):
    """Truncated normal, stddev ``sqrt(2 / (fan_in + fan_out))`` (before truncation)."""

    _PRESET = {"scale": 1.0, "mode": "fan_avg", "distribution": "truncated_normal"}


class LecunNormal(_FixedVarianceScaling):
    """Truncated normal, stddev ``sqrt(1 / fan_in)`` (before truncation)."""

    _PRESET = {"scale": 1.0, "mode": "fan_in", "distribution": "truncated_normal"}


class LecunUniform(_FixedVarianceScaling):
    """Uniform in ``±sqrt(3 / fan_in)``."""

    _PRESET = {"scale": 1.0, "mode": "fan_in", "distribution": "uniform"}


class HeNormal(_FixedVarianceScaling):
    """Truncated normal, stddev ``sqrt(2 / fan_in)`` (before truncation)."""

    _PRESET = {"scale": 2.0, "mode": "fan_in", "distribution": "truncated_normal"}


class HeUniform(_FixedVarianceScaling):
    """Uniform in ``±sqrt(6 / fan_in)``."""

    _PRESET = {"scale": 2.0, "mode": "fan_in", "distribution": "uniform"}


class Orthogonal(RandomInitializer):
    """Random orthogonal matrix (QR of a normal draw), times ``gain``.

    Shapes of rank > 2 are treated as ``(prod(shape[:-1]), shape[-1])``.
    """

    def __init__(self, gain=1.0, seed=None):
        self.gain = gain
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        shape = _to_shape(shape)
        dtype = _float_dtype(dtype)
        if len(shape) < 2:
            raise ValueError(
                "The tensor to initialize must be at least two-dimensional. "
                f"Received: shape={shape} of rank {len(shape)}."
            )
        rows = math.prod(shape[:-1])
        cols = shape[-1]
        work = torch.float64 if dtype == torch.float64 else torch.float32
        a = self._draw().normal((max(rows, cols), min(rows, cols)), 0.0, 1.0, work)
        q, r = torch.linalg.qr(a)
        q = q * torch.sign(torch.diagonal(r))
        if rows < cols:
            q = q.T
        return (self.gain * q).reshape(shape).to(dtype)

    def get_config(self):
        return {**super().get_config(), "gain": self.gain}


# --------------------------------------------------------- names and API

# snake_case aliases, as in keras.initializers
zeros = Zeros
ones = Ones
constant = Constant
identity = Identity
random_normal = RandomNormal
random_uniform = RandomUniform
truncated_normal = TruncatedNormal
variance_scaling = VarianceScaling
glorot_uniform = GlorotUniform
glorot_normal = GlorotNormal
he_normal = HeNormal
he_uniform = HeUniform
lecun_normal = LecunNormal
lecun_uniform = LecunUniform
orthogonal = Orthogonal

_CLASSES = (
    Initializer,
    Zeros,
    Ones,
    Constant,
    Identity,
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
    VarianceScaling,
    GlorotUniform,
    GlorotNormal,
    HeNormal,
    HeUniform,
    LecunNormal,
    LecunUniform,
    Orthogonal,
)


def _snake(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and not name[i - 1].isupper():
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


#: Every name ``get()`` accepts -> class (same set as Keras, minus STFT).
ALL_INITIALIZERS = {cls.__name__: cls for cls in _CLASSES}
ALL_INITIALIZERS.update({_snake(cls.__name__): cls for cls in _CLASSES})
ALL_INITIALIZERS.update(
    {
        "IdentityInitializer": Identity,
        "OrthogonalInitializer": Orthogonal,
        "normal": RandomNormal,
        "uniform": RandomUniform,
        "one": Ones,
        "zero": Zeros,
    }
)


serialization_lib.register_builtins("initializers", _KERAS_MODULE, ALL_INITIALIZERS)


def serialize(initializer):
    """Keras 3 dict form: ``{"module", "class_name", "config", "registered_name"}``."""
    return serialization_lib.serialize_object_of(initializer, Initializer, "initializer")


def deserialize(config, custom_objects=None):
    """Build an initializer from a name or a (Keras 2 or 3) config dict.

    Args:
        config: a name (``"glorot_uniform"``) or a config dict.
        custom_objects: name -> class or function for custom initializers
            (scopes and registered objects are searched too).
    """
    return serialization_lib.deserialize_object_of(config, custom_objects, ALL_INITIALIZERS, "initializer")


def get(identifier):
    """Resolve an initializer: None, name, instance, class, config dict, callable, tensor."""
    if identifier is None:
        return None
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if isinstance(identifier, (torch.Tensor, np.ndarray, np.generic)):
        value = torch.as_tensor(identifier)

        def initialize_fn(shape, dtype=None):
            if _to_shape(shape) != tuple(value.shape):
                raise ValueError(
                    f"Expected `shape` to be {tuple(value.shape)} for direct "
                    f"tensor as initializer. Received shape={shape}"
                )
            return value.to(_to_dtype(dtype)).clone()

        return initialize_fn
    if inspect.isclass(identifier):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret initializer identifier: {identifier!r}")
