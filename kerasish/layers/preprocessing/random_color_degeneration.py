"""RandomColorDegeneration: blend each image with its grayscale by a random factor (training only).

Grayscale from torchvision's ``rgb_to_grayscale`` (Keras's weights); the blend
``x + f (gray - x)`` is Keras's.
"""

from __future__ import annotations

from kerasish.layers.preprocessing.color_utils import FactorColorLayer, blend_grayscale, check_channels


class RandomColorDegeneration(FactorColorLayer):
    """Degrades the colours of each image toward its grayscale in training:
    ``clip(x + f * (gray(x) - x), value_range)`` with ``f`` drawn per image in
    ``[factor[0], factor[1]]`` (``f = 1``: grayscale; ``f < 0``: more colourful).
    Identity at inference.

    Args:
        factor: a float in [-1, 1] (``f`` gives ``(-|f|, |f|)``, as Keras's
            ``_set_factor``) or a pair ``(lower, upper)``.
        value_range: ``(low, high)`` of the pixel values (default ``(0, 255)``).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        seed: optional int; the layer then draws a reproducible sequence.

    Input shape: ``(batch, H, W, 3)`` or ``(H, W, 3)``. Output shape: the same.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers.preprocessing.random_color_degeneration import RandomColorDegeneration
        >>> y = RandomColorDegeneration(factor=(0.5, 0.5))(np.array([[[200.0, 100.0, 0.0]]]), training=True)
        >>> [round(v, 2) for v in y[0, 0].tolist()]
        [159.24, 109.24, 59.24]
    """

    _factor_bounds = (-1, 1)

    def degenerate(self, images, factor):
        """Blend an NCHW RGB batch toward its grayscale by ``factor`` (``(N,)``)."""
        check_channels(images, (3,), "RandomColorDegeneration")
        return blend_grayscale(images, factor, self.value_range)

    def compute_output_shape(self, input_shape):
        self._check_input(tuple(input_shape))
        channels = input_shape[-1] if self.data_format == "channels_last" else input_shape[-3]
        if channels is not None and channels != 3:
            raise ValueError(f"RandomColorDegeneration: input images must have 3 channels; got input shape {tuple(input_shape)}.")
        return tuple(input_shape)

    adjust = degenerate
