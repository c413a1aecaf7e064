"""EfficientNetB0 ... B7 (``keras.applications.efficientnet``), built layer by layer as Keras builds them.

Layers, names, order and weights are Keras's (``rescaling``, ``normalization``,
``stem_conv``, ``block1a_dwconv``, ``block2b_se_excite``, ... ``top_conv``,
``avg_pool``, ``top_dropout``, ``predictions``). Preprocessing is part of the
model as in Keras: it takes RGB pixels in [0, 255] and
:func:`preprocess_input` is a pass-through.

Pretrained weights: Keras's own ImageNet ``.h5`` files (the TensorFlow
reference weights). torchvision's EfficientNets are not the same network
(symmetric padding on stride-2 convolutions, BatchNorm epsilon 1e-5 and
different normalization), so their checkpoints are not offered here.
"""

from __future__ import annotations

import copy
import math

from kerasish import layers
from kerasish.applications import _building
from kerasish.applications import imagenet_utils
from kerasish.models.functional import Functional

__all__ = [f"EfficientNetB{i}" for i in range(8)] + ["EfficientNet", "preprocess_input", "decode_predictions"]

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/keras-applications/"
# Keras's hashes of its weight files: (with top, without top).
WEIGHTS_HASHES = {
    "b0": ("902e53a9f72be733fc0bcb005b3ebbac", "50bc09e76180e00e4465e1a485ddc09d"),
    "b1": ("1d254153d4ab51201f1646940f018540", "74c4e6b3e1f6a1eea24c589628592432"),
    "b2": ("b15cce36ff4dcbd00b6dd88e7857a6ad", "111f8e2ac8aa800a7a99e3239f7bfb39"),
    "b3": ("ffd1fdc53d0ce67064dc6a9c7960ede0", "af6d107764bb5b1abb91932881670226"),
    "b4": ("18c95ad55216b8f92d7e70b3a046e2fc", "ebc24e6d6c33eaebbd558eafbeedf1ba"),
    "b5": ("ace28f2a6363774853a83a0b21b9421a", "38879255a25d3c92d5e44e04ae6cec6f"),
    "b6": ("165f6e37dce68623721b423839de8be5", "9ecce42647a20130c1f39a5d4cb75743"),
    "b7": ("8c03f828fec3ef71311cd463b6759d99", "cbcfe4450ddf6f3ad90b1b398090fe4a"),
}

# (kernel, repeats, filters_in, filters_out, expand_ratio, strides) of the 7 stages; SE 0.25, identity skips.
_STAGES = [(3, 1, 32, 16, 1, 1), (3, 2, 16, 24, 6, 2), (5, 2, 24, 40, 6, 2), (3, 3, 40, 80, 6, 2),
           (5, 3, 80, 112, 6, 1), (5, 4, 112, 192, 6, 2), (3, 1, 192, 320, 6, 1)]
DEFAULT_BLOCKS_ARGS = [
    {"kernel_size": k, "repeats": r, "filters_in": fi, "filters_out": fo, "expand_ratio": e, "id_skip": True,
     "strides": s, "se_ratio": 0.25}
    for k, r, fi, fo, e, s in _STAGES
]
CONV_KERNEL_INITIALIZER = {"class_name": "VarianceScaling",
                           "config": {"scale": 2.0, "mode": "fan_out", "distribution": "truncated_normal"}}
DENSE_KERNEL_INITIALIZER = {"class_name": "VarianceScaling",
                            "config": {"scale": 1.0 / 3.0, "mode": "fan_out", "distribution": "uniform"}}
IMAGENET_STDDEV_RGB = [0.229, 0.224, 0.225]

# width, depth, default size, top dropout (Keras's coefficients)
_VARIANTS = {
    "b0": (1.0, 1.0, 224, 0.2), "b1": (1.0, 1.1, 240, 0.2), "b2": (1.1, 1.2, 260, 0.3), "b3": (1.2, 1.4, 300, 0.3),
    "b4": (1.4, 1.8, 380, 0.4), "b5": (1.6, 2.2, 456, 0.4), "b6": (1.8, 2.6, 528, 0.5), "b7": (2.0, 3.1, 600, 0.5),
}


def block(inputs, activation="swish", drop_rate=0.0, name="", filters_in=32, filters_out=16, kernel_size=3, strides=1,
          expand_ratio=1, se_ratio=0.0, id_skip=True):
    """One MBConv block (expand, depthwise, squeeze-excite, project, skip) with Keras's layer names."""
    filters = filters_in * expand_ratio
    if expand_ratio != 1:
        x = layers.Conv2D(filters, 1, padding="same", use_bias=False, kernel_initializer=CONV_KERNEL_INITIALIZER,
                          name=f"{name}expand_conv")(inputs)
        x = layers.BatchNormalization(axis=3, name=f"{name}expand_bn")(x)
        x = layers.Activation(activation, name=f"{name}expand_activation")(x)
    else:
        x = inputs
    if strides == 2:
        x = layers.ZeroPadding2D(padding=_building.correct_pad(x, kernel_size), name=f"{name}dwconv_pad")(x)
    x = layers.DepthwiseConv2D(kernel_size, strides=strides, padding="valid" if strides == 2 else "same", use_bias=False,
                               depthwise_initializer=CONV_KERNEL_INITIALIZER, name=f"{name}dwconv")(x)
    x = layers.BatchNormalization(axis=3, name=f"{name}bn")(x)
    x = layers.Activation(activation, name=f"{name}activation")(x)
    if 0 < se_ratio <= 1:
        filters_se = max(1, int(filters_in * se_ratio))
        se = layers.GlobalAveragePooling2D(name=f"{name}se_squeeze")(x)
        se = layers.Reshape((1, 1, filters), name=f"{name}se_reshape")(se)
        se = layers.Conv2D(filters_se, 1, padding="same", activation=activation,
                           kernel_initializer=CONV_KERNEL_INITIALIZER, name=f"{name}se_reduce")(se)
        se = layers.Conv2D(filters, 1, padding="same", activation="sigmoid",
                           kernel_initializer=CONV_KERNEL_INITIALIZER, name=f"{name}se_expand")(se)
        x = layers.multiply([x, se], name=f"{name}se_excite")
    x = layers.Conv2D(filters_out, 1, padding="same", use_bias=False, kernel_initializer=CONV_KERNEL_INITIALIZER,
                      name=f"{name}project_conv")(x)
    x = layers.BatchNormalization(axis=3, name=f"{name}project_bn")(x)
    if id_skip and strides == 1 and filters_in == filters_out:
        if drop_rate > 0:
            # Stochastic depth: a whole sample's residual branch is dropped.
            x = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{name}drop")(x)
        x = layers.add([x, inputs], name=f"{name}add")
    return x


def EfficientNet(width_coefficient, depth_coefficient, default_size, dropout_rate=0.2, drop_connect_rate=0.2,
                 depth_divisor=8, activation="swish", blocks_args="default", name="efficientnet", include_top=True,
                 weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000,
                 classifier_activation="softmax", weights_name=None):
    """Builds an EfficientNet of any scaling, as Keras's ``EfficientNet``.

    Args:
        width_coefficient: channel scaling.
        depth_coefficient: block-repeat scaling.
        default_size: the default input size.
        dropout_rate: dropout before the classifier.
        drop_connect_rate: the largest stochastic-depth rate (grows linearly over the blocks).
        depth_divisor: channel counts are multiples of this.
        activation: the blocks' activation.
        blocks_args: ``"default"`` or a list of per-stage dicts (see ``DEFAULT_BLOCKS_ARGS``).
        others: ``name``, ``include_top``, ``weights``, ``input_tensor``, ``input_shape``, ``pooling``,
            ``classes`` and ``classifier_activation`` as for :func:`EfficientNetB0`.
        weights_name: ``"b0"`` ... ``"b7"``: which of Keras's weight files ``weights="imagenet"`` loads.

    Returns:
        A functional ``Model`` taking RGB pixels in [0, 255].

    Example:
        >>> from kerasish.applications.efficientnet import EfficientNet
        >>> EfficientNet(0.5, 0.5, 64, weights=None, input_shape=(32, 32, 3), include_top=False).output_shape
        (None, 1, 1, 640)
    """
    blocks_args = DEFAULT_BLOCKS_ARGS if blocks_args == "default" else blocks_args
    inputs, x, _ = _building.application_input(
        "EfficientNet", weights=weights, include_top=include_top, classes=classes, pooling=pooling,
        classifier_activation=classifier_activation, input_shape=input_shape, input_tensor=input_tensor,
        default_size=default_size)

    def round_filters(filters, divisor=depth_divisor):
        filters *= width_coefficient
        new_filters = max(divisor, int(filters + divisor / 2) // divisor * divisor)
        if new_filters < 0.9 * filters:  # never round down by more than 10%
            new_filters += divisor
        return int(new_filters)

    def round_repeats(repeats):
        return int(math.ceil(depth_coefficient * repeats))

    x = layers.Rescaling(1.0 / 255.0)(x)
    # Unadapted (mean 0, variance 1) until weights set its ImageNet statistics.
    x = layers.Normalization(axis=3)(x)
    if weights == "imagenet":
        # Keras's weight files store the variance where the standard deviation
        # belongs; this rescaling corrects it (as in Keras).
        x = layers.Rescaling([1.0 / math.sqrt(s) for s in IMAGENET_STDDEV_RGB])(x)
    x = layers.ZeroPadding2D(padding=_building.correct_pad(x, 3), name="stem_conv_pad")(x)
    x = layers.Conv2D(round_filters(32), 3, strides=2, padding="valid", use_bias=False,
                      kernel_initializer=CONV_KERNEL_INITIALIZER, name="stem_conv")(x)
    x = layers.BatchNormalization(axis=3, name="stem_bn")(x)
    x = layers.Activation(activation, name="stem_activation")(x)

    blocks_args = copy.deepcopy(blocks_args)
    b = 0
    blocks = float(sum(round_repeats(args["repeats"]) for args in blocks_args))
    for i, args in enumerate(blocks_args):
        if args["repeats"] <= 0:
            raise ValueError(f"EfficientNet: the number of repeats of each stage must be > 0. Received: repeats={args['repeats']}")
        args["filters_in"] = round_filters(args["filters_in"])
        args["filters_out"] = round_filters(args["filters_out"])
        for j in range(round_repeats(args.pop("repeats"))):
            if j > 0:
                args["strides"] = 1
                args["filters_in"] = args["filters_out"]
            x = block(x, activation, drop_connect_rate * b / blocks, name=f"block{i + 1}{chr(j + 97)}_", **args)
            b += 1

    x = layers.Conv2D(round_filters(1280), 1, padding="same", use_bias=False, kernel_initializer=CONV_KERNEL_INITIALIZER,
                      name="top_conv")(x)
    x = layers.BatchNormalization(axis=3, name="top_bn")(x)
    x = layers.Activation(activation, name="top_activation")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate, name="top_dropout")(x)
        x = layers.Dense(classes, activation=classifier_activation, kernel_initializer=DENSE_KERNEL_INITIALIZER,
                         name="predictions")(x)
    else:
        x = _building.pool(x, pooling)
    model = Functional(inputs, x, name=name)
    file_name = file_hash = None
    if weights_name is not None:
        file_name = name + (".h5" if include_top else "_notop.h5")
        file_hash = WEIGHTS_HASHES[weights_name][0 if include_top else 1]
    _building.load_weights(model, weights, name, file_name, BASE_WEIGHTS_PATH + (file_name or ""), file_hash)
    return model


def _variant(key):
    width, depth, size, dropout = _VARIANTS[key]

    def builder(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000,
                classifier_activation="softmax", name=f"efficientnet{key}"):
        return EfficientNet(width, depth, size, dropout, name=name, include_top=include_top, weights=weights,
                            input_tensor=input_tensor, input_shape=input_shape, pooling=pooling, classes=classes,
                            classifier_activation=classifier_activation, weights_name=key)

    skip = "" if key in ("b0", "b1", "b2") else "  # doctest: +SKIP"  # big: slow to build
    builder.__name__ = builder.__qualname__ = f"EfficientNet{key.upper()}"
    builder.__doc__ = f"""Instantiates EfficientNet{key.upper()} as Keras builds it (default input {size}x{size}).

    Args:
        include_top: whether to end with ``avg_pool``, ``top_dropout`` ({dropout}) and the ``predictions`` Dense.
        weights: ``None``, ``"imagenet"`` (Keras's h5 file) or the path of a weights file.
        input_tensor: optional tensor (an ``Input``) to build on.
        input_shape: optional ``(height, width, 3)``, at least 32x32.
        pooling: ``None``, ``"avg"`` or ``"max"`` for a headless model.
        classes: number of classes (with ``include_top``).
        classifier_activation: the ``predictions`` activation (``None`` for logits).
        name: the model's name (``"efficientnet{key}"``).

    Returns:
        A functional ``Model`` taking RGB pixels in [0, 255] (preprocessing is inside).

    Example:
        >>> from kerasish.applications.efficientnet import EfficientNet{key.upper()}
        >>> EfficientNet{key.upper()}(weights=None, include_top=False, input_shape=(32, 32, 3)).output_shape[:3]{skip}
        (None, 1, 1)
    """
    return builder


EfficientNetB0 = _variant("b0")
EfficientNetB1 = _variant("b1")
EfficientNetB2 = _variant("b2")
EfficientNetB3 = _variant("b3")
EfficientNetB4 = _variant("b4")
EfficientNetB5 = _variant("b5")
EfficientNetB6 = _variant("b6")
EfficientNetB7 = _variant("b7")


def preprocess_input(x, data_format=None):
    """A pass-through, as in Keras: EfficientNet models normalize inside.

    Example:
        >>> from kerasish.applications.efficientnet import preprocess_input
        >>> preprocess_input([1.0, 255.0])
        [1.0, 255.0]
    """
    return x


def decode_predictions(preds, top=5):
    """See :func:`kerasish.applications.imagenet_utils.decode_predictions`."""
    return imagenet_utils.decode_predictions(preds, top=top)
