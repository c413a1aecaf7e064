"""Xception (``keras.applications.xception``), built as Keras builds it.

Layers: ``block1_conv1`` ... ``block14_sepconv2_act`` (Conv2D, SeparableConv2D,
BatchNormalization, Activation, MaxPooling2D) with the residual 1x1
convolutions, their batch normalizations and the ``add`` layers unnamed as in
Keras, then ``avg_pool`` / ``predictions``: Keras's order, classes and
parameter counts.

Pretrained weights: ``weights="imagenet"`` loads Keras's own HDF5 file
(md5-checked, cached in ``~/.keras/models``), the original network. timm's
``legacy_xception`` holds a port of these weights, but its stride-2 max
poolings pad symmetrically (TensorFlow's "same" pads at the bottom / right),
so it is not the same function and is not used. Inputs: :func:`preprocess_input`
("tf", [-1, 1]).
"""

from __future__ import annotations

from kerasish import layers
from kerasish.applications import _building
from kerasish.applications import imagenet_utils
from kerasish.models.functional import Functional

__all__ = ["Xception", "preprocess_input", "decode_predictions"]

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/xception/"
_FILES = {True: "0a58e3b7378bc2990ea3b43d5981f1f6", False: "b0042744bf5b25fce3cb969f33bebb97"}


def _sepconv_bn(x, filters, name):
    x = layers.SeparableConv2D(filters, (3, 3), padding="same", use_bias=False, name=name)(x)
    return layers.BatchNormalization(axis=-1, name=f"{name}_bn")(x)


def _residual(x, filters):
    r = layers.Conv2D(filters, (1, 1), strides=(2, 2), padding="same", use_bias=False)(x)
    return layers.BatchNormalization(axis=-1)(r)


def _down_block(x, block, filters, first_act=True):
    """Two separable convolutions and a stride-2 max pooling, plus a strided 1x1 shortcut."""
    residual = _residual(x, filters[1])
    if first_act:
        x = layers.Activation("relu", name=f"block{block}_sepconv1_act")(x)
    x = _sepconv_bn(x, filters[0], f"block{block}_sepconv1")
    x = layers.Activation("relu", name=f"block{block}_sepconv2_act")(x)
    x = _sepconv_bn(x, filters[1], f"block{block}_sepconv2")
    x = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="same", name=f"block{block}_pool")(x)
    return layers.add([x, residual])


def Xception(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000,
             classifier_activation="softmax", name="xception"):
    inputs, x, _ = _building.application_input(
        "Xception", include_top=include_top, weights=weights, input_tensor=input_tensor, input_shape=input_shape,
        pooling=pooling, classes=classes, classifier_activation=classifier_activation, default_size=299, min_size=71)
    x = layers.Conv2D(32, (3, 3), strides=(2, 2), use_bias=False, name="block1_conv1")(x)
    x = layers.BatchNormalization(axis=-1, name="block1_conv1_bn")(x)
    x = layers.Activation("relu", name="block1_conv1_act")(x)
    x = layers.Conv2D(64, (3, 3), use_bias=False, name="block1_conv2")(x)
    x = layers.BatchNormalization(axis=-1, name="block1_conv2_bn")(x)
    x = layers.Activation("relu", name="block1_conv2_act")(x)

    x = _down_block(x, 2, (128, 128), first_act=False)
    x = _down_block(x, 3, (256, 256))
    x = _down_block(x, 4, (728, 728))
    for i in range(8):
        residual = x
        prefix = f"block{i + 5}"
        for j in (1, 2, 3):
            x = layers.Activation("relu", name=f"{prefix}_sepconv{j}_act")(x)
            x = _sepconv_bn(x, 728, f"{prefix}_sepconv{j}")
        x = layers.add([x, residual])
    x = _down_block(x, 13, (728, 1024))

    x = _sepconv_bn(x, 1536, "block14_sepconv1")
    x = layers.Activation("relu", name="block14_sepconv1_act")(x)
    x = _sepconv_bn(x, 2048, "block14_sepconv2")
    x = layers.Activation("relu", name="block14_sepconv2_act")(x)

    x = _building.top(x, include_top, pooling, classes, classifier_activation, named=False)
    model = Functional(inputs, x, name=name)
    file_name = f"xception_weights_tf_dim_ordering_tf_kernels{'' if include_top else '_notop'}.h5"
    _building.load_weights(model, weights, "Xception", file_name, BASE_WEIGHTS_PATH + file_name,
                           _FILES[bool(include_top)])
    return model


Xception.__doc__ = _building.application_doc(
    "Xception", min_size=71, default_size=299, preprocess=':func:`preprocess_input` ("tf" mode)', output="(None, 2048)",
    pooling="max")


def preprocess_input(x, data_format=None):
    """Keras's Xception preprocessing ("tf"): pixels scaled to [-1, 1].

    Example:
        >>> import numpy as np
        >>> preprocess_input(np.array([[[[0.0, 127.5, 255.0]]]])).tolist()
        [[[[-1.0, 0.0, 1.0]]]]
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """See :func:`kerasish.applications.imagenet_utils.decode_predictions`."""
    return imagenet_utils.decode_predictions(preds, top=top)
