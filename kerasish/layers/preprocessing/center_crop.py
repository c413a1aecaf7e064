"""CenterCrop: the central ``(height, width)`` window of images."""

from __future__ import annotations


from kerasish.layers import args as A
from kerasish.layers.preprocessing.base_augmentation import BaseImageLayer, crop_to_aspect_box
from kerasish.layers.preprocessing.resizing import resize_nchw


def center_crop_or_resize(x, height, width):
    """Keras's CenterCrop on an NCHW batch: the centred window when the image
    is large enough, else Keras's ``smart_resize`` (crop to the target aspect
    ratio, then bilinear resize)."""
    h, w = x.shape[-2:]
    if h >= height and w >= width:
        top, left = (h - height) // 2, (w - width) // 2
        return x[..., top:top + height, left:left + width]
    top, left, ch, cw = crop_to_aspect_box(h, w, height, width)
    from torchvision.transforms.v2 import functional as TF  # on first use: see resizing._tv

    return resize_nchw(TF.crop(x, top, left, ch, cw), (height, width))


class CenterCrop(BaseImageLayer):
    """Crops the central ``height x width`` window of each image.

    An image smaller than the target on some side is instead cropped to the
    target aspect ratio and resized (bilinear), as Keras does.

    Args:
        height / width: positive ints, the output size.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape: ``(batch, H, W, C)`` or ``(H, W, C)``.
    Output shape: ``(batch, height, width, C)`` (or ``(height, width, C)``).

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import CenterCrop
        >>> CenterCrop(2, 2)(np.arange(16.0).reshape(1, 4, 4, 1))[0, ..., 0].tolist()
        [[5.0, 6.0], [9.0, 10.0]]
    """

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.height = A.positive_int(height, "height", "CenterCrop")
        self.width = A.positive_int(width, "width", "CenterCrop")

    def transform(self, images, training):
        return center_crop_or_resize(images, self.height, self.width)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        hx, wx = self._hw_axes(len(shape))
        shape[hx], shape[wx] = self.height, self.width
        return tuple(shape)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}
