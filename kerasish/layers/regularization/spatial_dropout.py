"""SpatialDropout1D / 2D / 3D: dropout of whole feature channels, on ``nn.Dropout1d`` / ``2d`` / ``3d``.

One base for the three ranks: each drops, in training, every channel of every
sample with probability ``rate`` over all its positions (the others scaled by
``1 / (1 - rate)``), on the channels-first view of its input (a view: sequences
and volumes are moved with ``movedim``, images are NCHW inside a model already).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from kerasish.engine import layout
from kerasish.layers import args as A
from kerasish.layers.convolutional import nd_layout
from kerasish.layers.regularization.dropout import Dropout


class BaseSpatialDropout(Dropout):
    """The three SpatialDropout layers' common part; subclasses set the class attributes."""

    _spatial_rank = None  # 1, 2 or 3
    _input_text = ""  # the channels_last input shape, for errors
    _torch_class = None  # nn.Dropout1d / 2d / 3d
    _dropout = None  # F.dropout1d / 2d / 3d

    def __init__(self, rate, data_format=None, seed=None, name=None, dtype=None, **kwargs):
        super().__init__(rate, seed=seed, name=name, dtype=dtype, **kwargs)
        self.data_format = A.normalize_data_format(data_format, type(self).__name__)

    def _native_module(self):
        return self._torch_class(p=self._p)

    def _check_input(self, input_shape):
        rank = self._spatial_rank + 2
        if not isinstance(input_shape, tuple) or len(input_shape) != rank:
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}) expects a {rank}-D input {self._input_text}, "
                f"got shape {input_shape}."
            )

    def _to_channels_first(self, x):
        return nd_layout.to_channels_first(x, self.data_format)

    def _from_channels_first(self, y):
        return nd_layout.from_channels_first(y, self.data_format)

    def native_call(self, inputs, training=False):
        p = self._p
        if not training or p == 0.0:
            return inputs
        if p == 1.0:
            return torch.zeros_like(inputs)
        x = self._to_channels_first(inputs)
        if self._masks is None:
            y = type(self)._dropout(x, p, True)
        else:
            y = x * self._masks.keep_mask(x.shape[:2] + (1,) * self._spatial_rank, 1.0 - p, x)
        return self._from_channels_first(y)

    def get_config(self):
        # Keras's SpatialDropout configs have exactly these keys.
        return {"rate": self.rate, "seed": self.seed, "name": self.name, "dtype": self.dtype, "data_format": self.data_format}


class SpatialDropout1D(BaseSpatialDropout):
    """Dropout of whole 1-D feature maps: in training each channel of each
    sample is zeroed at every step with probability ``rate`` (the others
    scaled by ``1 / (1 - rate)``); identity at inference.

    Args:
        rate: float in [0, 1], the fraction of channels to drop.
        seed: optional int; the layer then draws a reproducible sequence of masks.

    Input shape: ``(batch, steps, channels)``. Output shape: same as the input.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import SpatialDropout1D
        >>> y = SpatialDropout1D(0.5)(np.ones((2, 5, 8)), training=True)
        >>> bool(((y == 0).all(axis=1) | (y == 2).all(axis=1)).all())
        True
    """

    _spatial_rank = 1
    _input_text = "(batch, steps, channels)"
    _torch_class = nn.Dropout1d
    _dropout = staticmethod(F.dropout1d)

    def __init__(self, rate, seed=None, name=None, dtype=None, **kwargs):
        # Keras's SpatialDropout1D has no data_format: sequences are channels_last
        super().__init__(rate, seed=seed, name=name, dtype=dtype, **kwargs)

    def get_config(self):
        config = super().get_config()
        del config["data_format"]
        return config


class SpatialDropout2D(BaseSpatialDropout):
    """Dropout of whole feature maps: in training each channel of each sample
    is zeroed with probability ``rate`` (the others scaled by ``1 / (1 - rate)``).

    Args:
        rate: float in [0, 1], the fraction of channels to drop.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        seed: optional int; the layer then draws a reproducible sequence of masks.

    Input shape: ``(batch, height, width, channels)`` (channels_last) or
    ``(batch, channels, height, width)``. Output shape: same as the input.

    The native module is ``nn.Dropout2d``; inside a model the tensor is already
    NCHW, so ``F.dropout2d`` drops the channels with no transposition.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import SpatialDropout2D
        >>> y = SpatialDropout2D(0.5)(np.ones((2, 4, 4, 8)), training=True)
        >>> bool(((y == 0).all(axis=(1, 2)) | (y == 2).all(axis=(1, 2))).all())
        True
    """

    _spatial_rank = 2
    _input_text = "(batch, height, width, channels)"
    _torch_class = nn.Dropout2d
    _dropout = staticmethod(F.dropout2d)

    # Images are NCHW inside a model (engine/layout.py): channels_last needs no move;
    # for channels_first data the Keras-layout tensor is the NCHW one.
    def _to_channels_first(self, x):
        return x if self.data_format == "channels_last" else layout.to_keras(x)

    def _from_channels_first(self, y):
        return y if self.data_format == "channels_last" else layout.to_internal(y)


class SpatialDropout3D(BaseSpatialDropout):
    """Dropout of whole 3-D feature maps: in training each channel of each
    sample is zeroed over the whole volume with probability ``rate`` (the
    others scaled by ``1 / (1 - rate)``); identity at inference.

    Args:
        rate: float in [0, 1], the fraction of channels to drop.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        seed: optional int; the layer then draws a reproducible sequence of masks.

    Input shape: ``(batch, depth, height, width, channels)`` (channels_last)
    or ``(batch, channels, depth, height, width)``. Output shape: same as the input.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import SpatialDropout3D
        >>> y = SpatialDropout3D(0.5)(np.ones((2, 3, 3, 3, 8)), training=True)
        >>> bool(((y == 0).all(axis=(1, 2, 3)) | (y == 2).all(axis=(1, 2, 3))).all())
        True
    """

    _spatial_rank = 3
    _input_text = "(batch, depth, height, width, channels)"
    _torch_class = nn.Dropout3d
    _dropout = staticmethod(F.dropout3d)
