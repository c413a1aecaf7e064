"""What the applications built layer by layer as Keras builds them share:
input handling, Keras's asymmetric stride-2 padding, the headless pooling
and Keras's own pretrained weight files.

Pretrained weights: Keras publishes each application's ImageNet weights as a
Keras 2 ``.h5`` file on storage.googleapis.com. A model built here has Keras's
layers in Keras's order with Keras's weight shapes, so that file loads as it
does in Keras (by position, :mod:`kerasish.saving.legacy_h5`) and gives the
*same* network. The file is cached under ``$KERAS_HOME/models`` (default
``~/.keras/models``), Keras's own cache: a file Keras downloaded is reused.
"""

from __future__ import annotations

import hashlib
import os

from kerasish import layers
from kerasish.applications import _torchvision_backbone as tvb
from kerasish.engine.keras_tensor import KerasTensor


def correct_pad(x, kernel_size):
    """((top, bottom), (left, right)) zero padding making a stride-2 "valid"
    convolution behave like TensorFlow's "same" one (Keras's ``correct_pad``):
    an even (or unknown) size gets one pixel less on top / left.

    Args:
        x: a channels_last symbolic image tensor ``(batch, H, W, C)``.
        kernel_size: int or (kh, kw).
    """
    size = tuple(x.shape[1:3])
    k = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
    adjust = (1, 1) if size[0] is None else (1 - size[0] % 2, 1 - size[1] % 2)
    half = (k[0] // 2, k[1] // 2)
    return ((half[0] - adjust[0], half[0]), (half[1] - adjust[1], half[1]))


def start(pretty, *, weights, include_top, classes, pooling, classifier_activation, input_shape, input_tensor,
          default_size, min_size=32):
    """Check Keras's common arguments and make the input.

    Returns:
        ``(model inputs, tensor to build on, the checked input_shape)``.
    """
    tvb.check_common_args(pretty, weights, include_top, classes, pooling, classifier_activation)
    if input_tensor is not None and isinstance(input_tensor, KerasTensor) and len(input_tensor.shape) != 4:
        raise ValueError(f"{pretty}: `input_tensor` must be a 4-D image tensor, got shape {input_tensor.shape}.")
    input_shape = tvb.obtain_input_shape(input_shape, default_size, min_size, include_top, weights)
    inputs, x = tvb.make_input(input_shape, input_tensor)
    return inputs, x, input_shape


def pool(x, pooling, avg_name="avg_pool", max_name="max_pool"):
    """Keras's pooling of a headless model (None keeps the 4-D features)."""
    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name=avg_name)(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name=max_name)(x)
    return x


def keras_cache_dir():
    """Keras's model cache folder (``$KERAS_HOME/models``, default ``~/.keras/models``)."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return os.path.join(home, "models")


def _file_hash(path, expected):
    # Keras's hashes are sha256 (64 hex digits) or md5 (32).
    hasher = hashlib.sha256() if len(expected) == 64 else hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def keras_weights_file(file_name, origin, file_hash, pretty):
    """The local path of one of Keras's application weight files, downloaded
    (and checked against Keras's hash) if it is not cached yet."""
    directory = keras_cache_dir()
    path = os.path.join(directory, file_name)
    if os.path.exists(path) and (file_hash is None or _file_hash(path, file_hash) == file_hash):
        return path
    tmp = path + ".part"
    try:
        os.makedirs(directory, exist_ok=True)
        tvb.download_file(origin, tmp, None)
        if file_hash is not None and _file_hash(tmp, file_hash) != file_hash:
            raise ValueError(f"the downloaded file's hash is not Keras's ({file_hash})")
        os.replace(tmp, path)
    except Exception as e:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise OSError(
            f"Could not download the ImageNet weights of {pretty} (Keras's '{file_name}') from {origin}: {e}. "
            f"Without network access, download it elsewhere and place it at '{path}', or pass weights='/path/to/{file_name}'."
        ) from e
    return path


def load_weights(model, weights, pretty, file_name=None, origin=None, file_hash=None):
    """weights="imagenet" -> Keras's h5 file (``file_name`` at ``origin``); a path -> ``model.load_weights``."""
    if weights is None:
        return
    if weights == "imagenet":
        if file_name is None:
            raise ValueError(f"{pretty}: Keras publishes no ImageNet weights for this configuration.")
        model.load_weights(keras_weights_file(file_name, origin, file_hash, pretty))
        return
    path = os.fspath(weights)
    if path.lower().endswith((".pth", ".pt", ".bin", ".ckpt")):
        raise ValueError(
            f"{pretty}: `weights`={path!r} looks like a torch state_dict; this model reads Keras weight files "
            "(.weights.h5, Keras 2 .h5, .keras). torch checkpoints of this family are not the same network as Keras's."
        )
    model.load_weights(path)
