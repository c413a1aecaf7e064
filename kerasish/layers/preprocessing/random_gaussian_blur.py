"""RandomGaussianBlur: blur images with a Gaussian of random width, in training only."""

from __future__ import annotations

import numbers

import torch
import torch.nn.functional as F

from kerasish.layers.preprocessing.base_augmentation import (
    BaseRandomLayer,
    base_factor,
    draw_applied,
    value_range_arg,
    where_applied,
)


def _kernel_size(value):
    """Keras's odd kernel size: a number or a pair of odd numbers -> (k1, k2)."""
    def odd(v):
        return not isinstance(v, bool) and isinstance(v, numbers.Real) and int(v) == v and v >= 1 and v % 2 == 1

    if isinstance(value, (tuple, list)):
        if len(value) != 2 or not all(odd(v) for v in value):
            raise ValueError(f"RandomGaussianBlur: `kernel_size` must be an odd number or a pair of odd numbers. "
                             f"Received: kernel_size={value!r}")
        return int(value[0]), int(value[1])
    if not odd(value):
        raise ValueError(f"RandomGaussianBlur: `kernel_size` must be an odd number. Received: kernel_size={value!r}")
    return int(value), int(value)


def gaussian_kernels(size, sigma):
    """Normalised 1-D Gaussians of odd ``size``, one per entry of ``sigma`` (N,): (N, size)."""
    t = torch.arange(size, dtype=sigma.dtype, device=sigma.device) - (size - 1) / 2
    k = torch.exp(-(t * t) / (2 * sigma.view(-1, 1) ** 2))
    return k / k.sum(dim=1, keepdim=True)


def separable_blur(images, ky, kx):
    """Blur NCHW ``images`` with image ``i``'s kernels ``ky[i]`` (height) and
    ``kx[i]`` (width), zero padded ('same'), as one grouped convolution each."""
    n, c, h, w = images.shape
    x = images.reshape(1, n * c, h, w)
    ky = ky.to(images.dtype).repeat_interleave(c, dim=0)  # one filter per (image, channel)
    kx = kx.to(images.dtype).repeat_interleave(c, dim=0)
    sy, sx = ky.shape[1], kx.shape[1]
    x = F.conv2d(F.pad(x, (0, 0, sy // 2, sy // 2)), ky.view(n * c, 1, sy, 1), groups=n * c)
    x = F.conv2d(F.pad(x, (sx // 2, sx // 2, 0, 0)), kx.view(n * c, 1, 1, sx), groups=n * c)
    return x.view(n, c, h, w)


class RandomGaussianBlur(BaseRandomLayer):
    """Blurs each image, with probability ``q`` drawn in ``factor``, by a
    Gaussian of random standard deviations during training; identity at inference.

    Each blurred image gets its own ``(sigma_x, sigma_y)``, each drawn in
    ``sigma`` (Keras draws one pair for the whole batch), then the result is
    clipped to ``value_range``. Zero padding at the borders, as Keras.

    Args:
        factor: a float ``f`` in [0, 1] (``q`` drawn in ``[0, f]``) or a pair:
            the probability of blurring an image. Default 1.
        kernel_size: an odd int, or a pair of odd ints ``(width, height)``
            (Keras's order). Default 3.
        sigma: a float ``s`` in [0, 1] (drawn in ``[0, s]``) or a pair in
            [0, 1]: the Gaussian's standard deviation. Default 1.
        value_range: ``(min, max)`` of the pixel values (default ``(0, 255)``).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        seed: optional int; the layer then draws a reproducible sequence.

    Input shape: ``(batch, H, W, C)`` or ``(H, W, C)``. Output shape: the same.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers.preprocessing.random_gaussian_blur import RandomGaussianBlur
        >>> x = np.zeros((1, 5, 5, 1), "float32"); x[0, 2, 2, 0] = 255.0
        >>> y = RandomGaussianBlur(factor=(1.0, 1.0), sigma=(1.0, 1.0), seed=1)(x)
        >>> round(float(y.sum()), 1), float(y.max()) < 255.0
        (255.0, True)
    """

    def __init__(self, factor=1.0, kernel_size=3, sigma=1.0, value_range=(0, 255), data_format=None, seed=None,
                 **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = base_factor(factor, (0, 1), "RandomGaussianBlur")
        self.kernel_size = _kernel_size(kernel_size)
        self.sigma = base_factor(sigma, (0, 1), "RandomGaussianBlur", arg="sigma")
        self.value_range = value_range_arg(value_range, "RandomGaussianBlur")

    def draw(self, images):
        """``(apply (N,) bool, sigma (N, 2) [sigma_x, sigma_y])`` for an NCHW batch."""
        n = images.shape[0]
        u = self._random.uniform((n, 4), 0.0, 1.0, images)
        apply = draw_applied(u[:, 0], u[:, 1], self.factor)
        sigma = u[:, 2:] * (self.sigma[1] - self.sigma[0]) + self.sigma[0] + 1e-6
        return apply, sigma

    def apply(self, images, apply, sigma):
        """Blur NCHW ``images`` (where ``apply``) with per-image ``sigma`` (N, 2)."""
        # Keras's gaussian_blur: the first kernel size and sigma act along the width.
        kx = gaussian_kernels(self.kernel_size[0], sigma[:, 0])
        ky = gaussian_kernels(self.kernel_size[1], sigma[:, 1])
        out = where_applied(apply, separable_blur(images, ky, kx), images)
        return out.clamp(float(self.value_range[0]), float(self.value_range[1]))

    def get_config(self):
        return {
            **super().get_config(),
            "factor": self.factor,
            "kernel_size": self.kernel_size,
            "sigma": self.sigma,
            "value_range": self.value_range,
            "seed": self.seed,
        }
