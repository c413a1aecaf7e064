"""InceptionResNetV2 (``keras.applications.inception_resnet_v2``), built as Keras builds it.

Layers: Keras's, in Keras's order: the stem's and branches' convolutions /
batch normalizations / activations unnamed as in Keras, ``mixed_5b``,
``block35_{1..10}_{mixed,conv,ac}``, ``mixed_6a``, ``block17_{1..20}_*``,
``mixed_7a``, ``block8_{1..10}_*``, ``conv_7b`` / ``conv_7b_bn`` /
``conv_7b_ac``, then ``avg_pool`` / ``predictions``. Each residual sum is a
:class:`CustomScaleLayer` (``x + scale * residual``), Keras's class of the same
name, so Keras's saved models of this network load.

Pretrained weights: ``weights="imagenet"`` loads Keras's own HDF5 file
(md5-checked, cached in ``~/.keras/models``). timm's
``inception_resnet_v2`` is a port of the TF-slim network whose branch average
pooling counts the padding and whose stride-2 layers pad differently, so it is
not the same function and is not used. Inputs: :func:`preprocess_input` ("tf", [-1, 1]).
"""

from __future__ import annotations

from kerasish import layers
from kerasish.applications import _building
from kerasish.applications import imagenet_utils
from kerasish.engine.layer import Layer
from kerasish.engine.serialization import register_builtin_layers
from kerasish.models.functional import Functional

__all__ = ["InceptionResNetV2", "CustomScaleLayer", "preprocess_input", "decode_predictions"]

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/inception_resnet_v2/"
_FILES = {True: "e693bd0210a403b3192acc6073ad2e96", False: "d19885ff4a710c122648d3b5c3b684e4"}


class CustomScaleLayer(Layer):
    """``inputs[0] + inputs[1] * scale``: the scaled residual sum of Inception-ResNet.

    Args:
        scale: the factor of the residual branch (a float).

    Input shape: a list of two tensors of the same shape. Output shape: that shape.

    Example:
        >>> import torch
        >>> from kerasish.applications.inception_resnet_v2 import CustomScaleLayer
        >>> CustomScaleLayer(0.5)([torch.ones(1, 2), torch.full((1, 2), 4.0)]).tolist()
        [[3.0, 3.0]]
    """

    # Element-wise: runs on whatever layout the model keeps images in.
    _native_layout = True

    def __init__(self, scale, **kwargs):
        super().__init__(**kwargs)
        if isinstance(scale, bool) or not isinstance(scale, (int, float)):
            raise TypeError(f"CustomScaleLayer: `scale` must be a number, got {scale!r}.")
        self.scale = scale

    def _check_input(self, input_shape):
        if not isinstance(input_shape, list) or len(input_shape) != 2 or tuple(input_shape[0]) != tuple(input_shape[1]):
            raise ValueError(
                f"Layer '{self.name}' (CustomScaleLayer) expects a list of two tensors of the same shape, got input shape {input_shape}."
            )

    def build(self, input_shape):
        self.built = True

    def native_call(self, inputs, training=False):
        return inputs[0] + inputs[1] * self.scale

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


# Keras writes this class into saved InceptionResNetV2 models: a built-in, so those load.
register_builtin_layers({"CustomScaleLayer": CustomScaleLayer})


def conv2d_bn(x, filters, kernel_size, strides=1, padding="same", activation="relu", use_bias=False, name=None):
    """Conv2D [-> BatchNormalization (no scale) when no bias] [-> activation], as Keras's ``conv2d_bn``."""
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, use_bias=use_bias, name=name)(x)
    if not use_bias:
        x = layers.BatchNormalization(axis=3, scale=False, name=None if name is None else f"{name}_bn")(x)
    if activation is not None:
        x = layers.Activation(activation, name=None if name is None else f"{name}_ac")(x)
    return x


def inception_resnet_block(x, scale, block_type, block_idx, activation="relu"):
    """One Inception-ResNet block (``block35``, ``block17`` or ``block8``): x + scale * branches(x)."""
    if block_type == "block35":
        b0 = conv2d_bn(x, 32, 1)
        b1 = conv2d_bn(conv2d_bn(x, 32, 1), 32, 3)
        b2 = conv2d_bn(conv2d_bn(conv2d_bn(x, 32, 1), 48, 3), 64, 3)
        branches = [b0, b1, b2]
    elif block_type == "block17":
        b0 = conv2d_bn(x, 192, 1)
        b1 = conv2d_bn(conv2d_bn(conv2d_bn(x, 128, 1), 160, [1, 7]), 192, [7, 1])
        branches = [b0, b1]
    elif block_type == "block8":
        b0 = conv2d_bn(x, 192, 1)
        b1 = conv2d_bn(conv2d_bn(conv2d_bn(x, 192, 1), 224, [1, 3]), 256, [3, 1])
        branches = [b0, b1]
    else:
        raise ValueError(f"inception_resnet_block: `block_type` must be 'block35', 'block17' or 'block8', got {block_type!r}.")
    block_name = f"{block_type}_{block_idx}"
    mixed = layers.Concatenate(axis=3, name=f"{block_name}_mixed")(branches)
    up = conv2d_bn(mixed, x.shape[3], 1, activation=None, use_bias=True, name=f"{block_name}_conv")
    x = CustomScaleLayer(scale)([x, up])
    if activation is not None:
        x = layers.Activation(activation, name=f"{block_name}_ac")(x)
    return x


def InceptionResNetV2(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                      classes=1000, classifier_activation="softmax", name="inception_resnet_v2"):
    inputs, x, _ = _building.application_input(
        "InceptionResNetV2", include_top=include_top, weights=weights, input_tensor=input_tensor, input_shape=input_shape,
        pooling=pooling, classes=classes, classifier_activation=classifier_activation, default_size=299, min_size=75)
    # Stem: 35 x 35 x 192
    x = conv2d_bn(x, 32, 3, strides=2, padding="valid")
    x = conv2d_bn(x, 32, 3, padding="valid")
    x = conv2d_bn(x, 64, 3)
    x = layers.MaxPooling2D(3, strides=2)(x)
    x = conv2d_bn(x, 80, 1, padding="valid")
    x = conv2d_bn(x, 192, 3, padding="valid")
    x = layers.MaxPooling2D(3, strides=2)(x)

    # Mixed 5b (Inception-A): 35 x 35 x 320
    b0 = conv2d_bn(x, 96, 1)
    b1 = conv2d_bn(conv2d_bn(x, 48, 1), 64, 5)
    b2 = conv2d_bn(conv2d_bn(conv2d_bn(x, 64, 1), 96, 3), 96, 3)
    bp = conv2d_bn(layers.AveragePooling2D(3, strides=1, padding="same")(x), 64, 1)
    x = layers.Concatenate(axis=3, name="mixed_5b")([b0, b1, b2, bp])
    for block_idx in range(1, 11):
        x = inception_resnet_block(x, scale=0.17, block_type="block35", block_idx=block_idx)

    # Mixed 6a (Reduction-A): 17 x 17 x 1088
    b0 = conv2d_bn(x, 384, 3, strides=2, padding="valid")
    b1 = conv2d_bn(conv2d_bn(conv2d_bn(x, 256, 1), 256, 3), 384, 3, strides=2, padding="valid")
    bp = layers.MaxPooling2D(3, strides=2, padding="valid")(x)
    x = layers.Concatenate(axis=3, name="mixed_6a")([b0, b1, bp])
    for block_idx in range(1, 21):
        x = inception_resnet_block(x, scale=0.1, block_type="block17", block_idx=block_idx)

    # Mixed 7a (Reduction-B): 8 x 8 x 2080
    b0 = conv2d_bn(conv2d_bn(x, 256, 1), 384, 3, strides=2, padding="valid")
    b1 = conv2d_bn(conv2d_bn(x, 256, 1), 288, 3, strides=2, padding="valid")
    b2 = conv2d_bn(conv2d_bn(conv2d_bn(x, 256, 1), 288, 3), 320, 3, strides=2, padding="valid")
    bp = layers.MaxPooling2D(3, strides=2, padding="valid")(x)
    x = layers.Concatenate(axis=3, name="mixed_7a")([b0, b1, b2, bp])
    for block_idx in range(1, 10):
        x = inception_resnet_block(x, scale=0.2, block_type="block8", block_idx=block_idx)
    x = inception_resnet_block(x, scale=1.0, activation=None, block_type="block8", block_idx=10)

    x = conv2d_bn(x, 1536, 1, name="conv_7b")
    x = _building.top(x, include_top, pooling, classes, classifier_activation, named=False)
    model = Functional(inputs, x, name=name)
    file_name = f"inception_resnet_v2_weights_tf_dim_ordering_tf_kernels{'' if include_top else '_notop'}.h5"
    _building.load_weights(model, weights, "InceptionResNetV2", file_name, BASE_WEIGHTS_PATH + file_name,
                           _FILES[bool(include_top)])
    return model


InceptionResNetV2.__doc__ = _building.application_doc(
    "InceptionResNetV2", min_size=75, default_size=299, preprocess=':func:`preprocess_input` ("tf" mode)',
    output="(None, 1536)", title="Inception-ResNet v2")


def preprocess_input(x, data_format=None):
    """Keras's InceptionResNetV2 preprocessing ("tf"): pixels scaled to [-1, 1].

    Example:
        >>> import numpy as np
        >>> preprocess_input(np.array([[[[0.0, 127.5, 255.0]]]])).tolist()
        [[[[-1.0, 0.0, 1.0]]]]
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """See :func:`kerasish.applications.imagenet_utils.decode_predictions`."""
    return imagenet_utils.decode_predictions(preds, top=top)
