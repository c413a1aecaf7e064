"""MobileNetV2 (``keras.applications.mobilenet_v2``) on torchvision's ``mobilenet_v2``.

Stages: ``features_0`` ... ``features_18`` (torchvision's ``features`` blocks),
then Keras's top: ``avg_pool`` and ``predictions`` (torchvision's
``Dropout(0.2)`` before its classifier is left out, as Keras has none).
Inputs: :func:`preprocess_input` ("tf": [-1, 1]), converted inside the model.
"""

from __future__ import annotations

from kerasish import layers
from kerasish.applications import _torchvision_backbone as tvb
from kerasish.applications import imagenet_utils

__all__ = ["MobileNetV2", "preprocess_input", "decode_predictions"]


def MobileNetV2(input_shape=None, alpha=1.0, include_top=True, weights="imagenet", input_tensor=None, pooling=None,
                classes=1000, classifier_activation="softmax", name=None):
    """Instantiates the MobileNetV2 architecture (torchvision's ``mobilenet_v2``).

    Args:
        input_shape: optional ``(height, width, channels)``, at least 32x32.
        alpha: width multiplier (torchvision's ``width_mult``); ImageNet
            weights exist for 1.0 only.
        include_top: as for :func:`kerasish.applications.ResNet50`.
        weights: ``"imagenet"`` loads ``MobileNet_V2_Weights.IMAGENET1K_V2``; else as for ResNet50.
        input_tensor: as for ResNet50.
        pooling: as for ResNet50.
        classes: as for ResNet50.
        classifier_activation: as for ResNet50.
        name: the model's name (default ``mobilenetv2_{alpha:0.2f}_{rows}``, as Keras).

    Returns:
        A kerasish functional ``Model`` taking images in [-1, 1] (:func:`preprocess_input`).

    Example:
        >>> from kerasish.applications import MobileNetV2
        >>> MobileNetV2(weights=None, input_shape=(64, 64, 3)).output_shape
        (None, 1000)
    """
    import torchvision
    from torch import nn

    if weights == "imagenet" and alpha != 1.0:
        raise ValueError(f"torchvision has ImageNet weights for MobileNetV2 with alpha=1.0 only. Received: alpha={alpha}")
    full = torchvision.models.mobilenet_v2(weights=None, width_mult=float(alpha))
    full.classifier = nn.Identity()
    groups = [(f"features_{i}", [f"features.{i}"]) for i in range(len(full.features))]
    shape_for_name = tvb.obtain_input_shape(input_shape, 224, 32, include_top, weights) if input_tensor is None else (None,)
    rows = shape_for_name[0] if shape_for_name[0] is not None else 224
    if name is None:
        name = f"mobilenetv2_{float(alpha):0.2f}_{rows}"

    def top(x):
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        dense = layers.Dense(classes, activation=classifier_activation, name="predictions")
        return dense(x), tvb.dense_head("classifier.1", dense)

    return tvb.build_application(
        pretty="MobileNetV2", architecture="mobilenet_v2", arch_kwargs={"width_mult": float(alpha)}, full=full,
        groups=groups, top=top, weights_enum="MobileNet_V2_Weights.IMAGENET1K_V2", norm_mode="tf", default_size=224,
        include_top=include_top, weights=weights, input_tensor=input_tensor, input_shape=input_shape, pooling=pooling,
        classes=classes, classifier_activation=classifier_activation, name=name, ignored_prefixes=("classifier.",),
    )


def preprocess_input(x, data_format=None):
    """Keras's MobileNetV2 preprocessing ("tf"): pixels scaled to [-1, 1]."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """See :func:`kerasish.applications.imagenet_utils.decode_predictions`."""
    return imagenet_utils.decode_predictions(preds, top=top)
