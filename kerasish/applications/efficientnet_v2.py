"""EfficientNetV2B0 ... B3, S, M, L (``keras.applications.efficientnet_v2``), built as Keras builds them.

Layers, names, order and weights are Keras's (``rescaling``, ``normalization``
for the B models, ``stem_conv``, Fused-MBConv blocks ``block1a_project_conv``,
MBConv blocks ``block4a_dwconv2`` / ``_se_excite``, ..., ``top_conv``,
``avg_pool``, ``top_dropout``, ``predictions``). Preprocessing is part of the
model (``include_preprocessing=True``): it takes RGB pixels in [0, 255] and
:func:`preprocess_input` is a pass-through.

One difference: Keras picks the block table (and the preprocessing) from the
model's ``name``, so a custom ``name`` fails there; here they come from the
variant, and any ``name`` works.

Pretrained weights: Keras's own ImageNet ``.h5`` files (the TensorFlow
reference weights; S / M / L pre-trained on ImageNet-21k, fine-tuned on 1k).
torchvision's ``efficientnet_v2_s/m/l`` are not the same network (they pad
stride-2 convolutions symmetrically, Keras's "same" pads bottom / right on even
sizes; torchvision normalizes inputs differently), so their checkpoints are
not offered here.
"""

from __future__ import annotations

import copy
import math

from kerasish import initializers, layers
from kerasish.applications import _building
from kerasish.applications import imagenet_utils
from kerasish.models.functional import Functional

__all__ = ["EfficientNetV2B0", "EfficientNetV2B1", "EfficientNetV2B2", "EfficientNetV2B3", "EfficientNetV2S",
           "EfficientNetV2M", "EfficientNetV2L", "EfficientNetV2", "preprocess_input", "decode_predictions"]

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/efficientnet_v2/"
# Keras's md5 of its weight files: (with top, without top).
WEIGHTS_HASHES = {
    "b0": ("21ecbf6da12460d5c40bb2f29ceb2188", "893217f2bb855e2983157299931e43ff"),
    "b1": ("069f0534ff22adf035c89e2d9547a9dc", "0e80663031ca32d657f9caa404b6ec37"),
    "b2": ("424e49f28180edbde1e94797771950a7", "1dfe2e7a5d45b6632553a8961ea609eb"),
    "b3": ("1f1fc43bd98a6e4fd8fdfd551e02c7a0", "f6abf7b5849ac99a89b50dd3fd532856"),
    "-s": ("e1d88a8495beba45748fedd0cecbe016", "af0682fb74e8c54910f2d4393339c070"),
    "-m": ("a3bf6aa3276309f4fc6a34aa114c95cd", "1b8dc055df72dde80d614482840fe342"),
    "-l": ("27e6d408b53c7ebc868fefa357689935", "b0b66b5c863aef5b46e8608fe1711615"),
}

_KEYS = ("kernel_size", "num_repeat", "input_filters", "output_filters", "expand_ratio", "se_ratio", "strides", "conv_type")
_B = [(3, 1, 32, 16, 1, 0, 1, 1), (3, 2, 16, 32, 4, 0, 2, 1), (3, 2, 32, 48, 4, 0, 2, 1), (3, 3, 48, 96, 4, 0.25, 2, 0),
      (3, 5, 96, 112, 6, 0.25, 1, 0), (3, 8, 112, 192, 6, 0.25, 2, 0)]
_TABLES = {
    "s": [(3, 2, 24, 24, 1, 0.0, 1, 1), (3, 4, 24, 48, 4, 0.0, 2, 1), (3, 4, 48, 64, 4, 0, 2, 1),
          (3, 6, 64, 128, 4, 0.25, 2, 0), (3, 9, 128, 160, 6, 0.25, 1, 0), (3, 15, 160, 256, 6, 0.25, 2, 0)],
    "m": [(3, 3, 24, 24, 1, 0, 1, 1), (3, 5, 24, 48, 4, 0, 2, 1), (3, 5, 48, 80, 4, 0, 2, 1), (3, 7, 80, 160, 4, 0.25, 2, 0),
          (3, 14, 160, 176, 6, 0.25, 1, 0), (3, 18, 176, 304, 6, 0.25, 2, 0), (3, 5, 304, 512, 6, 0.25, 1, 0)],
    "l": [(3, 4, 32, 32, 1, 0, 1, 1), (3, 7, 32, 64, 4, 0, 2, 1), (3, 7, 64, 96, 4, 0, 2, 1), (3, 10, 96, 192, 4, 0.25, 2, 0),
          (3, 19, 192, 224, 6, 0.25, 1, 0), (3, 25, 224, 384, 6, 0.25, 2, 0), (3, 7, 384, 640, 6, 0.25, 1, 0)],
    "b0": _B, "b1": _B, "b2": _B, "b3": _B,
}
# Keras's block tables, keyed by Keras's model names (conv_type 0: MBConv, 1: Fused-MBConv).
DEFAULT_BLOCKS_ARGS = {f"efficientnetv2-{k}": [dict(zip(_KEYS, row)) for row in rows] for k, rows in _TABLES.items()}
CONV_KERNEL_INITIALIZER = {"class_name": "VarianceScaling",
                           "config": {"scale": 2.0, "mode": "fan_out", "distribution": "truncated_normal"}}
DENSE_KERNEL_INITIALIZER = {"class_name": "VarianceScaling",
                            "config": {"scale": 1.0 / 3.0, "mode": "fan_out", "distribution": "uniform"}}

# width, depth, default size, Keras's weights key
_VARIANTS = {"b0": (1.0, 1.0, 224, "b0"), "b1": (1.0, 1.1, 240, "b1"), "b2": (1.1, 1.2, 260, "b2"),
             "b3": (1.2, 1.4, 300, "b3"), "s": (1.0, 1.0, 384, "-s"), "m": (1.0, 1.0, 480, "-m"), "l": (1.0, 1.0, 480, "-l")}


def round_filters(filters, width_coefficient, min_depth, depth_divisor):
    """Scale a channel count and round it to a multiple of ``depth_divisor`` (Keras's rule)."""
    filters *= width_coefficient
    minimum_depth = min_depth or depth_divisor
    return int(max(minimum_depth, int(filters + depth_divisor / 2) // depth_divisor * depth_divisor))


def round_repeats(repeats, depth_coefficient):
    """Scale a block count (rounded up)."""
    return int(math.ceil(depth_coefficient * repeats))


def _conv(filters, kernel_size, strides, name, **kwargs):
    return layers.Conv2D(filters, kernel_size, strides=strides, kernel_initializer=CONV_KERNEL_INITIALIZER, padding="same",
                         use_bias=False, name=name, **kwargs)


def _squeeze_excite(x, filters, input_filters, se_ratio, activation, name):
    filters_se = max(1, int(input_filters * se_ratio))
    se = layers.GlobalAveragePooling2D(name=f"{name}se_squeeze")(x)
    se = layers.Reshape((1, 1, filters), name=f"{name}se_reshape")(se)
    se = layers.Conv2D(filters_se, 1, padding="same", activation=activation, kernel_initializer=CONV_KERNEL_INITIALIZER,
                       name=f"{name}se_reduce")(se)
    se = layers.Conv2D(filters, 1, padding="same", activation="sigmoid", kernel_initializer=CONV_KERNEL_INITIALIZER,
                       name=f"{name}se_expand")(se)
    return layers.multiply([x, se], name=f"{name}se_excite")


def _residual(x, inputs, drop_rate, name):
    if drop_rate:
        # Keras calls it survival_probability; it is the rate of dropping a sample's branch.
        x = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{name}drop")(x)
    return layers.add([x, inputs], name=f"{name}add")


def mb_conv_block(inputs, input_filters, output_filters, expand_ratio=1, kernel_size=3, strides=1, se_ratio=0.0,
                  bn_momentum=0.9, activation="swish", survival_probability=0.8, name=""):
    """MBConv: 1x1 expand, depthwise, squeeze-excite, 1x1 project, residual."""
    filters = input_filters * expand_ratio
    x = inputs
    if expand_ratio != 1:
        x = _conv(filters, 1, 1, f"{name}expand_conv")(x)
        x = layers.BatchNormalization(axis=3, momentum=bn_momentum, name=f"{name}expand_bn")(x)
        x = layers.Activation(activation, name=f"{name}expand_activation")(x)
    x = layers.DepthwiseConv2D(kernel_size, strides=strides, depthwise_initializer=CONV_KERNEL_INITIALIZER, padding="same",
                               use_bias=False, name=f"{name}dwconv2")(x)
    x = layers.BatchNormalization(axis=3, momentum=bn_momentum, name=f"{name}bn")(x)
    x = layers.Activation(activation, name=f"{name}activation")(x)
    if 0 < se_ratio <= 1:
        x = _squeeze_excite(x, filters, input_filters, se_ratio, activation, name)
    x = _conv(output_filters, 1, 1, f"{name}project_conv")(x)
    x = layers.BatchNormalization(axis=3, momentum=bn_momentum, name=f"{name}project_bn")(x)
    if strides == 1 and input_filters == output_filters:
        x = _residual(x, inputs, survival_probability, name)
    return x


def fused_mb_conv_block(inputs, input_filters, output_filters, expand_ratio=1, kernel_size=3, strides=1, se_ratio=0.0,
                        bn_momentum=0.9, activation="swish", survival_probability=0.8, name=""):
    """Fused-MBConv: one full kxk expand convolution in place of 1x1 + depthwise."""
    filters = input_filters * expand_ratio
    x = inputs
    if expand_ratio != 1:
        x = _conv(filters, kernel_size, strides, f"{name}expand_conv")(x)
        x = layers.BatchNormalization(axis=3, momentum=bn_momentum, name=f"{name}expand_bn")(x)
        x = layers.Activation(activation, name=f"{name}expand_activation")(x)
    if 0 < se_ratio <= 1:
        x = _squeeze_excite(x, filters, input_filters, se_ratio, activation, name)
    x = _conv(output_filters, 1 if expand_ratio != 1 else kernel_size, 1 if expand_ratio != 1 else strides,
              f"{name}project_conv")(x)
    x = layers.BatchNormalization(axis=3, momentum=bn_momentum, name=f"{name}project_bn")(x)
    if expand_ratio == 1:
        x = layers.Activation(activation, name=f"{name}project_activation")(x)
    if strides == 1 and input_filters == output_filters:
        x = _residual(x, inputs, survival_probability, name)
    return x


def EfficientNetV2(width_coefficient, depth_coefficient, default_size, dropout_rate=0.2, drop_connect_rate=0.2,
                   depth_divisor=8, min_depth=8, bn_momentum=0.9, activation="swish", blocks_args="default",
                   name="efficientnetv2", include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
                   pooling=None, classes=1000, classifier_activation="softmax", include_preprocessing=True,
                   weights_name=None):
    """Builds an EfficientNetV2 of any scaling, as Keras's ``EfficientNetV2``.

    Args:
        width_coefficient, depth_coefficient: channel and block-count scaling.
        default_size: the default input size.
        dropout_rate: dropout before the classifier.
        drop_connect_rate: the largest stochastic-depth rate (grows linearly over the blocks).
        depth_divisor, min_depth: channel rounding.
        bn_momentum: BatchNormalization momentum.
        activation: the blocks' activation.
        blocks_args: ``"default"`` (the table of ``weights_name``'s variant, else of ``name``) or a list of dicts.
        name, include_top, weights, input_tensor, input_shape, pooling, classes,
            classifier_activation, include_preprocessing: as for :func:`EfficientNetV2B0`.
        weights_name: ``"b0"`` ... ``"b3"``, ``"-s"``, ``"-m"``, ``"-l"``: the variant (Keras's weight files).

    Returns:
        A functional ``Model``.

    Example:
        >>> from kerasish.applications.efficientnet_v2 import EfficientNetV2
        >>> EfficientNetV2(0.5, 0.5, 64, weights=None, input_shape=(32, 32, 3), include_top=False,
        ...                weights_name="b0").output_shape
        (None, 1, 1, 640)
    """
    key = f"efficientnetv2-{weights_name.lstrip('-')}" if weights_name else name
    if blocks_args == "default":
        if key not in DEFAULT_BLOCKS_ARGS:
            raise ValueError(f"EfficientNetV2: no default block table for model '{key}'; pass `blocks_args` or "
                             f"`weights_name` (one of {sorted(WEIGHTS_HASHES)}).")
        blocks_args = DEFAULT_BLOCKS_ARGS[key]
    inputs, x, input_shape = _building.application_input(
        "EfficientNetV2", weights=weights, include_top=include_top, classes=classes, pooling=pooling,
        classifier_activation=classifier_activation, input_shape=input_shape, input_tensor=input_tensor,
        default_size=default_size)

    def filters_of(n):
        return round_filters(n, width_coefficient, min_depth, depth_divisor)

    if include_preprocessing:
        if key.split("-")[-1].startswith("b") and input_shape[-1] == 3:
            # The B models were trained on ImageNet-normalized inputs, S / M / L on [-1, 1].
            x = layers.Rescaling(scale=1.0 / 255)(x)
            x = layers.Normalization(mean=[0.485, 0.456, 0.406], variance=[0.229**2, 0.224**2, 0.225**2], axis=3)(x)
        else:
            x = layers.Rescaling(scale=1.0 / 128.0, offset=-1)(x)
    x = _conv(filters_of(blocks_args[0]["input_filters"]), 3, 2, "stem_conv")(x)
    x = layers.BatchNormalization(axis=3, momentum=bn_momentum, name="stem_bn")(x)
    x = layers.Activation(activation, name="stem_activation")(x)

    blocks_args = copy.deepcopy(blocks_args)
    b = 0
    blocks = float(sum(args["num_repeat"] for args in blocks_args))
    for i, args in enumerate(blocks_args):
        if args["num_repeat"] <= 0:
            raise ValueError(f"EfficientNetV2: the number of repeats of each stage must be > 0. "
                             f"Received: num_repeat={args['num_repeat']}")
        args["input_filters"] = filters_of(args["input_filters"])
        args["output_filters"] = filters_of(args["output_filters"])
        block = {0: mb_conv_block, 1: fused_mb_conv_block}[args.pop("conv_type")]
        for j in range(round_repeats(args.pop("num_repeat"), depth_coefficient)):
            if j > 0:
                args["strides"] = 1
                args["input_filters"] = args["output_filters"]
            x = block(x, activation=activation, bn_momentum=bn_momentum, survival_probability=drop_connect_rate * b / blocks,
                      name=f"block{i + 1}{chr(j + 97)}_", **args)
            b += 1

    x = _conv(filters_of(1280), 1, 1, "top_conv")(x)
    x = layers.BatchNormalization(axis=3, momentum=bn_momentum, name="top_bn")(x)
    x = layers.Activation(activation=activation, name="top_activation")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate, name="top_dropout")(x)
        x = layers.Dense(classes, activation=classifier_activation, kernel_initializer=DENSE_KERNEL_INITIALIZER,
                         bias_initializer=initializers.Constant(0.0), name="predictions")(x)
    else:
        x = _building.pool(x, pooling)
    model = Functional(inputs, x, name=name)
    file_name = file_hash = None
    if weights_name in WEIGHTS_HASHES:
        # Keras names the file after the model (its default name).
        file_name = f"efficientnetv2-{weights_name.lstrip('-')}" + (".h5" if include_top else "_notop.h5")
        file_hash = WEIGHTS_HASHES[weights_name][0 if include_top else 1]
    _building.load_weights(model, weights, name, file_name, BASE_WEIGHTS_PATH + (file_name or ""), file_hash)
    return model


def _variant(size):
    width, depth, default, weights_name = _VARIANTS[size]
    pretty = f"EfficientNetV2{size.upper()}"

    def builder(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000,
                classifier_activation="softmax", include_preprocessing=True, name=f"efficientnetv2-{size}"):
        return EfficientNetV2(width, depth, default, name=name, include_top=include_top, weights=weights,
                              input_tensor=input_tensor, input_shape=input_shape, pooling=pooling, classes=classes,
                              classifier_activation=classifier_activation, include_preprocessing=include_preprocessing,
                              weights_name=weights_name)

    skip = "" if size in ("b0", "b1") else "  # doctest: +SKIP"  # big: slow to build
    builder.__name__ = builder.__qualname__ = pretty
    builder.__doc__ = f"""Instantiates {pretty} as Keras builds it (default input {default}x{default}).

    Args:
        include_top: whether to end with ``avg_pool``, ``top_dropout`` and the ``predictions`` Dense.
        weights: ``None``, ``"imagenet"`` (Keras's h5 file) or the path of a weights file.
        input_tensor: optional tensor (an ``Input``) to build on.
        input_shape: optional ``(height, width, 3)``, at least 32x32.
        pooling: ``None``, ``"avg"`` or ``"max"`` for a headless model.
        classes: number of classes (with ``include_top``).
        classifier_activation: the ``predictions`` activation (``None`` for logits).
        include_preprocessing: start with the input scaling (inputs are RGB pixels in [0, 255]).
        name: the model's name (``"efficientnetv2-{size}"``).

    Returns:
        A functional ``Model``.

    Example:
        >>> from kerasish.applications.efficientnet_v2 import {pretty}
        >>> {pretty}(weights=None, include_top=False, input_shape=(32, 32, 3)).output_shape[:3]{skip}
        (None, 1, 1)
    """
    return builder


EfficientNetV2B0 = _variant("b0")
EfficientNetV2B1 = _variant("b1")
EfficientNetV2B2 = _variant("b2")
EfficientNetV2B3 = _variant("b3")
EfficientNetV2S = _variant("s")
EfficientNetV2M = _variant("m")
EfficientNetV2L = _variant("l")


def preprocess_input(x, data_format=None):
    """A pass-through, as in Keras: EfficientNetV2 models preprocess inside.

    Example:
        >>> from kerasish.applications.efficientnet_v2 import preprocess_input
        >>> preprocess_input([0.0, 255.0])
        [0.0, 255.0]
    """
    return x


def decode_predictions(preds, top=5):
    """See :func:`kerasish.applications.imagenet_utils.decode_predictions`."""
    return imagenet_utils.decode_predictions(preds, top=top)
