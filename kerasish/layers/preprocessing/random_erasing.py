"""RandomErasing: overwrite a random rectangle of each image, in training only."""

from __future__ import annotations

import numbers

import torch

from kerasish.layers.preprocessing.base_augmentation import BaseRandomLayer, base_factor, draw_applied, value_range_arg


def _fill_value_arg(value):
    if value is None or (isinstance(value, numbers.Real) and not isinstance(value, bool)):
        return value
    if isinstance(value, (tuple, list)) and len(value) == 3 and all(
            isinstance(v, numbers.Real) and not isinstance(v, bool) for v in value):
        return value
    raise ValueError(f"RandomErasing: the `fill_value` argument should be None, a number or a list of three numbers. "
                     f"Received: fill_value={value!r}")


def box_masks(n, h, w, x_ratio, y_ratio, u_x, u_y, device):
    """Keras's random boxes: the box of image ``i`` spans ``x_ratio[i] * w`` by
    ``y_ratio[i] * h`` pixels, at a start ``u * (size - box)`` along each axis
    (``u`` uniform in [0, 1)). Returns ((N, 1, H, W) bool masks, box areas (N,))."""
    bw, bh = x_ratio * w, y_ratio * h
    x0 = u_x * (w - bw)
    y0 = u_y * (h - bh)
    xs = torch.arange(w, device=device, dtype=torch.float32).view(1, 1, 1, w)
    ys = torch.arange(h, device=device, dtype=torch.float32).view(1, 1, h, 1)
    x0, y0 = x0.view(n, 1, 1, 1), y0.view(n, 1, 1, 1)
    masks = (xs >= x0) & (xs < x0 + bw.view(n, 1, 1, 1)) & (ys >= y0) & (ys < y0 + bh.view(n, 1, 1, 1))
    return masks, bw * bh


class RandomErasing(BaseRandomLayer):
    """Erases a random rectangle of each image, with probability ``q`` drawn
    in ``factor``, during training; identity at inference.

    The rectangle's width and height are ``sqrt(a) W`` and ``sqrt(b) H``,
    with ``a`` and ``b`` drawn in ``scale``, at a uniform random position
    inside the image. It is filled with ``fill_value``, or (``None``) with
    normal noise times ``value_range[1]``, clipped to ``value_range``.

    Args:
        factor: a float ``f`` in [0, 1] (``q`` drawn in ``[0, f]``) or a pair:
            the probability of erasing. Default 1.
        scale: a pair in [0, 1] (or a float ``s``: ``[0, s]``): the range of the
            fractions ``a`` and ``b``. Default ``(0.02, 0.33)``.
        fill_value: ``None`` (noise, default), a number, or three numbers (one per channel).
        value_range: ``(min, max)`` of the pixel values (default ``(0, 255)``).
        seed: optional int; the layer then draws a reproducible sequence.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape: ``(batch, H, W, C)`` or ``(H, W, C)``. Output shape: the same.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers.preprocessing.random_erasing import RandomErasing
        >>> y = RandomErasing(factor=(1.0, 1.0), scale=(0.25, 0.25), fill_value=0.0, seed=1)(np.full((1, 8, 8, 1), 9.0))
        >>> int((y == 0).sum())  # a 4 x 4 box
        16
    """

    def __init__(self, factor=1.0, scale=(0.02, 0.33), fill_value=None, value_range=(0, 255), seed=None,
                 data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = base_factor(factor, (0, 1), "RandomErasing")
        self.scale = base_factor(scale, (0, 1), "RandomErasing", arg="scale")
        self.fill_value = _fill_value_arg(fill_value)
        self.value_range = value_range_arg(value_range, "RandomErasing")

    def draw(self, images):
        """``(apply (N,) bool, masks (N, 1, H, W) bool, fill (N, C, H, W))`` for an NCHW batch."""
        n, c, h, w = images.shape
        u = self._random.uniform((n, 6), 0.0, 1.0, images)
        ratio = torch.sqrt(u[:, :2] * (self.scale[1] - self.scale[0]) + self.scale[0])
        masks, _ = box_masks(n, h, w, ratio[:, 0], ratio[:, 1], u[:, 2], u[:, 3], images.device)
        apply = draw_applied(u[:, 4], u[:, 5], self.factor)
        if self.fill_value is None:
            fill = torch.randn(images.shape, generator=self._random._generator(images.device), device=images.device,
                               dtype=torch.float32) * float(self.value_range[1])
        else:
            value = torch.as_tensor(self.fill_value, dtype=torch.float32, device=images.device)
            fill = value.view(1, -1, 1, 1).expand(n, c, h, w) if value.dim() else value.expand(n, c, h, w)
        fill = fill.clamp(float(self.value_range[0]), float(self.value_range[1]))
        return apply, masks, fill

    def apply(self, images, apply, masks, fill):
        """Fill NCHW ``images`` with ``fill`` inside ``masks`` (where ``apply``)."""
        return torch.where(masks & apply.view(-1, 1, 1, 1), fill.to(images.dtype), images)

    def get_config(self):
        return {
            **super().get_config(),
            "factor": self.factor,
            "scale": self.scale,
            "fill_value": self.fill_value,
            "value_range": self.value_range,
            "seed": self.seed,
        }
