"""MobileNetV2 (``keras.applications.mobilenet_v2``), built layer by layer as Keras builds it.

Layers, names, order and weights are Keras's (``Conv1``, ``bn_Conv1``,
``expanded_conv_depthwise``, ``block_1_expand``, ... ``Conv_1``, ``out_relu``),
so fine-tuning recipes that freeze by name, index or type work unchanged.

Pretrained weights: Keras's own ImageNet ``.h5`` files (every ``alpha`` and
input size Keras publishes). torchvision's ``mobilenet_v2`` checkpoint does not
give the same network: torchvision pads its stride-2 convolutions
symmetrically, Keras (TensorFlow "same") pads only bottom / right on even
sizes, so its weights are not offered here.
Inputs: :func:`preprocess_input` ("tf": pixels scaled to [-1, 1]).
"""

from __future__ import annotations

import warnings

from kerasish import layers
from kerasish.applications import _building
from kerasish.applications import imagenet_utils
from kerasish.models.functional import Functional

__all__ = ["MobileNetV2", "preprocess_input", "decode_predictions"]

BASE_WEIGHT_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/"
_ALPHAS = (0.35, 0.50, 0.75, 1.0, 1.3, 1.4)
_ROWS = (96, 128, 160, 192, 224)
# (filters, stride, expansion) of blocks 0..16, as in the paper / Keras.
_BLOCKS = [(16, 1, 1), (24, 2, 6), (24, 1, 6), (32, 2, 6), (32, 1, 6), (32, 1, 6), (64, 2, 6), (64, 1, 6), (64, 1, 6),
           (64, 1, 6), (96, 1, 6), (96, 1, 6), (96, 1, 6), (160, 2, 6), (160, 1, 6), (160, 1, 6), (320, 1, 6)]


def make_divisible(v, divisor=8, min_value=None):
    """Round a channel count to a multiple of ``divisor``, never more than 10% down (Keras's ``_make_divisible``)."""
    min_value = divisor if min_value is None else min_value
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


def _bn(name):
    return layers.BatchNormalization(axis=-1, epsilon=1e-3, momentum=0.999, name=name)


def _inverted_res_block(inputs, expansion, stride, alpha, filters, block_id):
    in_channels = inputs.shape[-1]
    pointwise_filters = make_divisible(int(filters * alpha), 8)
    x = inputs
    prefix = f"block_{block_id}_"
    if block_id:
        x = layers.Conv2D(expansion * in_channels, 1, padding="same", use_bias=False, name=f"{prefix}expand")(x)
        x = _bn(f"{prefix}expand_BN")(x)
        x = layers.ReLU(6.0, name=f"{prefix}expand_relu")(x)
    else:
        prefix = "expanded_conv_"
    if stride == 2:
        x = layers.ZeroPadding2D(padding=_building.correct_pad(x, 3), name=f"{prefix}pad")(x)
    x = layers.DepthwiseConv2D(3, strides=stride, use_bias=False, padding="same" if stride == 1 else "valid",
                               name=f"{prefix}depthwise")(x)
    x = _bn(f"{prefix}depthwise_BN")(x)
    x = layers.ReLU(6.0, name=f"{prefix}depthwise_relu")(x)
    x = layers.Conv2D(pointwise_filters, 1, padding="same", use_bias=False, name=f"{prefix}project")(x)
    x = _bn(f"{prefix}project_BN")(x)
    if in_channels == pointwise_filters and stride == 1:
        return layers.Add(name=f"{prefix}add")([inputs, x])
    return x


def _default_size(input_shape, input_tensor):
    """Keras picks the weights' size from a square input of a published size, else 224."""
    shape = input_shape
    if shape is None and input_tensor is not None and hasattr(input_tensor, "shape") and len(input_tensor.shape) == 4:
        shape = tuple(input_tensor.shape[1:])
    if shape is not None and len(shape) == 3 and shape[0] == shape[1] and shape[0] in _ROWS:
        return shape[0]
    return 224


def MobileNetV2(input_shape=None, alpha=1.0, include_top=True, weights="imagenet", input_tensor=None, pooling=None,
                classes=1000, classifier_activation="softmax", name=None):
    """Instantiates the MobileNetV2 architecture, as Keras builds it.

    Args:
        input_shape: optional ``(height, width, channels)``, at least 32x32.
        alpha: width multiplier; Keras publishes ImageNet weights for
            0.35, 0.5, 0.75, 1.0, 1.3 and 1.4.
        include_top: whether to end with global pooling and the ``predictions`` Dense.
        weights: ``None``, ``"imagenet"`` (Keras's h5 file) or the path of a weights file.
        input_tensor: optional tensor (an ``Input``) to build on.
        pooling: ``None``, ``"avg"`` or ``"max"`` for a headless model.
        classes: number of classes (with ``include_top``).
        classifier_activation: the ``predictions`` activation (``None`` for logits).
        name: the model's name (default ``mobilenetv2_{alpha:0.2f}_{rows}``).

    Returns:
        A functional ``Model`` taking images in [-1, 1] (:func:`preprocess_input`).

    Example:
        >>> from kerasish.applications.mobilenet_v2 import MobileNetV2
        >>> model = MobileNetV2(weights=None, input_shape=(32, 32, 3), include_top=False)
        >>> model.output_shape, model.get_layer("block_1_expand").kernel.shape
        ((None, 1, 1, 1280), (1, 1, 16, 96))
    """
    default_size = _default_size(input_shape, input_tensor)
    inputs, x, input_shape = _building.application_input(
        "MobileNetV2", weights=weights, include_top=include_top, classes=classes, pooling=pooling,
        classifier_activation=classifier_activation, input_shape=input_shape, input_tensor=input_tensor,
        default_size=default_size)
    rows, cols = input_shape[0], input_shape[1]
    if weights == "imagenet":
        if alpha not in _ALPHAS:
            raise ValueError("MobileNetV2: with weights='imagenet', `alpha` must be one of 0.35, 0.50, 0.75, 1.0, 1.3 "
                             f"or 1.4. Received: alpha={alpha}")
        if rows != cols or rows not in _ROWS:
            rows = 224
            warnings.warn("`input_shape` is undefined or non-square, or `rows` is not in [96, 128, 160, 192, 224]. "
                          "Weights for input shape (224, 224) will be loaded as the default.", stacklevel=2)

    x = layers.Conv2D(make_divisible(32 * alpha, 8), 3, strides=2, padding="same", use_bias=False, name="Conv1")(x)
    x = _bn("bn_Conv1")(x)
    x = layers.ReLU(6.0, name="Conv1_relu")(x)
    for block_id, (filters, stride, expansion) in enumerate(_BLOCKS):
        x = _inverted_res_block(x, expansion=expansion, stride=stride, alpha=alpha, filters=filters, block_id=block_id)
    # No alpha below 1 on the last convolution (the paper); above 1 it widens.
    last = make_divisible(1280 * alpha, 8) if alpha > 1.0 else 1280
    x = layers.Conv2D(last, 1, use_bias=False, name="Conv_1")(x)
    x = _bn("Conv_1_bn")(x)
    x = layers.ReLU(6.0, name="out_relu")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D()(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = _building.pool(x, pooling, named=False)
    if name is None:
        name = f"mobilenetv2_{alpha:0.2f}_{rows}"
    model = Functional(inputs, x, name=name)
    file_name = f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{float(alpha)}_{rows}{'' if include_top else '_no_top'}.h5"
    _building.load_weights(model, weights, "MobileNetV2", file_name, BASE_WEIGHT_PATH + file_name)
    return model


def preprocess_input(x, data_format=None):
    """Keras's MobileNetV2 preprocessing ("tf"): pixels in [0, 255] scaled to [-1, 1].

    Example:
        >>> import numpy as np
        >>> from kerasish.applications.mobilenet_v2 import preprocess_input
        >>> preprocess_input(np.array([[[[0.0, 127.5, 255.0]]]])).tolist()
        [[[[-1.0, 0.0, 1.0]]]]
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """See :func:`kerasish.applications.imagenet_utils.decode_predictions`."""
    return imagenet_utils.decode_predictions(preds, top=top)
