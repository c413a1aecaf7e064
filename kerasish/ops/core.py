"""Tensor conversion and dtype helpers shared by ``kerasish.ops``.

Every op accepts torch tensors, numpy arrays, Python numbers / lists and
kerasish ``Variable`` objects (their Keras-layout ``.value`` is used) and
returns torch tensors.
"""

from __future__ import annotations

import numpy as np
import torch

from kerasish import backend as _backend

_DTYPES = {
    "float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32, "float64": torch.float64,
    "uint8": torch.uint8, "int8": torch.int8, "int16": torch.int16, "int32": torch.int32, "int64": torch.int64,
    "bool": torch.bool, "complex64": torch.complex64, "complex128": torch.complex128,
}


def to_torch_dtype(dtype, fn: str = "ops"):
    """A Keras dtype name (``"float32"``), numpy dtype or torch dtype -> torch dtype."""
    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    if hasattr(dtype, "name") and not isinstance(dtype, str) and not isinstance(dtype, type):
        dtype = dtype.name
    if isinstance(dtype, type):
        if dtype is float:
            return _DTYPES[_backend.floatx()]
        if dtype is int:
            return torch.int32
        if dtype is bool:
            return torch.bool
        dtype = np.dtype(dtype).name
    name = str(dtype)
    if name not in _DTYPES:
        raise ValueError(f"{fn}: unknown `dtype` {dtype!r}; expected one of {sorted(_DTYPES)}")
    return _DTYPES[name]


def torch_generator(seed, fn, device="cpu"):
    """A ``torch.Generator`` for a ``seed=`` argument: None (torch's global generator,
    returned as None), an int, or a ``kerasish.random.SeedGenerator`` (its next seed;
    recognised by its ``next()``: kerasish.random sits above ops)."""
    if seed is None:
        return None
    if callable(getattr(seed, "next", None)):
        seed = seed.next()
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"{fn}: `seed` must be None, an int or a SeedGenerator, got {seed!r}")
    g = torch.Generator(device=device)
    g.manual_seed(int(seed) & ((1 << 63) - 1))
    return g


def standardize_dtype(dtype) -> str:
    """A dtype's Keras name: ``torch.float32``, ``np.float32``, ``"float32"`` -> ``"float32"``;
    Python ``float`` -> floatx, ``int`` -> ``"int32"`` (Keras's torch backend), ``bool`` -> ``"bool"``, None -> floatx, as Keras.

    Example:
        >>> import numpy as np, torch
        >>> [standardize_dtype(d) for d in (torch.int8, np.int64, "bfloat16", float)]
        ['int8', 'int64', 'bfloat16', 'float32']
    """
    if dtype is None or dtype is float:
        return _backend.floatx()
    if dtype is int:
        return "int32"
    if dtype is bool:
        return "bool"
    if isinstance(dtype, torch.dtype):
        return str(dtype).replace("torch.", "")
    if hasattr(dtype, "name") and isinstance(getattr(dtype, "name"), str):
        return dtype.name  # numpy dtypes
    if isinstance(dtype, type):
        try:
            return np.dtype(dtype).name  # numpy scalar types
        except TypeError:
            pass
    return str(dtype).replace("torch.", "")


def _unwrap(x):
    if hasattr(x, "value") and hasattr(x, "path") and hasattr(x, "tensor"):
        return x.value  # kerasish Variable
    return x


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None, device=None):
    """Make a torch tensor of ``x``.

    Python floats (and lists of them) become ``floatx()`` (float32), Python
    ints ``int32`` and bools ``bool``, as Keras does; numpy arrays and torch
    tensors keep their dtype unless ``dtype`` is given.

    Args:
        x: tensor, array, Variable, number or nested list.
        dtype: optional target dtype (``"float32"``, ``torch.int64``...).
        device: optional device for a new tensor.

    Example:
        >>> convert_to_tensor([1, 2]).dtype
        torch.int32
    """
    x = _unwrap(x)
    tdtype = to_torch_dtype(dtype, "convert_to_tensor")
    if isinstance(x, torch.Tensor):
        if device is not None:
            x = x.to(device)
        return x if tdtype is None or x.dtype == tdtype else x.to(tdtype)
    if isinstance(x, np.ndarray) or isinstance(x, np.generic):
        t = torch.as_tensor(np.asarray(x), device=device)
        return t if tdtype is None else t.to(tdtype)
    if isinstance(x, (list, tuple)) and any(isinstance(_unwrap(v), torch.Tensor) for v in x):
        return torch.stack([convert_to_tensor(v, dtype, device=device) for v in x])
    if tdtype is None:
        try:
            arr = np.asarray(x)
        except Exception as e:  # noqa: BLE001
            raise TypeError(f"convert_to_tensor: cannot convert {type(x).__name__} {x!r} to a tensor") from e
        if arr.dtype == object:
            raise TypeError(f"convert_to_tensor: cannot convert {type(x).__name__} {x!r} to a tensor")
        if arr.dtype.kind == "f":
            tdtype = _DTYPES[_backend.floatx()]
        elif arr.dtype.kind in "iu":
            tdtype = torch.int32
        elif arr.dtype.kind == "b":
            tdtype = torch.bool
        return torch.as_tensor(arr, dtype=tdtype, device=device)
    return torch.as_tensor(np.asarray(x), device=device).to(tdtype)


def convert_to_numpy(x):
    """A numpy array of ``x`` (detached and moved to the CPU)."""
    x = _unwrap(x)
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu()
        if x.dtype == torch.bfloat16:
            x = x.float()
        return x.numpy()
    return np.asarray(x)


def _tensors(*xs):
    """Convert ``xs`` together, putting them on the device of the first tensor
    among them. Python scalars stay scalars (torch's weak-type promotion then
    matches Keras: ``int32 tensor * 2`` stays int32)."""
    device = None
    for x in xs:
        x = _unwrap(x)
        if isinstance(x, torch.Tensor):
            device = x.device
            break
    out = []
    for x in xs:
        x = _unwrap(x)
        if isinstance(x, (bool, int, float)) and not isinstance(x, np.generic):
            out.append(x)
        else:
            out.append(convert_to_tensor(x, device=device))
    return out


def shape(x):
    """The shape of ``x`` as a tuple of ints."""
    x = _unwrap(x)
    if isinstance(x, torch.Tensor):
        return tuple(x.shape)
    return tuple(np.shape(x))


def cast(x, dtype):
    """``x`` as a tensor of ``dtype``."""
    return convert_to_tensor(x).to(to_torch_dtype(dtype, "cast"))


def is_tensor(x):
    return isinstance(x, torch.Tensor)


def dtype(x):
    """The Keras dtype name of ``x`` (``"float32"``, ``"int32"``...)."""
    return standardize_dtype(convert_to_tensor(x).dtype)


def saturate_cast(x, dtype):
    """``x`` cast to ``dtype``, first clipped to that dtype's range so
    out-of-range values saturate instead of wrapping."""
    t = convert_to_tensor(x)
    target = to_torch_dtype(dtype, "saturate_cast")
    if target == torch.bool or t.dtype == torch.bool:
        return t.to(target)
    info = torch.finfo(target) if target.is_floating_point else torch.iinfo(target)
    if t.is_floating_point() or t.is_complex():
        # clip in float64 so the bounds of wide int targets stay exact enough
        lo, hi = float(info.min), float(info.max)
        if not target.is_floating_point:
            t = torch.nan_to_num(t)
        return torch.clamp(t.to(torch.float64), lo, hi).to(target) if not target.is_floating_point else torch.clamp(t, lo, hi).to(target)
    src = torch.iinfo(t.dtype)
    lo, hi = max(int(info.min), src.min), min(int(info.max), src.max)
    return torch.clamp(t, lo, hi).to(target)
