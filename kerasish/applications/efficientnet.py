"""EfficientNetB0 ... B3 (``keras.applications.efficientnet``) on torchvision's EfficientNet.

Stages: ``features_0`` ... ``features_8`` (torchvision's stem, MBConv stages
and head conv), then Keras's top: ``avg_pool``, ``top_dropout`` and
``predictions``. Preprocessing is part of the model as in Keras: the model
takes RGB pixels in [0, 255] and :func:`preprocess_input` is a pass-through.
Stochastic depth follows torchvision's (0.2, Keras's ``drop_connect_rate``).
"""

from __future__ import annotations

from kerasish import layers
from kerasish.applications import _torchvision_backbone as tvb
from kerasish.applications import imagenet_utils

__all__ = ["EfficientNetB0", "EfficientNetB1", "EfficientNetB2", "EfficientNetB3", "preprocess_input", "decode_predictions"]

# builder, weights enum, default size, top dropout (Keras's numbers)
_VARIANTS = {
    "B0": ("efficientnet_b0", "EfficientNet_B0_Weights.IMAGENET1K_V1", 224, 0.2),
    "B1": ("efficientnet_b1", "EfficientNet_B1_Weights.IMAGENET1K_V1", 240, 0.2),
    "B2": ("efficientnet_b2", "EfficientNet_B2_Weights.IMAGENET1K_V1", 260, 0.3),
    "B3": ("efficientnet_b3", "EfficientNet_B3_Weights.IMAGENET1K_V1", 300, 0.3),
}


def _efficientnet(variant, *, include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name):
    import torchvision
    from torch import nn

    builder, enum, size, dropout = _VARIANTS[variant]
    full = getattr(torchvision.models, builder)(weights=None)
    full.classifier = nn.Identity()
    groups = [(f"features_{i}", [f"features.{i}"]) for i in range(len(full.features))]

    def top(x):
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dropout(dropout, name="top_dropout")(x)
        dense = layers.Dense(classes, activation=classifier_activation, name="predictions")
        return dense(x), tvb.dense_head("classifier.1", dense)

    return tvb.build_application(
        pretty=f"EfficientNet{variant}", architecture=builder, arch_kwargs={}, full=full, groups=groups, top=top,
        weights_enum=enum, norm_mode="raw", default_size=size, include_top=include_top, weights=weights,
        input_tensor=input_tensor, input_shape=input_shape, pooling=pooling, classes=classes,
        classifier_activation=classifier_activation, name=name, ignored_prefixes=("classifier.",),
    )


_DOC = """Instantiates the EfficientNet{v} architecture (torchvision's ``{arch}``).

    Args:
        include_top, weights, input_tensor, input_shape, pooling, classes,
            classifier_activation, name: as for :func:`kerasish.applications.ResNet50`;
            the default input is {size}x{size}; ``weights="imagenet"`` loads ``{enum}``.

    Returns:
        A kerasish functional ``Model`` taking RGB pixels in [0, 255].

    Example:
        >>> from kerasish.applications import EfficientNet{v}
        >>> EfficientNet{v}(weights=None, input_shape=(64, 64, 3), include_top=False).output_shape
        (None, 2, 2, {ch})
    """


def EfficientNetB0(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000,
                   classifier_activation="softmax", name="efficientnetb0"):
    return _efficientnet("B0", include_top=include_top, weights=weights, input_tensor=input_tensor, input_shape=input_shape,
                         pooling=pooling, classes=classes, classifier_activation=classifier_activation, name=name)


def EfficientNetB1(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000,
                   classifier_activation="softmax", name="efficientnetb1"):
    return _efficientnet("B1", include_top=include_top, weights=weights, input_tensor=input_tensor, input_shape=input_shape,
                         pooling=pooling, classes=classes, classifier_activation=classifier_activation, name=name)


def EfficientNetB2(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000,
                   classifier_activation="softmax", name="efficientnetb2"):
    return _efficientnet("B2", include_top=include_top, weights=weights, input_tensor=input_tensor, input_shape=input_shape,
                         pooling=pooling, classes=classes, classifier_activation=classifier_activation, name=name)


def EfficientNetB3(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000,
                   classifier_activation="softmax", name="efficientnetb3"):
    return _efficientnet("B3", include_top=include_top, weights=weights, input_tensor=input_tensor, input_shape=input_shape,
                         pooling=pooling, classes=classes, classifier_activation=classifier_activation, name=name)


for _v, _fn, _ch in (("B0", EfficientNetB0, 1280), ("B1", EfficientNetB1, 1280), ("B2", EfficientNetB2, 1408), ("B3", EfficientNetB3, 1536)):
    _fn.__doc__ = _DOC.format(v=_v, arch=_VARIANTS[_v][0], size=_VARIANTS[_v][2], enum=_VARIANTS[_v][1], ch=_ch)


def preprocess_input(x, data_format=None):
    """A pass-through, as in Keras: EfficientNet models normalize their [0, 255] input themselves."""
    return x


def decode_predictions(preds, top=5):
    """See :func:`kerasish.applications.imagenet_utils.decode_predictions`."""
    return imagenet_utils.decode_predictions(preds, top=top)
