"""RandomInvert: invert the colours of some images, each with a random probability (training only).

Keras's math: ``value_range[1] - x`` (torchvision's ``invert`` assumes a
[0, 1] or uint8 range), so it is written in torch.
"""

from __future__ import annotations

import torch

from kerasish.layers.preprocessing.base_augmentation import BaseRandomLayer, base_factor, value_range_arg


class RandomInvert(BaseRandomLayer):
    """Inverts images (``value_range[1] - x``) at random in training; identity at inference.

    For each image a probability ``p`` is drawn in ``[factor[0], factor[1]]``,
    and the image is inverted with probability ``p``, as Keras does.

    Args:
        factor: a float in [0, 1] (``f`` gives ``(0, f)``) or a pair, the range
            of the inversion probability (default 1.0: ``p`` in [0, 1], on average 1/2).
        value_range: ``(low, high)`` of the pixel values (default ``(0, 255)``).
        seed: optional int; the layer then draws a reproducible sequence.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape: ``(batch, H, W, C)`` or ``(H, W, C)``. Output shape: the same.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers.preprocessing.random_invert import RandomInvert
        >>> RandomInvert(factor=(1.0, 1.0))(np.array([[[0.0], [55.0]]]), training=True)[:, :, 0].tolist()
        [[255.0, 200.0]]
    """

    def __init__(self, factor=1.0, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = base_factor(factor, (0, 1), "RandomInvert")
        self.value_range = value_range_arg(value_range, "RandomInvert")

    def draw(self, images):
        """Which images to invert: a boolean ``(N,)``."""
        n = images.shape[0]
        prob = self._random.uniform((n,), self.factor[0], self.factor[1], images)
        return self._random.uniform((n,), 0.0, 1.0, images) < prob

    def invert(self, images, apply):
        """Invert the images of an NCHW batch where ``apply`` (``(N,)`` bool) is True."""
        return torch.where(apply.reshape(-1, 1, 1, 1), float(self.value_range[1]) - images, images)

    def transform(self, images, training):
        if not training:
            return images
        return self.invert(images, self.draw(images))

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range, "seed": self.seed}
