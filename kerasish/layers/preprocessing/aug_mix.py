"""AugMix: mix each image with chains of random augmentations of itself, in training only."""

from __future__ import annotations

import math
import numbers

import torch

from kerasish.layers.preprocessing.base_augmentation import (
    INTERPOLATIONS, BaseRandomLayer, SeededRandom, base_factor, check_choice, value_range_arg,
)
from kerasish.layers.preprocessing.mix_up import sample_beta, sample_dirichlet
from kerasish.layers.preprocessing.rand_augment import augmentation_ops, check_count

_OPS = ("random_shear", "random_translation", "random_rotation", "random_posterization", "solarization",
        "auto_contrast", "equalization")
_ALL_OPS = _OPS + ("random_brightness", "random_color_degeneration", "random_contrast", "random_sharpness")


class AugMix(BaseRandomLayer):
    """AugMix (Hendrycks et al., 2019) during training; identity at inference.

    ``num_chains`` chains each apply up to ``chain_depth`` operations (each
    step draws one of the operations, or none), the chains' outputs are
    averaged with Dirichlet(alpha) weights, and the result is mixed with the
    image by a Beta(alpha, alpha) weight, then clipped to ``value_range``.
    As in Keras, the chains' operations are drawn once per batch (the
    operations' own parameters per image); the mixing weights are drawn per
    image (Keras: per batch).

    Args:
        value_range: ``(min, max)`` of the pixel values (default ``(0, 255)``).
        num_chains: the number of chains (default 3).
        chain_depth: the most operations per chain (default 3).
        factor: a float ``f`` in [0, 1] (``(0, f)``) or a pair: the strength
            of the operations. Default 0.3.
        alpha: the Beta and Dirichlet parameter (> 0, default 1).
        all_ops: also use brightness, color degeneration, contrast and
            sharpness (default True).
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        seed: optional int; the layer then draws a reproducible sequence.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape: ``(batch, H, W, C)`` or ``(H, W, C)``, 3 channels. Output shape: the same.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers.preprocessing.aug_mix import AugMix
        >>> AugMix(seed=1)(np.random.rand(2, 8, 8, 3) * 255).shape
        torch.Size([2, 8, 8, 3])
    """

    def __init__(self, value_range=(0, 255), num_chains=3, chain_depth=3, factor=0.3, alpha=1.0, all_ops=True,
                 interpolation="bilinear", seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.value_range = value_range_arg(value_range, "AugMix")
        self.num_chains = check_count(num_chains, "num_chains", "AugMix", 1)
        self.chain_depth = check_count(chain_depth, "chain_depth", "AugMix", 0)
        self.factor = base_factor(factor, (0, 1), "AugMix")
        if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not alpha > 0 or math.isinf(alpha):
            raise ValueError(f"AugMix: `alpha` must be a positive number. Received: alpha={alpha!r}")
        self.alpha = alpha
        if not isinstance(all_ops, bool):
            raise ValueError(f"AugMix: `all_ops` must be a bool. Received: all_ops={all_ops!r}")
        self.all_ops = all_ops
        self.interpolation = check_choice(interpolation, INTERPOLATIONS, "interpolation", "AugMix")
        self.ops = augmentation_ops(_ALL_OPS if all_ops else _OPS, self.factor, self.value_range, self.interpolation,
                                    self.seed, self.data_format)
        # The chains' operations are chosen on the host (a CPU generator: no device sync).
        self._choices = SeededRandom(None if self.seed is None else self.seed + 1000)
        self._cpu = torch.zeros(())

    def transform(self, images, training):
        if not training:
            return images
        n = images.shape[0]
        weights = sample_dirichlet(self.alpha, n, self.num_chains, self._random, images).to(images.dtype)
        keep = sample_beta(self.alpha, n, self._random, images).to(images.dtype).view(n, 1, 1, 1)
        picks = self._choices.uniform((self.num_chains, self.chain_depth), 0.0, len(self.ops) + 1, self._cpu)
        mixed = torch.zeros_like(images)
        for c, chain in enumerate(picks.floor().long().tolist()):
            x = images
            for pick in chain:
                if pick < len(self.ops):  # the last choice: no operation at this step
                    x = self.ops[pick].transform(x, True).to(images.dtype)
            mixed = mixed + weights[:, c].view(n, 1, 1, 1) * x
        out = keep * images + (1.0 - keep) * mixed
        return out.clamp(float(self.value_range[0]), float(self.value_range[1]))

    def get_config(self):
        return {
            **super().get_config(),
            "value_range": self.value_range,
            "num_chains": self.num_chains,
            "chain_depth": self.chain_depth,
            "factor": self.factor,
            "alpha": self.alpha,
            "all_ops": self.all_ops,
            "interpolation": self.interpolation,
            "seed": self.seed,
        }
