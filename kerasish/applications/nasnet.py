"""NASNetMobile / NASNetLarge (``keras.applications.nasnet``), built layer by layer as Keras builds them.

Layers, names, order and weights are Keras's (``stem_conv1``, ``stem_bn1``,
the reduction and normal cells' ``separable_conv_1_reduction_left1_stem_1``,
``adjust_conv_projection_0``, ``normal_concat_0``, ..., ``predictions``).
Inputs: :func:`preprocess_input` ("tf": [-1, 1]).

Keras 3 refuses ``NASNetMobile`` on its torch backend (an open Keras bug); it
is built here all the same (the same cells as NASNetLarge, other sizes).

Pretrained weights: Keras's own ImageNet ``.h5`` files. torchvision has no
NASNet, and timm's ``nasnetalarge`` (a port of the TF-slim checkpoint) names
and pads its cells differently; not offered here.
"""

from __future__ import annotations

from kerasish import layers
from kerasish.applications import _building
from kerasish.applications import imagenet_utils
from kerasish.models.functional import Functional

__all__ = ["NASNetMobile", "NASNetLarge", "NASNet", "preprocess_input", "decode_predictions"]

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/nasnet/"
# Keras's file names and md5: size -> ((with top), (without top)).
_WEIGHTS = {
    224: (("nasnet_mobile.h5", "NASNet-mobile.h5", "020fb642bf7360b370c678b08e0adf61"),
          ("nasnet_mobile_no_top.h5", "NASNet-mobile-no-top.h5", "1ed92395b5b598bdda52abe5c0dbfd63")),
    331: (("nasnet_large.h5", "NASNet-large.h5", "11577c9a518f0070763c2b964a382f17"),
          ("nasnet_large_no_top.h5", "NASNet-large-no-top.h5", "d81d89dc07e6e56530c4e77faddd61b5")),
}


def _bn(name):
    return layers.BatchNormalization(axis=-1, momentum=0.9997, epsilon=0.001, name=name)


def _conv1x1(filters, name, strides=1):
    return layers.Conv2D(filters, 1, strides=strides, padding="same", use_bias=False, name=name,
                         kernel_initializer="he_normal")


def _separable_conv_block(ip, filters, kernel_size=3, strides=1, block_id=None):
    x = layers.Activation("relu")(ip)
    if strides == 2:
        x = layers.ZeroPadding2D(padding=_building.correct_pad(x, kernel_size), name=f"separable_conv_1_pad_{block_id}")(x)
    x = layers.SeparableConv2D(filters, kernel_size, strides=strides, name=f"separable_conv_1_{block_id}",
                               padding="valid" if strides == 2 else "same", use_bias=False)(x)
    x = _bn(f"separable_conv_1_bn_{block_id}")(x)
    x = layers.Activation("relu")(x)
    x = layers.SeparableConv2D(filters, kernel_size, name=f"separable_conv_2_{block_id}", padding="same", use_bias=False)(x)
    return _bn(f"separable_conv_2_bn_{block_id}")(x)


def _adjust_block(p, ip, filters, block_id=None):
    """Match the previous cell's output ``p`` to ``ip``'s size and ``filters`` channels."""
    if p is None:
        return ip
    if p.shape[-2] != ip.shape[-2]:
        # Factorized reduction: two offset 1x1 stride-2 paths, concatenated.
        p = layers.Activation("relu", name=f"adjust_relu_1_{block_id}")(p)
        p1 = layers.AveragePooling2D(1, strides=2, padding="valid", name=f"adjust_avg_pool_1_{block_id}")(p)
        p1 = _conv1x1(filters // 2, f"adjust_conv_1_{block_id}")(p1)
        p2 = layers.ZeroPadding2D(padding=((0, 1), (0, 1)))(p)
        p2 = layers.Cropping2D(cropping=((1, 0), (1, 0)))(p2)
        p2 = layers.AveragePooling2D(1, strides=2, padding="valid", name=f"adjust_avg_pool_2_{block_id}")(p2)
        p2 = _conv1x1(filters // 2, f"adjust_conv_2_{block_id}")(p2)
        p = layers.concatenate([p1, p2], axis=-1)
        return _bn(f"adjust_bn_{block_id}")(p)
    if p.shape[-1] != filters:
        p = layers.Activation("relu")(p)
        p = _conv1x1(filters, f"adjust_conv_projection_{block_id}")(p)
        return _bn(f"adjust_bn_{block_id}")(p)
    return p


def _normal_a_cell(ip, p, filters, block_id=None):
    p = _adjust_block(p, ip, filters, block_id)
    h = layers.Activation("relu")(ip)
    h = _conv1x1(filters, f"normal_conv_1_{block_id}")(h)
    h = _bn(f"normal_bn_1_{block_id}")(h)
    x1_1 = _separable_conv_block(h, filters, 5, block_id=f"normal_left1_{block_id}")
    x1_2 = _separable_conv_block(p, filters, block_id=f"normal_right1_{block_id}")
    x1 = layers.add([x1_1, x1_2], name=f"normal_add_1_{block_id}")
    x2_1 = _separable_conv_block(p, filters, 5, block_id=f"normal_left2_{block_id}")
    x2_2 = _separable_conv_block(p, filters, 3, block_id=f"normal_right2_{block_id}")
    x2 = layers.add([x2_1, x2_2], name=f"normal_add_2_{block_id}")
    x3 = layers.AveragePooling2D(3, strides=1, padding="same", name=f"normal_left3_{block_id}")(h)
    x3 = layers.add([x3, p], name=f"normal_add_3_{block_id}")
    x4_1 = layers.AveragePooling2D(3, strides=1, padding="same", name=f"normal_left4_{block_id}")(p)
    x4_2 = layers.AveragePooling2D(3, strides=1, padding="same", name=f"normal_right4_{block_id}")(p)
    x4 = layers.add([x4_1, x4_2], name=f"normal_add_4_{block_id}")
    x5 = _separable_conv_block(h, filters, block_id=f"normal_left5_{block_id}")
    x5 = layers.add([x5, h], name=f"normal_add_5_{block_id}")
    x = layers.concatenate([p, x1, x2, x3, x4, x5], axis=-1, name=f"normal_concat_{block_id}")
    return x, ip


def _reduction_a_cell(ip, p, filters, block_id=None):
    p = _adjust_block(p, ip, filters, block_id)
    h = layers.Activation("relu")(ip)
    h = _conv1x1(filters, f"reduction_conv_1_{block_id}")(h)
    h = _bn(f"reduction_bn_1_{block_id}")(h)
    h3 = layers.ZeroPadding2D(padding=_building.correct_pad(h, 3), name=f"reduction_pad_1_{block_id}")(h)
    x1_1 = _separable_conv_block(h, filters, 5, strides=2, block_id=f"reduction_left1_{block_id}")
    x1_2 = _separable_conv_block(p, filters, 7, strides=2, block_id=f"reduction_right1_{block_id}")
    x1 = layers.add([x1_1, x1_2], name=f"reduction_add_1_{block_id}")
    x2_1 = layers.MaxPooling2D(3, strides=2, padding="valid", name=f"reduction_left2_{block_id}")(h3)
    x2_2 = _separable_conv_block(p, filters, 7, strides=2, block_id=f"reduction_right2_{block_id}")
    x2 = layers.add([x2_1, x2_2], name=f"reduction_add_2_{block_id}")
    x3_1 = layers.AveragePooling2D(3, strides=2, padding="valid", name=f"reduction_left3_{block_id}")(h3)
    x3_2 = _separable_conv_block(p, filters, 5, strides=2, block_id=f"reduction_right3_{block_id}")
    x3 = layers.add([x3_1, x3_2], name=f"reduction_add3_{block_id}")
    x4 = layers.AveragePooling2D(3, strides=1, padding="same", name=f"reduction_left4_{block_id}")(x1)
    x4 = layers.add([x2, x4])
    x5_1 = _separable_conv_block(x1, filters, 3, block_id=f"reduction_left4_{block_id}")
    x5_2 = layers.MaxPooling2D(3, strides=2, padding="valid", name=f"reduction_right5_{block_id}")(h3)
    x5 = layers.add([x5_1, x5_2], name=f"reduction_add4_{block_id}")
    x = layers.concatenate([x2, x3, x4, x5], axis=-1, name=f"reduction_concat_{block_id}")
    return x, ip


def NASNet(input_shape=None, penultimate_filters=4032, num_blocks=6, stem_block_filters=96, skip_reduction=True,
           filter_multiplier=2, include_top=True, weights="imagenet", input_tensor=None, pooling=None, classes=1000,
           default_size=None, classifier_activation="softmax", name="NASNet"):
    """Builds a NASNet-A (N @ P) model, as Keras's ``NASNet``.

    Args:
        input_shape: optional ``(height, width, 3)``, at least 32x32.
        penultimate_filters: P, the penultimate layer's filters (a multiple of 24 * filter_multiplier ** 2).
        num_blocks: N, normal cells per stage.
        stem_block_filters: the stem convolution's filters.
        skip_reduction: whether the cell after a reduction takes the pre-reduction state.
        filter_multiplier: channel growth per reduction.
        include_top, weights, input_tensor, pooling, classes, classifier_activation, name:
            as for :func:`NASNetLarge`.
        default_size: 224 (Mobile's weights) or 331 (Large's; default).

    Returns:
        A functional ``Model`` taking images in [-1, 1] (:func:`preprocess_input`).

    Example:
        >>> from kerasish.applications.nasnet import NASNet
        >>> NASNet((32, 32, 3), penultimate_filters=96, num_blocks=1, stem_block_filters=8, weights=None,
        ...        include_top=False, pooling="avg").output_shape
        (None, 96)
    """
    if isinstance(input_shape, tuple) and None in input_shape and weights == "imagenet":
        raise ValueError("When specifying the input shape of a NASNet and loading `ImageNet` weights, the input_shape "
                         f"argument must be static (no None entries). Got: `input_shape={input_shape}`.")
    default_size = 331 if default_size is None else default_size
    if penultimate_filters % (24 * filter_multiplier**2) != 0:
        raise ValueError("NASNet: `penultimate_filters` must be a multiple of 24 * (`filter_multiplier` ** 2). "
                         f"Received: penultimate_filters={penultimate_filters}, filter_multiplier={filter_multiplier}")
    if weights == "imagenet" and default_size not in _WEIGHTS:
        raise ValueError("ImageNet weights can only be loaded with NASNetLarge or NASNetMobile")
    inputs, x, _ = _building.application_input(
        "NASNet", weights=weights, include_top=include_top, classes=classes, pooling=pooling,
        classifier_activation=classifier_activation, input_shape=input_shape, input_tensor=input_tensor,
        default_size=default_size)
    filters = penultimate_filters // 24
    x = layers.Conv2D(stem_block_filters, 3, strides=2, padding="valid", use_bias=False, name="stem_conv1",
                      kernel_initializer="he_normal")(x)
    x = _bn("stem_bn1")(x)
    p = None
    x, p = _reduction_a_cell(x, p, filters // filter_multiplier**2, block_id="stem_1")
    x, p = _reduction_a_cell(x, p, filters // filter_multiplier, block_id="stem_2")
    for stage in range(3):
        width = filters * filter_multiplier**stage
        if stage:
            x, p0 = _reduction_a_cell(x, p, width, block_id=f"reduce_{stage * num_blocks}")
            p = p if skip_reduction else p0
        for i in range(num_blocks):
            block_id = f"{stage * num_blocks + i + (1 if stage else 0)}"
            x, p = _normal_a_cell(x, p, width, block_id=block_id)
    x = layers.Activation("relu")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D()(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = _building.pool(x, pooling, named=False)
    model = Functional(inputs, x, name=name)
    file_name = origin = file_hash = None
    if default_size in _WEIGHTS:
        file_name, remote, file_hash = _WEIGHTS[default_size][0 if include_top else 1]
        origin = BASE_WEIGHTS_PATH + remote
    _building.load_weights(model, weights, name, file_name, origin, file_hash)
    return model


def NASNetMobile(input_shape=None, include_top=True, weights="imagenet", input_tensor=None, pooling=None, classes=1000,
                 classifier_activation="softmax", name="nasnet_mobile"):
    """Instantiates NASNet-A Mobile (4 @ 1056) as Keras builds it (default input 224x224).

    Args:
        input_shape: optional ``(height, width, 3)``, at least 32x32 (default 224x224 headless too).
        include_top: whether to end with pooling and the ``predictions`` Dense.
        weights: ``None``, ``"imagenet"`` (Keras's h5 file) or the path of a weights file.
        input_tensor: optional tensor (an ``Input``) to build on.
        pooling: ``None``, ``"avg"`` or ``"max"`` for a headless model.
        classes: number of classes (with ``include_top``).
        classifier_activation: the ``predictions`` activation (``None`` for logits).
        name: the model's name.

    Returns:
        A functional ``Model`` taking images in [-1, 1] (:func:`preprocess_input`).

    Example:
        >>> from kerasish.applications.nasnet import NASNetMobile
        >>> NASNetMobile(weights=None, include_top=False, pooling="avg", input_shape=(32, 32, 3)).output_shape
        (None, 1056)
    """
    if not include_top and input_shape is None:
        input_shape = (224, 224, 3)
    return NASNet(input_shape, penultimate_filters=1056, num_blocks=4, stem_block_filters=32, skip_reduction=False,
                  filter_multiplier=2, include_top=include_top, weights=weights, input_tensor=input_tensor,
                  pooling=pooling, classes=classes, default_size=224, classifier_activation=classifier_activation,
                  name=name)


def NASNetLarge(input_shape=None, include_top=True, weights="imagenet", input_tensor=None, pooling=None, classes=1000,
                classifier_activation="softmax", name="nasnet_large"):
    """Instantiates NASNet-A Large (6 @ 4032) as Keras builds it (default input 331x331).

    Args:
        input_shape: optional ``(height, width, 3)``, at least 32x32.
        include_top: whether to end with pooling and the ``predictions`` Dense.
        weights: ``None``, ``"imagenet"`` (Keras's h5 file) or the path of a weights file.
        input_tensor: optional tensor (an ``Input``) to build on.
        pooling: ``None``, ``"avg"`` or ``"max"`` for a headless model.
        classes: number of classes (with ``include_top``).
        classifier_activation: the ``predictions`` activation (``None`` for logits).
        name: the model's name.

    Returns:
        A functional ``Model`` taking images in [-1, 1] (:func:`preprocess_input`).

    Example:
        >>> from kerasish.applications.nasnet import NASNetLarge
        >>> NASNetLarge(weights=None, include_top=False, input_shape=(32, 32, 3)).output_shape  # doctest: +SKIP
        (None, 1, 1, 4032)
    """
    return NASNet(input_shape, penultimate_filters=4032, num_blocks=6, stem_block_filters=96, skip_reduction=True,
                  filter_multiplier=2, include_top=include_top, weights=weights, input_tensor=input_tensor,
                  pooling=pooling, classes=classes, default_size=331, classifier_activation=classifier_activation,
                  name=name)


def preprocess_input(x, data_format=None):
    """Keras's NASNet preprocessing ("tf"): pixels in [0, 255] scaled to [-1, 1].

    Example:
        >>> import numpy as np
        >>> from kerasish.applications.nasnet import preprocess_input
        >>> preprocess_input(np.array([[[[0.0, 127.5, 255.0]]]])).tolist()
        [[[[-1.0, 0.0, 1.0]]]]
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """See :func:`kerasish.applications.imagenet_utils.decode_predictions`."""
    return imagenet_utils.decode_predictions(preds, top=top)
