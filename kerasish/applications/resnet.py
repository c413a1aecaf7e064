"""ResNet50, ResNet101, ResNet152 (``keras.applications.resnet``), built as Keras builds them.

Layers: ``conv1_pad``, ``conv1_conv``, ``conv1_bn``, ``conv1_relu``,
``pool1_pad``, ``pool1_pool``, then blocks ``conv{2..5}_block{i}_{0..3}_{conv,bn}``,
``..._add``, ``..._out``, then ``avg_pool`` / ``predictions`` (or ``max_pool``):
Keras's names, order, classes and parameter counts, so recipes that freeze by
name (``conv5_block*`` trainable), index or type (BatchNormalization) work.

Pretrained weights: Keras's ResNet is the original (Caffe) ResNet v1: the
stride of a downsampling block sits on its first 1x1 convolution and every
convolution has a bias. torchvision's ResNet is "v1.5" (stride on the 3x3
convolution, no convolution biases), a different network, so its checkpoints
cannot serve these models. ``weights="imagenet"`` loads Keras's own HDF5 file
(storage.googleapis.com, md5-checked, cached in ``~/.keras/models``): the same
network as Keras's, taking :func:`preprocess_input` ("caffe").
"""

from __future__ import annotations

from kerasish import layers
from kerasish.applications import _building
from kerasish.applications import imagenet_utils
from kerasish.models.functional import Functional

__all__ = ["ResNet50", "ResNet101", "ResNet152", "preprocess_input", "decode_predictions"]

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/resnet/"
# Keras's md5s of its files (with top, without top).
WEIGHTS_HASHES = {
    "resnet50": ("2cb95161c43110f7111970584f804107", "4d473c1dd8becc155b73f8504c6f6626"),
    "resnet101": ("f1aeb4b969a6efcfb50fad2f0c20cfc5", "88cf7a10940856eca736dc7b7e228a21"),
    "resnet152": ("100835be76be38e30d865e96f2aaae62", "ee4c566cf9a93f14d82f913c2dc6dd0c"),
    "resnet50v2": ("3ef43a0b657b3be2300d5770ece849e0", "fac2f116257151a9d068a22e544a4917"),
    "resnet101v2": ("6343647c601c52e1368623803854d971", "c0ed64b8031c3730f411d2eb4eea35b5"),
    "resnet152v2": ("a49b44d1979771252814e80f8ec446f9", "ed17cf2e0169df9d443503ef94b23b33"),
}

_EPS = 1.001e-5

# "{pretty}", "{module}" and "{mode}" stay placeholders, filled per model here and in resnet_v2
_DOC = _building.application_doc("{pretty}", min_size=32, default_size=224,
                                 preprocess='``{module}.preprocess_input`` ("{mode}" mode)', output="(None, 2048)")


def residual_block_v1(x, filters, kernel_size=3, stride=1, conv_shortcut=True, name=None):
    """Keras's ResNet v1 bottleneck block (stride on the first 1x1 convolution)."""
    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(x)
        shortcut = layers.BatchNormalization(axis=3, epsilon=_EPS, name=f"{name}_0_bn")(shortcut)
    else:
        shortcut = x
    x = layers.Conv2D(filters, 1, strides=stride, name=f"{name}_1_conv")(x)
    x = layers.BatchNormalization(axis=3, epsilon=_EPS, name=f"{name}_1_bn")(x)
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = layers.Conv2D(filters, kernel_size, padding="same", name=f"{name}_2_conv")(x)
    x = layers.BatchNormalization(axis=3, epsilon=_EPS, name=f"{name}_2_bn")(x)
    x = layers.Activation("relu", name=f"{name}_2_relu")(x)
    x = layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x)
    x = layers.BatchNormalization(axis=3, epsilon=_EPS, name=f"{name}_3_bn")(x)
    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{name}_out")(x)


def stack_residual_blocks_v1(x, filters, blocks, stride1=2, name=None):
    x = residual_block_v1(x, filters, stride=stride1, name=f"{name}_block1")
    for i in range(2, blocks + 1):
        x = residual_block_v1(x, filters, conv_shortcut=False, name=f"{name}_block{i}")
    return x


def residual_block_v2(x, filters, kernel_size=3, stride=1, conv_shortcut=False, name=None):
    """Keras's ResNet v2 (pre-activation) bottleneck block."""
    preact = layers.BatchNormalization(axis=3, epsilon=_EPS, name=f"{name}_preact_bn")(x)
    preact = layers.Activation("relu", name=f"{name}_preact_relu")(preact)
    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(preact)
    else:
        # Keras leaves this subsampling layer unnamed.
        shortcut = layers.MaxPooling2D(1, strides=stride)(x) if stride > 1 else x
    x = layers.Conv2D(filters, 1, strides=1, use_bias=False, name=f"{name}_1_conv")(preact)
    x = layers.BatchNormalization(axis=3, epsilon=_EPS, name=f"{name}_1_bn")(x)
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name=f"{name}_2_pad")(x)
    x = layers.Conv2D(filters, kernel_size, strides=stride, use_bias=False, name=f"{name}_2_conv")(x)
    x = layers.BatchNormalization(axis=3, epsilon=_EPS, name=f"{name}_2_bn")(x)
    x = layers.Activation("relu", name=f"{name}_2_relu")(x)
    x = layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x)
    return layers.Add(name=f"{name}_out")([shortcut, x])


def stack_residual_blocks_v2(x, filters, blocks, stride1=2, name=None):
    x = residual_block_v2(x, filters, conv_shortcut=True, name=f"{name}_block1")
    for i in range(2, blocks):
        x = residual_block_v2(x, filters, name=f"{name}_block{i}")
    return residual_block_v2(x, filters, stride=stride1, name=f"{name}_block{blocks}")


def build_resnet(pretty, weights_name, stack_fn, preact, use_bias, *, include_top, weights, input_tensor, input_shape,
                 pooling, classes, classifier_activation, name):
    """Keras's ``ResNet`` body shared by the v1 and v2 families."""
    inputs, x, _ = _building.application_input(
        pretty, include_top=include_top, weights=weights, input_tensor=input_tensor, input_shape=input_shape,
        pooling=pooling, classes=classes, classifier_activation=classifier_activation, default_size=224)
    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)), name="conv1_pad")(x)
    x = layers.Conv2D(64, 7, strides=2, use_bias=use_bias, name="conv1_conv")(x)
    if not preact:
        x = layers.BatchNormalization(axis=3, epsilon=_EPS, name="conv1_bn")(x)
        x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    x = stack_fn(x)
    if preact:
        x = layers.BatchNormalization(axis=3, epsilon=_EPS, name="post_bn")(x)
        x = layers.Activation("relu", name="post_relu")(x)
    x = _building.top(x, include_top, pooling, classes, classifier_activation)
    model = Functional(inputs, x, name=name)
    file_name = f"{weights_name}_weights_tf_dim_ordering_tf_kernels{'' if include_top else '_notop'}.h5"
    _building.load_weights(model, weights, pretty, file_name, BASE_WEIGHTS_PATH + file_name,
                           WEIGHTS_HASHES[weights_name][0 if include_top else 1])
    return model


def _v1(pretty, weights_name, depths):
    def stack_fn(x):
        x = stack_residual_blocks_v1(x, 64, depths[0], stride1=1, name="conv2")
        x = stack_residual_blocks_v1(x, 128, depths[1], name="conv3")
        x = stack_residual_blocks_v1(x, 256, depths[2], name="conv4")
        return stack_residual_blocks_v1(x, 512, depths[3], name="conv5")

    def builder(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000,
                classifier_activation="softmax", name=weights_name):
        return build_resnet(pretty, weights_name, stack_fn, False, True, include_top=include_top, weights=weights,
                            input_tensor=input_tensor, input_shape=input_shape, pooling=pooling, classes=classes,
                            classifier_activation=classifier_activation, name=name)

    builder.__name__ = builder.__qualname__ = pretty
    builder.__doc__ = _DOC.format(pretty=pretty, module="resnet", mode="caffe")
    return builder


ResNet50 = _v1("ResNet50", "resnet50", (3, 4, 6, 3))
ResNet101 = _v1("ResNet101", "resnet101", (3, 4, 23, 3))
ResNet152 = _v1("ResNet152", "resnet152", (3, 8, 36, 3))


def preprocess_input(x, data_format=None):
    """Keras's ResNet preprocessing ("caffe"): RGB -> BGR, ImageNet means subtracted, no scaling.

    Example:
        >>> import numpy as np
        >>> preprocess_input(np.full((1, 1, 1, 3), 128.0))[0, 0, 0].round(3).tolist()
        [24.061, 11.221, 4.32]
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


def decode_predictions(preds, top=5):
    """See :func:`kerasish.applications.imagenet_utils.decode_predictions`."""
    return imagenet_utils.decode_predictions(preds, top=top)
