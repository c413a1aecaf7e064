"""UpSampling2D: repeat (or interpolate) image rows and columns, on ``nn.Upsample``."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import torch.nn.functional as F
from torch import nn

from kerasish.engine import layout
from kerasish.engine.layer import Layer
from kerasish.layers import args as A

_INTERPOLATIONS = ("nearest", "bilinear", "bicubic")


def _exact_nearest(factor: int) -> bool:
    """Whether torch's nearest kernel, which maps output row ``i`` to
    ``floor(i * float32(1 / factor))``, picks input row ``i // factor`` for
    every ``i``: true when float32 rounds ``1 / factor`` up (or is exact), so
    the product never falls just below an integer. (False e.g. for 25, 41.)"""
    return Fraction(float(np.float32(1.0 / factor))) >= Fraction(1, factor)


class UpSampling2D(Layer):
    """Upsamples images by repeating rows and columns (or by interpolation).

    Args:
        size: int or (rows, cols): the upsampling factors. Default ``(2, 2)``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        interpolation: ``"nearest"`` (repeat each pixel, the default),
            ``"bilinear"`` or ``"bicubic"``. The interpolations follow Keras
            (``keras.ops.image.resize``): half-pixel centres, that is torch's
            ``align_corners=False``, no antialiasing.

    Input shape: ``(batch, rows, cols, channels)`` (channels_last) or
    ``(batch, channels, rows, cols)``.
    Output shape: ``(batch, rows * size[0], cols * size[1], channels)`` (or
    the channels_first equivalent).

    The native module (what a model prints) is ``nn.Upsample``.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import UpSampling2D
        >>> UpSampling2D((2, 3))(np.zeros((1, 4, 5, 3))).shape
        torch.Size([1, 8, 15, 3])
    """

    _native_layout = True

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        self.data_format = A.normalize_data_format(data_format, "UpSampling2D")
        self.size = A.normalize_tuple(size, 2, "size", "UpSampling2D")
        if not isinstance(interpolation, str) or interpolation.lower() not in _INTERPOLATIONS:
            raise ValueError(
                f"UpSampling2D: `interpolation` must be one of {list(_INTERPOLATIONS)}. Received: interpolation={interpolation!r}"
            )
        self.interpolation = interpolation.lower()
        # torch's nearest kernel is exact for most factors; the others repeat by a view + copy.
        self._repeat = self.interpolation == "nearest" and not all(_exact_nearest(s) for s in self.size)

    def _check_input(self, input_shape):
        if not isinstance(input_shape, tuple) or len(input_shape) != 4:
            raise ValueError(
                f"Layer '{self.name}' (UpSampling2D) expects a 4-D input (batch, rows, cols, channels), got shape {input_shape}."
            )

    def build(self, input_shape):
        align = None if self.interpolation == "nearest" else False
        self._set_torch_module(nn.Upsample(scale_factor=tuple(float(s) for s in self.size), mode=self.interpolation, align_corners=align))
        self.built = True

    def _upsample_nchw(self, x):
        sh, sw = self.size
        if self.interpolation == "nearest":
            if self._repeat:
                n, c, h, w = x.shape
                k = layout.to_keras(x)  # NHWC view: the expanded copy comes out channels_last
                k = k[:, :, None, :, None, :].expand(n, h, sh, w, sw, c).reshape(n, h * sh, w * sw, c)
                return layout.to_internal(k)
            return F.interpolate(x, scale_factor=(float(sh), float(sw)), mode="nearest")
        # Keras resizes to an explicit size (the sampling grid follows from it).
        return F.interpolate(x, size=(x.shape[2] * sh, x.shape[3] * sw), mode=self.interpolation, align_corners=False, antialias=False)

    def native_call(self, inputs, training=False):
        if self.data_format == "channels_first":
            return layout.to_internal(self._upsample_nchw(layout.to_keras(inputs)))
        return self._upsample_nchw(inputs)

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        first = 2 if self.data_format == "channels_first" else 1
        for i, s in enumerate(self.size):
            if out[first + i] is not None:
                out[first + i] *= s
        return tuple(out)

    def get_config(self):
        return {**super().get_config(), "size": self.size, "data_format": self.data_format, "interpolation": self.interpolation}
