"""Normalization: ``(x - mean) / sqrt(variance)`` per feature, with ``adapt``."""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch

from kerasish.engine import layout
from kerasish.engine.layer import Layer

_EPSILON = 1e-7  # Keras's backend.epsilon()


def _first_of_batch(batch):
    """``(x, y[, sample_weight])`` batches give ``x``."""
    if isinstance(batch, tuple):
        return batch[0]
    if isinstance(batch, list) and len(batch) in (2, 3) and hasattr(batch[0], "shape"):  # DataLoader's collated pairs
        return batch[0]
    return batch


def _as_float_tensor(a):
    if isinstance(a, torch.Tensor):
        return a.detach().to(torch.float64)
    return torch.as_tensor(np.asarray(a, dtype="float64"))


class Normalization(Layer):
    """Shifts and scales inputs to mean 0 and variance 1 per feature.

    The layer computes ``(inputs - mean) / sqrt(variance)`` (the square root
    floored at 1e-7), or the inverse ``mean + inputs * sqrt(variance)`` with
    ``invert=True``. ``mean`` and ``variance`` are given, or learned from data
    with :meth:`adapt` before training; adapted values are non-trainable
    weights (torch buffers ``mean``, ``variance``, ``count``), so they are
    saved and loaded with the model.

    Args:
        axis: int, tuple of ints or None: the axes that keep separate
            statistics (default ``-1``, one mean per feature / channel);
            ``None`` for a single scalar mean and variance.
        mean / variance: optional values (scalars or arrays broadcastable to
            the kept axes); both or neither.
        invert: apply the inverse transformation.

    Input shape: any, with the ``axis`` sizes known. Output shape: the same.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import Normalization
        >>> layer = Normalization()
        >>> layer.adapt(np.array([[1.0], [2.0], [3.0]]))
        >>> [round(v, 4) for v in layer(np.array([[1.0], [3.0]]))[:, 0].tolist()]
        [-1.2247, 1.2247]
    """

    _native_layout = True

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        if axis is None:
            axis = ()
        elif isinstance(axis, numbers.Integral) and not isinstance(axis, bool):
            axis = (int(axis),)
        else:
            try:
                axis = tuple(axis)
            except TypeError:
                raise ValueError(f"Normalization: `axis` must be an int, a tuple of ints or None. Received: axis={axis!r}") from None
            if any(isinstance(a, bool) or not isinstance(a, numbers.Integral) for a in axis):
                raise ValueError(f"Normalization: `axis` must be an int, a tuple of ints or None. Received: axis={axis!r}")
            axis = tuple(int(a) for a in axis)
        self.axis = axis
        if (mean is not None) != (variance is not None):
            raise ValueError(
                f"Normalization: when setting values directly, both `mean` and `variance` must be set. Received: mean={mean!r} and variance={variance!r}"
            )
        if mean is not None:
            if np.shape(mean) != np.shape(variance):
                raise ValueError(
                    "Normalization: when setting values directly, `mean` and `variance` must have the same shape. "
                    f"Received: mean shape {np.shape(mean)} and variance shape {np.shape(variance)}"
                )
            if len(np.shape(mean)) > len(self.axis):
                raise ValueError(
                    f"Normalization: the rank of `mean` must be less than or equal to the number of axes ({len(self.axis)}). "
                    f"Received: mean shape {np.shape(mean)} for axis {self.axis}"
                )
        self.input_mean = mean
        self.input_variance = variance
        self.invert = bool(invert)
        self._build_input_shape = None

    # ------------------------------------------------------------------
    def build(self, input_shape):
        ndim = len(input_shape)
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError(
                f"Layer '{self.name}' (Normalization): all `axis` values must be in the range [-ndim, ndim). "
                f"Received inputs with ndim={ndim}, while axis={self.axis}"
            )
        self._build_input_shape = tuple(input_shape)
        self._keep_axis = tuple(sorted(a % ndim for a in self.axis))
        for d in self._keep_axis:
            if input_shape[d] is None:
                raise ValueError(
                    f"Layer '{self.name}' (Normalization): all `axis` values to be kept must have a known shape. "
                    f"Received axis={self.axis}, inputs.shape={tuple(input_shape)}, with unknown axis at index {d}"
                )
        self._reduce_axis = tuple(d for d in range(ndim) if d not in self._keep_axis)
        self._broadcast_shape = tuple(input_shape[d] if d in self._keep_axis else 1 for d in range(ndim))
        self._mean_and_var_shape = tuple(input_shape[d] for d in self._keep_axis)
        if self.input_mean is None:
            self.adapt_mean = self.add_weight(name="mean", shape=self._mean_and_var_shape, initializer="zeros", trainable=False)
            self.adapt_variance = self.add_weight(name="variance", shape=self._mean_and_var_shape, initializer="ones", trainable=False)
            self.count = self.add_weight(name="count", shape=(), dtype="int32", initializer="zeros", trainable=False)
        else:
            mean = torch.as_tensor(np.asarray(self.input_mean, dtype="float32"))
            variance = torch.as_tensor(np.asarray(self.input_variance, dtype="float32"))
            if mean.dim() > 0:
                expanded = [1] * ndim
                for i in range(1, mean.dim() + 1):
                    expanded[self._keep_axis[-i]] = mean.shape[-i]
                mean, variance = mean.reshape(expanded), variance.reshape(expanded)
            try:
                mean = torch.broadcast_to(mean, self._broadcast_shape).clone()
                variance = torch.broadcast_to(variance, self._broadcast_shape).clone()
            except RuntimeError:
                raise ValueError(
                    f"Layer '{self.name}' (Normalization): `mean` of shape {tuple(np.shape(self.input_mean))} does not "
                    f"broadcast to the kept axes of the input shape {tuple(input_shape)} (axis={self.axis})."
                ) from None
            # Constants, not weights (as in Keras): non-persistent buffers move with the model.
            self.register_buffer("_given_mean", mean, persistent=False)
            self.register_buffer("_given_variance", variance, persistent=False)
        self.built = True

    def _check_input(self, input_shape):
        if not isinstance(input_shape, tuple):
            raise ValueError(f"Layer '{self.name}' (Normalization) expects one tensor, got input shape {input_shape}.")
        if self._build_input_shape is not None:
            if len(input_shape) != len(self._build_input_shape) or any(
                input_shape[d] is not None and input_shape[d] != self._build_input_shape[d] for d in self._keep_axis
            ):
                raise ValueError(
                    f"Layer '{self.name}' (Normalization) was built for input shape {self._build_input_shape} "
                    f"(axis={self.axis}), got an input of shape {input_shape}."
                )

    # ------------------------------------------------------------------
    def adapt(self, data):
        """Compute ``mean`` and ``variance`` over ``data`` (population
        variance, per position of the kept axes), as Keras does.

        Args:
            data: a numpy array or tensor, or an iterable of batches (a list
                of arrays, a generator, a torch ``DataLoader``, a kerasish
                dataset); batches may be ``(x, y)`` tuples, ``x`` is used.
        """
        iterable = False
        if isinstance(data, (np.ndarray, torch.Tensor)):
            input_shape = tuple(data.shape)
        elif hasattr(data, "__iter__") and not isinstance(data, (str, bytes, dict)):
            iterable = True
            it = iter(data)
            first = next(it, None)
            if first is None:
                raise ValueError("Normalization.adapt() received an empty iterable (no batches). Pass a non-empty iterable of arrays or tensors.")
            first = _first_of_batch(first)
            if not hasattr(first, "shape"):
                raise TypeError(
                    "Normalization.adapt() expects an iterable that yields arrays or tensors with a `.shape` attribute. "
                    f"Got an element of type {type(first).__name__}."
                )
            input_shape = tuple(first.shape)

            def batches():
                yield first
                for b in it:
                    yield _first_of_batch(b)
        else:
            raise TypeError(
                f"Normalization.adapt(): unsupported data type {type(data).__name__}; pass a numpy array, a tensor or an iterable of batches."
            )
        if self.input_mean is not None:
            raise ValueError(f"Layer '{self.name}' (Normalization) was given `mean` and `variance`; it cannot be adapted.")
        if not self.built:
            self._maybe_build(input_shape)
        else:
            if len(input_shape) != len(self._build_input_shape) or any(
                input_shape[d] != self._build_input_shape[d] for d in self._keep_axis
            ):
                raise ValueError(
                    f"Layer '{self.name}' (Normalization) was built with input_shape={self._build_input_shape}, "
                    f"but adapt() is being called with data with an incompatible shape, data.shape={input_shape}"
                )
        red = self._reduce_axis
        if not iterable:
            x = _as_float_tensor(data)
            mean = x.mean(dim=red) if red else x
            var = x.var(dim=red, unbiased=False) if red else torch.zeros_like(x)
        else:
            mean = torch.zeros(self._mean_and_var_shape, dtype=torch.float64)
            var = torch.zeros(self._mean_and_var_shape, dtype=torch.float64)
            total = 0
            for b in batches():
                x = _as_float_tensor(b).cpu()
                if x.dim() != len(self._build_input_shape) or any(x.shape[d] != self._build_input_shape[d] for d in self._keep_axis):
                    raise ValueError(
                        f"Normalization.adapt() yielded a batch with incompatible shape. Expected {self._build_input_shape}, got {tuple(x.shape)}."
                    )
                b_mean = x.mean(dim=red) if red else x
                b_var = x.var(dim=red, unbiased=False) if red else torch.zeros_like(x)
                count = math.prod(x.shape[d] for d in red) if red else 1
                total += count
                bw = float(count) / total
                ew = 1.0 - bw
                new_mean = mean * ew + b_mean * bw
                var = (var + (mean - new_mean) ** 2) * ew + (b_var + (b_mean - new_mean) ** 2) * bw
                mean = new_mean
        self.adapt_mean.assign(mean.to(torch.float32).cpu().numpy())
        self.adapt_variance.assign(var.to(torch.float32).cpu().numpy())

    # ------------------------------------------------------------------
    def _stats(self, x):
        if self.input_mean is not None:
            mean, var = self._given_mean, self._given_variance
        else:
            mean = self.adapt_mean.tensor.reshape(self._broadcast_shape)
            var = self.adapt_variance.tensor.reshape(self._broadcast_shape)
        if x.dim() == 4:
            mean, var = layout.to_internal(mean), layout.to_internal(var)
        return mean.to(device=x.device, dtype=x.dtype), var.to(device=x.device, dtype=x.dtype)

    def native_call(self, inputs, training=False):
        x = inputs if inputs.dtype == torch.float32 else inputs.to(torch.float32)
        mean, var = self._stats(x)
        scale = torch.sqrt(var).clamp_min(_EPSILON)
        if self.invert:
            return mean + x * scale
        return (x - mean) / scale

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "invert": self.invert,
            "mean": np.array(self.input_mean).tolist(),
            "variance": np.array(self.input_variance).tolist(),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("axis"), list):
            config["axis"] = tuple(config["axis"])
        return super().from_config(config)
