"""Rescaling: ``inputs * scale + offset`` (e.g. pixels from [0, 255] to [0, 1])."""

from __future__ import annotations

import numbers

import numpy as np
import torch

from kerasish.engine.layer import Layer, torch_dtype


def serialize_value(v):
    """Keras's config form for a scale / offset: numbers as they are, arrays
    as ``{"class_name": "__numpy__" | "__tensor__", "config": {...}}``."""
    if isinstance(v, torch.Tensor):
        return {"class_name": "__tensor__", "config": {"value": v.detach().cpu().tolist(), "dtype": str(v.dtype).replace("torch.", "")}}
    if isinstance(v, np.ndarray):
        if v.ndim == 0:
            return v.item()
        return {"class_name": "__numpy__", "config": {"value": v.tolist(), "dtype": str(v.dtype)}}
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, tuple):
        return tuple(serialize_value(x) for x in v)
    if isinstance(v, list):
        return [serialize_value(x) for x in v]
    if isinstance(v, dict):
        return {k: serialize_value(x) for k, x in v.items()}
    return v


def deserialize_value(v):
    """Inverse of :func:`serialize_value`."""
    if isinstance(v, dict) and v.get("class_name") in ("__numpy__", "__tensor__"):
        cfg = v["config"]
        arr = np.asarray(cfg["value"], dtype=cfg.get("dtype") or "float32")
        return arr if v["class_name"] == "__numpy__" else torch.as_tensor(arr)
    if isinstance(v, dict):
        return {k: deserialize_value(x) for k, x in v.items()}
    if isinstance(v, list):
        return [deserialize_value(x) for x in v]
    return v


def _check_value(v, arg):
    if isinstance(v, bool):
        raise ValueError(f"Rescaling: `{arg}` must be a number or an array of numbers. Received: {arg}={v!r}")
    if isinstance(v, numbers.Real):
        return
    try:
        a = v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else np.asarray(v)
        ok = a.dtype.kind in "biuf" and a.dtype != bool
    except Exception:
        ok = False
    if not ok:
        raise ValueError(f"Rescaling: `{arg}` must be a number or an array of numbers. Received: {arg}={v!r}")


class Rescaling(Layer):
    """Multiplies the input by ``scale`` and adds ``offset``.

    The input is cast to the layer's dtype (float32) first, so uint8 images
    come out as floats. ``scale`` and ``offset`` may be arrays: they broadcast
    against the input in Keras layout (e.g. one value per channel, the last
    axis of an image).

    Args:
        scale: float or array, the factor.
        offset: float or array, added after scaling (default ``0.0``).

    Input shape: any. Output shape: the same.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import Rescaling
        >>> Rescaling(1.0 / 127.5, offset=-1.0)(np.array([[0.0, 255.0]])).tolist()
        [[-1.0, 1.0]]
    """

    _native_layout = True

    _outputs_own_dtype = True

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        _check_value(scale, "scale")
        _check_value(offset, "offset")
        self.scale = scale
        self.offset = offset
        self._torch_dtype = torch_dtype(self._dtype)
        self._cache = {}  # (rank, device, dtype) -> (scale, offset) ready for the internal layout

    def _constants(self, x):
        key = (x.dim(), x.device, x.dtype)
        got = self._cache.get(key)
        if got is not None:
            return got
        out = []
        for v in (self.scale, self.offset):
            if isinstance(v, numbers.Real) and not isinstance(v, torch.Tensor):
                out.append(float(v))
                continue
            t = v.detach() if isinstance(v, torch.Tensor) else torch.as_tensor(np.asarray(v))
            t = t.to(device=x.device, dtype=x.dtype)
            if t.dim() == 0:
                out.append(t)
                continue
            if x.dim() == 4 and t.dim() <= 4:
                # Broadcast in Keras layout (N, H, W, C), then view as internal NCHW.
                t = t.reshape((1,) * (4 - t.dim()) + tuple(t.shape)).permute(0, 3, 1, 2)
            out.append(t)
        got = tuple(out)
        if not torch.compiler.is_compiling():
            self._cache[key] = got
        return got

    def native_call(self, inputs, training=False):
        x = inputs if inputs.dtype == self._torch_dtype else inputs.to(self._torch_dtype)
        scale, offset = self._constants(x)
        y = x * scale
        return y if isinstance(offset, float) and offset == 0.0 else y + offset

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "scale": serialize_value(self.scale), "offset": serialize_value(self.offset)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["scale"] = deserialize_value(config["scale"])
        config["offset"] = deserialize_value(config["offset"])
        return super().from_config(config)
