"""RandomSaturation: scale the saturation of each image by a random factor (training only).

Keras's math in torch: its HSV conversion, and the saturation multiplied by
``u / (1 - u + epsilon)`` for ``u`` drawn in ``factor``, then clipped to
``value_range`` (as Keras does, not to [0, 1]). torchvision's
``adjust_saturation`` blends with the grayscale instead.
"""

from __future__ import annotations

from kerasish.layers.preprocessing.color_utils import KERAS_EPSILON, FactorColorLayer, adjust_saturation, check_channels


class RandomSaturation(FactorColorLayer):
    """Changes the saturation of each RGB image in training; identity at inference.

    ``u`` is drawn per image in ``[factor[0], factor[1]]`` and the HSV
    saturation is multiplied by ``u / (1 - u)``: ``u = 0.5`` keeps the image,
    ``u = 0`` makes it gray, ``u`` near 1 saturates it fully.

    Args:
        factor: a float (``f`` gives ``(-|f|, |f|)``, Keras's ``_set_factor`` with
            bounds [-1, 1]) or a pair ``(lower, upper)``; Keras documents values in [0, 1].
        value_range: ``(low, high)`` of the pixel values (default ``(0, 255)``).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        seed: optional int; the layer then draws a reproducible sequence.

    Input shape: ``(batch, H, W, 3)`` or ``(H, W, 3)``. Output shape: the same.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers.preprocessing.random_saturation import RandomSaturation
        >>> y = RandomSaturation(factor=(0.0, 0.0))(np.array([[[200.0, 100.0, 0.0]]]), training=True)
        >>> y[0, 0].tolist()  # no saturation left: gray at the max value
        [200.0, 200.0, 200.0]
    """

    _factor_bounds = (-1, 1)

    def draw(self, images):
        """The saturation multiplier of each image: ``(N,)``."""
        u = self._random.uniform((images.shape[0],), self.factor[0], self.factor[1], images)
        return u / (1.0 - u + KERAS_EPSILON)

    def saturate(self, images, factor):
        """Multiply the HSV saturation of an NCHW RGB batch by ``factor`` (``(N,)``)."""
        check_channels(images, (3,), "RandomSaturation")
        return adjust_saturation(images, factor, self.value_range)

    adjust = saturate
