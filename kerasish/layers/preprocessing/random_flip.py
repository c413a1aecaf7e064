"""RandomFlip: random horizontal and/or vertical flips, in training only."""

from __future__ import annotations

import torch

from kerasish.layers.preprocessing.base_augmentation import BaseRandomLayer, check_choice

HORIZONTAL = "horizontal"
VERTICAL = "vertical"
HORIZONTAL_AND_VERTICAL = "horizontal_and_vertical"


def _flip_some(images, flips, dim):
    """``images`` (N, C, H, W) with the images where ``flips`` (N, 1) is True reversed
    along ``dim``: one gather of a per-image index, with no host sync. (``where`` of a
    flipped copy reads and writes the batch three times, and is slow on the strided
    NCHW view of a channels_last batch.)"""
    size = images.shape[dim]
    ar = torch.arange(size, device=images.device)
    index = torch.where(flips, ar.flip(0), ar)  # (N, size)
    shape = [images.shape[0], 1, 1, 1]
    shape[dim] = size
    return images.gather(dim, index.view(shape).expand(images.shape))


class RandomFlip(BaseRandomLayer):
    """Flips each image with probability 1/2 during training; identity at inference.

    As in Keras, each image draws one coin: with ``"horizontal_and_vertical"``
    a flipped image is flipped both left-right and up-down (a 180 degree
    rotation), else kept.

    Args:
        mode: ``"horizontal"``, ``"vertical"`` or ``"horizontal_and_vertical"`` (default).
        seed: optional int; the layer then draws a reproducible sequence of flips.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape: ``(batch, H, W, C)`` or ``(H, W, C)``. Output shape: the same.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import RandomFlip
        >>> x = np.arange(4.0).reshape(1, 1, 4, 1)
        >>> RandomFlip("horizontal")(x, training=False)[0, 0, :, 0].tolist()  # inference: identity
        [0.0, 1.0, 2.0, 3.0]
    """

    def __init__(self, mode=HORIZONTAL_AND_VERTICAL, seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.mode = check_choice(mode, (HORIZONTAL, VERTICAL, HORIZONTAL_AND_VERTICAL), "mode", "RandomFlip")

    def transform(self, images, training):
        if not training:
            return images
        flips = (self._random.uniform((images.shape[0], 1), 0.0, 1.0, images) <= 0.5)
        out = images
        if self.mode in (HORIZONTAL, HORIZONTAL_AND_VERTICAL):
            out = _flip_some(out, flips, -1)
        if self.mode in (VERTICAL, HORIZONTAL_AND_VERTICAL):
            out = _flip_some(out, flips, -2)
        return out

    def get_config(self):
        return {**super().get_config(), "seed": self.seed, "mode": self.mode}
