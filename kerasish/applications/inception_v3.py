"""InceptionV3 (``keras.applications.inception_v3``), built as Keras builds it.

Layers: Keras's, in Keras's order: the convolutions, batch normalizations
(``scale=False``) and activations are unnamed as in Keras (``conv2d``,
``conv2d_1``, ... ``batch_normalization_N``, ``activation_N``), the blocks'
concatenations are ``mixed0`` ... ``mixed10``, then ``avg_pool`` /
``predictions``; parameter counts as Keras's.

Pretrained weights: ``weights="imagenet"`` loads Keras's own HDF5 file
(md5-checked, cached in ``~/.keras/models``), the same network as Keras's. The
torchvision / timm ``inception_v3`` is not the same function: its branch
average poolings count the zero padding (Keras's "same" pooling does not), its
batch normalizations have a scale, and it rescales its input itself, so its
checkpoint cannot serve this model. Inputs: :func:`preprocess_input` ("tf", [-1, 1]).
"""

from __future__ import annotations

from kerasish import layers
from kerasish.applications import _building
from kerasish.applications import imagenet_utils
from kerasish.models.functional import Functional

__all__ = ["InceptionV3", "preprocess_input", "decode_predictions"]

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/"
_FILES = {True: "9a0d58056eeedaa3f26cb7ebd46da564", False: "bcbd6486424b2319ff4ef7d526e38f63"}


def conv2d_bn(x, filters, num_row, num_col, padding="same", strides=(1, 1), name=None):
    """Conv2D (no bias) -> BatchNormalization (no scale) -> relu, as Keras's ``conv2d_bn``."""
    conv_name = None if name is None else f"{name}_conv"
    bn_name = None if name is None else f"{name}_bn"
    x = layers.Conv2D(filters, (num_row, num_col), strides=strides, padding=padding, use_bias=False, name=conv_name)(x)
    x = layers.BatchNormalization(axis=3, scale=False, name=bn_name)(x)
    return layers.Activation("relu", name=name)(x)


def _avg_branch(x, filters):
    pool = layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same")(x)
    return conv2d_bn(pool, filters, 1, 1)


def InceptionV3(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000,
                classifier_activation="softmax", name="inception_v3"):
    inputs, x, _ = _building.application_input(
        "InceptionV3", include_top=include_top, weights=weights, input_tensor=input_tensor, input_shape=input_shape,
        pooling=pooling, classes=classes, classifier_activation=classifier_activation, default_size=299, min_size=75)
    x = conv2d_bn(x, 32, 3, 3, strides=(2, 2), padding="valid")
    x = conv2d_bn(x, 32, 3, 3, padding="valid")
    x = conv2d_bn(x, 64, 3, 3)
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = conv2d_bn(x, 80, 1, 1, padding="valid")
    x = conv2d_bn(x, 192, 3, 3, padding="valid")
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)

    # mixed 0, 1, 2: 35 x 35 x 256 / 288 / 288
    for i, pool_filters in enumerate((32, 64, 64)):
        b1 = conv2d_bn(x, 64, 1, 1)
        b5 = conv2d_bn(conv2d_bn(x, 48, 1, 1), 64, 5, 5)
        b3 = conv2d_bn(conv2d_bn(conv2d_bn(x, 64, 1, 1), 96, 3, 3), 96, 3, 3)
        bp = _avg_branch(x, pool_filters)
        x = layers.concatenate([b1, b5, b3, bp], axis=3, name=f"mixed{i}")

    # mixed 3: 17 x 17 x 768
    b3 = conv2d_bn(x, 384, 3, 3, strides=(2, 2), padding="valid")
    bd = conv2d_bn(conv2d_bn(conv2d_bn(x, 64, 1, 1), 96, 3, 3), 96, 3, 3, strides=(2, 2), padding="valid")
    bp = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = layers.concatenate([b3, bd, bp], axis=3, name="mixed3")

    # mixed 4 .. 7: 17 x 17 x 768
    for i, width in zip(range(4, 8), (128, 160, 160, 192)):
        b1 = conv2d_bn(x, 192, 1, 1)
        b7 = conv2d_bn(x, width, 1, 1)
        b7 = conv2d_bn(b7, width, 1, 7)
        b7 = conv2d_bn(b7, 192, 7, 1)
        bd = conv2d_bn(x, width, 1, 1)
        bd = conv2d_bn(bd, width, 7, 1)
        bd = conv2d_bn(bd, width, 1, 7)
        bd = conv2d_bn(bd, width, 7, 1)
        bd = conv2d_bn(bd, 192, 1, 7)
        bp = _avg_branch(x, 192)
        x = layers.concatenate([b1, b7, bd, bp], axis=3, name=f"mixed{i}")

    # mixed 8: 8 x 8 x 1280
    b3 = conv2d_bn(conv2d_bn(x, 192, 1, 1), 320, 3, 3, strides=(2, 2), padding="valid")
    b7 = conv2d_bn(x, 192, 1, 1)
    b7 = conv2d_bn(b7, 192, 1, 7)
    b7 = conv2d_bn(b7, 192, 7, 1)
    b7 = conv2d_bn(b7, 192, 3, 3, strides=(2, 2), padding="valid")
    bp = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = layers.concatenate([b3, b7, bp], axis=3, name="mixed8")

    # mixed 9, 10: 8 x 8 x 2048
    for i in range(2):
        b1 = conv2d_bn(x, 320, 1, 1)
        b3 = conv2d_bn(x, 384, 1, 1)
        b3 = layers.concatenate([conv2d_bn(b3, 384, 1, 3), conv2d_bn(b3, 384, 3, 1)], axis=3, name=f"mixed9_{i}")
        bd = conv2d_bn(conv2d_bn(x, 448, 1, 1), 384, 3, 3)
        bd = layers.concatenate([conv2d_bn(bd, 384, 1, 3), conv2d_bn(bd, 384, 3, 1)], axis=3)
        bp = _avg_branch(x, 192)
        x = layers.concatenate([b1, b3, bd, bp], axis=3, name=f"mixed{9 + i}")

    x = _building.top(x, include_top, pooling, classes, classifier_activation, named=False)
    model = Functional(inputs, x, name=name)
    file_name = f"inception_v3_weights_tf_dim_ordering_tf_kernels{'' if include_top else '_notop'}.h5"
    _building.load_weights(model, weights, "InceptionV3", file_name, BASE_WEIGHTS_PATH + file_name,
                           _FILES[bool(include_top)])
    return model


InceptionV3.__doc__ = _building.application_doc(
    "InceptionV3", min_size=75, default_size=299, preprocess=':func:`preprocess_input` ("tf" mode)', output="(None, 2048)",
    title="Inception v3")


def preprocess_input(x, data_format=None):
    """Keras's InceptionV3 preprocessing ("tf"): pixels scaled to [-1, 1].

    Example:
        >>> import numpy as np
        >>> preprocess_input(np.array([[[[0.0, 127.5, 255.0]]]])).tolist()
        [[[[-1.0, 0.0, 1.0]]]]
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """See :func:`kerasish.applications.imagenet_utils.decode_predictions`."""
    return imagenet_utils.decode_predictions(preds, top=top)
