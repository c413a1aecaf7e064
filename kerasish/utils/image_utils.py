"""PIL image helpers as in ``keras.utils``: ``load_img``, ``img_to_array``,
``array_to_img``, ``save_img`` and ``smart_resize``."""

from __future__ import annotations

import io
import pathlib
import warnings

import numpy as np
import torch

from kerasish.config import image_data_format

try:
    from PIL import Image as pil_image

    _RESAMPLING = getattr(pil_image, "Resampling", pil_image)
    PIL_INTERPOLATION_METHODS = {
        "nearest": _RESAMPLING.NEAREST,
        "bilinear": _RESAMPLING.BILINEAR,
        "bicubic": _RESAMPLING.BICUBIC,
        "hamming": _RESAMPLING.HAMMING,
        "box": _RESAMPLING.BOX,
        "lanczos": _RESAMPLING.LANCZOS,
    }
except ImportError:  # pragma: no cover - PIL comes with torchvision
    pil_image = None
    PIL_INTERPOLATION_METHODS = {}


#: Most pixels an image file may declare before it is decoded (width x height,
#: times the frames of an animated GIF, which are all decoded). ``None``: PIL's
#: decompression-bomb rule, ``PIL.Image.MAX_IMAGE_PIXELS`` (89,478,485 by
#: default) read at each call. Images above it are refused from their header,
#: before a pixel is decoded. PIL itself refuses images above twice its own
#: ``Image.MAX_IMAGE_PIXELS`` when it opens them: to read larger images, raise
#: that as well.
MAX_IMAGE_PIXELS = None


def resolve_max_image_pixels(max_image_pixels=None):
    """The pixel limit in force: ``max_image_pixels`` if given, else
    :data:`MAX_IMAGE_PIXELS`, else PIL's ``Image.MAX_IMAGE_PIXELS``
    (``None`` there means no limit).

    Example:
        >>> resolve_max_image_pixels(1000)
        1000
    """
    if max_image_pixels is None:
        max_image_pixels = MAX_IMAGE_PIXELS
    if max_image_pixels is None and pil_image is not None:
        max_image_pixels = pil_image.MAX_IMAGE_PIXELS
    if max_image_pixels is None:
        return None
    if isinstance(max_image_pixels, bool) or not isinstance(max_image_pixels, (int, np.integer)) or max_image_pixels <= 0:
        raise ValueError(f"`max_image_pixels` must be a positive int or None, got max_image_pixels={max_image_pixels!r}")
    return int(max_image_pixels)


def check_image_pixels(img, max_image_pixels, source="image"):
    """Refuses a lazily opened PIL image (``Image.open`` reads only the
    header) whose declared size is above ``max_image_pixels``.

    Args:
        img: a PIL image, not yet loaded.
        max_image_pixels: the limit (``None``: no limit).
        source: the file, for the message.

    Raises:
        ValueError: the image declares more pixels than the limit.

    Example:
        >>> check_image_pixels(pil_image.new("L", (20, 10)), 100, "a.png")
        Traceback (most recent call last):
        ...
        ValueError: Image file a.png declares 20x10 pixels (200 in all), more than max_image_pixels=100 (a possible decompression bomb): refusing to decode it.
    """
    if max_image_pixels is None:
        return
    width, height = img.size
    # torchvision decodes every frame of an animated GIF (n_frames scans the
    # file's blocks without decoding them); other formats decode one frame.
    frames = int(getattr(img, "n_frames", 1)) if img.format == "GIF" else 1
    pixels = width * height * frames
    if pixels > max_image_pixels:
        in_frames = f" x {frames} frames" if frames > 1 else ""
        raise ValueError(
            f"Image file {source} declares {width}x{height}{in_frames} pixels ({pixels} in all), more than "
            f"max_image_pixels={max_image_pixels} (a possible decompression bomb): refusing to decode it."
        )


def open_image_header(data, max_image_pixels, source="image"):
    """``PIL.Image.open`` on bytes (or a binary file object), refusing
    images above the pixel limit (:func:`check_image_pixels`); nothing is
    decoded yet.

    Raises:
        ValueError: above the limit (PIL's own ``DecompressionBombError``
            included), naming ``source``.
        PIL.UnidentifiedImageError: not an image PIL recognizes (as
            ``keras.utils.load_img``).
    """
    _need_pil()
    try:
        img = pil_image.open(io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else data)
    except pil_image.DecompressionBombError as e:
        raise ValueError(f"Image file {source}: {e}") from None
    try:
        check_image_pixels(img, max_image_pixels, source)
    except BaseException:
        img.close()
        raise
    return img


def _data_format(data_format):
    if data_format is None:
        data_format = image_data_format()
    data_format = str(data_format).lower()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f'`data_format` must be "channels_last" or "channels_first", got {data_format!r}')
    return data_format


def _need_pil():
    if pil_image is None:
        raise ImportError("Could not import PIL.Image; install Pillow to use the image utilities.")


def array_to_img(x, data_format=None, scale=True, dtype=None):
    """Converts a rank-3 array (HWC or CHW) to a PIL Image.

    Args:
        x: array-like (NumPy array, torch tensor) of shape ``(H, W, C)``
            (``(C, H, W)`` with ``channels_first``), C in 1, 3, 4.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        scale: rescale values so that min -> 0 and max -> 255.
        dtype: dtype used for the computation (default float32).

    Returns:
        A PIL Image (mode ``L``, ``I``, ``RGB`` or ``RGBA``).

    Example:
        >>> img = array_to_img(np.random.random((100, 100, 3)))
    """
    _need_pil()
    data_format = _data_format(data_format)
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    x = np.array(x, dtype=dtype or "float32")
    if x.ndim != 3:
        raise ValueError(f"Expected image array to have rank 3 (single image). Got array with shape: {x.shape}")
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        x_max = np.max(x)
        if x_max != 0:
            x /= x_max
        x *= 255
    if x.shape[2] == 4:
        return pil_image.fromarray(x.astype("uint8"), "RGBA")
    if x.shape[2] == 3:
        return pil_image.fromarray(x.astype("uint8"), "RGB")
    if x.shape[2] == 1:
        if np.max(x) > 255:
            return pil_image.fromarray(x[:, :, 0].astype("int32"), "I")
        return pil_image.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"Unsupported channel number: {x.shape[2]} (image shape {x.shape}); expected 1, 3 or 4.")


def img_to_array(img, data_format=None, dtype=None):
    """Converts a PIL Image to a NumPy array.

    Args:
        img: PIL Image.
        data_format: ``"channels_last"`` (HWC, default) or ``"channels_first"``.
        dtype: output dtype (default float32).

    Returns:
        A rank-3 NumPy array, ``(H, W, C)`` or ``(C, H, W)``.

    Example (not run as a doctest: it needs an image file), ``x`` is ``(H, W, 3)`` float32:
        >>> x = img_to_array(load_img("cat.jpg"))   # doctest: +SKIP
    """
    data_format = _data_format(data_format)
    x = np.asarray(img, dtype=dtype or "float32")
    if x.ndim == 3:
        if data_format == "channels_first":
            x = x.transpose(2, 0, 1)
    elif x.ndim == 2:
        x = x.reshape((1,) + x.shape) if data_format == "channels_first" else x.reshape(x.shape + (1,))
    else:
        raise ValueError(f"Unsupported image shape: {x.shape}")
    return x


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs):
    """Saves an image stored as an array to a path or file object.

    Args:
        path: path or file object.
        x: rank-3 array (see ``array_to_img``).
        data_format: ``"channels_last"`` or ``"channels_first"``.
        file_format: format override (``"png"``, ``"jpeg"``...); by default
            taken from the file name's extension. Required for file objects.
        scale: rescale values to ``[0, 255]``.
        **kwargs: passed to ``PIL.Image.save``.

    Example:
        >>> save_img("out.png", np.random.random((8, 8, 3)))
    """
    data_format = _data_format(data_format)
    if file_format is None and isinstance(path, (str, pathlib.Path)):
        file_format = pathlib.Path(path).suffix[1:].lower()
    if file_format and file_format.lower() == "jpg":
        file_format = "jpeg"
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and file_format == "jpeg":
        warnings.warn("The JPEG format does not support RGBA images, converting to RGB.")
        img = img.convert("RGB")
    img.save(path, format=file_format or None, **kwargs)


def load_img(path, color_mode="rgb", target_size=None, interpolation="nearest", keep_aspect_ratio=False,
             max_image_pixels=None):
    """Loads an image into a PIL Image.

    Args:
        path: path (str, bytes, ``pathlib.Path``) or ``io.BytesIO``.
        color_mode: ``"grayscale"``, ``"rgb"`` or ``"rgba"``.
        target_size: ``None`` (original size) or ``(height, width)``.
        interpolation: PIL resampling: ``"nearest"`` (default), ``"bilinear"``,
            ``"bicubic"``, ``"hamming"``, ``"box"``, ``"lanczos"``.
        keep_aspect_ratio: crop the centre to the target aspect ratio before
            resizing, instead of distorting.
        max_image_pixels: kerasish extension: refuse (``ValueError``, before
            decoding) an image declaring more pixels than this; default
            :data:`MAX_IMAGE_PIXELS`, i.e. PIL's ``Image.MAX_IMAGE_PIXELS``.

    Returns:
        A PIL Image.

    Example (not run as a doctest: it needs an image file):
        >>> image = load_img("cat.jpg", target_size=(224, 224))  # doctest: +SKIP
        >>> batch = img_to_array(image)[None]  # doctest: +SKIP
    """
    _need_pil()
    limit = resolve_max_image_pixels(max_image_pixels)
    if isinstance(path, io.BytesIO):
        img = open_image_header(path, limit)
    elif isinstance(path, (pathlib.Path, bytes, str)):
        if isinstance(path, pathlib.Path):
            path = str(path.resolve())
        with open(path, "rb") as f:
            img = open_image_header(f.read(), limit, path)
    else:
        raise TypeError(f"path should be path-like or io.BytesIO, not {type(path)}")
    if color_mode == "grayscale":
        if img.mode not in ("L", "I;16", "I"):
            img = img.convert("L")
    elif color_mode == "rgba":
        if img.mode != "RGBA":
            img = img.convert("RGBA")
    elif color_mode == "rgb":
        if img.mode != "RGB":
            img = img.convert("RGB")
    else:
        raise ValueError(f'`color_mode` must be "grayscale", "rgb", or "rgba"; got color_mode={color_mode!r}')
    if target_size is not None:
        width_height = (int(target_size[1]), int(target_size[0]))
        if img.size != width_height:
            if interpolation not in PIL_INTERPOLATION_METHODS:
                raise ValueError(f"Invalid interpolation method {interpolation!r} specified (`interpolation`). Supported methods are {', '.join(PIL_INTERPOLATION_METHODS)}")
            resample = PIL_INTERPOLATION_METHODS[interpolation]
            if keep_aspect_ratio:
                width, height = img.size
                tw, th = width_height
                crop_h = min(height, (width * th) // tw)
                crop_w = min(width, (height * tw) // th)
                hs = (height - crop_h) // 2
                ws = (width - crop_w) // 2
                img = img.resize(width_height, resample, box=[ws, hs, ws + crop_w, hs + crop_h])
            else:
                img = img.resize(width_height, resample)
    return img


_TORCH_MODES = {"bilinear": "bilinear", "nearest": "nearest-exact", "bicubic": "bicubic", "area": "area"}


def resize_images(images, size, interpolation="bilinear", crop_to_aspect_ratio=False, pad_to_aspect_ratio=False, fill_value=0.0):
    """Resizes a float batch ``(N, C, H, W)`` as ``keras.ops.image.resize``
    does on the torch backend (half-pixel centres, no antialias; crop or pad
    to the target aspect ratio first when asked)."""
    h, w = images.shape[-2], images.shape[-1]
    th, tw = size
    if crop_to_aspect_ratio:
        ch = max(min(h, int(float(w * th) / tw)), 1)
        cw = max(min(w, int(float(h * tw) / th)), 1)
        hs, ws = int(float(h - ch) / 2), int(float(w - cw) / 2)
        images = images[..., hs:hs + ch, ws:ws + cw]
    elif pad_to_aspect_ratio:
        ph = max(h, int(float(w * th) / tw))
        pw = max(w, int(float(h * tw) / th))
        hs, ws = int(float(ph - h) / 2), int(float(pw - w) / 2)
        if hs > 0 or ws > 0:
            images = torch.nn.functional.pad(images, (ws, ws, hs, hs), value=fill_value)
    if tuple(images.shape[-2:]) == (th, tw):
        return images
    mode = _TORCH_MODES[interpolation]
    align = False if mode in ("bilinear", "bicubic") else None
    return torch.nn.functional.interpolate(images, size=(th, tw), mode=mode, align_corners=align, antialias=False)


def smart_resize(x, size, interpolation="bilinear", data_format="channels_last"):
    """Resizes an image (or batch) to ``size`` without aspect-ratio distortion:
    the largest centred crop with the target aspect ratio, then a resize.

    Args:
        x: ``(H, W, C)`` or ``(N, H, W, C)`` array or tensor (channels first
            with ``data_format="channels_first"``).
        size: ``(height, width)``.
        interpolation: ``"bilinear"``, ``"nearest"``, ``"bicubic"`` or ``"area"``.
        data_format: layout of ``x``.

    Returns:
        The resized image(s), NumPy for NumPy input, torch tensor otherwise.
    """
    if len(size) != 2:
        raise ValueError(f"Expected `size` to be a tuple of 2 integers, but got: {size}.")
    if interpolation not in _TORCH_MODES:
        raise ValueError(f"`interpolation` must be one of {tuple(_TORCH_MODES)}; got interpolation={interpolation!r}")
    is_np = not isinstance(x, torch.Tensor)
    t = torch.as_tensor(np.asarray(x) if is_np else x)
    if t.dim() not in (3, 4):
        raise ValueError(f"Expected an image array with shape (height, width, channels) or (batch_size, height, width, channels), got shape {tuple(t.shape)}.")
    squeeze = t.dim() == 3
    if squeeze:
        t = t[None]
    dtype = t.dtype
    t = t.float()
    if data_format == "channels_last":
        t = t.permute(0, 3, 1, 2)
    out = resize_images(t, size, interpolation, crop_to_aspect_ratio=True)
    if data_format == "channels_last":
        out = out.permute(0, 2, 3, 1)
    if squeeze:
        out = out[0]
    if dtype.is_floating_point:
        out = out.to(dtype)
    return out.numpy() if is_np else out
