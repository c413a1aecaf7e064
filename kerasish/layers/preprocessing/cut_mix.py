"""CutMix: paste a random box of another image of the batch into each image, in training only."""

from __future__ import annotations

import torch

from kerasish.layers.preprocessing.base_augmentation import base_factor
from kerasish.layers.preprocessing.mix_up import MixingLayer, permutation, sample_beta
from kerasish.layers.preprocessing.random_erasing import box_masks


class CutMix(MixingLayer):
    """CutMix (Yun et al., 2019) during training; identity at inference (and
    for a single unbatched image, as Keras).

    For each image, ``lam`` is drawn from Beta(a, a) with ``a`` drawn in
    ``factor``; a box of ``sqrt(1 - lam)`` times the image's height and width,
    at a uniform random position, is copied from image ``p(i)`` of a random
    permutation ``p``. The label becomes ``w y_i + (1 - w) y_p(i)`` with
    ``1 - w`` the fraction of pixels pasted (Keras uses the box's real-valued
    area, which the pixel count approximates). Takes images, a dict
    ``{"images": ..., "labels": ...}`` or a pair ``(images, labels)`` and
    returns the same structure.

    Args:
        factor: a float ``f`` in [0, 1] (``a`` drawn in ``[0, f]``) or a pair.
            Default 1.
        seed: optional int; the layer then draws a reproducible sequence.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers.preprocessing.cut_mix import CutMix
        >>> images, labels = np.random.rand(4, 8, 8, 3), np.eye(4, dtype="float32")
        >>> x, y = CutMix(seed=1)((images, labels))
        >>> x.shape, bool(np.allclose(y.sum(axis=1), 1.0))
        (torch.Size([4, 8, 8, 3]), True)
    """

    def __init__(self, factor=1.0, seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = base_factor(factor, (0, 1), "CutMix")

    def draw(self, images):
        """``(masks (N, 1, H, W) bool, permutation (N,))`` for an NCHW batch."""
        n, _, h, w = images.shape
        u = self._random.uniform((n, 3), 0.0, 1.0, images)
        alpha = u[:, 0] * (self.factor[1] - self.factor[0]) + self.factor[0] + 1e-6
        ratio = torch.sqrt(1.0 - sample_beta(alpha, n, self._random, images))
        masks, _ = box_masks(n, h, w, ratio, ratio, u[:, 1], u[:, 2], images.device)
        return masks, permutation(n, self._random, images)

    def apply(self, images, labels, masks, order):
        """Paste ``images[order]`` into NCHW ``images`` inside ``masks``; mix the
        (N, ...) ``labels`` (or None) by the pasted fraction."""
        out = torch.where(masks, images[order], images)
        if labels is not None:
            pasted = masks.flatten(1).to(labels.dtype).mean(dim=1).view((-1,) + (1,) * (labels.dim() - 1))
            labels = (1.0 - pasted) * labels + pasted * labels[order]
        return out, labels

    _unbatched_identity = True

    def mix(self, images, labels):
        return self.apply(images, labels, *self.draw(images))

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "seed": self.seed}
