"""MixUp: blend each image (and its label) with another image of the batch, in training only.

Also home of what the mixing layers share: the ``{"images": ..., "labels":
...}`` / ``(images, labels)`` data structures they take, and seeded Beta draws.
"""

from __future__ import annotations

import math
import numbers

import torch

from kerasish.layers.preprocessing.base_augmentation import BaseRandomLayer

# Candidates per Gamma draw: Marsaglia-Tsang accepts each with probability
# > 0.95 for shape >= 1, so all 8 failing (then the mode is used) is ~1e-11.
_GAMMA_TRIES = 8


def _log_gamma(shape, generator, device):
    """log of Gamma(``shape``, 1) draws (any shapes > 0), vectorized: Marsaglia-Tsang
    on ``shape + 1``, then ``G(a) = G(a + 1) U^(1 / a)`` in log space (no underflow
    for tiny ``a``)."""
    b = shape + 1.0
    d = b - 1.0 / 3.0
    c = 1.0 / torch.sqrt(9.0 * d)
    z = torch.randn((_GAMMA_TRIES,) + tuple(shape.shape), generator=generator, device=device)
    u = torch.rand((_GAMMA_TRIES + 1,) + tuple(shape.shape), generator=generator, device=device)
    v = (1.0 + c * z) ** 3
    safe_v = torch.where(v > 0, v, torch.ones_like(v))
    accept = (v > 0) & (torch.log(u[:-1]) < 0.5 * z * z + d - d * safe_v + d * torch.log(safe_v))
    first = accept.to(torch.uint8).argmax(dim=0, keepdim=True)  # first accepted candidate (0 if none)
    chosen = torch.where(accept.any(dim=0, keepdim=True), safe_v.gather(0, first), torch.ones_like(first, dtype=v.dtype))
    return torch.log(d) + torch.log(chosen[0]) + torch.log(u[-1]) / shape


def sample_beta(alpha, n, random, like):
    """``n`` draws of Beta(alpha, alpha) (``alpha`` a number or an (n,) tensor) from
    the layer's :class:`SeededRandom` ``random``, on ``like``'s device (float32)."""
    device = like.device
    a = torch.as_tensor(alpha, dtype=torch.float32, device=device).expand(n).clone()
    generator = random._generator(device)
    return torch.sigmoid(_log_gamma(a, generator, device) - _log_gamma(a, generator, device))


def permutation(n, random, like):
    """A random order of the batch's ``n`` images, from the layer's generator."""
    return torch.randperm(n, generator=random._generator(like.device), device=like.device)


def split_data(data, layer):
    """``data`` -> ``(images, labels or None, rebuild)``: a ``{"images", "labels", ...}``
    dict, an ``(images, labels)`` pair or images alone; ``rebuild(images, labels)``
    gives the same structure back (other dict entries pass through)."""
    if isinstance(data, dict):
        if "images" not in data:
            raise ValueError(f"{layer}: a dict input needs an 'images' entry. Received keys: {sorted(data)}")
        return data["images"], data.get("labels"), lambda x, y: {**data, "images": x, **({} if y is None else {"labels": y})}
    if isinstance(data, (tuple, list)):
        if len(data) != 2:
            raise ValueError(f"{layer}: expects images, a dict {{'images': ..., 'labels': ...}} or a pair "
                             f"(images, labels). Received a {type(data).__name__} of {len(data)} entries.")
        return data[0], data[1], lambda x, y: type(data)((x, y))
    return data, None, lambda x, y: x


def image_shape(input_shape):
    """The images' shape inside a data structure's shapes (dict, pair, or a shape)."""
    if isinstance(input_shape, dict):
        return input_shape.get("images")
    if isinstance(input_shape, list) or (isinstance(input_shape, tuple) and input_shape
                                         and isinstance(input_shape[0], (tuple, list))):
        return tuple(input_shape[0])
    return input_shape


class MixingLayer(BaseRandomLayer):
    """A layer that mixes images of a batch and so their labels: takes images,
    ``{"images": ..., "labels": ...}`` or ``(images, labels)``; subclasses
    implement :meth:`mix` on an NCHW float batch and (N, ...) float labels."""

    def _check_input(self, input_shape):
        super()._check_input(image_shape(input_shape))

    # Keras's CutMix leaves a single (unbatched) image as it is; MixUp mixes it with itself.
    _unbatched_identity = False

    def native_call(self, inputs, training=False):
        images, labels, rebuild = split_data(inputs, type(self).__name__)
        if not training or (images.dim() == 3 and self._unbatched_identity):
            return inputs
        x, back = self._to_nchw(images)
        if labels is not None:
            if images.dim() == 3:
                labels = labels.unsqueeze(0)
            if labels.dim() < 1 or labels.shape[0] != x.shape[0]:
                raise ValueError(f"{type(self).__name__}: `labels` must have one row per image. Received images of "
                                 f"shape {tuple(images.shape)} and labels of shape {tuple(labels.shape)}.")
            labels = labels if labels.is_floating_point() else labels.to(torch.float32)
        x, mixed = self.mix(x, labels)
        if images.dim() == 3 and mixed is not None:
            mixed = mixed.squeeze(0)
        return rebuild(back(x), mixed)

    def mix(self, images, labels):
        raise NotImplementedError

    def compute_output_shape(self, input_shape):
        return input_shape


class MixUp(MixingLayer):
    """MixUp (Zhang et al., 2017) during training; identity at inference.

    Each image ``i`` becomes ``w_i x_i + (1 - w_i) x_p(i)`` with ``p`` a random
    permutation of the batch and ``w_i`` drawn from Beta(alpha, alpha); its
    label is mixed with the same weight. Takes images alone (inside a model),
    a dict ``{"images": ..., "labels": ...}`` (Keras's form; other entries pass
    through) or a pair ``(images, labels)`` (e.g. in ``Dataset.map``), and
    returns the same structure. Labels are ``(batch, ...)`` (e.g. one-hot).

    Args:
        alpha: the Beta distribution's parameter (> 0): small values mix
            little. Default 0.2.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        seed: optional int; the layer then draws a reproducible sequence.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers.preprocessing.mix_up import MixUp
        >>> images, labels = np.random.rand(4, 8, 8, 3), np.eye(4, dtype="float32")
        >>> out = MixUp(alpha=0.4, seed=1)({"images": images, "labels": labels})
        >>> out["images"].shape, bool(np.allclose(out["labels"].sum(axis=1), 1.0))
        (torch.Size([4, 8, 8, 3]), True)
    """

    def __init__(self, alpha=0.2, data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not alpha > 0 or math.isinf(alpha):
            raise ValueError(f"MixUp: `alpha` must be a positive number. Received: alpha={alpha!r}")
        self.alpha = alpha

    def draw(self, images):
        """``(mix_weight (N,), permutation (N,))`` for an NCHW batch."""
        n = images.shape[0]
        return sample_beta(self.alpha, n, self._random, images), permutation(n, self._random, images)

    def apply(self, images, labels, mix_weight, order):
        """Mix NCHW ``images`` and (N, ...) ``labels`` (or None) with ``images[order]``."""
        w = mix_weight.to(images.dtype)
        out = w.view(-1, 1, 1, 1) * images + (1.0 - w.view(-1, 1, 1, 1)) * images[order]
        if labels is not None:
            wl = w.to(labels.dtype).view((-1,) + (1,) * (labels.dim() - 1))
            labels = wl * labels + (1.0 - wl) * labels[order]
        return out, labels

    def mix(self, images, labels):
        return self.apply(images, labels, *self.draw(images))

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha, "seed": self.seed}


def sample_dirichlet(alpha, n, k, random, like):
    """``(n, k)`` draws of a symmetric Dirichlet(``alpha``) (rows sum to 1), as
    normalized Gamma draws, from the layer's :class:`SeededRandom` ``random``."""
    a = torch.full((n, k), float(alpha), dtype=torch.float32, device=like.device)
    return torch.softmax(_log_gamma(a, random._generator(like.device), like.device), dim=1)
