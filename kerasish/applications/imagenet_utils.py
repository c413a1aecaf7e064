"""ImageNet helpers shared by the applications, as ``keras.applications.imagenet_utils``.

``preprocess_input`` follows Keras's three modes exactly (same numbers, same
dtype rules). Unlike Keras it never modifies a float numpy array in place:
it returns a new array.

``decode_predictions`` needs the 1000 ImageNet class names. Keras downloads
``imagenet_class_index.json``; kerasish works offline: if that file is in
Keras's cache (``~/.keras/models/imagenet_class_index.json``) its WordNet ids
and names are used (exactly Keras's tuples); otherwise the names come from
torchvision's weight metadata (``ResNet50_Weights.IMAGENET1K_V2.meta["categories"]``),
which carries no WordNet ids, and the first item of each tuple is the class
index as a string (``"0"`` for ``"tench"``).
"""

from __future__ import annotations

import json
import os

import numpy as np
import torch

__all__ = ["preprocess_input", "decode_predictions"]

_MEAN_TORCH = (0.485, 0.456, 0.406)
_STD_TORCH = (0.229, 0.224, 0.225)
_MEAN_CAFFE = (103.939, 116.779, 123.68)

_CLASS_INDEX = None


def _check(data_format, mode):
    if mode not in {"caffe", "tf", "torch"}:
        raise ValueError(f"Expected mode to be one of `caffe`, `tf` or `torch`. Received: mode={mode}")
    if data_format is None:
        data_format = "channels_last"
    elif data_format not in {"channels_first", "channels_last"}:
        raise ValueError(
            f"Expected data_format to be one of `channels_first` or `channels_last`. Received: data_format={data_format}"
        )
    return data_format


def preprocess_input(x, data_format=None, mode="caffe"):
    """Preprocesses a batch of images (numpy array or torch tensor, 3-D or 4-D).

    Args:
        x: images with 3 color channels, RGB, values in [0, 255].
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        mode: ``"caffe"``: RGB -> BGR and the ImageNet means subtracted, no
            scaling; ``"tf"``: scaled to [-1, 1]; ``"torch"``: scaled to
            [0, 1], then normalized with ImageNet's mean and std.

    Returns:
        The preprocessed images, float32 (or the input's float dtype), the
        same type (numpy / torch) as ``x``.

    Example:
        >>> import numpy as np
        >>> from kerasish.applications.imagenet_utils import preprocess_input
        >>> preprocess_input(np.full((1, 2, 2, 3), 255.0, dtype="float32"), mode="tf")[0, 0, 0]
        array([1., 1., 1.], dtype=float32)
    """
    data_format = _check(data_format, mode)
    is_torch = isinstance(x, torch.Tensor)
    if is_torch:
        t = x if x.is_floating_point() else x.to(torch.float32)
        lib_flip = lambda a, axis: a.flip(axis)  # noqa: E731
    else:
        t = np.asarray(x)
        t = t.astype("float32") if not issubclass(t.dtype.type, np.floating) else t.copy()
        lib_flip = lambda a, axis: a[(slice(None),) * (axis % a.ndim) + (slice(None, None, -1),)]  # noqa: E731
    if mode == "tf":
        return t / 127.5 - 1.0
    channel_axis = -1 if data_format == "channels_last" else (0 if t.ndim == 3 else 1)
    shape = [1] * t.ndim
    shape[channel_axis] = 3
    if mode == "torch":
        t = t / 255.0
        mean, std = _MEAN_TORCH, _STD_TORCH
    else:
        t = lib_flip(t, channel_axis)
        mean, std = _MEAN_CAFFE, None

    def const(values):
        if is_torch:
            return torch.tensor(values, dtype=t.dtype, device=t.device).reshape(shape)
        return np.asarray(values, dtype=t.dtype).reshape(shape)

    t = t - const(mean)
    if std is not None:
        t = t / const(std)
    return t


def _class_index():
    """{str(index): [wnid or str(index), name]} for the 1000 ImageNet classes."""
    global _CLASS_INDEX
    if _CLASS_INDEX is None:
        keras_home = os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))
        cached = os.path.join(keras_home, "models", "imagenet_class_index.json")
        if os.path.exists(cached):
            with open(cached) as f:
                _CLASS_INDEX = {k: list(v) for k, v in json.load(f).items()}
        else:
            from torchvision.models import ResNet50_Weights

            names = ResNet50_Weights.IMAGENET1K_V2.meta["categories"]
            _CLASS_INDEX = {str(i): [str(i), n] for i, n in enumerate(names)}
    return _CLASS_INDEX


def decode_predictions(preds, top=5):
    """Decodes a batch of ImageNet predictions.

    Args:
        preds: array or tensor of shape ``(samples, 1000)``.
        top: how many top guesses to return (default 5).

    Returns:
        One list per sample of ``(class_name, class_description, score)``
        tuples, best first. ``class_name`` is the WordNet id when Keras's
        ``imagenet_class_index.json`` is cached locally, else the class index
        as a string (see the module docstring).

    Raises:
        ValueError: if ``preds`` is not 2-D with 1000 columns.
    """
    if isinstance(preds, torch.Tensor):
        preds = preds.detach().cpu().numpy()
    preds = np.asarray(preds)
    if len(preds.shape) != 2 or preds.shape[1] != 1000:
        raise ValueError(
            "`decode_predictions` expects a batch of predictions (i.e. a 2D array of shape (samples, 1000)). "
            f"Received array with shape: {preds.shape}"
        )
    index = _class_index()
    results = []
    for pred in preds:
        top_indices = pred.argsort()[-top:][::-1]
        result = [tuple(index[str(i)]) + (pred[i],) for i in top_indices]
        result.sort(key=lambda r: r[2], reverse=True)
        results.append(result)
    return results
