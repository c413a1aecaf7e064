"""Keras 3 activation functions, computed on torch tensors.

Every function takes a tensor in Keras (channels_last) layout and returns a
tensor of the same shape and dtype; the numbers match ``keras.activations``.
Element-wise functions do not care about layout. The few whose result depends
on an axis (``softmax``, ``log_softmax``, ``glu``, ``sparsemax``) carry the
function attribute ``axis_dependent = True`` so the engine can translate the
Keras axis to its internal layout before calling them; all others have
``axis_dependent = False``.

``get``, ``serialize`` and ``deserialize`` follow Keras: names are the
lowercase Keras names (``"relu"``, ``"swish"``, ...), ``None`` means
``linear`` and a callable is returned unchanged.
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F

from kerasish.saving import serialization_lib

__all__ = [
    "relu",
    "relu6",
    "leaky_relu",
    "sigmoid",
    "hard_sigmoid",
    "sparse_sigmoid",
    "log_sigmoid",
    "softmax",
    "log_softmax",
    "sparsemax",
    "tanh",
    "tanh_shrink",
    "hard_tanh",
    "elu",
    "selu",
    "celu",
    "gelu",
    "glu",
    "silu",
    "swish",
    "hard_silu",
    "hard_swish",
    "softplus",
    "sparse_plus",
    "squareplus",
    "softsign",
    "soft_shrink",
    "hard_shrink",
    "threshold",
    "exponential",
    "linear",
    "mish",
    "ALL_ACTIVATIONS",
    "ALIASES",
    "get",
    "serialize",
    "deserialize",
]


def _tensor(x) -> torch.Tensor:
    """Return ``x`` as a torch tensor (Python numbers/lists become float32)."""
    if isinstance(x, torch.Tensor):
        return x
    t = torch.as_tensor(x)
    if not t.is_floating_point() and not t.is_complex():
        t = t.to(torch.get_default_dtype())
    return t


def _axis_fn(flag: bool):
    """Decorator that sets ``fn.axis_dependent``."""

    def deco(fn):
        fn.axis_dependent = flag
        return fn

    return deco


_elementwise = _axis_fn(False)
_axiswise = _axis_fn(True)


# ---------------------------------------------------------------- ReLU family


@_elementwise
def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Rectified linear unit, Keras semantics.

    ``x`` above ``threshold`` passes (clipped to ``max_value`` if given);
    below it the output is ``negative_slope * (x - threshold)``.
    """
    x = _tensor(x)
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return F.relu(x)
    if negative_slope != 0.0:
        if max_value is None and threshold == 0:
            return F.leaky_relu(x, negative_slope=negative_slope)
        negative_part = F.relu(threshold - x) if threshold != 0 else F.relu(-x)
    clip_max = max_value is not None
    if threshold != 0:
        x = torch.where(x > threshold, x, torch.zeros((), dtype=x.dtype, device=x.device))
    elif max_value == 6:
        x = F.relu6(x)
        clip_max = False
    else:
        x = F.relu(x)
    if clip_max:
        x = torch.clamp(x, 0.0, float(max_value))
    if negative_slope != 0.0:
        x = x - negative_slope * negative_part
    return x


@_elementwise
def relu6(x):
    """ReLU capped at 6: ``min(max(x, 0), 6)``."""
    return F.relu6(_tensor(x))


@_elementwise
def leaky_relu(x, negative_slope=0.2):
    """Leaky ReLU: ``x`` if ``x >= 0`` else ``negative_slope * x`` (default 0.2)."""
    return F.leaky_relu(_tensor(x), negative_slope=negative_slope)


@_elementwise
def elu(x, alpha=1.0):
    """Exponential linear unit: ``x`` if ``x > 0`` else ``alpha * (exp(x) - 1)``."""
    return F.elu(_tensor(x), alpha=alpha)


@_elementwise
def selu(x):
    """Scaled ELU with the fixed constants ``alpha≈1.6733``, ``scale≈1.0507``."""
    return F.selu(_tensor(x))


@_elementwise
def celu(x, alpha=1.0):
    """Continuously differentiable ELU: ``max(0,x) + min(0, alpha*(exp(x/alpha)-1))``."""
    return F.celu(_tensor(x), alpha=alpha)


# ---------------------------------------------------------- sigmoid family


@_elementwise
def sigmoid(x):
    """Logistic sigmoid ``1 / (1 + exp(-x))``."""
    return torch.sigmoid(_tensor(x))


@_elementwise
def hard_sigmoid(x):
    """Keras 3 hard sigmoid: ``relu6(x + 3) / 6`` (0 below -3, 1 above 3)."""
    return F.hardsigmoid(_tensor(x))


@_elementwise
def sparse_sigmoid(x):
    """Sparse sigmoid: 0 for ``x <= -1``, 1 for ``x >= 1``, ``(x + 1) / 2`` between."""
    x = _tensor(x)
    return torch.clamp(0.5 * (x + 1.0), 0.0, 1.0)


@_elementwise
def log_sigmoid(x):
    """``log(sigmoid(x))``, computed stably."""
    return F.logsigmoid(_tensor(x))


@_elementwise
def silu(x):
    """SiLU / swish: ``x * sigmoid(x)``."""
    return F.silu(_tensor(x))


swish = silu  # Keras alias; serializes as "silu".


@_elementwise
def hard_silu(x):
    """Hard SiLU / hard swish: ``x * relu6(x + 3) / 6``."""
    return F.hardswish(_tensor(x))


hard_swish = hard_silu  # Keras alias; serializes as "hard_silu".


# ------------------------------------------------------------ tanh family


@_elementwise
def tanh(x):
    """Hyperbolic tangent."""
    return torch.tanh(_tensor(x))


@_elementwise
def tanh_shrink(x):
    """``x - tanh(x)``."""
    return F.tanhshrink(_tensor(x))


@_elementwise
def hard_tanh(x):
    """``x`` clipped to ``[-1, 1]``."""
    return F.hardtanh(_tensor(x), min_val=-1.0, max_val=1.0)


# ----------------------------------------------------- smooth / misc ones


@_elementwise
def gelu(x, approximate=False):
    """Gaussian error linear unit; exact (erf) by default, tanh form if ``approximate``.

    Note: ``keras.activations.gelu`` defaults to ``approximate=False`` (while
    ``keras.ops.gelu`` and the ``gelu`` op default to ``True``).
    """
    return F.gelu(_tensor(x), approximate="tanh" if approximate else "none")


@_elementwise
def softplus(x):
    """``log(1 + exp(x))`` (torch's stable form, linear above 20, as Keras on torch)."""
    return F.softplus(_tensor(x))


@_elementwise
def sparse_plus(x):
    """0 for ``x <= -1``, ``(x + 1)^2 / 4`` for ``-1 < x < 1``, ``x`` for ``x >= 1``."""
    x = _tensor(x)
    return torch.where(
        x <= -1,
        torch.zeros_like(x),
        torch.where(x < 1, 0.25 * (x + 1.0) ** 2, x),
    )


@_elementwise
def squareplus(x, b=4):
    """``(x + sqrt(x^2 + b)) / 2``."""
    x = _tensor(x)
    return (x + torch.sqrt(x * x + b)) / 2


@_elementwise
def softsign(x):
    """``x / (|x| + 1)``."""
    return F.softsign(_tensor(x))


@_elementwise
def soft_shrink(x, threshold=0.5):
    """``x - threshold`` above ``threshold``, ``x + threshold`` below ``-threshold``, else 0."""
    return F.softshrink(_tensor(x), lambd=threshold)


@_elementwise
def hard_shrink(x, threshold=0.5):
    """``x`` where ``|x| > threshold``, else 0."""
    return F.hardshrink(_tensor(x), lambd=threshold)


@_elementwise
def threshold(x, threshold, default_value):
    """``x`` where ``x > threshold``, else ``default_value`` (both arguments required)."""
    return F.threshold(_tensor(x), threshold, default_value)


@_elementwise
def exponential(x):
    """``exp(x)``."""
    return torch.exp(_tensor(x))


@_elementwise
def linear(x):
    """Identity (pass-through); returns the input unchanged."""
    return x


@_elementwise
def mish(x):
    """Mish: ``x * tanh(softplus(x))``."""
    return F.mish(_tensor(x))


# ------------------------------------------------------ axis-dependent ones


def _upcast_half_on_cpu(x):
    if x.device.type == "cpu" and x.dtype == torch.float16:
        return x.float(), x.dtype
    return x, None


def _norm_axes(axis, ndim):
    """Normalize ``axis`` (int, tuple or None) into a tuple of dims."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (list, tuple)):
        return tuple(a % ndim if ndim else a for a in axis)
    return (axis,)


@_axiswise
def softmax(x, axis=-1):
    """Softmax along ``axis`` (int, tuple of ints, or ``None`` for all axes)."""
    x = _tensor(x)
    x, back = _upcast_half_on_cpu(x)
    if isinstance(axis, int):
        out = F.softmax(x, dim=axis)
    else:
        dims = _norm_axes(axis, x.dim())
        out = torch.exp(x - torch.logsumexp(x, dim=dims, keepdim=True))
    return out if back is None else out.to(back)


@_axiswise
def log_softmax(x, axis=-1):
    """Log of the softmax along ``axis`` (int, tuple of ints, or ``None``)."""
    x = _tensor(x)
    x, back = _upcast_half_on_cpu(x)
    if isinstance(axis, int):
        out = F.log_softmax(x, dim=axis)
    else:
        dims = _norm_axes(axis, x.dim())
        out = x - torch.logsumexp(x, dim=dims, keepdim=True)
    return out if back is None else out.to(back)


@_axiswise
def glu(x, axis=-1):
    """Gated linear unit: split ``x`` in two halves ``a, b`` along ``axis``; ``a * sigmoid(b)``."""
    return F.glu(_tensor(x), dim=axis)


@_axiswise
def sparsemax(x, axis=-1):
    """Sparsemax (Martins & Astudillo 2016): Euclidean projection onto the simplex along ``axis``."""
    x = _tensor(x)
    z, _ = torch.sort(x, dim=axis, descending=True)
    cumsum = torch.cumsum(z, dim=axis)
    n = x.shape[axis]
    view = [1] * x.dim()
    view[axis] = n
    k = torch.arange(1, n + 1, dtype=x.dtype, device=x.device).view(view)
    support = (1 + k * z) > cumsum
    k_z = support.sum(dim=axis, keepdim=True).clamp_min(1)
    tau = (torch.gather(cumsum, axis, k_z - 1) - 1) / k_z.to(x.dtype)
    return F.relu(x - tau)


# ----------------------------------------------------------- registry / API

#: Canonical Keras name -> function, one entry per function (aliases excluded).
ALL_ACTIVATIONS = {
    fn.__name__: fn
    for fn in (
        relu,
        relu6,
        leaky_relu,
        elu,
        selu,
        celu,
        sigmoid,
        hard_sigmoid,
        sparse_sigmoid,
        log_sigmoid,
        silu,
        hard_silu,
        tanh,
        tanh_shrink,
        hard_tanh,
        gelu,
        softplus,
        sparse_plus,
        squareplus,
        softsign,
        soft_shrink,
        hard_shrink,
        threshold,
        exponential,
        linear,
        mish,
        softmax,
        log_softmax,
        glu,
        sparsemax,
    )
}

#: Extra names Keras accepts for existing functions.
ALIASES = {"swish": silu, "hard_swish": hard_silu}

_BY_NAME = {**ALL_ACTIVATIONS, **ALIASES}
_NAME_OF = {id(fn): name for name, fn in ALL_ACTIVATIONS.items()}


serialization_lib.register_builtins("activations", "keras.activations", _BY_NAME)


def _unknown(name):
    return serialization_lib.unknown_object_error(name, "activation", function=True, known=sorted(_BY_NAME))


def _lookup(name: str, custom_objects=None):
    """A built-in, or a function passed in ``custom_objects``, a scope or the registry."""
    obj = serialization_lib.lookup(name, custom_objects, _BY_NAME)
    if obj is None:
        raise _unknown(name)
    return obj


def serialize(activation):
    """Return the Keras name of a built-in activation (``swish`` -> ``"silu"``).

    A custom function gives Keras 3's dict form ``{"module": "builtins",
    "class_name": "function", "config": <registered name>, "registered_name":
    "function"}``; a callable object with ``get_config`` gives its class dict form.
    """
    name = _NAME_OF.get(id(activation))
    if name is not None:
        return name
    if callable(getattr(activation, "get_config", None)):
        return serialization_lib.serialize_class_instance(activation)
    fn_name = getattr(activation, "__name__", None)
    if callable(activation) and fn_name and fn_name != "<lambda>":
        return serialization_lib.serialize_function(activation)
    raise ValueError(f"Cannot serialize activation {activation!r}.")


def deserialize(config, custom_objects=None):
    """Inverse of ``serialize``: a name or a Keras dict -> the function.

    Args:
        config: a name (``"relu"``, ``"my_pkg>scaled"``) or a config dict.
        custom_objects: name -> function or class for custom activations
            (scopes and registered functions are searched too).
    """
    if isinstance(config, str):
        obj = _lookup(config, custom_objects)
        return obj() if isinstance(obj, type) else obj
    if isinstance(config, dict):
        class_name = config.get("class_name")
        inner = config.get("config")
        if class_name == "function" or class_name is None:
            name = inner if isinstance(inner, str) else config.get("registered_name")
            if not isinstance(name, str):
                raise ValueError(f"Cannot deserialize activation from {config!r}.")
            return deserialize(name, custom_objects)
        obj = serialization_lib.resolve(config, custom_objects)
        if obj is not None:
            return serialization_lib.instantiate(obj, config, custom_objects) if isinstance(obj, type) else obj
        # {"class_name": "relu", "config": {...}}: a name with keyword args.
        fn = _lookup(class_name, custom_objects)
        if isinstance(inner, dict) and inner:
            wrapped = functools.partial(fn, **inner)
            functools.update_wrapper(wrapped, fn)
            return wrapped
        return fn
    raise TypeError(
        f"Cannot deserialize activation from {type(config).__name__}: {config!r}"
    )


def get(identifier):
    """Resolve an activation identifier: None -> linear, name, dict, or callable."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        return deserialize(identifier)
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise TypeError(
        "Could not interpret activation identifier of type "
        f"{type(identifier).__name__}: {identifier!r}"
    )
