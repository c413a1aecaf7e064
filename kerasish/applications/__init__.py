"""Ready-made image models, as ``keras.applications``, built on torchvision.

Each function (``ResNet50``, ``MobileNetV2``, ``EfficientNetB0``, ...) takes
Keras's arguments and returns a kerasish functional model whose stages are
torchvision's modules (see :mod:`kerasish.applications._torchvision_backbone`
for the design: stage layers, normalization, weights). Each family module has
Keras's ``preprocess_input`` and ``decode_predictions``::

    from kerasish.applications import ResNet50
    from kerasish.applications.resnet import preprocess_input, decode_predictions
"""

from kerasish.applications import convnext, densenet, efficientnet, imagenet_utils, mobilenet_v2, mobilenet_v3, resnet, vgg
from kerasish.applications._torchvision_backbone import TorchModuleLayer, TorchvisionNormalization
from kerasish.applications.convnext import ConvNeXtTiny
from kerasish.applications.densenet import DenseNet121
from kerasish.applications.efficientnet import EfficientNetB0, EfficientNetB1, EfficientNetB2, EfficientNetB3
from kerasish.applications.mobilenet_v2 import MobileNetV2
from kerasish.applications.mobilenet_v3 import MobileNetV3Large, MobileNetV3Small
from kerasish.applications.resnet import ResNet50, ResNet101
from kerasish.applications.vgg import VGG16, VGG19

# Keras's module names for the VGG families.
vgg16 = vgg19 = vgg

__all__ = [
    "ConvNeXtTiny", "DenseNet121", "EfficientNetB0", "EfficientNetB1", "EfficientNetB2", "EfficientNetB3",
    "MobileNetV2", "MobileNetV3Large", "MobileNetV3Small", "ResNet50", "ResNet101", "VGG16", "VGG19",
    "TorchModuleLayer", "TorchvisionNormalization",
    "convnext", "densenet", "efficientnet", "imagenet_utils", "mobilenet_v2", "mobilenet_v3", "resnet", "vgg", "vgg16", "vgg19",
]
