"""RandomPerspective: move each image's corners at random (a projective warp), in training only."""

from __future__ import annotations

import torch

from kerasish.layers.preprocessing.base_augmentation import (
    INTERPOLATIONS, BaseRandomLayer, base_factor, check_choice, check_number, draw_applied, where_applied,
)
from kerasish.layers.preprocessing.sampling import warp_perspective


class RandomPerspective(BaseRandomLayer):
    """Warps each image by a random perspective during training; identity at inference.

    Each corner ``p`` of the image moves to ``p + p * d`` with ``d`` drawn in
    ``[-scale / 2, scale / 2]`` per coordinate (Keras's draw: the top-left
    corner stays), and the image is resampled through the homography
    (reads outside the image give ``fill_value``). Each image is warped with
    probability ``q``, itself drawn in ``factor``.

    Args:
        factor: a float ``f`` in [0, 1] (``q`` drawn in ``[0, f]``) or a pair:
            the probability of warping an image. Default 1.
        scale: a float in [0, 1]: the size of the corner moves. Default 1.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        fill_value: the value read outside the image.
        seed: optional int; the layer then draws a reproducible sequence.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape: ``(batch, H, W, C)`` or ``(H, W, C)``. Output shape: the same.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers.preprocessing.random_perspective import RandomPerspective
        >>> RandomPerspective(scale=0.2, seed=1)(np.random.rand(2, 8, 8, 3)).shape
        torch.Size([2, 8, 8, 3])
    """

    def __init__(self, factor=1.0, scale=1.0, interpolation="bilinear", fill_value=0.0, seed=None, data_format=None,
                 **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = base_factor(factor, (0, 1), "RandomPerspective")
        check_number(scale, "scale", "RandomPerspective")
        if not 0.0 <= scale <= 1.0:
            raise ValueError(f"RandomPerspective: the `scale` argument should be a number in the range [0, 1]. "
                             f"Received: scale={scale!r}")
        self.scale = scale
        self.interpolation = check_choice(interpolation, INTERPOLATIONS, "interpolation", "RandomPerspective")
        self.fill_value = check_number(fill_value, "fill_value", "RandomPerspective")

    def draw(self, images):
        """``(apply (N,) bool, start_points (N, 4, 2), end_points (N, 4, 2))`` for an NCHW batch."""
        n, _, h, w = images.shape
        u = self._random.uniform((n, 10), 0.0, 1.0, images)
        apply = draw_applied(u[:, 0], u[:, 1], self.factor)
        shift = (u[:, 2:] - 0.5).view(n, 4, 2) * self.scale
        start = torch.tensor([[0.0, 0.0], [w - 1.0, 0.0], [0.0, h - 1.0], [w - 1.0, h - 1.0]],
                             device=images.device).expand(n, 4, 2)
        return apply, start, start + start * shift

    def apply(self, images, apply, start, end):
        """Warp NCHW ``images`` (where ``apply``) so ``start`` points land on ``end``."""
        work = images if images.is_floating_point() else images.float()
        order = 1 if self.interpolation == "bilinear" else 0
        out = warp_perspective(work, start, end, order, self.fill_value, type(self).__name__).to(images.dtype)
        return where_applied(apply, out, images)

    def get_config(self):
        return {
            **super().get_config(),
            "factor": self.factor,
            "scale": self.scale,
            "interpolation": self.interpolation,
            "fill_value": self.fill_value,
            "seed": self.seed,
        }
