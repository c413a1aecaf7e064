"""``keras.ops.image``: image ops on torch tensors (``resize``,
``affine_transform``, ``extract_patches``, ``crop_images``, ``pad_images``,
colour-space conversions, ``gaussian_blur``, ``sobel_edges``).

Images are ``(batch, height, width, channels)`` or one ``(height, width,
channels)`` image (channels_last, the default), or channels_first with
``data_format="channels_first"``.

Example:
    >>> import numpy as np
    >>> from kerasish import ops
    >>> ops.image.resize(np.zeros((2, 8, 8, 3), "float32"), (4, 6)).shape
    torch.Size([2, 4, 6, 3])
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from kerasish import backend as _backend
from kerasish.layers.preprocessing.base_augmentation import affine_transform as _affine_nchw
from kerasish.layers.preprocessing.base_augmentation import crop_to_aspect_box
from kerasish.ops.nn import conv
from kerasish.ops.numpy import _tt

__all__ = [
    "affine_transform", "crop_images", "extract_patches", "gaussian_blur", "hsv_to_rgb", "pad_images", "resize",
    "rgb_to_grayscale", "rgb_to_hsv", "sobel_edges",
]

_RESIZE_MODES = {"bilinear": "bilinear", "nearest": "nearest-exact", "bicubic": "bicubic"}
_INT_DTYPES = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)


def _data_format(data_format, fn):
    data_format = data_format or _backend.image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"{fn}: `data_format` must be 'channels_last' or 'channels_first', got {data_format!r}")
    return data_format


def _to_nchw(images, data_format, fn):
    """A 4-D NCHW view of ``images`` and how to undo it."""
    x = _tt(images)
    if x.ndim not in (3, 4):
        raise ValueError(f"{fn}: expected images of rank 3 (one image) or 4 (a batch), got shape {tuple(x.shape)}")
    single = x.ndim == 3
    if single:
        x = x.unsqueeze(0)
    if data_format == "channels_last":
        x = x.permute(0, 3, 1, 2)

    def back(y):
        if data_format == "channels_last":
            y = y.permute(0, 2, 3, 1)
        return y[0] if single else y

    return x, back


def _channel_axis(data_format):
    return -1 if data_format == "channels_last" else -3


def resize(images, size, interpolation="bilinear", antialias=False, crop_to_aspect_ratio=False, pad_to_aspect_ratio=False,
           fill_mode="constant", fill_value=0.0, data_format=None):
    """Resize images to ``size = (height, width)`` (half-pixel centres, as
    Keras's torch backend; ``antialias`` applies to bilinear/bicubic
    downsampling). ``crop_to_aspect_ratio`` first takes the largest centred
    window with the target aspect ratio; ``pad_to_aspect_ratio`` pads with
    ``fill_value`` to it instead. Integer images are rounded back to their dtype."""
    fn = "resize"
    data_format = _data_format(data_format, fn)
    if interpolation in ("lanczos3", "lanczos5", "area"):
        raise ValueError(f"{fn}: interpolation={interpolation!r} is not supported on torch (as Keras's torch backend); use one of {sorted(_RESIZE_MODES)}")
    if interpolation not in _RESIZE_MODES:
        raise ValueError(f"{fn}: `interpolation` must be one of {sorted(_RESIZE_MODES)}, got {interpolation!r}")
    if fill_mode != "constant":
        raise ValueError(f"{fn}: only fill_mode='constant' is supported, got {fill_mode!r}")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError(f"{fn}: only one of `pad_to_aspect_ratio` and `crop_to_aspect_ratio` can be True")
    if len(size) != 2:
        raise ValueError(f"{fn}: `size` must be (height, width), got {size!r}")
    th, tw = int(size[0]), int(size[1])
    x, back = _to_nchw(images, data_format, fn)
    out_dtype = x.dtype
    if x.dtype not in (torch.float32, torch.float64):
        x = x.float()
    h, w = x.shape[-2:]
    if crop_to_aspect_ratio:
        top, left, ch, cw = crop_to_aspect_box(h, w, th, tw)
        x = x[:, :, top:top + ch, left:left + cw]
    elif pad_to_aspect_ratio:
        ph = max(h, int(float(w * th) / tw))
        pw = max(w, int(float(h * tw) / th))
        top, left = int(float(ph - h) / 2), int(float(pw - w) / 2)
        x = F.pad(x, (left, left, top, top), value=float(fill_value))
    out = F.interpolate(x, size=(th, tw), mode=_RESIZE_MODES[interpolation],
                        align_corners=False if interpolation != "nearest" else None,
                        antialias=bool(antialias) and interpolation != "nearest")
    if out_dtype != out.dtype:
        if out_dtype == torch.uint8:
            out = out.clamp(0, 255)
        if out_dtype in _INT_DTYPES:
            out = torch.round(out)
        out = out.to(out_dtype)
    return back(out)


_AFFINE_FILL = ("constant", "nearest", "wrap", "reflect")


def affine_transform(images, transform, interpolation="bilinear", fill_mode="constant", fill_value=0, data_format=None):
    """Apply affine maps: ``transform`` is ``(8,)`` or ``(batch, 8)``
    ``[a0, a1, a2, b0, b1, b2, c0, c1]``; output pixel ``(x, y)`` reads the
    input at ``(a0 x + a1 y + a2, b0 x + b1 y + b2)`` (``c0 = c1 = 0``:
    projective maps are not supported). Reads outside the image follow
    ``fill_mode`` (``"constant"`` reads ``fill_value``)."""
    fn = "affine_transform"
    data_format = _data_format(data_format, fn)
    if interpolation not in ("bilinear", "nearest"):
        raise ValueError(f"{fn}: `interpolation` must be 'bilinear' or 'nearest', got {interpolation!r}")
    if fill_mode not in _AFFINE_FILL:
        raise ValueError(f"{fn}: `fill_mode` must be one of {list(_AFFINE_FILL)}, got {fill_mode!r}")
    x, back = _to_nchw(images, data_format, fn)
    t = _tt(transform).to(torch.float32)
    if t.ndim == 1:
        t = t.unsqueeze(0)
    if t.ndim != 2 or t.shape[1] != 8 or t.shape[0] not in (1, x.shape[0]):
        raise ValueError(f"{fn}: `transform` must have shape (8,) or (batch, 8) for {x.shape[0]} images, got {tuple(_tt(transform).shape)}")
    if bool((t[:, 6:] != 0).any()):
        raise ValueError(f"{fn}: projective transforms (c0, c1 != 0) are not supported by kerasish, got {t[:, 6:].tolist()}")
    t = t.expand(x.shape[0], 8)
    out_dtype = x.dtype
    out = _affine_nchw(x.float(), t[:, :6], interpolation=interpolation, fill_mode=fill_mode, fill_value=fill_value)
    if out_dtype in _INT_DTYPES:
        out = torch.round(out)
    return back(out.to(out_dtype))


def extract_patches(images, size, strides=None, dilation_rate=1, padding="valid", data_format=None):
    """Patches of ``size = (ph, pw)`` (or an int) every ``strides`` (default:
    ``size``), flattened into the channel axis: ``(batch, rows, cols, ph * pw * C)``
    in channels_last, each patch's values in ``(ph, pw, C)`` order."""
    fn = "extract_patches"
    data_format = _data_format(data_format, fn)
    if not isinstance(size, int) and len(size) != 2:
        raise ValueError(f"{fn}: `size` must be an int or (height, width) (3-D patches are not supported by kerasish), got {size!r}")
    ph, pw = (size, size) if isinstance(size, int) else tuple(size)
    x = _tt(images)
    if x.ndim not in (3, 4):
        raise ValueError(f"{fn}: expected images of rank 3 or 4, got shape {tuple(x.shape)}")
    single = x.ndim == 3
    if single:
        x = x.unsqueeze(0)
    c = x.shape[-1] if data_format == "channels_last" else x.shape[1]
    n_out = ph * pw * c
    kernel = torch.eye(n_out, dtype=x.dtype if x.is_floating_point() else torch.float32).reshape(ph, pw, c, n_out)
    out = conv(x if x.is_floating_point() else x.float(), kernel, strides=strides or (ph, pw), padding=padding,
               data_format=data_format, dilation_rate=dilation_rate)
    if not x.is_floating_point():
        out = torch.round(out).to(x.dtype)
    return out[0] if single else out


def _resolve(a, b, target, extent, names, fn, sign):
    """Fill in the one None among (a, b, target); sign=+1 pads, -1 crops."""
    vals = [a, b, target]
    if vals.count(None) != 1:
        raise ValueError(f"{fn}: give exactly two of {', '.join(names)}, got {dict(zip(names, vals))}")
    for n, v in zip(names, vals):
        if v is not None and v < 0:
            raise ValueError(f"{fn}: `{n}` must be >= 0, got {v}")
    if target is None:
        target = extent + sign * (a + b)
    elif a is None:
        a = sign * (target - extent) - b
    else:
        b = sign * (target - extent) - a
    if min(a, b, target) < 0:
        raise ValueError(f"{fn}: {names} = ({a}, {b}, {target}) do not fit an image extent of {extent}")
    return a, b, target


def crop_images(images, top_cropping=None, left_cropping=None, bottom_cropping=None, right_cropping=None,
                target_height=None, target_width=None, data_format=None):
    """Crop images: give two of ``top_cropping``/``bottom_cropping``/
    ``target_height`` and two of ``left_cropping``/``right_cropping``/``target_width``."""
    fn = "crop_images"
    data_format = _data_format(data_format, fn)
    x, back = _to_nchw(images, data_format, fn)
    h, w = x.shape[-2:]
    top, _, th = _resolve(top_cropping, bottom_cropping, target_height, h, ("top_cropping", "bottom_cropping", "target_height"), fn, -1)
    left, _, tw = _resolve(left_cropping, right_cropping, target_width, w, ("left_cropping", "right_cropping", "target_width"), fn, -1)
    return back(x[:, :, top:top + th, left:left + tw])


def pad_images(images, top_padding=None, left_padding=None, bottom_padding=None, right_padding=None,
               target_height=None, target_width=None, data_format=None):
    """Zero-pad images: give two of ``top_padding``/``bottom_padding``/
    ``target_height`` and two of ``left_padding``/``right_padding``/``target_width``."""
    fn = "pad_images"
    data_format = _data_format(data_format, fn)
    x, back = _to_nchw(images, data_format, fn)
    h, w = x.shape[-2:]
    top, bottom, _ = _resolve(top_padding, bottom_padding, target_height, h, ("top_padding", "bottom_padding", "target_height"), fn, 1)
    left, right, _ = _resolve(left_padding, right_padding, target_width, w, ("left_padding", "right_padding", "target_width"), fn, 1)
    return back(F.pad(x, (left, right, top, bottom)))


def _check_channels(x, data_format, fn, allowed=(3,)):
    if x.ndim not in (3, 4):
        raise ValueError(f"{fn}: expected images of rank 3 or 4, got shape {tuple(x.shape)}")
    if x.shape[_channel_axis(data_format)] not in allowed:
        raise ValueError(f"{fn}: expected {' or '.join(map(str, allowed))} channels, got shape {tuple(x.shape)}")


def rgb_to_grayscale(images, data_format=None):
    """RGB -> one luma channel (``0.2989 R + 0.587 G + 0.114 B``); one-channel images are copied."""
    fn = "rgb_to_grayscale"
    data_format = _data_format(data_format, fn)
    x = _tt(images)
    _check_channels(x, data_format, fn, (1, 3))
    ax = _channel_axis(data_format)
    if x.shape[ax] == 1:
        return x.clone()
    r, g, b = x.unbind(ax)
    return (0.2989 * r + 0.587 * g + 0.114 * b).to(x.dtype).unsqueeze(ax)


def _float_images(images, data_format, fn):
    x = _tt(images)
    _check_channels(x, data_format, fn)
    if not x.is_floating_point():
        raise ValueError(f"{fn}: expected float images, got {str(x.dtype).replace('torch.', '')}")
    return x


def rgb_to_hsv(images, data_format=None):
    """RGB in [0, 1] -> HSV in [0, 1] (float images)."""
    fn = "rgb_to_hsv"
    data_format = _data_format(data_format, fn)
    x = _float_images(images, data_format, fn)
    ax = _channel_axis(data_format)
    x = torch.where(torch.abs(x) < torch.finfo(x.dtype).eps, torch.zeros_like(x), x)
    r, g, b = x.unbind(ax)
    value = torch.maximum(torch.maximum(r, g), b)
    rng = value - torch.minimum(torch.minimum(r, g), b)
    one = torch.ones_like(value)
    sat = torch.where(value > 0, rng / torch.where(value > 0, value, one), torch.zeros_like(value))
    norm = 1.0 / (6.0 * torch.where(rng > 0, rng, one))
    hue = torch.where(value == g, norm * (b - r) + 2.0 / 6.0, norm * (r - g) + 4.0 / 6.0)
    hue = torch.where(value == r, norm * (g - b), hue)
    hue = torch.where(rng > 0, hue, torch.zeros_like(hue)) + (hue < 0).to(hue.dtype)
    return torch.stack([hue, sat, value], dim=ax)


def hsv_to_rgb(images, data_format=None):
    """HSV in [0, 1] -> RGB in [0, 1] (float images)."""
    fn = "hsv_to_rgb"
    data_format = _data_format(data_format, fn)
    x = _float_images(images, data_format, fn)
    ax = _channel_axis(data_format)
    h, s, v = x.unbind(ax)
    dh = torch.remainder(h, 1.0) * 6.0
    dr = torch.clamp(torch.abs(dh - 3.0) - 1.0, 0.0, 1.0)
    dg = torch.clamp(2.0 - torch.abs(dh - 2.0), 0.0, 1.0)
    db = torch.clamp(2.0 - torch.abs(dh - 4.0), 0.0, 1.0)
    base = 1.0 - s
    return torch.stack([v * (base + s * dr), v * (base + s * dg), v * (base + s * db)], dim=ax)


def _depthwise(x, kernel2d):
    """Per-channel 'same' (zero-padded) 2-D correlation of NCHW ``x``."""
    c = x.shape[1]
    kh, kw = kernel2d.shape
    k = kernel2d.to(x.dtype).expand(c, 1, kh, kw)
    x = F.pad(x, ((kw - 1) // 2, kw // 2, (kh - 1) // 2, kh // 2))
    return F.conv2d(x, k, groups=c)


def gaussian_blur(images, kernel_size=(3, 3), sigma=(1.0, 1.0), data_format=None):
    """Blur with a normalised Gaussian of ``kernel_size`` and ``sigma``
    (zero padding, as Keras). Integer images are blurred in float32.

    As every Keras backend computes it (its docstring says height first),
    the first entries of ``kernel_size`` and ``sigma`` act along the width
    and the second along the height."""
    fn = "gaussian_blur"
    data_format = _data_format(data_format, fn)
    kw, kh = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
    sx, sy = (sigma, sigma) if isinstance(sigma, (int, float)) else tuple(sigma)
    if kh < 1 or kw < 1 or sy <= 0 or sx <= 0:
        raise ValueError(f"{fn}: `kernel_size` must be positive and `sigma` > 0, got {kernel_size!r} and {sigma!r}")
    x, back = _to_nchw(images, data_format, fn)
    if not x.is_floating_point():
        x = x.float()

    def g1(n, s):
        t = torch.arange(n, dtype=x.dtype) - (n - 1) / 2
        k = torch.exp(-(t * t) / (2 * s * s))
        return k / k.sum()

    kernel = torch.outer(g1(kh, sy), g1(kw, sx))
    return back(_depthwise(x, kernel))


def sobel_edges(images, data_format=None):
    """Sobel gradients per channel: a trailing axis of 2 ``(dy, dx)`` is added
    (channels_last) after the channel axis; zero padding, as Keras."""
    fn = "sobel_edges"
    data_format = _data_format(data_format, fn)
    x, _ = _to_nchw(images, data_format, fn)
    single = _tt(images).ndim == 3
    if not x.is_floating_point():
        x = x.float()
    ky = torch.tensor([[-1.0, -2.0, -1.0], [0.0, 0.0, 0.0], [1.0, 2.0, 1.0]], dtype=x.dtype)
    gy, gx = _depthwise(x, ky), _depthwise(x, ky.T)
    out = torch.stack([gy, gx], dim=-1)  # (N, C, H, W, 2)
    if data_format == "channels_last":
        out = out.permute(0, 2, 3, 1, 4)
    return out[0] if single else out
