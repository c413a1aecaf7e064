"""Colour maths shared by the colour / intensity augmentation layers.

Every function takes an NCHW float batch and, where it is random, one factor
per image (shape ``(N,)``), so a layer (or RandAugment / AugMix) can apply a
transform with factors it drew itself. The formulas are Keras 3's (torch
backend): its HSV conversion (dm_pix's), its grayscale weights (torchvision's,
so :func:`rgb_to_grayscale` calls torchvision), its zero-padded sharpening
kernel, its value-range mapping.
"""

from __future__ import annotations

import torch

from kerasish.layers.preprocessing.base_augmentation import BaseRandomLayer, base_factor, check_number

KERAS_EPSILON = 1e-7  # keras.config.epsilon(), used by RandomSaturation


def _tv_functional():
    """torchvision's functional transforms, imported on first use (the import
    costs about a second, which ``import kerasish`` should not pay)."""
    from torchvision.transforms.v2 import functional as TF

    return TF


def sorted_value_range(value_range, layer):
    """Keras's ``_set_value_range``: a list or tuple of two numbers, returned sorted (a list)."""
    if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
        raise ValueError(
            f"{layer}: the `value_range` argument should be a list of two numbers. Received: value_range={value_range!r}"
        )
    for v in value_range:
        check_number(v, "value_range", layer)
    return sorted(value_range)


def per_image(factors, images):
    """``(N,)`` factors -> ``(N, 1, 1, 1)`` in the images' dtype and device."""
    return torch.as_tensor(factors, device=images.device).to(images.dtype).reshape(-1, 1, 1, 1)


def check_channels(images, allowed, layer):
    """Raise ``ValueError`` unless the NCHW batch has a channel count in ``allowed``."""
    if images.shape[1] not in allowed:
        raise ValueError(f"{layer}: expected images with {' or '.join(map(str, allowed))} channels; got {images.shape[1]} (NCHW shape {tuple(images.shape)}).")


def transform_value_range(images, source, target):
    """Keras's ``_transform_value_range``: map ``source`` ``(lo, hi)`` onto ``target`` linearly."""
    if float(source[0]) == float(target[0]) and float(source[1]) == float(target[1]):
        return images
    s_lo, s_hi, t_lo, t_hi = (float(v) for v in (*source, *target))
    return (images - s_lo) / (s_hi - s_lo) * (t_hi - t_lo) + t_lo


def rgb_to_grayscale(images):
    """Luma ``0.2989 R + 0.587 G + 0.114 B`` (Keras's and torchvision's weights),
    ``(N, 3, H, W) -> (N, 1, H, W)``; a one-channel batch is returned as a copy."""
    if images.shape[1] == 1:
        return images.clone()
    return _tv_functional().rgb_to_grayscale(images, num_output_channels=1)


def rgb_to_hsv(images):
    """Keras's RGB -> HSV (NCHW): hue and saturation in [0, 1], value the max channel
    (so a [0, 255] image keeps value in [0, 255], as Keras does)."""
    eps = torch.finfo(images.dtype).eps
    images = torch.where(images.abs() < eps, torch.zeros_like(images), images)
    r, g, b = images.unbind(1)
    value = torch.maximum(torch.maximum(r, g), b)
    range_ = value - torch.minimum(torch.minimum(r, g), b)
    one = torch.ones_like(value)
    saturation = torch.where(value > 0, range_ / torch.where(value > 0, value, one), torch.zeros_like(value))
    norm = 1.0 / (6.0 * torch.where(range_ > 0, range_, one))
    hue = torch.where(value == g, norm * (b - r) + 2.0 / 6.0, norm * (r - g) + 4.0 / 6.0)
    hue = torch.where(value == r, norm * (g - b), hue)
    hue = torch.where(range_ > 0, hue, torch.zeros_like(hue)) + (hue < 0.0).to(hue.dtype)
    return torch.stack([hue, saturation, value], dim=1)


def hsv_to_rgb(images):
    """Keras's HSV -> RGB (NCHW), the inverse of :func:`rgb_to_hsv`."""
    hue, saturation, value = images.unbind(1)
    dh = torch.remainder(hue, 1.0) * 6.0
    dr = torch.clamp((dh - 3.0).abs() - 1.0, 0.0, 1.0)
    dg = torch.clamp(2.0 - (dh - 2.0).abs(), 0.0, 1.0)
    db = torch.clamp(2.0 - (dh - 4.0).abs(), 0.0, 1.0)
    one_minus_s = 1.0 - saturation
    return torch.stack([value * (one_minus_s + saturation * d) for d in (dr, dg, db)], dim=1)


def adjust_hue(images, delta, value_range):
    """Rotate the hue of each image by ``delta`` (``(N,)``, in turns) as Keras's RandomHue:
    through [0, 1], wrapped once, clipped to [0, 1], back to ``value_range``."""
    x = transform_value_range(images, value_range, (0, 1))
    hsv = rgb_to_hsv(x)
    h = hsv[:, 0] + per_image(delta, x)[:, 0]
    h = torch.where(h > 1.0, h - 1.0, h)
    h = torch.where(h < 0.0, h + 1.0, h)
    x = hsv_to_rgb(torch.stack([h, hsv[:, 1], hsv[:, 2]], dim=1)).clamp(0.0, 1.0)
    return transform_value_range(x, (0, 1), value_range)


def adjust_saturation(images, factor, value_range):
    """Scale the HSV saturation of each image by ``factor`` (``(N,)``) as Keras's
    RandomSaturation: the scaled saturation is clipped to ``value_range`` (Keras's
    choice, not [0, 1]) and the images are not rescaled."""
    lo, hi = (float(v) for v in sorted(value_range))
    hsv = rgb_to_hsv(images)
    s = (hsv[:, 1] * per_image(factor, images)[:, 0]).clamp(lo, hi)
    return hsv_to_rgb(torch.stack([hsv[:, 0], s, hsv[:, 2]], dim=1))


def adjust_brightness(images, delta, value_range):
    """Add ``delta`` (``(N,)``, a fraction of the range) times the range width; clip (RandomBrightness)."""
    lo, hi = (float(v) for v in sorted(value_range))
    return (images + per_image(delta, images) * (hi - lo)).clamp(lo, hi)


def adjust_contrast(images, factor, value_range):
    """``(x - mean) * factor + mean`` per image and channel, clipped (RandomContrast)."""
    lo, hi = (float(v) for v in sorted(value_range))
    mean = images.mean(dim=(-2, -1), keepdim=True)
    return ((images - mean) * per_image(factor, images) + mean).clamp(lo, hi)


def blend_grayscale(images, factor, value_range):
    """``x + factor * (gray(x) - x)`` per image, clipped (RandomColorDegeneration)."""
    lo, hi = (float(v) for v in sorted(value_range))
    return (images + per_image(factor, images) * (rgb_to_grayscale(images) - images)).clamp(lo, hi)


def sharpen(images, factor, value_range):
    """Keras's RandomSharpness at ``factor`` (``(N,)``, in [0, 1]): blend with the
    3x3 smoothing ``[[1, 1, 1], [1, 5, 1], [1, 1, 1]] / 13`` (zero padded, unlike
    torchvision's ``adjust_sharpness``, which keeps the border) by ``1 - 2 factor``."""
    lo, hi = (float(v) for v in sorted(value_range))
    c = images.shape[1]
    kernel = torch.full((3, 3), 1.0 / 13.0, dtype=images.dtype, device=images.device)
    kernel[1, 1] = 5.0 / 13.0
    smoothed = torch.nn.functional.conv2d(images, kernel.expand(c, 1, 3, 3), padding=1, groups=c)
    s = per_image(factor, images) * 2.0
    return (images + (1.0 - s) * (smoothed - images)).clamp(lo, hi)


def posterize(images, shift, value_range):
    """Keep the top ``8 - shift`` bits of each [0, 255] value (``shift`` ``(N,)`` ints), as Keras:
    values are mapped to [0, 255], truncated to uint8, shifted, mapped back."""
    x = transform_value_range(images, value_range, (0, 255)).to(torch.uint8)
    s = torch.as_tensor(shift, device=images.device).to(torch.uint8).reshape(-1, 1, 1, 1)
    x = torch.bitwise_left_shift(torch.bitwise_right_shift(x, s), s)
    return transform_value_range(x.to(images.dtype), (0, 255), value_range)


class TrainingByDefault:
    """Mixin for a layer whose ``call`` defaults to ``training=True`` as Keras's data
    layers do, when called directly; models pass the flag explicitly."""

    def _eager_call(self, inputs, *args, **kwargs):
        if kwargs.get("training") is None:
            kwargs["training"] = True
        return super()._eager_call(inputs, *args, **kwargs)


class FactorColorLayer(BaseRandomLayer):
    """A colour augmentation drawing one factor per image in ``factor``, on pixels in ``value_range``.

    A subclass sets ``_factor_bounds`` (what ``base_factor`` accepts), defines
    ``adjust(images, factors)`` on an NCHW batch, and may change ``draw``
    (default: uniform in ``factor``, ``(N,)``). Training applies
    ``adjust(images, draw(images))``; inference returns the images unchanged.
    """

    _factor_bounds = (0, 1)
    # Keras's ``_set_value_range`` sorts the pair (most layers do; RandomHue keeps it as given)
    _value_range_arg = staticmethod(sorted_value_range)

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        name = type(self).__name__
        self.factor = base_factor(factor, self._factor_bounds, name)
        self.value_range = self._value_range_arg(value_range, name)

    def draw(self, images):
        """The factor of each image, uniform in ``factor``: ``(N,)``."""
        return self._random.uniform((images.shape[0],), self.factor[0], self.factor[1], images)

    def transform(self, images, training):
        if not training:
            return images
        return self.adjust(images, self.draw(images))

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range, "seed": self.seed}
