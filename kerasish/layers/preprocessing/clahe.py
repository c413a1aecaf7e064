"""ContrastLimitedAdaptiveHistogramEqualization (CLAHE): histogram equalization per tile,
with clipped histograms, blended bilinearly between tiles (always active).

Keras's algorithm in torch (torchvision has no CLAHE): the image is padded at
the bottom / right to whole tiles by repeating its last row / column (Keras's
source asks for numpy's "symmetric" padding, which its torch backend runs as
"replicate"; we match the torch backend), each tile's 256-bin
histogram of the truncated [0, 255] values is clipped at
``int(clip_limit * tile_pixels / 256)`` (an int as in Keras's torch backend,
whose histograms are int64; other backends do not truncate) and the excess
spread evenly, and each pixel
reads the equalization maps of its four nearest tile centres.
"""

from __future__ import annotations

import numbers

import torch

from kerasish.layers.preprocessing.base_augmentation import BaseImageLayer, check_number, value_range_arg
from kerasish.layers.preprocessing.color_utils import transform_value_range

_LAYER = "ContrastLimitedAdaptiveHistogramEqualization"


def _edge_index(n_out, n, device):
    """Indices of an end padding that repeats the last row / column."""
    return torch.arange(n_out, device=device).clamp(max=n - 1)


def _interp_nodes(size, tile, grid, device):
    """Keras's neighbouring tile centres (on the edge-padded grid) and weights of each row / column."""
    pos = (torch.arange(size, device=device, dtype=torch.float32) - tile / 2.0) / tile + 1.0
    lo = torch.floor(pos)
    weight = pos - lo
    return lo.clamp(0, grid + 1).long(), (lo + 1).clamp(0, grid + 1).long(), weight


class ContrastLimitedAdaptiveHistogramEqualization(BaseImageLayer):
    """Contrast-limited adaptive histogram equalization (CLAHE), per image and
    channel, active in training and inference (as Keras's).

    Args:
        value_range: ``(low, high)`` of the pixel values (default ``(0, 255)``).
        clip_limit: how far a tile's histogram may rise above flat before it is
            clipped (multiples of the flat height); 0 turns clipping off (default 4.0).
        tile_grid_size: ``(rows, cols)`` of tiles (default ``(8, 8)``).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Input shape: ``(batch, H, W, C)`` or ``(H, W, C)``. Output shape: the same;
    integer inputs come back in their dtype (truncated), as in Keras.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers.preprocessing.clahe import ContrastLimitedAdaptiveHistogramEqualization
        >>> x = np.tile(np.arange(0.0, 64.0, 4.0), (16, 1))[None, :, :, None]  # a dim horizontal ramp
        >>> y = ContrastLimitedAdaptiveHistogramEqualization(clip_limit=0.0, tile_grid_size=(2, 2))(x)
        >>> round(float(y.min())), round(float(y.max()))  # stretched over the whole range
        (0, 255)
    """

    def __init__(self, value_range=(0, 255), clip_limit=4.0, tile_grid_size=(8, 8), data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.value_range = value_range_arg(value_range, _LAYER)
        check_number(clip_limit, "clip_limit", _LAYER)
        if clip_limit < 0:
            raise ValueError(f"{_LAYER}: `clip_limit` must be >= 0. Received: clip_limit={clip_limit!r}")
        self.clip_limit = clip_limit
        if (not isinstance(tile_grid_size, (tuple, list)) or len(tile_grid_size) != 2
                or any(isinstance(t, bool) or not isinstance(t, numbers.Integral) or t < 1 for t in tile_grid_size)):
            raise ValueError(f"{_LAYER}: `tile_grid_size` must be a pair of positive ints. Received: tile_grid_size={tile_grid_size!r}")
        self.tile_grid_size = tile_grid_size

    def native_call(self, inputs, training=False):
        out = super().native_call(inputs, training)
        # Keras casts back to the input dtype (a plain cast: truncation for ints)
        return out if inputs.is_floating_point() else out.to(inputs.dtype)

    def transform(self, images, training):
        x = transform_value_range(images.float(), self.value_range, (0, 255))
        return transform_value_range(self.equalize(x), (0, 255), self.value_range).to(images.dtype)

    def equalize(self, images):
        """CLAHE of an NCHW float32 batch on the [0, 255] scale."""
        b, c, h, w = images.shape
        gh, gw = (int(t) for t in self.tile_grid_size)
        th, tw = -(-h // gh), -(-w // gw)
        hp, wp = th * gh, tw * gw
        dev = images.device
        if hp != h or wp != w:
            images = images[:, :, _edge_index(hp, h, dev)][:, :, :, _edge_index(wp, w, dev)]
        pixels = images.to(torch.int32).clamp(0, 255).long()  # (B, C, Hp, Wp)
        # one 256-bin histogram per (image, channel, tile row, tile col)
        tiles = pixels.reshape(b, c, gh, th, gw, tw).permute(0, 1, 2, 4, 3, 5).reshape(b, c, gh, gw, th * tw)
        hist = torch.zeros(b, c, gh, gw, 256, device=dev).scatter_add_(-1, tiles, torch.ones(tiles.shape, device=dev))
        n = th * tw
        if self.clip_limit > 0:
            # Keras's torch backend counts in int64, so its limit is truncated to an int
            clipped = hist.clamp(0, float(int(self.clip_limit * n / 256.0)))
            hist = clipped + (hist - clipped).sum(-1, keepdim=True) / 256.0
        cdf = hist.cumsum(-1)
        cdf_min = cdf.amin(-1, keepdim=True)
        denom = n - cdf_min
        denom = torch.where(denom == 0, torch.ones_like(denom), denom)
        lut = ((cdf - cdf_min) * 255.0 / denom).clamp(0, 255)
        # replicate the edge tiles so border pixels interpolate between equal maps
        lut = torch.cat([lut[:, :, :1], lut, lut[:, :, -1:]], dim=2)
        lut = torch.cat([lut[:, :, :, :1], lut, lut[:, :, :, -1:]], dim=3)  # (B, C, gh+2, gw+2, 256)
        y0, y1, wy = _interp_nodes(hp, th, gh, dev)
        x0, x1, wx = _interp_nodes(wp, tw, gw, dev)
        flat = lut.reshape(-1)
        base = (torch.arange(b * c, device=dev).reshape(b, c, 1, 1) * ((gh + 2) * (gw + 2) * 256)) + pixels

        def read(yi, xi):
            return flat[base + yi.reshape(-1, 1) * ((gw + 2) * 256) + xi.reshape(1, -1) * 256]

        wx, wy = wx.reshape(1, -1), wy.reshape(-1, 1)
        top = read(y0, x0) * (1.0 - wx) + read(y0, x1) * wx
        bottom = read(y1, x0) * (1.0 - wx) + read(y1, x1) * wx
        return (top * (1.0 - wy) + bottom * wy)[:, :, :h, :w]

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range, "clip_limit": self.clip_limit,
                "tile_grid_size": self.tile_grid_size}
