"""RandomElasticTransform: displace pixels along a smooth random field, in training only."""

from __future__ import annotations

import torch

from kerasish.layers.preprocessing.base_augmentation import (
    INTERPOLATIONS, BaseRandomLayer, base_factor, check_choice, check_number, draw_applied, value_range_arg,
    where_applied,
)
from kerasish.layers.preprocessing.random_gaussian_blur import separable_blur
from kerasish.layers.preprocessing.sampling import map_values

FILL_MODES = ("reflect", "wrap", "constant", "nearest", "mirror")


class RandomElasticTransform(BaseRandomLayer):
    """Elastic deformation of each image, with probability ``q`` drawn in
    ``factor``, during training; identity at inference.

    For an image of size ``H x W`` and a distortion ``d`` drawn in ``scale``,
    a standard-normal displacement field per axis is scaled by
    ``sigma = 0.05 d min(H, W)``, blurred by a Gaussian of that ``sigma``
    (kernel ``int(6 sigma) | 1``, zero padding) and multiplied by
    ``alpha = 0.1 d max(H, W)``; each pixel reads the input displaced by it,
    then the batch is clipped to ``value_range`` (Keras's math; Keras draws
    one ``d`` per batch, kerasish one per image).

    Args:
        factor: a float ``f`` in [0, 1] (``q`` drawn in ``[0, f]``) or a pair:
            the probability of deforming an image. Default 1.
        scale: a float ``s`` in [0, 1] (``d`` drawn in ``[0, s]``) or a pair
            in [0, 1]: the strength of the deformation. Default 1.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        fill_mode: ``"reflect"`` (default), ``"mirror"``, ``"wrap"``,
            ``"constant"`` (``fill_value``) or ``"nearest"``.
        fill_value: the value outside the image with ``fill_mode="constant"``.
        value_range: ``(min, max)`` of the pixel values (default ``(0, 255)``).
        seed: optional int; the layer then draws a reproducible sequence.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape: ``(batch, H, W, C)`` or ``(H, W, C)``. Output shape: the same.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers.preprocessing.random_elastic_transform import RandomElasticTransform
        >>> RandomElasticTransform(scale=0.5, seed=1)(np.random.rand(2, 16, 16, 3) * 255).shape
        torch.Size([2, 16, 16, 3])
    """

    def __init__(self, factor=1.0, scale=1.0, interpolation="bilinear", fill_mode="reflect", fill_value=0.0,
                 value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        name = "RandomElasticTransform"
        self.factor = base_factor(factor, (0, 1), name)
        self.scale = base_factor(scale, (0, 1), name, arg="scale")
        self.interpolation = check_choice(interpolation, INTERPOLATIONS, "interpolation", name)
        self.fill_mode = check_choice(fill_mode, FILL_MODES, "fill_mode", name)
        self.fill_value = check_number(fill_value, "fill_value", name)
        self.value_range = value_range_arg(value_range, name)

    def draw(self, images):
        """``(apply (N,) bool, distortion (N,), noise (2, N, H, W))`` for an NCHW batch."""
        n, _, h, w = images.shape
        u = self._random.uniform((n, 3), 0.0, 1.0, images)
        apply = draw_applied(u[:, 0], u[:, 1], self.factor)
        distortion = u[:, 2] * (self.scale[1] - self.scale[0]) + self.scale[0]
        noise = torch.randn((2, n, h, w), generator=self._random._generator(images.device), device=images.device,
                            dtype=torch.float32)
        return apply, distortion, noise

    def apply(self, images, apply, distortion, noise):
        """Deform NCHW ``images`` (where ``apply``) by ``distortion`` (N,) and the
        unit normal fields ``noise`` (2, N, H, W) ``[x, y]``."""
        n, c, h, w = images.shape
        work = images.float()
        alpha = (0.1 * max(h, w)) * distortion
        sigma = ((0.05 * min(h, w)) * distortion).clamp_min(1e-6)
        # One window wide enough for the largest sigma; each image's Gaussian is
        # cut to its own Keras size int(6 sigma) | 1 inside it.
        size = int(6 * 0.05 * min(h, w) * self.scale[1]) | 1
        t = torch.arange(size, device=images.device, dtype=torch.float32) - (size - 1) / 2
        half = ((torch.floor(6 * sigma).long() | 1) - 1) // 2
        k = torch.exp(-(t * t) / (2 * sigma.view(-1, 1) ** 2)) * (t.abs() <= half.view(-1, 1))
        k = k / k.sum(dim=1, keepdim=True)
        disp = separable_blur((noise * sigma.view(1, n, 1, 1)).permute(1, 0, 2, 3), k, k)  # (N, 2, H, W)
        ys = torch.arange(h, device=images.device, dtype=torch.float32).view(1, h, 1)
        xs = torch.arange(w, device=images.device, dtype=torch.float32).view(1, 1, w)
        y_in = (ys + alpha.view(n, 1, 1) * disp[:, 1]).unsqueeze(1)
        x_in = (xs + alpha.view(n, 1, 1) * disp[:, 0]).unsqueeze(1)
        bi = torch.arange(n, device=images.device).view(n, 1, 1, 1)
        ci = torch.arange(c, device=images.device).view(1, c, 1, 1)
        out = map_values(work, [bi, ci, y_in, x_in], 1 if self.interpolation == "bilinear" else 0,
                         self.fill_mode, self.fill_value).to(images.dtype)
        out = where_applied(apply, out, images)
        return out.clamp(float(self.value_range[0]), float(self.value_range[1]))

    def transform(self, images, training):
        if not training or self.scale[1] == 0 or self.factor[1] == 0:
            return images
        return self.apply(images, *self.draw(images))

    def get_config(self):
        return {
            **super().get_config(),
            "factor": self.factor,
            "scale": self.scale,
            "interpolation": self.interpolation,
            "fill_mode": self.fill_mode,
            "fill_value": self.fill_value,
            "value_range": self.value_range,
            "seed": self.seed,
        }
