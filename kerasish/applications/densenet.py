"""DenseNet121, DenseNet169, DenseNet201 (``keras.applications.densenet``), built as Keras builds them.

Layers: ``conv1_conv`` / ``conv1_bn`` / ``conv1_relu`` / ``pool1``, dense blocks
``conv{2..5}_block{i}_{0_bn,0_relu,1_conv,1_bn,1_relu,2_conv,concat}``,
transitions ``pool{2..4}_{bn,relu,conv,pool}``, then ``bn``, ``relu`` and the
top: Keras's names, order, classes and parameter counts.

Pretrained weights: torchvision's DenseNet is the same network as Keras's
(BN -> relu -> 1x1 conv -> BN -> relu -> 3x3 conv, no convolution biases, the
same transitions) and takes the same input convention (:func:`preprocess_input`,
"torch" mode, is exactly torchvision's normalization), so ``weights="imagenet"``
loads torchvision's ``DenseNet{n}_Weights.IMAGENET1K_V1`` (through torch.hub,
``torch.hub.get_dir()/checkpoints``) by the model's key map
(``features.denseblock1.denselayer1.conv1`` -> ``conv2_block1_1_conv``, ...).
The only difference is BatchNormalization's epsilon (Keras 1.001e-5, torch
1e-5), far below float32 noise. Keras's own file works as a path
(``weights="densenet121_weights_tf_dim_ordering_tf_kernels.h5"``).
"""

from __future__ import annotations

from kerasish import layers
from kerasish.applications import _building
from kerasish.applications import _torchvision_backbone as tvb
from kerasish.applications import imagenet_utils, weight_map
from kerasish.models.functional import Functional

__all__ = ["DenseNet121", "DenseNet169", "DenseNet201", "preprocess_input", "decode_predictions"]

_EPS = 1.001e-5


def conv_block(x, growth_rate, name, km=None, prefix=None):
    """Keras's dense layer: BN-relu-1x1 conv-BN-relu-3x3 conv, concatenated to its input."""
    bn0 = layers.BatchNormalization(axis=3, epsilon=_EPS, name=f"{name}_0_bn")
    x1 = layers.Activation("relu", name=f"{name}_0_relu")(bn0(x))
    conv1 = layers.Conv2D(4 * growth_rate, 1, use_bias=False, name=f"{name}_1_conv")
    bn1 = layers.BatchNormalization(axis=3, epsilon=_EPS, name=f"{name}_1_bn")
    x1 = layers.Activation("relu", name=f"{name}_1_relu")(bn1(conv1(x1)))
    conv2 = layers.Conv2D(growth_rate, 3, padding="same", use_bias=False, name=f"{name}_2_conv")
    x1 = conv2(x1)
    if km is not None:
        for sub, layer in (("norm1", bn0), ("conv1", conv1), ("norm2", bn1), ("conv2", conv2)):
            km.add(f"{prefix}.{sub}", layer)
    return layers.Concatenate(axis=3, name=f"{name}_concat")([x, x1])


def dense_block(x, blocks, name, km=None, prefix=None):
    for i in range(blocks):
        x = conv_block(x, 32, name=f"{name}_block{i + 1}", km=km, prefix=prefix and f"{prefix}.denselayer{i + 1}")
    return x


def transition_block(x, reduction, name, km=None, prefix=None):
    bn = layers.BatchNormalization(axis=3, epsilon=_EPS, name=f"{name}_bn")
    x = layers.Activation("relu", name=f"{name}_relu")(bn(x))
    conv = layers.Conv2D(int(x.shape[3] * reduction), 1, use_bias=False, name=f"{name}_conv")
    x = layers.AveragePooling2D(2, strides=2, name=f"{name}_pool")(conv(x))
    if km is not None:
        km.add(f"{prefix}.norm", bn)
        km.add(f"{prefix}.conv", conv)
    return x


def DenseNet(blocks, include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
             classes=1000, classifier_activation="softmax", name="densenet"):
    """Keras's DenseNet with ``blocks`` dense layers per dense block (``[6, 12, 24, 16]`` for 121).

    ``weights="imagenet"`` exists for the three published depths only.
    """
    pretty = {(6, 12, 24, 16): "DenseNet121", (6, 12, 32, 32): "DenseNet169", (6, 12, 48, 32): "DenseNet201"}.get(
        tuple(blocks))
    if weights == "imagenet" and pretty is None:
        raise ValueError(f"DenseNet: ImageNet weights exist for blocks [6, 12, 24|32|48, 16|32] only; got blocks={blocks}.")
    inputs, x, _ = _building.application_input(
        pretty or "DenseNet", include_top=include_top, weights=weights, input_tensor=input_tensor, input_shape=input_shape,
        pooling=pooling, classes=classes, classifier_activation=classifier_activation, default_size=224)
    km = weight_map.KeyMap()
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)))(x)
    conv = layers.Conv2D(64, 7, strides=2, use_bias=False, name="conv1_conv")
    bn = layers.BatchNormalization(axis=3, epsilon=_EPS, name="conv1_bn")
    x = layers.Activation("relu", name="conv1_relu")(bn(conv(x)))
    km.add("features.conv0", conv)
    km.add("features.norm0", bn)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)))(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    for b in range(4):
        x = dense_block(x, blocks[b], name=f"conv{b + 2}", km=km, prefix=f"features.denseblock{b + 1}")
        if b < 3:
            x = transition_block(x, 0.5, name=f"pool{b + 2}", km=km, prefix=f"features.transition{b + 1}")
    bn = layers.BatchNormalization(axis=3, epsilon=_EPS, name="bn")
    x = layers.Activation("relu", name="relu")(bn(x))
    km.add("features.norm5", bn)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
        km.add("classifier", "predictions")
    else:
        x = _building.pool(x, pooling)
    model = Functional(inputs, x, name=name)
    enum = f"{pretty}_Weights.IMAGENET1K_V1" if pretty else None
    weight_map.attach_key_map(model, km, ignore=() if include_top else ("classifier.",),
                              source=enum and f"torchvision:{enum}")
    if weights == "imagenet":
        weight_map.load_state_dict(model, weight_map.torchvision_state_dict(enum, pretty), rename=tvb.densenet_rename,
                                   source=f"torchvision weights {enum}")
    else:
        _building.load_weights(model, weights, pretty or "DenseNet")
    return model


# "{pretty}" and "{features}" stay placeholders, filled per model below
_DOC = _building.application_doc(
    "{pretty}", min_size=32, default_size=224, preprocess=':func:`preprocess_input` ("torch" mode)',
    output="(None, {features})", pooling="max", weights="""``None`` (random initialization), ``"imagenet"`` (torchvision's
            ``{pretty}_Weights.IMAGENET1K_V1``, the same network), or the path
            to a weights file (``.weights.h5`` / ``.h5`` / ``.keras``, Keras's own
            DenseNet file included, or a torch state_dict ``.pth``).""")


def _densenet(pretty, blocks, features):
    def builder(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000,
                classifier_activation="softmax", name=pretty.lower()):
        return DenseNet(list(blocks), include_top, weights, input_tensor, input_shape, pooling, classes,
                        classifier_activation, name=name)

    builder.__name__ = builder.__qualname__ = pretty
    builder.__doc__ = _DOC.format(pretty=pretty, features=features)
    return builder


DenseNet121 = _densenet("DenseNet121", (6, 12, 24, 16), 1024)
DenseNet169 = _densenet("DenseNet169", (6, 12, 32, 32), 1664)
DenseNet201 = _densenet("DenseNet201", (6, 12, 48, 32), 1920)


def preprocess_input(x, data_format=None):
    """Keras's DenseNet preprocessing ("torch"): [0, 1], then ImageNet mean / std.

    Example:
        >>> import numpy as np
        >>> preprocess_input(np.full((1, 1, 1, 3), 255.0))[0, 0, 0].round(3).tolist()
        [2.249, 2.429, 2.64]
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="torch")


def decode_predictions(preds, top=5):
    """See :func:`kerasish.applications.imagenet_utils.decode_predictions`."""
    return imagenet_utils.decode_predictions(preds, top=top)
