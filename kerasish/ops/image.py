"""``keras.ops.image``: image ops on torch tensors (``resize``,
``affine_transform``, ``perspective_transform``, ``elastic_transform``,
``map_coordinates``, ``scale_and_translate``, ``extract_patches``,
``extract_patches_3d``, ``crop_images``, ``pad_images``, colour-space
conversions, ``gaussian_blur``, ``sobel_edges``, ``ssim``).

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

import math

import torch
import torch.nn.functional as F

from kerasish import backend as _backend
from kerasish.layers.preprocessing.base_augmentation import affine_transform as _affine_nchw
from kerasish.layers.preprocessing.base_augmentation import crop_to_aspect_box
from kerasish.layers.preprocessing.sampling import INT_DTYPES as _INT_DTYPES, map_values, sample_images, warp_perspective
from kerasish.ops.core import to_torch_dtype, torch_generator
from kerasish.ops.nn import conv
from kerasish.ops.numpy import _tt

__all__ = [
    "affine_transform", "crop_images", "elastic_transform", "extract_patches", "extract_patches_3d", "gaussian_blur",
    "hsv_to_rgb", "map_coordinates", "pad_images", "perspective_transform", "resize", "rgb_to_grayscale", "rgb_to_hsv",
    "scale_and_translate", "sobel_edges", "ssim",
]

_RESIZE_MODES = {"bilinear": "bilinear", "nearest": "nearest-exact", "bicubic": "bicubic"}
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


# -- resampling at arbitrary coordinates (map_coordinates and its users) ------
_MAP_FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")
_INTERPOLATION_ORDER = {"nearest": 0, "bilinear": 1}


def _check_interpolation(interpolation, fn):
    if interpolation not in _INTERPOLATION_ORDER:
        raise ValueError(f"{fn}: `interpolation` must be one of {list(_INTERPOLATION_ORDER)}, got {interpolation!r}")
    return _INTERPOLATION_ORDER[interpolation]


def _check_fill_mode(fill_mode, fn):
    if fill_mode not in _MAP_FILL_MODES:
        raise ValueError(f"{fn}: `fill_mode` must be one of {list(_MAP_FILL_MODES)}, got {fill_mode!r}")


def map_coordinates(inputs, coordinates, order, fill_mode="constant", fill_value=0):
    """Read ``inputs`` at fractional ``coordinates`` by interpolation.

    Args:
        inputs: array of any rank ``k``.
        coordinates: ``(k, ...)`` array or a sequence of ``k`` arrays, one per
            axis of ``inputs``; they broadcast to the output shape.
        order: 0 (nearest, half-to-even rounding) or 1 (linear).
        fill_mode: reads outside ``inputs``: ``"constant"`` (``fill_value``),
            ``"nearest"``, ``"wrap"``, ``"mirror"`` (``c d c b | a b c d``) or
            ``"reflect"`` (``d c b a | a b c d``).
        fill_value: the value read outside in ``"constant"`` mode.

    Returns:
        The coordinates' shape, ``inputs``'s dtype (integers rounded).

    Example:
        >>> import numpy as np
        >>> from kerasish import ops
        >>> x = np.arange(12, dtype="float32").reshape(3, 4)
        >>> ops.image.map_coordinates(x, [[0.5, 2.0], [1.0, 3.5]], order=1).tolist()
        [3.0, 5.5]
    """
    fn = "map_coordinates"
    x = _tt(inputs)
    if x.ndim == 0:
        raise ValueError(f"{fn}: `inputs` must have rank >= 1, got a scalar")
    if isinstance(coordinates, (list, tuple)):
        coords = [_tt(c) for c in coordinates]
    else:
        c = _tt(coordinates)
        coords = list(c.unbind(0)) if c.ndim else []
    if len(coords) != x.ndim:
        raise ValueError(f"{fn}: `coordinates` must have one entry per axis of `inputs` ({x.ndim} for shape "
                         f"{tuple(x.shape)}), got {len(coords)}")
    if coords and coords[0].ndim < 1:
        raise ValueError(f"{fn}: `coordinates` must have rank >= 2 (axis, points...), got shape {(len(coords),)}")
    if isinstance(order, bool) or order not in (0, 1):
        if isinstance(order, int) and 2 <= order <= 5:
            raise NotImplementedError(f"{fn}: only `order` 0 and 1 are supported (as Keras), got {order}")
        raise ValueError(f"{fn}: `order` must be 0 or 1, got {order!r}")
    _check_fill_mode(fill_mode, fn)
    try:
        torch.broadcast_shapes(*(c.shape for c in coords))
    except RuntimeError:
        raise ValueError(f"{fn}: the `coordinates` arrays must broadcast together, got shapes "
                         f"{[tuple(c.shape) for c in coords]}") from None
    return map_values(x, coords, order, fill_mode, fill_value)


def elastic_transform(images, alpha=20.0, sigma=5.0, interpolation="bilinear", fill_mode="reflect", fill_value=0.0,
                      seed=None, data_format=None):
    """Elastic deformation: each pixel reads the input displaced by
    ``alpha * sigma * blur(N(0, 1))``, a standard-normal field per image and
    axis smoothed by a Gaussian of ``sigma`` (kernel ``int(6 sigma) | 1``,
    zero padding), as Keras.

    Args:
        images: ``(batch, H, W, C)`` or ``(H, W, C)`` (channels_last), or
            channels_first.
        alpha: displacement strength (0 gives the input back).
        sigma: smoothness of the displacement field (> 0).
        interpolation: ``"bilinear"`` or ``"nearest"``.
        fill_mode: ``"reflect"``, ``"constant"``, ``"nearest"``, ``"wrap"`` or ``"mirror"``.
        fill_value: read outside the image with ``fill_mode="constant"``.
        seed: None (torch's global generator), an int (the same field on
            every call) or a ``kerasish.random.SeedGenerator``.
        data_format: ``"channels_last"`` or ``"channels_first"``.

    Returns:
        ``images``'s shape and dtype.

    Example:
        >>> import numpy as np
        >>> from kerasish import ops
        >>> ops.image.elastic_transform(np.ones((2, 16, 16, 3), "float32"), seed=1).shape
        torch.Size([2, 16, 16, 3])
    """
    fn = "elastic_transform"
    data_format = _data_format(data_format, fn)
    order = _check_interpolation(interpolation, fn)
    _check_fill_mode(fill_mode, fn)
    alpha, sigma = float(alpha), float(sigma)
    if sigma <= 0:
        raise ValueError(f"{fn}: `sigma` must be > 0, got {sigma}")
    x, back = _to_nchw(images, data_format, fn)
    work = x if x.is_floating_point() else x.float()
    n, _, h, w = x.shape
    noise = torch.randn((2 * n, 1, h, w), generator=torch_generator(seed, fn, x.device), dtype=work.dtype, device=x.device)
    k = int(6 * sigma) | 1
    t = torch.arange(k, dtype=work.dtype, device=x.device) - (k - 1) / 2
    g = torch.exp(-0.5 * (t / sigma) ** 2)
    g = g / g.sum()
    # Keras's order of operations (scale, blur, then alpha), so that float32 rounding agrees
    disp = _depthwise(noise * sigma, torch.outer(g, g)).view(2, n, h, w)
    ys = torch.arange(h, dtype=work.dtype, device=x.device).view(1, h, 1)
    xs = torch.arange(w, dtype=work.dtype, device=x.device).view(1, 1, w)
    out = sample_images(work, ys + alpha * disp[1], xs + alpha * disp[0], order, fill_mode, fill_value)
    if x.dtype in _INT_DTYPES:
        out = torch.round(out)
    return back(out.to(x.dtype))


def perspective_transform(images, start_points, end_points, interpolation="bilinear", fill_value=0, data_format=None):
    """Warp images so that ``start_points`` land on ``end_points``: output
    pixel ``(x, y)`` reads the input through the homography taking the four
    end points to the four start points; reads outside give ``fill_value``.

    Args:
        images: ``(batch, H, W, C)`` or ``(H, W, C)`` (channels_last), or channels_first.
        start_points, end_points: ``(4, 2)`` or ``(batch, 4, 2)`` ``(x, y)`` points
            (one set is shared by the batch).
        interpolation: ``"bilinear"`` or ``"nearest"``.
        fill_value: value read outside the input.
        data_format: ``"channels_last"`` or ``"channels_first"``.

    Returns:
        ``images``'s shape and dtype.

    Example:
        >>> import numpy as np
        >>> from kerasish import ops
        >>> pts = np.array([[0, 0], [0, 8], [8, 0], [8, 8]], "float32")
        >>> x = np.random.rand(8, 8, 1).astype("float32")
        >>> bool(np.allclose(ops.image.perspective_transform(x, pts, pts), x, atol=1e-5))
        True
    """
    fn = "perspective_transform"
    data_format = _data_format(data_format, fn)
    order = _check_interpolation(interpolation, fn)
    x, back = _to_nchw(images, data_format, fn)
    work = x if x.is_floating_point() else x.float()
    sp = _tt(start_points).to(device=x.device, dtype=work.dtype)
    ep = _tt(end_points).to(device=x.device, dtype=work.dtype)
    for name, p in (("start_points", sp), ("end_points", ep)):
        if p.ndim not in (2, 3) or tuple(p.shape[-2:]) != (4, 2):
            raise ValueError(f"{fn}: `{name}` must have shape (4, 2) or (batch, 4, 2), got {tuple(p.shape)}")
    if sp.shape != ep.shape:
        raise ValueError(f"{fn}: `start_points` and `end_points` must have the same shape, got "
                         f"{tuple(sp.shape)} and {tuple(ep.shape)}")
    n, _, h, w = x.shape
    if sp.ndim == 3 and sp.shape[0] not in (1, n):
        raise ValueError(f"{fn}: {sp.shape[0]} sets of points for {n} images (give one set or one per image)")
    out = warp_perspective(work, sp.reshape(-1, 4, 2), ep.reshape(-1, 4, 2), order, fill_value, fn)
    if x.dtype in _INT_DTYPES:
        out = torch.round(out)
    return back(out.to(x.dtype))


def extract_patches_3d(volumes, size, strides=None, dilation_rate=1, padding="valid", data_format=None):
    """3-D patches of ``size = (pd, ph, pw)`` (or an int) every ``strides``
    (default: ``size``), flattened into the channel axis:
    ``(batch, d', h', w', pd * ph * pw * C)`` in channels_last, each patch's
    values in ``(pd, ph, pw, C)`` order.

    Args:
        volumes: ``(batch, D, H, W, C)`` or ``(D, H, W, C)`` (channels_last), or channels_first.
        size: int or ``(pd, ph, pw)``.
        strides: int or 3-tuple; None means ``size``.
        dilation_rate: int or 3-tuple.
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` or ``"channels_first"``.

    Example:
        >>> import numpy as np
        >>> from kerasish import ops
        >>> ops.image.extract_patches_3d(np.zeros((2, 6, 6, 6, 3), "float32"), 3).shape
        torch.Size([2, 2, 2, 2, 81])
    """
    fn = "extract_patches_3d"
    data_format = _data_format(data_format, fn)
    if isinstance(size, int):
        size = (size, size, size)
    if len(size) != 3:
        raise ValueError(f"{fn}: `size` must be an int or (depth, height, width), got {size!r}")
    if strides is None:
        strides = tuple(size)
    elif isinstance(strides, int):
        strides = (strides,) * 3
    if len(strides) != 3:
        raise ValueError(f"{fn}: `strides` must be an int or a 3-tuple, got {strides!r}")
    x = _tt(volumes)
    if x.ndim not in (4, 5):
        raise ValueError(f"{fn}: expected volumes of rank 4 (one volume) or 5 (a batch), got shape {tuple(x.shape)}")
    single = x.ndim == 4
    if single:
        x = x.unsqueeze(0)
    c = x.shape[-1] if data_format == "channels_last" else x.shape[1]
    pd, ph, pw = (int(s) for s in size)
    n_out = pd * ph * pw * c
    dt = x.dtype if x.is_floating_point() else torch.float32
    kernel = torch.eye(n_out, dtype=dt, device=x.device).reshape(pd, ph, pw, c, n_out)
    out = conv(x.to(dt), kernel, strides=tuple(strides), padding=padding, data_format=data_format,
               dilation_rate=dilation_rate)
    if not x.is_floating_point():
        out = torch.round(out).to(x.dtype)
    return out[0] if single else out


# -- scale_and_translate (jax.image.scale_and_translate) ----------------------
def _triangle_kernel(x):
    return torch.clamp(1 - torch.abs(x), min=0)


def _keys_cubic_kernel(x):
    # Keys (1981) with a = -0.5; x >= 0 here
    out = ((1.5 * x - 2.5) * x) * x + 1.0
    out = torch.where(x >= 1.0, ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0, out)
    return torch.where(x >= 2.0, torch.zeros_like(x), out)


def _lanczos_kernel(radius, x):
    y = radius * torch.sin(math.pi * x) * torch.sin(math.pi * x / radius)
    # sinc's limit 1 near 0, where the quotient loses precision
    out = torch.where(x > 1e-3, y / torch.where(x != 0, math.pi ** 2 * x * x, torch.ones_like(x)), torch.ones_like(x))
    return torch.where(x > radius, torch.zeros_like(x), out)


_SCALE_KERNELS = {
    "linear": _triangle_kernel, "bilinear": _triangle_kernel, "trilinear": _triangle_kernel, "triangle": _triangle_kernel,
    "cubic": _keys_cubic_kernel, "bicubic": _keys_cubic_kernel, "tricubic": _keys_cubic_kernel,
    "lanczos3": lambda x: _lanczos_kernel(3.0, x), "lanczos5": lambda x: _lanczos_kernel(5.0, x),
}


_F32_EPS = float(torch.finfo(torch.float32).eps)


def _scale_weights(in_size, out_size, scale, translation, kernel, antialias):
    """(in_size, out_size) resampling weights along one axis (half-pixel centres)."""
    inv = 1.0 / scale
    kernel_scale = torch.clamp(inv, min=1.0) if antialias else 1.0
    sample = (torch.arange(out_size, dtype=scale.dtype, device=scale.device) + 0.5) * inv - translation * inv - 0.5
    dist = torch.abs(sample[None, :] - torch.arange(in_size, dtype=scale.dtype, device=scale.device)[:, None]) / kernel_scale
    w = kernel(dist)
    total = w.sum(dim=0, keepdim=True)
    w = torch.where(torch.abs(total) > 1000.0 * _F32_EPS, w / torch.where(total != 0, total, torch.ones_like(total)),
                    torch.zeros_like(w))
    # an output sample whose centre falls outside the input reads 0
    inside = (sample >= -0.5) & (sample <= in_size - 0.5)
    return torch.where(inside[None, :], w, torch.zeros_like(w))


def scale_and_translate(images, output_shape, scale, translation, spatial_dims, method, antialias=True):
    """Resample ``images`` to ``output_shape``: along each ``spatial_dims[i]``
    an output location ``y`` reads the input at ``(y - translation[i]) / scale[i]``
    (half-pixel centres), filtered by ``method``'s kernel; with ``antialias``
    the kernel widens by ``1 / scale`` when downsampling. Samples outside
    the input read 0. As ``jax.image.scale_and_translate``.

    Args:
        images: array of any rank.
        output_shape: the output's full shape (only ``spatial_dims`` entries are used).
        scale, translation: ``(K,)`` arrays, one entry per spatial dim.
        spatial_dims: ``K`` axes to resample.
        method: ``"linear"``/``"bilinear"``/``"trilinear"``/``"triangle"``,
            ``"cubic"``/``"bicubic"``/``"tricubic"`` (Keys), ``"lanczos3"`` or ``"lanczos5"``.
        antialias: widen the kernel when downsampling.

    Returns:
        ``images``'s dtype (integers rounded and clipped to the input's range).

    Example:
        >>> import numpy as np
        >>> from kerasish import ops
        >>> x = np.arange(9, dtype="float32").reshape(3, 3)
        >>> s = np.array([2.0, 2.0], "float32")
        >>> ops.image.scale_and_translate(x, (5, 5), s, -(s / 2 - 0.5), (0, 1), "linear")[0].tolist()
        [0.0, 0.5, 1.0, 1.5, 2.0]
    """
    fn = "scale_and_translate"
    if method not in _SCALE_KERNELS:
        raise ValueError(f"{fn}: `method` must be one of {list(_SCALE_KERNELS)}, got {method!r}")
    kernel = _SCALE_KERNELS[method]
    x = _tt(images)
    scale, translation = _tt(scale), _tt(translation)
    dt = torch.promote_types(scale.dtype, translation.dtype)
    if not dt.is_floating_point:
        dt = to_torch_dtype(_backend.floatx(), fn)
    scale = scale.to(device=x.device, dtype=dt).reshape(-1)
    translation = translation.to(device=x.device, dtype=dt).reshape(-1)
    spatial_dims = (spatial_dims,) if isinstance(spatial_dims, int) else tuple(spatial_dims)
    if len(output_shape) != x.ndim:
        raise ValueError(f"{fn}: `output_shape` must have one entry per axis of `images` (shape "
                         f"{tuple(x.shape)}), got {tuple(output_shape)}")
    if scale.numel() != len(spatial_dims) or translation.numel() != len(spatial_dims):
        raise ValueError(f"{fn}: `scale` and `translation` need one entry per spatial dim ({len(spatial_dims)} "
                         f"for {spatial_dims}), got {scale.numel()} and {translation.numel()}")
    for d in spatial_dims:
        if not -x.ndim <= d < x.ndim:
            raise ValueError(f"{fn}: `spatial_dims` entry {d} is out of range for images of rank {x.ndim}")
    out = x if x.is_floating_point() else x.float()
    for i, d in enumerate(spatial_dims):
        d = d % x.ndim
        w = _scale_weights(x.shape[d], int(output_shape[d]), scale[i], translation[i], kernel, antialias)
        out = torch.tensordot(out, w.to(out.dtype), dims=([d], [0])).movedim(-1, d)
    if not x.is_floating_point():
        out = torch.clamp(torch.round(out), x.min(), x.max()).to(x.dtype)
    return out


def ssim(image1, image2, max_val=1.0, filter_size=11, filter_sigma=1.5, k1=0.01, k2=0.03, data_format=None):
    """Structural similarity (Wang et al., 2004) with a ``filter_size``
    Gaussian window of ``filter_sigma`` over valid positions only, averaged
    over positions and channels.

    Args:
        image1, image2: same-shape ``(batch, H, W, C)`` or ``(H, W, C)``
            (channels_last), or channels_first.
        max_val: the images' dynamic range (1.0, or 255.0 for 8-bit values).
        filter_size: window size (odd, <= H and W).
        filter_sigma: window's standard deviation.
        k1, k2: stabilising constants.
        data_format: ``"channels_last"`` or ``"channels_first"``.

    Returns:
        ``(batch,)`` (a scalar for one image) in ``image1``'s dtype (as Keras,
        integer images give an integer result).

    Example:
        >>> import numpy as np
        >>> from kerasish import ops
        >>> x = np.random.rand(16, 16, 3).astype("float32")
        >>> round(float(ops.image.ssim(x, x)), 4)
        1.0
    """
    fn = "ssim"
    data_format = _data_format(data_format, fn)
    a, b = _tt(image1), _tt(image2)
    for name, t in (("image1", a), ("image2", b)):
        if t.ndim not in (3, 4):
            raise ValueError(f"{fn}: `{name}` must have rank 3 (one image) or 4 (a batch), got shape {tuple(t.shape)}")
    if a.shape != b.shape:
        raise ValueError(f"{fn}: `image1` and `image2` must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    out_dtype, single = a.dtype, a.ndim == 3
    dt = a.dtype if a.is_floating_point() else to_torch_dtype(_backend.floatx(), fn)
    a, _ = _to_nchw(a.to(dt), data_format, fn)
    b, _ = _to_nchw(b.to(dtype=dt, device=a.device), data_format, fn)
    n, c, h, w = a.shape
    filter_size = int(filter_size)
    if not 1 <= filter_size <= min(h, w):
        raise ValueError(f"{fn}: `filter_size` must be in [1, min(height, width)] = [1, {min(h, w)}], got {filter_size}")
    if filter_sigma <= 0:
        raise ValueError(f"{fn}: `filter_sigma` must be > 0, got {filter_sigma}")
    t = torch.arange(filter_size, dtype=dt, device=a.device) - (filter_size - 1) / 2.0
    g = torch.exp(-(t * t) / (2.0 * filter_sigma ** 2))
    g = g / g.sum()
    k = torch.outer(g, g).view(1, 1, filter_size, filter_size)
    a, b = a.reshape(n * c, 1, h, w), b.reshape(n * c, 1, h, w)
    # one valid-padded window pass over the five maps at once
    stats = F.conv2d(torch.cat([a, b, a * a, b * b, a * b]), k).view(5, n * c, -1)
    mu1, mu2, e11, e22, e12 = stats.unbind(0)
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    mu11, mu22, mu12 = mu1 * mu1, mu2 * mu2, mu1 * mu2
    num = (2.0 * mu12 + c1) * (2.0 * (e12 - mu12) + c2)
    den = (mu11 + mu22 + c1) * ((e11 - mu11) + (e22 - mu22) + c2)
    out = (num / den).mean(dim=-1).view(n, c).mean(dim=-1)
    return (out[0] if single else out).to(out_dtype)
