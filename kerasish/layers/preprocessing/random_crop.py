"""RandomCrop: a random ``(height, width)`` window of each image in training;
at inference a centred crop to the aspect ratio, resized to ``(height, width)``."""

from __future__ import annotations

import random

import torch

from kerasish.layers import args as A
from kerasish.layers.preprocessing.base_augmentation import BaseRandomLayer, crop_to_aspect_box
from kerasish.layers.preprocessing.resizing import resize_nchw


class RandomCrop(BaseRandomLayer):
    """Crops a random ``height x width`` window of each image during training.

    In training, when the image is larger than the target on both sides, each
    image gets its own random window (Keras draws one window per batch;
    per image is the stronger augmentation with the same per-image
    distribution). Otherwise, and at inference, Keras's fallback: a
    ``(height, width)`` slice (cut at the image's edges) starting at the
    corner of the centred box with the target aspect ratio, resized
    (bilinear) to ``(height, width)`` when smaller. (Keras 3.15 returns the input *uncropped* at inference,
    which contradicts its own ``compute_output_shape``; kerasish keeps the
    output shape ``(height, width)`` in both modes.)

    Args:
        height / width: positive ints, the output size.
        seed: optional int. As in Keras, a layer made without one draws a
            seed at construction (it shows in the config).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape: ``(batch, H, W, C)`` or ``(H, W, C)``.
    Output shape: ``(batch, height, width, C)`` (or ``(height, width, C)``).

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import RandomCrop
        >>> RandomCrop(4, 4)(np.random.rand(2, 8, 8, 3), training=True).shape
        torch.Size([2, 4, 4, 3])
    """

    def __init__(self, height, width, seed=None, data_format=None, name=None, **kwargs):
        if seed is None:
            seed = random.randint(1, int(1e9))
        super().__init__(seed=seed, data_format=data_format, name=name, **kwargs)
        self.height = A.positive_int(height, "height", "RandomCrop")
        self.width = A.positive_int(width, "width", "RandomCrop")

    def transform(self, images, training):
        n, _, h, w = images.shape
        if training and h > self.height and w > self.width:
            dev = images.device
            top = (self._random.uniform((n,), 0.0, float(h - self.height + 1), images).floor().long()).clamp_max(h - self.height)
            left = (self._random.uniform((n,), 0.0, float(w - self.width + 1), images).floor().long()).clamp_max(w - self.width)
            rows = top.view(n, 1, 1) + torch.arange(self.height, device=dev).view(1, self.height, 1)
            cols = left.view(n, 1, 1) + torch.arange(self.width, device=dev).view(1, 1, self.width)
            batch = torch.arange(n, device=dev).view(n, 1, 1)
            # Advanced indexing on (N, H, W, C) gives (N, height, width, C).
            return images.permute(0, 2, 3, 1)[batch, rows, cols].permute(0, 3, 1, 2)
        # Keras's fallback: the start of the centred aspect-ratio box, but a
        # (height, width) slice from there (cut at the image's edge), resized.
        top, left, _, _ = crop_to_aspect_box(h, w, self.height, self.width)
        out = images[..., top:top + self.height, left:left + self.width]
        if tuple(out.shape[-2:]) != (self.height, self.width):
            out = resize_nchw(out, (self.height, self.width))
        return out

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        hx, wx = self._hw_axes(len(shape))
        shape[hx], shape[wx] = self.height, self.width
        return tuple(shape)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width, "seed": self.seed}
