"""ConvNeXtTiny (``keras.applications.convnext``) on torchvision's ``convnext_tiny``.

Stages: ``features_0`` ... ``features_7`` (stem, stages and downsampling
layers), then Keras's top: ``avg_pool``, ``head_layernorm`` (LayerNormalization,
epsilon 1e-6; torchvision's ``LayerNorm2d`` on the pooled map) and
``predictions``. Stochastic depth is 0.0 as in Keras (torchvision trains with 0.1).
Preprocessing is part of the model as in Keras: with
``include_preprocessing=True`` it takes RGB pixels in [0, 255] and
:func:`preprocess_input` is a pass-through; with ``False`` it takes images
already normalized with ImageNet's mean and std.
"""

from __future__ import annotations

from kerasish import layers
from kerasish.applications import _torchvision_backbone as tvb
from kerasish.applications import imagenet_utils

__all__ = ["ConvNeXtTiny", "preprocess_input", "decode_predictions"]


def ConvNeXtTiny(include_top=True, include_preprocessing=True, weights="imagenet", input_tensor=None, input_shape=None,
                 pooling=None, classes=1000, classifier_activation="softmax", name="convnext_tiny"):
    import torchvision
    from torch import nn

    arch_kwargs = {"stochastic_depth_prob": 0.0}
    full = torchvision.models.convnext_tiny(weights=None, **arch_kwargs)
    full.classifier = nn.Identity()
    groups = [(f"features_{i}", [f"features.{i}"]) for i in range(len(full.features))]

    def top(x):
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        norm = layers.LayerNormalization(epsilon=1e-6, name="head_layernorm")
        dense = layers.Dense(classes, activation=classifier_activation, name="predictions")
        head = {"classifier.0.weight": (norm, "weight", None), "classifier.0.bias": (norm, "bias", None)}
        head.update(tvb.dense_head("classifier.2", dense))
        return dense(norm(x)), head

    return tvb.build_application(
        pretty="ConvNeXtTiny", architecture="convnext_tiny", arch_kwargs=arch_kwargs, full=full, groups=groups, top=top,
        weights_enum="ConvNeXt_Tiny_Weights.IMAGENET1K_V1", norm_mode="raw" if include_preprocessing else None,
        default_size=224, include_top=include_top, weights=weights, input_tensor=input_tensor, input_shape=input_shape,
        pooling=pooling, classes=classes, classifier_activation=classifier_activation, name=name,
        ignored_prefixes=("classifier.",),
    )


ConvNeXtTiny.__doc__ = """Instantiates the ConvNeXtTiny architecture (torchvision's ``convnext_tiny``).

    Args:
        include_top, weights, input_tensor, input_shape, pooling, classes,
            classifier_activation, name: as for :func:`kerasish.applications.ResNet50`;
            ``weights="imagenet"`` loads ``ConvNeXt_Tiny_Weights.IMAGENET1K_V1``.
        include_preprocessing: the model takes [0, 255] pixels (True) or
            ImageNet-normalized images (False).

    Example:
        >>> from kerasish.applications import ConvNeXtTiny
        >>> ConvNeXtTiny(weights=None, input_shape=(64, 64, 3), include_top=False, pooling="avg").output_shape
        (None, 768)
    """


def preprocess_input(x, data_format=None):
    """A pass-through, as in Keras: ConvNeXt models normalize their input themselves."""
    return x


def decode_predictions(preds, top=5):
    """See :func:`kerasish.applications.imagenet_utils.decode_predictions`."""
    return imagenet_utils.decode_predictions(preds, top=top)
