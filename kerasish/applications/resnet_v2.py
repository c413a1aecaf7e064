"""ResNet50V2, ResNet101V2, ResNet152V2 (``keras.applications.resnet_v2``), built as Keras builds them.

Pre-activation ResNets: blocks ``conv{2..5}_block{i}_preact_bn`` /
``_preact_relu`` / ``_{0..3}_conv`` / ``_{1,2}_bn`` / ``_2_pad`` / ``_out``,
then ``post_bn``, ``post_relu`` and the top; Keras's names, order and
parameter counts (the stride of a stack sits on its *last* block, with an
unnamed 1x1 MaxPooling2D on the shortcut, as in Keras).

Pretrained weights: ``weights="imagenet"`` loads Keras's own HDF5 file
(md5-checked, cached in ``~/.keras/models``). Neither torchvision (no v2
ResNet) nor timm (``resnetv2_*``: stride on the first block, other stem)
has this network. Inputs: :func:`preprocess_input` ("tf" mode, [-1, 1]).
"""

from __future__ import annotations

from kerasish.applications import imagenet_utils
from kerasish.applications.resnet import _DOC, build_resnet, stack_residual_blocks_v2

__all__ = ["ResNet50V2", "ResNet101V2", "ResNet152V2", "preprocess_input", "decode_predictions"]


def _v2(pretty, weights_name, depths):
    def stack_fn(x):
        x = stack_residual_blocks_v2(x, 64, depths[0], name="conv2")
        x = stack_residual_blocks_v2(x, 128, depths[1], name="conv3")
        x = stack_residual_blocks_v2(x, 256, depths[2], name="conv4")
        return stack_residual_blocks_v2(x, 512, depths[3], stride1=1, name="conv5")

    def builder(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000,
                classifier_activation="softmax", name=weights_name):
        return build_resnet(pretty, weights_name, stack_fn, True, True, include_top=include_top, weights=weights,
                            input_tensor=input_tensor, input_shape=input_shape, pooling=pooling, classes=classes,
                            classifier_activation=classifier_activation, name=name)

    builder.__name__ = builder.__qualname__ = pretty
    builder.__doc__ = _DOC.format(pretty=pretty, module="resnet_v2", mode="tf")
    return builder


ResNet50V2 = _v2("ResNet50V2", "resnet50v2", (3, 4, 6, 3))
ResNet101V2 = _v2("ResNet101V2", "resnet101v2", (3, 4, 23, 3))
ResNet152V2 = _v2("ResNet152V2", "resnet152v2", (3, 8, 36, 3))


def preprocess_input(x, data_format=None):
    """Keras's ResNetV2 preprocessing ("tf"): pixels scaled to [-1, 1].

    Example:
        >>> import numpy as np
        >>> preprocess_input(np.array([[[[0.0, 127.5, 255.0]]]])).tolist()
        [[[[-1.0, 0.0, 1.0]]]]
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top=5):
    """See :func:`kerasish.applications.imagenet_utils.decode_predictions`."""
    return imagenet_utils.decode_predictions(preds, top=top)
