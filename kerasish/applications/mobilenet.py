"""MobileNet v1 (``keras.applications.mobilenet``), built layer by layer as Keras builds it.

Layers, names, order and weights are Keras's (``conv1``, ``conv1_bn``,
``conv_dw_1``, ``conv_pw_1_bn``, ..., ``conv_preds``, ``reshape_2``,
``predictions``). Inputs: :func:`preprocess_input` ("tf": [-1, 1]).

Pretrained weights: Keras's own ImageNet ``.h5`` files (alpha 0.25 / 0.5 /
0.75 / 1.0, inputs 128 / 160 / 192 / 224). torchvision has no MobileNet v1.
"""

from __future__ import annotations

import warnings

from kerasish import layers
from kerasish.applications import _building
from kerasish.applications import imagenet_utils
from kerasish.models.functional import Functional

__all__ = ["MobileNet", "preprocess_input", "decode_predictions"]

BASE_WEIGHT_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/"
_ROWS = (128, 160, 192, 224)
_ALPHA_TEXT = {1.0: "1_0", 0.75: "7_5", 0.5: "5_0", 0.25: "2_5"}
# (pointwise filters, stride) of depthwise blocks 1..13.
_BLOCKS = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1), (512, 1), (512, 1),
           (512, 1), (1024, 2), (1024, 1)]


def _depthwise_conv_block(inputs, pointwise_filters, alpha, depth_multiplier, stride, block_id):
    x = inputs
    if stride != 1:
        # TensorFlow's "same" for stride 2 on even sizes: one row / column at the bottom / right.
        x = layers.ZeroPadding2D(((0, 1), (0, 1)), name=f"conv_pad_{block_id}")(x)
    x = layers.DepthwiseConv2D(3, padding="same" if stride == 1 else "valid", depth_multiplier=depth_multiplier,
                               strides=stride, use_bias=False, name=f"conv_dw_{block_id}")(x)
    x = layers.BatchNormalization(axis=-1, name=f"conv_dw_{block_id}_bn")(x)
    x = layers.ReLU(6.0, name=f"conv_dw_{block_id}_relu")(x)
    x = layers.Conv2D(int(pointwise_filters * alpha), 1, padding="same", use_bias=False, name=f"conv_pw_{block_id}")(x)
    x = layers.BatchNormalization(axis=-1, name=f"conv_pw_{block_id}_bn")(x)
    return layers.ReLU(6.0, name=f"conv_pw_{block_id}_relu")(x)


def MobileNet(input_shape=None, alpha=1.0, depth_multiplier=1, dropout=1e-3, include_top=True, weights="imagenet",
              input_tensor=None, pooling=None, classes=1000, classifier_activation="softmax", name=None):
    """Instantiates the MobileNet (v1) architecture, as Keras builds it.

    Args:
        input_shape: optional ``(height, width, channels)``, at least 32x32.
        alpha: width multiplier (ImageNet weights: 0.25, 0.5, 0.75, 1.0).
        depth_multiplier: depthwise channel multiplier (ImageNet weights: 1).
        dropout: dropout before ``conv_preds``.
        include_top: whether to end with pooling, ``conv_preds`` and ``predictions``.
        weights: ``None``, ``"imagenet"`` (Keras's h5 file) or the path of a weights file.
        input_tensor: optional tensor (an ``Input``) to build on.
        pooling: ``None``, ``"avg"`` or ``"max"`` for a headless model.
        classes: number of classes (with ``include_top``).
        classifier_activation: the ``predictions`` activation (``None`` for logits).
        name: the model's name (default ``mobilenet_{alpha:0.2f}_{rows}``).

    Returns:
        A functional ``Model`` taking images in [-1, 1] (:func:`preprocess_input`).

    Example:
        >>> from kerasish.applications.mobilenet import MobileNet
        >>> MobileNet(weights=None, alpha=0.25, input_shape=(32, 32, 3), include_top=False).output_shape
        (None, 1, 1, 256)
    """
    shape = input_shape
    default_size = shape[0] if shape is not None and len(shape) == 3 and shape[0] == shape[1] and shape[0] in _ROWS else 224
    inputs, x, input_shape = _building.application_input(
        "MobileNet", weights=weights, include_top=include_top, classes=classes, pooling=pooling,
        classifier_activation=classifier_activation, input_shape=input_shape, input_tensor=input_tensor,
        default_size=default_size)
    rows, cols = input_shape[0], input_shape[1]
    if weights == "imagenet":
        if depth_multiplier != 1:
            raise ValueError(f"MobileNet: with weights='imagenet', `depth_multiplier` must be 1. "
                             f"Received: depth_multiplier={depth_multiplier}")
        if alpha not in _ALPHA_TEXT:
            raise ValueError(f"MobileNet: with weights='imagenet', `alpha` can be 0.25, 0.50, 0.75 or 1.0 only. "
                             f"Received: alpha={alpha}")
        if rows != cols or rows not in _ROWS:
            rows = 224
            warnings.warn("`input_shape` is undefined or non-square, or `rows` is not in [128, 160, 192, 224]. "
                          "Weights for input shape (224, 224) will be loaded as the default.", stacklevel=2)

    x = layers.Conv2D(int(32 * alpha), 3, padding="same", use_bias=False, strides=2, name="conv1")(x)
    x = layers.BatchNormalization(axis=-1, name="conv1_bn")(x)
    x = layers.ReLU(6.0, name="conv1_relu")(x)
    for block_id, (filters, stride) in enumerate(_BLOCKS, start=1):
        x = _depthwise_conv_block(x, filters, alpha, depth_multiplier, stride, block_id)
    if include_top:
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Dropout(dropout, name="dropout")(x)
        x = layers.Conv2D(classes, 1, padding="same", name="conv_preds")(x)
        x = layers.Reshape((classes,), name="reshape_2")(x)
        x = layers.Activation(activation=classifier_activation, name="predictions")(x)
    else:
        x = _building.pool(x, pooling, named=False)
    if name is None:
        name = f"mobilenet_{alpha:0.2f}_{rows}"
    model = Functional(inputs, x, name=name)
    file_name = None
    if alpha in _ALPHA_TEXT:
        file_name = f"mobilenet_{_ALPHA_TEXT[alpha]}_{rows}_tf{'' if include_top else '_no_top'}.h5"
    _building.load_weights(model, weights, "MobileNet", file_name, BASE_WEIGHT_PATH + (file_name or ""))
    return model


def preprocess_input(x, data_format=None):
    """Keras's MobileNet preprocessing ("tf"): pixels in [0, 255] scaled to [-1, 1].

    Example:
        >>> import numpy as np
        >>> from kerasish.applications.mobilenet import preprocess_input
        >>> preprocess_input(np.array([[[[0.0, 127.5, 255.0]]]])).tolist()
        [[[[-1.0, 0.0, 1.0]]]]
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """See :func:`kerasish.applications.imagenet_utils.decode_predictions`."""
    return imagenet_utils.decode_predictions(preds, top=top)
