"""VGG16 and VGG19 (``keras.applications.vgg16`` / ``vgg19``), built as Keras builds them.

Layers: ``block1_conv1`` ... ``block5_pool`` (Conv2D 3x3 "same" + relu,
MaxPooling2D 2x2), then with the top ``flatten``, ``fc1``, ``fc2`` (Dense 4096,
relu) and ``predictions``: Keras's names, order and parameter counts, so
fine-tuning recipes that freeze ``block1`` ... ``block4`` by name work as in Keras.

Pretrained weights: ``weights="imagenet"`` loads Keras's own file (the original
VGG weights, Keras 2 HDF5 from storage.googleapis.com, md5-checked), the same
network as Keras's, taking :func:`preprocess_input` ("caffe": BGR, ImageNet
means subtracted). torchvision's ``VGG16_Weights.IMAGENET1K_V1`` has the same
architecture, and the model's key map (``features.N`` -> ``blockB_convC``,
``classifier.0/3/6`` -> ``fc1`` / ``fc2`` / ``predictions``) loads it with
:func:`kerasish.applications.weight_map.load_torchvision`; that network expects
torchvision's input normalization (``imagenet_utils.preprocess_input(x,
mode="torch")``), not Keras's.
"""

from __future__ import annotations

from kerasish import layers
from kerasish.applications import _building
from kerasish.applications import imagenet_utils, weight_map
from kerasish.models.functional import Functional

__all__ = ["VGG16", "VGG19", "preprocess_input", "decode_predictions"]

# Keras's files: <base>vgg16/..., <base>vgg19/...; md5s (with top, without top).
BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/"
_FILES = {
    "vgg16": ("64373286793e3c8b2b4e3219cbf3544b", "6d6bbae143d832006294945121d1f1fc"),
    "vgg19": ("cbe5617147190e668d6c5d5026f83318", "253f8cb515780f3b799900260a226db6"),
}

# "{pretty}" and "{arch}" stay placeholders, filled per model below
_DOC = _building.application_doc(
    "{pretty}", min_size=32, default_size=224, preprocess=":func:`preprocess_input`", images="channels_last images",
    top="3 fully-connected layers", shown='model.get_layer("block5_conv3").filters, model.output_shape',
    output="(512, (None, 512))", weights="""``None`` (random initialization), ``"imagenet"`` (Keras's
            ImageNet weights, downloaded to ``~/.keras/models``), or a path to a
            weights file (``.weights.h5`` / ``.h5`` / ``.keras``, or a torch
            state_dict ``.pth`` in torchvision's ``{arch}`` key layout).""")


def _fc1_from_torchvision(w):
    """torchvision flattens the (512, 7, 7) map channels first; Keras's Flatten reads (7, 7, 512)."""
    out, n = w.shape
    side = int(round((n // 512) ** 0.5))
    if n % 512 or side * side * 512 != n:
        return w
    return w.reshape(out, 512, side, side).permute(0, 2, 3, 1).reshape(out, n)


def _vgg(pretty, convs_per_block, *, include_top, weights, input_tensor, input_shape, pooling, classes,
         classifier_activation, name):
    inputs, x, _ = _building.application_input(
        pretty, include_top=include_top, weights=weights, input_tensor=input_tensor, input_shape=input_shape,
        pooling=pooling, classes=classes, classifier_activation=classifier_activation, default_size=224)
    km = weight_map.KeyMap()
    index = 0  # torchvision's features.N numbering: conv, relu per conv, one pool per block
    for block, (filters, n) in enumerate(zip((64, 128, 256, 512, 512), convs_per_block), start=1):
        for i in range(1, n + 1):
            conv = layers.Conv2D(filters, (3, 3), activation="relu", padding="same", name=f"block{block}_conv{i}")
            x = conv(x)
            km.add(f"features.{index}", conv)
            index += 2
        x = layers.MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block}_pool")(x)
        index += 1
    if include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(4096, activation="relu", name="fc1")(x)
        x = layers.Dense(4096, activation="relu", name="fc2")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
        km.add("classifier.0", "fc1", transforms={"kernel": _fc1_from_torchvision})
        km.add("classifier.3", "fc2")
        km.add("classifier.6", "predictions")
    else:
        x = _building.pool(x, pooling, named=False)
    model = Functional(inputs, x, name=name)
    weight_map.attach_key_map(model, km, ignore=() if include_top else ("classifier.",),
                              source=f"torchvision:{pretty}_Weights.IMAGENET1K_V1")
    key = pretty.lower()
    file_name = f"{key}_weights_tf_dim_ordering_tf_kernels{'' if include_top else '_notop'}.h5"
    _building.load_weights(model, weights, pretty, file_name, f"{BASE_WEIGHTS_PATH}{key}/{file_name}",
                           _FILES[key][0 if include_top else 1])
    return model


def VGG16(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000,
          classifier_activation="softmax", name="vgg16"):
    return _vgg("VGG16", (2, 2, 3, 3, 3), include_top=include_top, weights=weights, input_tensor=input_tensor,
                input_shape=input_shape, pooling=pooling, classes=classes,
                classifier_activation=classifier_activation, name=name)


def VGG19(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000,
          classifier_activation="softmax", name="vgg19"):
    return _vgg("VGG19", (2, 2, 4, 4, 4), include_top=include_top, weights=weights, input_tensor=input_tensor,
                input_shape=input_shape, pooling=pooling, classes=classes,
                classifier_activation=classifier_activation, name=name)


VGG16.__doc__ = _DOC.format(pretty="VGG16", arch="vgg16")
VGG19.__doc__ = _DOC.format(pretty="VGG19", arch="vgg19")


def preprocess_input(x, data_format=None):
    """Keras's VGG preprocessing ("caffe"): RGB -> BGR, ImageNet means subtracted, no scaling.

    Example:
        >>> import numpy as np
        >>> preprocess_input(np.full((1, 1, 1, 3), 128.0))[0, 0, 0].round(3).tolist()
        [24.061, 11.221, 4.32]
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


def decode_predictions(preds, top=5):
    """See :func:`kerasish.applications.imagenet_utils.decode_predictions`."""
    return imagenet_utils.decode_predictions(preds, top=top)
