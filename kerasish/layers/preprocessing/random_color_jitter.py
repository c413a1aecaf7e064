"""RandomColorJitter: random brightness, contrast, saturation and hue, in that order (training only).

Each adjustment is Keras's (RandomBrightness, RandomContrast, RandomSaturation,
RandomHue, with their factor rules), computed by the functions of
``color_utils`` with one draw per image from this layer's own generator.
"""

from __future__ import annotations

import torch

from kerasish.layers.preprocessing.base_augmentation import BaseRandomLayer, base_factor, value_range_arg
from kerasish.layers.preprocessing.color_utils import (
    KERAS_EPSILON,
    adjust_brightness,
    adjust_contrast,
    adjust_hue,
    adjust_saturation,
    check_channels,
)

_LAYER = "RandomColorJitter"


class RandomColorJitter(BaseRandomLayer):
    """Jitters the colours of each image in training; identity at inference.

    Applies, for each factor given (``None`` skips the step), with one draw per image:

    * brightness: add ``u * (high - low)``, ``u`` in ``brightness_factor``
      (a float ``f`` in [-1, 1] gives ``(-|f|, |f|)``); clip;
    * contrast: ``(x - mean) * c + mean`` per channel, ``c`` in
      ``[1 - lower, 1 + upper]`` (``f`` in [0, 1] gives ``(0, f)``); clip;
    * saturation: HSV saturation times ``u / (1 - u)``, ``u`` in
      ``saturation_factor`` (``f`` gives ``(-|f|, |f|)``);
    * hue: the hue moves by ``±m / 2`` turns, ``m`` in ``hue_factor``
      (``f`` in [0, 1] gives ``(0, f)``).

    Args:
        value_range: ``(low, high)`` of the pixel values (default ``(0, 255)``).
        brightness_factor: see above, or None.
        contrast_factor: see above, or None.
        saturation_factor: see above, or None.
        hue_factor: see above, or None.
        seed: optional int; the layer then draws a reproducible sequence.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape: ``(batch, H, W, 3)`` or ``(H, W, 3)`` (any channels without
    saturation / hue). Output shape: the same.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers.preprocessing.random_color_jitter import RandomColorJitter
        >>> layer = RandomColorJitter(brightness_factor=(0.1, 0.1), contrast_factor=(0.0, 0.0))
        >>> layer(np.full((1, 2, 2, 3), 100.0), training=True)[0, 0, 0].tolist()
        [125.5, 125.5, 125.5]
    """

    def __init__(self, value_range=(0, 255), brightness_factor=None, contrast_factor=None, saturation_factor=None,
                 hue_factor=None, seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.value_range = value_range_arg(value_range, _LAYER)
        self.brightness_factor = brightness_factor
        self.contrast_factor = contrast_factor
        self.saturation_factor = saturation_factor
        self.hue_factor = hue_factor
        # normalized (lower, upper) ranges; the config keeps the arguments as given, as Keras's
        self._ranges = {
            "brightness": None if brightness_factor is None else base_factor(brightness_factor, (-1, 1), _LAYER, "brightness_factor"),
            "contrast": None if contrast_factor is None else base_factor(contrast_factor, (0, 1), _LAYER, "contrast_factor"),
            "saturation": None if saturation_factor is None else base_factor(saturation_factor, (-1, 1), _LAYER, "saturation_factor"),
            "hue": None if hue_factor is None else base_factor(hue_factor, (0, 1), _LAYER, "hue_factor"),
        }

    def draw(self, images):
        """Per-image factors of each step that is on: a dict of ``(N,)`` tensors."""
        n, r, u = images.shape[0], self._ranges, self._random.uniform
        out = {}
        if r["brightness"] is not None:
            out["brightness"] = u((n,), r["brightness"][0], r["brightness"][1], images)
        if r["contrast"] is not None:
            out["contrast"] = u((n,), 1.0 - r["contrast"][0], 1.0 + r["contrast"][1], images)
        if r["saturation"] is not None:
            s = u((n,), r["saturation"][0], r["saturation"][1], images)
            out["saturation"] = s / (1.0 - s + KERAS_EPSILON)
        if r["hue"] is not None:
            sign = torch.where(u((n,), 0.0, 1.0, images) > 0.5, -1.0, 1.0)
            out["hue"] = sign * u((n,), r["hue"][0], r["hue"][1], images) * 0.5
        return out

    def jitter(self, images, factors):
        """Apply the steps in ``factors`` (as :meth:`draw` returns) to an NCHW batch."""
        vr = self.value_range
        if "brightness" in factors:
            images = adjust_brightness(images, factors["brightness"], vr)
        if "contrast" in factors:
            images = adjust_contrast(images, factors["contrast"], vr)
        if "saturation" in factors:
            check_channels(images, (3,), _LAYER)
            images = adjust_saturation(images, factors["saturation"], vr)
        if "hue" in factors:
            check_channels(images, (3,), _LAYER)
            images = adjust_hue(images, factors["hue"], vr)
        return images

    def transform(self, images, training):
        if not training:
            return images
        return self.jitter(images, self.draw(images))

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range, "brightness_factor": self.brightness_factor,
                "contrast_factor": self.contrast_factor, "saturation_factor": self.saturation_factor,
                "hue_factor": self.hue_factor, "seed": self.seed}
