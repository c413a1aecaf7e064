"""MobileNetV3Small / MobileNetV3Large (``keras.applications.mobilenet_v3``) on torchvision's.

Stages: ``features_0`` ... (torchvision's ``features`` blocks; the last is the
1x1 conv to 576 / 960 channels, Keras's ``Conv_1``), then the top as Keras
draws it: ``avg_pool``, ``Conv_2`` (1024 / 1280 units, hard_swish; a Dense
here, a 1x1 Conv2D on a 1x1 map in Keras: the same weights and counts),
``dropout`` (``dropout_rate``) and ``predictions``.

Preprocessing is part of the model as in Keras: with
``include_preprocessing=True`` (default) the model takes RGB pixels in [0, 255]
and :func:`preprocess_input` is a pass-through; with ``False`` it takes [-1, 1].
"""

from __future__ import annotations

from kerasish import layers
from kerasish.applications import _torchvision_backbone as tvb
from kerasish.applications import imagenet_utils

__all__ = ["MobileNetV3Small", "MobileNetV3Large", "preprocess_input", "decode_predictions"]


def _mobilenet_v3(builder, enum, pretty, last_units, *, input_shape, alpha, minimalistic, include_top, weights,
                  input_tensor, classes, pooling, dropout_rate, classifier_activation, include_preprocessing, name):
    import torchvision
    from torch import nn

    if alpha != 1.0 or minimalistic:
        raise ValueError(
            f"{pretty}: kerasish builds torchvision's {builder}, which has alpha=1.0 and minimalistic=False only. "
            f"Received: alpha={alpha}, minimalistic={minimalistic}"
        )
    full = getattr(torchvision.models, builder)(weights=None)
    full.classifier = nn.Identity()
    groups = [(f"features_{i}", [f"features.{i}"]) for i in range(len(full.features))]

    def top(x):
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        conv2 = layers.Dense(last_units, activation="hard_swish", name="Conv_2")
        x = conv2(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate, name="dropout")(x)
        pred = layers.Dense(classes, activation=classifier_activation, name="predictions")
        head = tvb.dense_head("classifier.0", conv2)
        head.update(tvb.dense_head("classifier.3", pred))
        return pred(x), head

    return tvb.build_application(
        pretty=pretty, architecture=builder, arch_kwargs={}, full=full, groups=groups, top=top, weights_enum=enum,
        norm_mode="raw" if include_preprocessing else "tf", default_size=224, include_top=include_top, weights=weights,
        input_tensor=input_tensor, input_shape=input_shape, pooling=pooling, classes=classes,
        classifier_activation=classifier_activation, name=name, ignored_prefixes=("classifier.",),
    )


_DOC = """Instantiates the {pretty} architecture (torchvision's ``{arch}``).

    Args:
        input_shape: optional ``(height, width, channels)``, at least 32x32.
        alpha, minimalistic: Keras's variants; only 1.0 / False (torchvision's model).
        include_top, weights, input_tensor, classes, pooling, classifier_activation:
            as for :func:`kerasish.applications.ResNet50`; ``weights="imagenet"``
            loads ``{enum}``.
        dropout_rate: dropout before the last layer of the top (0.2).
        include_preprocessing: the model takes [0, 255] pixels (True) or [-1, 1] (False).
        name: the model's name.

    Example:
        >>> from kerasish.applications import {pretty}
        >>> {pretty}(weights=None, input_shape=(64, 64, 3)).output_shape
        (None, 1000)
    """


def MobileNetV3Small(input_shape=None, alpha=1.0, minimalistic=False, include_top=True, weights="imagenet",
                     input_tensor=None, classes=1000, pooling=None, dropout_rate=0.2, classifier_activation="softmax",
                     include_preprocessing=True, name="MobileNetV3Small"):
    return _mobilenet_v3("mobilenet_v3_small", "MobileNet_V3_Small_Weights.IMAGENET1K_V1", "MobileNetV3Small", 1024,
                         input_shape=input_shape, alpha=alpha, minimalistic=minimalistic, include_top=include_top,
                         weights=weights, input_tensor=input_tensor, classes=classes, pooling=pooling,
                         dropout_rate=dropout_rate, classifier_activation=classifier_activation,
                         include_preprocessing=include_preprocessing, name=name)


def MobileNetV3Large(input_shape=None, alpha=1.0, minimalistic=False, include_top=True, weights="imagenet",
                     input_tensor=None, classes=1000, pooling=None, dropout_rate=0.2, classifier_activation="softmax",
                     include_preprocessing=True, name="MobileNetV3Large"):
    return _mobilenet_v3("mobilenet_v3_large", "MobileNet_V3_Large_Weights.IMAGENET1K_V2", "MobileNetV3Large", 1280,
                         input_shape=input_shape, alpha=alpha, minimalistic=minimalistic, include_top=include_top,
                         weights=weights, input_tensor=input_tensor, classes=classes, pooling=pooling,
                         dropout_rate=dropout_rate, classifier_activation=classifier_activation,
                         include_preprocessing=include_preprocessing, name=name)


MobileNetV3Small.__doc__ = _DOC.format(pretty="MobileNetV3Small", arch="mobilenet_v3_small", enum="MobileNet_V3_Small_Weights.IMAGENET1K_V1")
MobileNetV3Large.__doc__ = _DOC.format(pretty="MobileNetV3Large", arch="mobilenet_v3_large", enum="MobileNet_V3_Large_Weights.IMAGENET1K_V2")


def preprocess_input(x, data_format=None):
    """A pass-through, as in Keras: MobileNetV3 models normalize their [0, 255] input themselves."""
    return x


def decode_predictions(preds, top=5):
    """See :func:`kerasish.applications.imagenet_utils.decode_predictions`."""
    return imagenet_utils.decode_predictions(preds, top=top)
