"""RandomGrayscale: turn some images to grayscale, each with probability ``factor`` (training only).

The grayscale is torchvision's ``rgb_to_grayscale`` (Keras uses the same
weights), repeated over the three channels.
"""

from __future__ import annotations

import torch

from kerasish.layers.preprocessing.base_augmentation import BaseRandomLayer, check_number
from kerasish.layers.preprocessing.color_utils import check_channels, rgb_to_grayscale


class RandomGrayscale(BaseRandomLayer):
    """Converts each image to grayscale with probability ``factor`` in training
    (the luma ``0.2989 R + 0.587 G + 0.114 B`` in every channel); identity at inference.

    Args:
        factor: the probability, a float in [0, 1] (default 0.5).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        seed: optional int; the layer then draws a reproducible sequence.

    Input shape: ``(batch, H, W, 3)`` or ``(H, W, 3)`` (or one channel, left as is).
    Output shape: the same.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers.preprocessing.random_grayscale import RandomGrayscale
        >>> y = RandomGrayscale(factor=1.0)(np.array([[[[255.0, 0.0, 0.0]]]]), training=True)
        >>> [round(v, 1) for v in y[0, 0, 0].tolist()]
        [76.2, 76.2, 76.2]
    """

    def __init__(self, factor=0.5, data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        check_number(factor, "factor", "RandomGrayscale")
        if factor < 0 or factor > 1:
            raise ValueError(f"RandomGrayscale: `factor` should be between 0 and 1. Received: factor={factor!r}")
        self.factor = factor

    def draw(self, images):
        """Which images to convert: a boolean ``(N,)``."""
        return self._random.uniform((images.shape[0],), 0.0, 1.0, images) < self.factor

    def grayscale(self, images, apply):
        """Grayscale the images of an NCHW batch where ``apply`` (``(N,)`` bool) is True."""
        check_channels(images, (1, 3), "RandomGrayscale")
        return torch.where(apply.reshape(-1, 1, 1, 1), rgb_to_grayscale(images).expand_as(images), images)

    def transform(self, images, training):
        if not training:
            return images
        return self.grayscale(images, self.draw(images))

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "seed": self.seed}
