"""RandAugment: a random choice of augmentation operations per image, in training only."""

from __future__ import annotations

import numbers

import torch

from kerasish.layers.preprocessing.auto_contrast import AutoContrast
from kerasish.layers.preprocessing.base_augmentation import (
    INTERPOLATIONS, BaseRandomLayer, base_factor, check_choice, value_range_arg,
)
from kerasish.layers.preprocessing.equalization import Equalization
from kerasish.layers.preprocessing.random_brightness import RandomBrightness
from kerasish.layers.preprocessing.random_color_degeneration import RandomColorDegeneration
from kerasish.layers.preprocessing.random_contrast import RandomContrast
from kerasish.layers.preprocessing.random_posterization import RandomPosterization
from kerasish.layers.preprocessing.random_rotation import RandomRotation
from kerasish.layers.preprocessing.random_sharpness import RandomSharpness
from kerasish.layers.preprocessing.random_shear import RandomShear
from kerasish.layers.preprocessing.random_translation import RandomTranslation
from kerasish.layers.preprocessing.solarization import Solarization


def sub_seed(seed, i):
    """A distinct seed per inner layer (Keras gives them all the same one, so
    their draws move together)."""
    return None if seed is None else seed + 1 + i


def augmentation_ops(names, factor, value_range, interpolation, seed, data_format):
    """Keras's RandAugment / AugMix operations of strength ``factor`` (a pair), by name."""
    make = {
        "random_shear": lambda s: RandomShear(x_factor=factor, y_factor=factor, interpolation=interpolation, seed=s,
                                              data_format=data_format),
        "random_translation": lambda s: RandomTranslation(height_factor=factor, width_factor=factor,
                                                          interpolation=interpolation, seed=s, data_format=data_format),
        "random_rotation": lambda s: RandomRotation(factor=factor, interpolation=interpolation, seed=s,
                                                    data_format=data_format),
        "random_brightness": lambda s: RandomBrightness(factor=factor, value_range=value_range, seed=s,
                                                        data_format=data_format),
        "random_color_degeneration": lambda s: RandomColorDegeneration(factor=factor, value_range=value_range, seed=s,
                                                                       data_format=data_format),
        "random_contrast": lambda s: RandomContrast(factor=factor, value_range=value_range, seed=s,
                                                    data_format=data_format),
        "random_sharpness": lambda s: RandomSharpness(factor=factor, value_range=value_range, seed=s,
                                                      data_format=data_format),
        "random_posterization": lambda s: RandomPosterization(factor=max(1, int(8 * factor[1])), value_range=value_range,
                                                              seed=s, data_format=data_format),
        "solarization": lambda s: Solarization(addition_factor=factor, threshold_factor=factor, value_range=value_range,
                                               seed=s, data_format=data_format),
        "auto_contrast": lambda s: AutoContrast(value_range=value_range, data_format=data_format),
        "equalization": lambda s: Equalization(value_range=value_range, data_format=data_format),
    }
    return [make[name](sub_seed(seed, i)) for i, name in enumerate(names)]


def check_count(value, arg, layer, low):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{layer}: `{arg}` must be an int >= {low}. Received: {arg}={value!r}")
    return int(value)


class RandAugment(BaseRandomLayer):
    """RandAugment (Cubuk et al., 2019) during training; identity at inference.

    ``num_ops`` times in a row, each image goes through one operation drawn
    uniformly from Keras's eleven: shear, translation, rotation, brightness,
    color degeneration, contrast, sharpness, posterization, solarization,
    auto contrast and equalization, each of strength ``factor`` (and with
    its own random parameters per image). Keras draws the operations once
    per batch; kerasish draws them per image.

    Args:
        value_range: ``(min, max)`` of the pixel values (default ``(0, 255)``).
        num_ops: how many operations each image goes through (default 2).
        factor: a float ``f`` in [0, 1] (``(0, f)``) or a pair: the strength
            of the operations. Default 0.5.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``, for the
            geometric operations.
        seed: optional int; the layer then draws a reproducible sequence.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape: ``(batch, H, W, C)`` or ``(H, W, C)``, 3 channels. Output shape: the same.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers.preprocessing.rand_augment import RandAugment
        >>> RandAugment(seed=1)(np.random.rand(2, 8, 8, 3) * 255).shape
        torch.Size([2, 8, 8, 3])
    """

    OPS = ("random_shear", "random_translation", "random_rotation", "random_brightness", "random_color_degeneration",
           "random_contrast", "random_sharpness", "random_posterization", "solarization", "auto_contrast", "equalization")

    def __init__(self, value_range=(0, 255), num_ops=2, factor=0.5, interpolation="bilinear", seed=None,
                 data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.value_range = value_range_arg(value_range, "RandAugment")
        self.num_ops = check_count(num_ops, "num_ops", "RandAugment", 0)
        self.factor = base_factor(factor, (0, 1), "RandAugment")
        self.interpolation = check_choice(interpolation, INTERPOLATIONS, "interpolation", "RandAugment")
        self.ops = augmentation_ops(self.OPS, self.factor, self.value_range, self.interpolation, self.seed,
                                    self.data_format)

    def transform(self, images, training):
        if not training:
            return images
        n = images.shape[0]
        choice = (self._random.uniform((self.num_ops, n), 0.0, len(self.ops), images).floor().clamp_max(len(self.ops) - 1)
                  .view(self.num_ops, n, 1, 1, 1))
        for step in range(self.num_ops):
            # every operation on the whole batch, each image keeping its own (as Keras, with no host sync)
            out = images
            for i, op in enumerate(self.ops):
                out = torch.where(choice[step] == i, op.transform(images, True).to(images.dtype), out)
            images = out
        return images

    def get_config(self):
        return {
            **super().get_config(),
            "value_range": self.value_range,
            "num_ops": self.num_ops,
            "factor": self.factor,
            "interpolation": self.interpolation,
            "seed": self.seed,
        }
