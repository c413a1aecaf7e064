"""MobileNetV3Small / MobileNetV3Large (``keras.applications.mobilenet_v3``), built as Keras builds them.

Layers, names, order and weights are Keras's (``rescaling``, ``conv``,
``conv_bn``, ``expanded_conv_depthwise``, ``expanded_conv_1_expand``, ...,
``conv_1``, ``conv_2``, ``logits``, ``predictions``), ``alpha`` and
``minimalistic`` included. One difference: Keras's hard sigmoid of the
squeeze-excite blocks, ``ReLU(6)(x + 3) * (1 / 6)``, records ``+ 3`` and
``* (1 / 6)`` as operations; here they are weightless ``TensorOp`` layers in
``model.layers`` around the same ``ReLU``.

Preprocessing is part of the model as in Keras: with
``include_preprocessing=True`` (default) the model takes RGB pixels in [0, 255]
and :func:`preprocess_input` is a pass-through; with ``False`` it takes [-1, 1].

Pretrained weights: Keras's own ImageNet ``.h5`` files. torchvision's
MobileNetV3s are not the same network (symmetric padding on stride-2
convolutions, different squeeze-excite widths rounding, BatchNorm epsilon),
so their checkpoints are not offered here.
"""

from __future__ import annotations

import warnings

from kerasish import layers
from kerasish.applications import _building
from kerasish.applications import imagenet_utils
from kerasish.engine.keras_tensor import KerasTensor
from kerasish.models.functional import Functional

__all__ = ["MobileNetV3Small", "MobileNetV3Large", "MobileNetV3", "preprocess_input", "decode_predictions"]

BASE_WEIGHT_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v3/"
# Keras's md5 of its weight files: (with top, without top).
WEIGHTS_HASHES = {
    "large_224_0.75_float": ("765b44a33ad4005b3ac83185abf1d0eb", "40af19a13ebea4e2ee0c676887f69a2e"),
    "large_224_1.0_float": ("59e551e166be033d707958cf9e29a6a7", "07fb09a5933dd0c8eaafa16978110389"),
    "large_minimalistic_224_1.0_float": ("675e7b876c45c57e9e63e6d90a36599c", "ec5221f64a2f6d1ef965a614bdae7973"),
    "small_224_0.75_float": ("cb65d4e5be93758266aa0a7f2c6708b7", "ebdb5cc8e0b497cd13a7c275d475c819"),
    "small_224_1.0_float": ("8768d4c2e7dee89b9d02b2d03d65d862", "d3e8ec802a04aa4fc771ee12a9a9b836"),
    "small_minimalistic_224_1.0_float": ("99cd97fb2fcdad2bf028eb838de69e37", "cde8136e733e811080d9fcd8a252f7e4"),
}

# (expansion, filters, kernel ("k": 5, or 3 when minimalistic), stride, squeeze-excite, activation ("a": hard_swish
# unless minimalistic; "relu"))
_SMALL = [(1, 16, 3, 2, True, "relu"), (72.0 / 16, 24, 3, 2, False, "relu"), (88.0 / 24, 24, 3, 1, False, "relu"),
          (4, 40, "k", 2, True, "a"), (6, 40, "k", 1, True, "a"), (6, 40, "k", 1, True, "a"), (3, 48, "k", 1, True, "a"),
          (3, 48, "k", 1, True, "a"), (6, 96, "k", 2, True, "a"), (6, 96, "k", 1, True, "a"), (6, 96, "k", 1, True, "a")]
_LARGE = [(1, 16, 3, 1, False, "relu"), (4, 24, 3, 2, False, "relu"), (3, 24, 3, 1, False, "relu"),
          (3, 40, "k", 2, True, "relu"), (3, 40, "k", 1, True, "relu"), (3, 40, "k", 1, True, "relu"),
          (6, 80, 3, 2, False, "a"), (2.5, 80, 3, 1, False, "a"), (2.3, 80, 3, 1, False, "a"), (2.3, 80, 3, 1, False, "a"),
          (6, 112, 3, 1, True, "a"), (6, 112, 3, 1, True, "a"), (6, 160, "k", 2, True, "a"), (6, 160, "k", 1, True, "a"),
          (6, 160, "k", 1, True, "a")]


def _depth(v, divisor=8, min_value=None):
    min_value = divisor if min_value is None else min_value
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v  # never round down by more than 10%


def _relu(x):
    return layers.ReLU()(x)


def _hard_sigmoid(x):
    return layers.ReLU(6.0)(x + 3.0) * (1.0 / 6.0)


def _hard_swish(x):
    return layers.Activation("hard_swish")(x)


def _bn(name):
    return layers.BatchNormalization(axis=-1, epsilon=1e-3, momentum=0.999, name=name)


def _se_block(inputs, filters, se_ratio, prefix):
    x = layers.GlobalAveragePooling2D(keepdims=True, name=f"{prefix}squeeze_excite_avg_pool")(inputs)
    x = layers.Conv2D(_depth(filters * se_ratio), 1, padding="same", name=f"{prefix}squeeze_excite_conv")(x)
    x = layers.ReLU(name=f"{prefix}squeeze_excite_relu")(x)
    x = layers.Conv2D(filters, 1, padding="same", name=f"{prefix}squeeze_excite_conv_1")(x)
    x = _hard_sigmoid(x)
    return layers.Multiply(name=f"{prefix}squeeze_excite_mul")([inputs, x])


def _inverted_res_block(x, expansion, filters, kernel_size, stride, se_ratio, activation, block_id):
    shortcut = x
    prefix = "expanded_conv_"
    infilters = x.shape[-1]
    if block_id:
        prefix = f"expanded_conv_{block_id}_"
        x = layers.Conv2D(_depth(infilters * expansion), 1, padding="same", use_bias=False, name=f"{prefix}expand")(x)
        x = _bn(f"{prefix}expand_bn")(x)
        x = activation(x)
    if stride == 2:
        x = layers.ZeroPadding2D(padding=_building.correct_pad(x, kernel_size), name=f"{prefix}depthwise_pad")(x)
    x = layers.DepthwiseConv2D(kernel_size, strides=stride, padding="same" if stride == 1 else "valid", use_bias=False,
                               name=f"{prefix}depthwise")(x)
    x = _bn(f"{prefix}depthwise_bn")(x)
    x = activation(x)
    if se_ratio:
        x = _se_block(x, _depth(infilters * expansion), se_ratio, prefix)
    x = layers.Conv2D(filters, 1, padding="same", use_bias=False, name=f"{prefix}project")(x)
    x = _bn(f"{prefix}project_bn")(x)
    if stride == 1 and infilters == filters:
        x = layers.Add(name=f"{prefix}add")([shortcut, x])
    return x


def _input_shape(input_shape, input_tensor):
    """Keras's MobileNetV3 input rules: any size from 32x32 up; unknown sizes allowed even with the top."""
    if input_shape is not None:
        try:
            input_shape = tuple(None if d is None else int(d) for d in input_shape)
        except TypeError:
            raise ValueError(f"`input_shape` must be a tuple of three integers. Received: input_shape={input_shape!r}") from None
        if len(input_shape) != 3:
            raise ValueError(f"`input_shape` must be a tuple of three integers. Received: input_shape={input_shape}")
        if input_tensor is not None and isinstance(input_tensor, KerasTensor) and input_tensor.shape[2] != input_shape[1]:
            raise ValueError("input_tensor.shape[2] must equal input_shape[1]; Received "
                             f"`input_tensor.shape={input_tensor.shape}`, `input_shape={input_shape}`")
    elif isinstance(input_tensor, KerasTensor):
        if len(input_tensor.shape) != 4:
            raise ValueError(f"MobileNetV3: `input_tensor` must be a 4-D image tensor, got shape {input_tensor.shape}.")
        input_shape = (input_tensor.shape[2], input_tensor.shape[1], 3)  # Keras's (cols, rows, 3)
    else:
        input_shape = (None, None, 3)
    rows, cols = input_shape[0], input_shape[1]
    if rows and cols and (rows < 32 or cols < 32):
        raise ValueError(f"Input size must be at least 32x32; Received `input_shape={input_shape}`")
    return input_shape


def MobileNetV3(stack, last_point_ch, input_shape=None, alpha=1.0, model_type="large", minimalistic=False,
                include_top=True, weights="imagenet", input_tensor=None, classes=1000, pooling=None, dropout_rate=0.2,
                classifier_activation="softmax", include_preprocessing=True, name=None):
    """Builds a MobileNetV3 from a block table, as Keras's ``MobileNetV3``.

    Args:
        stack: list of ``(expansion, filters, kernel, stride, squeeze_excite, activation)``
            (``kernel`` "k": 5, or 3 when minimalistic; ``activation`` "a": hard_swish, or relu when minimalistic).
        last_point_ch: units of ``conv_2`` (before ``alpha``).
        model_type: ``"small"`` or ``"large"`` (which of Keras's weight files).
        Others: as for :func:`MobileNetV3Small`.

    Returns:
        A functional ``Model``.
    """
    pretty = f"MobileNetV3{model_type.capitalize()}"
    input_shape = _input_shape(input_shape, input_tensor)
    inputs, x, _ = _building.application_input(
        pretty, weights=weights, include_top=include_top, classes=classes, pooling=pooling,
        classifier_activation=classifier_activation, input_shape=input_shape, input_tensor=input_tensor, default_size=None)
    rows, cols = input_shape[0], input_shape[1]
    if weights == "imagenet":
        if (not minimalistic and alpha not in (0.75, 1.0)) or (minimalistic and alpha != 1.0):
            raise ValueError(f"{pretty}: with weights='imagenet', `alpha` can be 0.75 or 1.0 (not minimalistic), or 1.0 "
                             f"(minimalistic) only. Received: alpha={alpha}, minimalistic={minimalistic}")
        if rows != cols or rows != 224:
            warnings.warn("`input_shape` is undefined or non-square, or `rows` is not 224. Weights for input shape "
                          "(224, 224) will be loaded as the default.", stacklevel=3)
    if minimalistic:
        kernel, activation, se_ratio = 3, _relu, None
    else:
        kernel, activation, se_ratio = 5, _hard_swish, 0.25

    if include_preprocessing:
        x = layers.Rescaling(scale=1.0 / 127.5, offset=-1.0)(x)
    x = layers.Conv2D(16, 3, strides=(2, 2), padding="same", use_bias=False, name="conv")(x)
    x = _bn("conv_bn")(x)
    x = activation(x)
    for block_id, (expansion, filters, k, stride, se, act) in enumerate(stack):
        x = _inverted_res_block(x, expansion, _depth(filters * alpha), kernel if k == "k" else k, stride,
                                se_ratio if se else None, activation if act == "a" else _relu, block_id)
    last_conv_ch = _depth(x.shape[-1] * 6)
    if alpha > 1.0:
        last_point_ch = _depth(last_point_ch * alpha)
    x = layers.Conv2D(last_conv_ch, 1, padding="same", use_bias=False, name="conv_1")(x)
    x = _bn("conv_1_bn")(x)
    x = activation(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Conv2D(last_point_ch, 1, padding="same", use_bias=True, name="conv_2")(x)
        x = activation(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate)(x)
        x = layers.Conv2D(classes, 1, padding="same", name="logits")(x)
        x = layers.Flatten()(x)
        x = layers.Activation(activation=classifier_activation, name="predictions")(x)
    else:
        x = _building.pool(x, pooling)
    model = Functional(inputs, x, name=name)
    model_name = f"{model_type}{'_minimalistic' if minimalistic else ''}_224_{alpha}_float"
    file_name = file_hash = None
    if model_name in WEIGHTS_HASHES:
        file_name = f"weights_mobilenet_v3_{model_name}{'' if include_top else '_no_top_v2'}.h5"
        file_hash = WEIGHTS_HASHES[model_name][0 if include_top else 1]
    _building.load_weights(model, weights, pretty, file_name, BASE_WEIGHT_PATH + (file_name or ""), file_hash)
    return model


_DOC = """Instantiates {pretty} as Keras builds it.

    Args:
        input_shape: optional ``(height, width, 3)``, at least 32x32 (unknown sizes allowed, even with the top).
        alpha: width multiplier (Keras publishes ImageNet weights for 0.75 and 1.0).
        minimalistic: no squeeze-excite, no hard-swish, 3x3 kernels only.
        include_top: whether to end with ``conv_2``, ``logits`` and ``predictions``.
        weights: ``None``, ``"imagenet"`` (Keras's h5 file) or the path of a weights file.
        input_tensor: optional tensor (an ``Input``) to build on.
        classes: number of classes (with ``include_top``).
        pooling: ``None``, ``"avg"`` or ``"max"`` for a headless model.
        dropout_rate: dropout before ``logits``.
        classifier_activation: the ``predictions`` activation (``None`` for logits).
        include_preprocessing: start with ``Rescaling`` to [-1, 1] (inputs are pixels in [0, 255]).
        name: the model's name (``"{pretty}"``).

    Returns:
        A functional ``Model``.

    Example:
        >>> from kerasish.applications.mobilenet_v3 import {pretty}
        >>> {pretty}(weights=None, include_top=False, pooling="avg", input_shape=(32, 32, 3)).output_shape
        (None, {channels})
    """


def MobileNetV3Small(input_shape=None, alpha=1.0, minimalistic=False, include_top=True, weights="imagenet",
                     input_tensor=None, classes=1000, pooling=None, dropout_rate=0.2, classifier_activation="softmax",
                     include_preprocessing=True, name="MobileNetV3Small"):
    return MobileNetV3(_SMALL, 1024, input_shape, alpha, "small", minimalistic, include_top, weights, input_tensor,
                       classes, pooling, dropout_rate, classifier_activation, include_preprocessing, name=name)


def MobileNetV3Large(input_shape=None, alpha=1.0, minimalistic=False, include_top=True, weights="imagenet",
                     input_tensor=None, classes=1000, pooling=None, dropout_rate=0.2, classifier_activation="softmax",
                     include_preprocessing=True, name="MobileNetV3Large"):
    return MobileNetV3(_LARGE, 1280, input_shape, alpha, "large", minimalistic, include_top, weights, input_tensor,
                       classes, pooling, dropout_rate, classifier_activation, include_preprocessing, name=name)


MobileNetV3Small.__doc__ = _DOC.format(pretty="MobileNetV3Small", channels=576)
MobileNetV3Large.__doc__ = _DOC.format(pretty="MobileNetV3Large", channels=960)


def preprocess_input(x, data_format=None):
    """A pass-through, as in Keras: MobileNetV3 models rescale inside.

    Example:
        >>> from kerasish.applications.mobilenet_v3 import preprocess_input
        >>> preprocess_input([0.0, 255.0])
        [0.0, 255.0]
    """
    return x


def decode_predictions(preds, top=5):
    """See :func:`kerasish.applications.imagenet_utils.decode_predictions`."""
    return imagenet_utils.decode_predictions(preds, top=top)
