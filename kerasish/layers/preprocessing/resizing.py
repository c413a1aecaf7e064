"""Resizing: resize images to ``(height, width)``, on ``torchvision.transforms.v2.functional.resize``."""

from __future__ import annotations

import torch

from kerasish.layers import args as A
from kerasish.layers.preprocessing.base_augmentation import BaseImageLayer, check_choice, check_number, crop_to_aspect_box

_MODES = ("bilinear", "nearest", "bicubic")


def _tv():
    """torchvision's functional transforms, imported on first use: importing
    torchvision costs over a second, which ``import kerasish`` should not pay."""
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms.v2 import functional as TF

    modes = {"bilinear": InterpolationMode.BILINEAR, "nearest": InterpolationMode.NEAREST_EXACT, "bicubic": InterpolationMode.BICUBIC}
    return TF, modes


def resize_nchw(x, size, interpolation="bilinear", antialias=False):
    """Keras's torch-backend resize of an NCHW float batch (half-pixel
    centres; ``nearest`` is torch's ``nearest-exact``)."""
    TF, modes = _tv()
    return TF.resize(x, list(size), interpolation=modes[interpolation], antialias=antialias and interpolation != "nearest")


class Resizing(BaseImageLayer):
    """Resizes a batch of images (or one image) to ``(height, width)``.

    Args:
        height / width: positive ints, the output size.
        interpolation: ``"bilinear"`` (default), ``"nearest"`` or ``"bicubic"``.
        crop_to_aspect_ratio: crop the largest centred window with the target
            aspect ratio before resizing, so the image is not distorted.
        pad_to_aspect_ratio: pad the image (with ``fill_value``) to the target
            aspect ratio before resizing instead.
        fill_mode: only ``"constant"``, the padding of ``pad_to_aspect_ratio``.
        fill_value: the padding value (default ``0.0``).
        antialias: anti-alias when downsampling (bilinear / bicubic).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape: ``(batch, H, W, C)`` or ``(H, W, C)`` (channels_last).
    Output shape: ``(batch, height, width, C)`` (or ``(height, width, C)``).
    Output values are float32.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import Resizing
        >>> Resizing(4, 6)(np.zeros((2, 8, 8, 3))).shape
        torch.Size([2, 4, 6, 3])
    """

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False, pad_to_aspect_ratio=False,
                 fill_mode="constant", fill_value=0.0, antialias=False, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        cls = type(self).__name__
        self.height = A.positive_int(height, "height", cls)
        self.width = A.positive_int(width, "width", cls)
        self.interpolation = check_choice(interpolation, tuple(_MODES), "interpolation", cls)
        self.fill_mode = check_choice(fill_mode, ("constant",), "fill_mode", cls)
        self.fill_value = check_number(fill_value, "fill_value", cls)
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError(
                f"{cls}: only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can be `True`. Received: "
                f"crop_to_aspect_ratio={crop_to_aspect_ratio!r}, pad_to_aspect_ratio={pad_to_aspect_ratio!r}"
            )
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)
        self.pad_to_aspect_ratio = bool(pad_to_aspect_ratio)
        self.antialias = bool(antialias)

    def transform(self, images, training):
        x = images
        h, w = x.shape[-2:]
        if self.crop_to_aspect_ratio:
            top, left, ch, cw = crop_to_aspect_box(h, w, self.height, self.width)
            x = _tv()[0].crop(x, top, left, ch, cw)
        elif self.pad_to_aspect_ratio:
            ph = max(h, int(float(w * self.height) / self.width))
            pw = max(w, int(float(h * self.width) / self.height))
            top, left = int(float(ph - h) / 2), int(float(pw - w) / 2)
            if top > 0 or left > 0:
                # Keras pads the same amount on both sides.
                x = torch.nn.functional.pad(x, (left, left, top, top), value=float(self.fill_value))
        return resize_nchw(x, (self.height, self.width), self.interpolation, self.antialias)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        hx, wx = self._hw_axes(len(shape))
        shape[hx], shape[wx] = self.height, self.width
        return tuple(shape)

    def get_config(self):
        return {
            **super().get_config(),
            "height": self.height,
            "width": self.width,
            "interpolation": self.interpolation,
            "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
            "pad_to_aspect_ratio": self.pad_to_aspect_ratio,
            "fill_mode": self.fill_mode,
            "fill_value": self.fill_value,
            "antialias": self.antialias,
        }
