"""ResNet50 and ResNet101 (``keras.applications.resnet``) on torchvision's ResNet.

Stages: ``conv1``, ``bn1``, ``relu``, ``maxpool``, ``layer1`` ... ``layer4``
(torchvision's names, so ``model.state_dict()`` keys read as torchvision's),
then Keras's top: ``avg_pool`` (GlobalAveragePooling2D) and ``predictions``
(Dense). Inputs: what :func:`preprocess_input` makes ("caffe": BGR, ImageNet
means subtracted), as for Keras's ResNet; a ``torchvision_normalization``
layer turns that into torchvision's normalization inside the model.
"""

from __future__ import annotations

from kerasish import layers
from kerasish.applications import _torchvision_backbone as tvb
from kerasish.applications import imagenet_utils

__all__ = ["ResNet50", "ResNet101", "preprocess_input", "decode_predictions"]

_DOC = """Instantiates the {pretty} architecture (torchvision's ``{arch}``).

    Args:
        include_top: whether to include the fully-connected layer at the top.
        weights: ``None`` (random initialization), ``"imagenet"`` (torchvision's
            ``{enum}`` weights, downloaded through torch.hub to
            ``torch.hub.get_dir()/checkpoints``), or a path: a torch state_dict
            (``.pth`` / ``.pt``, torchvision's own checkpoint works) or a Keras
            weights file (``.weights.h5`` / ``.h5`` / ``.keras``) saved from this model.
        input_tensor: optional symbolic tensor to use as the image input.
        input_shape: optional ``(height, width, channels)``; at least 32x32;
            must be ``({size}, {size}, 3)`` with ``include_top`` and ImageNet weights.
        pooling: with ``include_top=False``: ``None`` (4-D output), ``"avg"`` or ``"max"``.
        classes: number of classes (1000 with ImageNet weights and the top).
        classifier_activation: activation of the top layer (``None`` for logits).
        name: the model's name.

    Returns:
        A kerasish functional ``Model`` taking channels_last images preprocessed
        by :func:`preprocess_input`.

    Example:
        >>> from kerasish.applications import {pretty}
        >>> model = {pretty}(weights=None, input_shape=(64, 64, 3), include_top=False, pooling="avg")
        >>> model.output_shape[-1] > 0
        True
    """


def _resnet(builder, enum, pretty, *, include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name):
    import torchvision
    from torch import nn

    full = getattr(torchvision.models, builder)(weights=None)
    full.fc = nn.Identity()
    groups = [(n, [n]) for n in ("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4")]

    def top(x):
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        dense = layers.Dense(classes, activation=classifier_activation, name="predictions")
        return dense(x), tvb.dense_head("fc", dense)

    return tvb.build_application(
        pretty=pretty, architecture=builder, arch_kwargs={}, full=full, groups=groups, top=top, weights_enum=enum,
        norm_mode="caffe", default_size=224, include_top=include_top, weights=weights, input_tensor=input_tensor,
        input_shape=input_shape, pooling=pooling, classes=classes, classifier_activation=classifier_activation,
        name=name, ignored_prefixes=("fc.",),
    )


def ResNet50(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000,
             classifier_activation="softmax", name="resnet50"):
    return _resnet("resnet50", "ResNet50_Weights.IMAGENET1K_V2", "ResNet50", include_top=include_top, weights=weights,
                   input_tensor=input_tensor, input_shape=input_shape, pooling=pooling, classes=classes,
                   classifier_activation=classifier_activation, name=name)


def ResNet101(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000,
              classifier_activation="softmax", name="resnet101"):
    return _resnet("resnet101", "ResNet101_Weights.IMAGENET1K_V2", "ResNet101", include_top=include_top, weights=weights,
                   input_tensor=input_tensor, input_shape=input_shape, pooling=pooling, classes=classes,
                   classifier_activation=classifier_activation, name=name)


ResNet50.__doc__ = _DOC.format(pretty="ResNet50", arch="resnet50", enum="ResNet50_Weights.IMAGENET1K_V2", size=224)
ResNet101.__doc__ = _DOC.format(pretty="ResNet101", arch="resnet101", enum="ResNet101_Weights.IMAGENET1K_V2", size=224)


def preprocess_input(x, data_format=None):
    """Keras's ResNet preprocessing ("caffe"): RGB -> BGR, ImageNet means subtracted, no scaling."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


def decode_predictions(preds, top=5):
    """See :func:`kerasish.applications.imagenet_utils.decode_predictions`."""
    return imagenet_utils.decode_predictions(preds, top=top)
