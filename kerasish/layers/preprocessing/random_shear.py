"""RandomShear: shear each image along x and / or y by a random amount, in training only."""

from __future__ import annotations

import numbers

import torch

from kerasish.layers.preprocessing.base_augmentation import (
    FILL_MODES, INTERPOLATIONS, BaseRandomLayer, affine_transform, check_choice, check_number,
)


def _shear_factor(factor, arg):
    """Keras's shear range: a number ``f`` in [0, 1] gives ``(-f, f)``, a pair
    is sorted. Pair entries may be negative (down to -1): the config holds
    ``(-f, f)``, which Keras itself then refuses to load."""
    msg = (f"RandomShear: the `{arg}` argument should be a number in the range [0, 1.0] (or a list of two numbers "
           f"in [-1.0, 1.0]). Received: {arg}={factor!r}")

    def ok(v, low):
        return not isinstance(v, bool) and isinstance(v, numbers.Real) and low <= v <= 1.0

    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or not all(ok(v, -1.0) for v in factor):
            raise ValueError(msg)
        lower, upper = sorted(factor)
    elif ok(factor, 0.0):
        lower, upper = -abs(factor), abs(factor)
    else:
        raise ValueError(msg)
    return float(lower), float(upper)


class RandomShear(BaseRandomLayer):
    """Shears each image by its own random factors during training; identity at inference.

    The output pixel ``(x, y)`` reads the input at ``(x + s_x y, s_y x + y)``
    (a shear about the top-left corner, as Keras), with ``s_x`` drawn in
    ``x_factor``, ``s_y`` in ``y_factor`` and both negated together for half
    of the images.

    Args:
        x_factor: a float ``f`` in [0, 1] (range ``(-f, f)``) or a pair of
            floats in [-1, 1]: the horizontal shear, a fraction of the image
            per row. Default 0 (none).
        y_factor: the same for the vertical shear.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        fill_mode: ``"reflect"`` (default, ``d c b a | a b c d``), ``"wrap"``,
            ``"constant"`` (``fill_value``) or ``"nearest"``.
        fill_value: the value outside the image with ``fill_mode="constant"``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        seed: optional int; the layer then draws a reproducible sequence.

    Input shape: ``(batch, H, W, C)`` or ``(H, W, C)``. Output shape: the same.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers.preprocessing.random_shear import RandomShear
        >>> RandomShear(x_factor=0.3, seed=1)(np.random.rand(2, 8, 8, 3)).shape
        torch.Size([2, 8, 8, 3])
    """

    def __init__(self, x_factor=0.0, y_factor=0.0, interpolation="bilinear", fill_mode="reflect", fill_value=0.0,
                 data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.x_factor = _shear_factor(x_factor, "x_factor")
        self.y_factor = _shear_factor(y_factor, "y_factor")
        self.interpolation = check_choice(interpolation, INTERPOLATIONS, "interpolation", "RandomShear")
        self.fill_mode = check_choice(fill_mode, FILL_MODES, "fill_mode", "RandomShear")
        self.fill_value = check_number(fill_value, "fill_value", "RandomShear")

    def draw(self, images):
        """The shear factors ``(N, 2)`` ``[s_x, s_y]`` for an NCHW batch."""
        n = images.shape[0]
        u = self._random.uniform((n, 3), 0.0, 1.0, images)
        invert = torch.where(u[:, :1] > 0.5, -1.0, 1.0)
        sx = u[:, 1:2] * (self.x_factor[1] - self.x_factor[0]) + self.x_factor[0]
        sy = u[:, 2:3] * (self.y_factor[1] - self.y_factor[0]) + self.y_factor[0]
        return torch.cat([sx, sy], dim=1) * invert

    def apply(self, images, shear):
        """Shear NCHW ``images`` by ``shear`` (N, 2) ``[s_x, s_y]``."""
        one, zero = torch.ones_like(shear[:, 0]), torch.zeros_like(shear[:, 0])
        matrix = torch.stack([one, shear[:, 0], zero, shear[:, 1], one, zero], dim=1)
        return affine_transform(images, matrix, self.interpolation, self.fill_mode, self.fill_value).to(images.dtype)

    def transform(self, images, training):
        if not training:
            return images
        return self.apply(images, self.draw(images))

    def get_config(self):
        return {
            **super().get_config(),
            "x_factor": self.x_factor,
            "y_factor": self.y_factor,
            "interpolation": self.interpolation,
            "fill_mode": self.fill_mode,
            "fill_value": self.fill_value,
            "seed": self.seed,
        }
