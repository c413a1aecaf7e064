"""DenseNet121 (``keras.applications.densenet``) on torchvision's ``densenet121``.

Stages: torchvision's ``features`` children as layers (``conv0``, ``norm0``,
``relu0``, ``pool0``, ``denseblock1``, ``transition1``, ... ``denseblock4``,
``norm5``), then ``relu`` (torchvision applies it functionally; Keras as a
layer), ``avg_pool`` and ``predictions``. Inputs: :func:`preprocess_input`
("torch" mode), which is exactly torchvision's normalization, so the model
has no normalization layer of its own. Old-style checkpoint keys
(``denselayer1.norm.1.weight``) are renamed on loading as torchvision does.
"""

from __future__ import annotations

from kerasish import layers
from kerasish.applications import _torchvision_backbone as tvb
from kerasish.applications import imagenet_utils

__all__ = ["DenseNet121", "preprocess_input", "decode_predictions"]


def DenseNet121(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000,
                classifier_activation="softmax", name="densenet121"):
    import torchvision
    from torch import nn

    full = torchvision.models.densenet121(weights=None)
    full.classifier = nn.Identity()
    groups = [(key, [f"features.{key}"]) for key, _ in full.features.named_children()]

    def after(x):
        return layers.Activation("relu", name="relu")(x)

    def top(x):
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        dense = layers.Dense(classes, activation=classifier_activation, name="predictions")
        return dense(x), tvb.dense_head("classifier", dense)

    return tvb.build_application(
        pretty="DenseNet121", architecture="densenet121", arch_kwargs={}, full=full, groups=groups, top=top,
        weights_enum="DenseNet121_Weights.IMAGENET1K_V1", norm_mode=None, default_size=224, include_top=include_top,
        weights=weights, input_tensor=input_tensor, input_shape=input_shape, pooling=pooling, classes=classes,
        classifier_activation=classifier_activation, name=name, ignored_prefixes=("classifier.",), after_stages=after,
        rename=tvb.densenet_rename,
    )


DenseNet121.__doc__ = """Instantiates the DenseNet121 architecture (torchvision's ``densenet121``).

    Args:
        include_top, weights, input_tensor, input_shape, pooling, classes,
            classifier_activation, name: as for :func:`kerasish.applications.ResNet50`;
            ``weights="imagenet"`` loads ``DenseNet121_Weights.IMAGENET1K_V1``.

    Returns:
        A kerasish functional ``Model`` taking images normalized by :func:`preprocess_input`.

    Example:
        >>> from kerasish.applications import DenseNet121
        >>> DenseNet121(weights=None, input_shape=(64, 64, 3), include_top=False, pooling="max").output_shape
        (None, 1024)
    """


def preprocess_input(x, data_format=None):
    """Keras's DenseNet preprocessing ("torch"): [0, 1], then ImageNet mean / std."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="torch")


def decode_predictions(preds, top=5):
    """See :func:`kerasish.applications.imagenet_utils.decode_predictions`."""
    return imagenet_utils.decode_predictions(preds, top=top)
