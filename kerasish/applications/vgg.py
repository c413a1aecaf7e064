"""VGG16 and VGG19 (``keras.applications.vgg16`` / ``vgg19``) on torchvision's VGG features.

Stages: ``block1`` ... ``block5`` (each a slice of torchvision's ``features``
keeping its indices: ``block2.5.weight`` is torchvision's ``features.5.weight``),
then Keras's top: ``flatten``, ``fc1``, ``fc2`` (Dense 4096, relu) and
``predictions``. Like Keras, the top has no dropout and no adaptive pooling, so
``include_top=True`` ties the input size (224x224 for ImageNet weights).
torchvision's ``classifier.0`` weight is reordered on loading, since Keras's
Flatten reads (height, width, channels) and torchvision's (channels, height, width).
Inputs: :func:`preprocess_input` ("caffe"), converted inside the model.
"""

from __future__ import annotations

from kerasish import layers
from kerasish.applications import _torchvision_backbone as tvb
from kerasish.applications import imagenet_utils
from kerasish.applications.resnet import _DOC

__all__ = ["VGG16", "VGG19", "preprocess_input", "decode_predictions"]


def _features(cfg_key):
    """torchvision's VGG feature extractor, initialised as torchvision does (no 120M-weight classifier made)."""
    import torchvision
    from torch import nn

    features = torchvision.models.vgg.make_layers(torchvision.models.vgg.cfgs[cfg_key], batch_norm=False)
    for m in features.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            nn.init.constant_(m.bias, 0)
    full = nn.Module()
    full.features = features
    return full


def _fc1_from_torchvision(w):
    out, n = w.shape
    side = int(round((n // 512) ** 0.5))
    if n % 512 or side * side * 512 != n:
        return w
    return w.reshape(out, 512, side, side).permute(0, 2, 3, 1).reshape(out, n)


def _vgg(builder, cfg_key, enum, pretty, *, include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name):
    from torch import nn

    full = _features(cfg_key)
    groups, block, current = [], 1, []
    for key, m in full.features.named_children():
        current.append(f"features.{key}")
        if isinstance(m, nn.MaxPool2d):
            groups.append((f"block{block}", current))
            block, current = block + 1, []

    def top(x):
        x = layers.Flatten(name="flatten")(x)
        fc1 = layers.Dense(4096, activation="relu", name="fc1")
        fc2 = layers.Dense(4096, activation="relu", name="fc2")
        pred = layers.Dense(classes, activation=classifier_activation, name="predictions")
        y = pred(fc2(fc1(x)))
        head = {"classifier.0.weight": (fc1, "weight", _fc1_from_torchvision), "classifier.0.bias": (fc1, "bias", None)}
        head.update(tvb.dense_head("classifier.3", fc2))
        head.update(tvb.dense_head("classifier.6", pred))
        return y, head

    return tvb.build_application(
        pretty=pretty, architecture=builder, arch_kwargs={}, full=full, groups=groups, top=top, weights_enum=enum,
        norm_mode="caffe", default_size=224, include_top=include_top, weights=weights, input_tensor=input_tensor,
        input_shape=input_shape, pooling=pooling, classes=classes, classifier_activation=classifier_activation,
        name=name, ignored_prefixes=("classifier.",),
    )


def VGG16(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000,
          classifier_activation="softmax", name="vgg16"):
    return _vgg("vgg16", "D", "VGG16_Weights.IMAGENET1K_V1", "VGG16", include_top=include_top, weights=weights,
                input_tensor=input_tensor, input_shape=input_shape, pooling=pooling, classes=classes,
                classifier_activation=classifier_activation, name=name)


def VGG19(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000,
          classifier_activation="softmax", name="vgg19"):
    return _vgg("vgg19", "E", "VGG19_Weights.IMAGENET1K_V1", "VGG19", include_top=include_top, weights=weights,
                input_tensor=input_tensor, input_shape=input_shape, pooling=pooling, classes=classes,
                classifier_activation=classifier_activation, name=name)


VGG16.__doc__ = _DOC.format(pretty="VGG16", arch="vgg16", enum="VGG16_Weights.IMAGENET1K_V1", size=224)
VGG19.__doc__ = _DOC.format(pretty="VGG19", arch="vgg19", enum="VGG19_Weights.IMAGENET1K_V1", size=224)


def preprocess_input(x, data_format=None):
    """Keras's VGG preprocessing ("caffe"): RGB -> BGR, ImageNet means subtracted, no scaling."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


def decode_predictions(preds, top=5):
    """See :func:`kerasish.applications.imagenet_utils.decode_predictions`."""
    return imagenet_utils.decode_predictions(preds, top=top)
