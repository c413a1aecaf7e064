"""Ready-made image models, as ``keras.applications``.

Each function (``ResNet50``, ``VGG16``, ``DenseNet121``, ``MobileNetV2``, ...)
takes Keras's arguments and returns a kerasish functional model built as Keras
builds it: the same layers (Conv2D, BatchNormalization, Activation, ...), names,
order and parameter counts, so fine-tuning recipes that freeze by name, index or
type work unchanged. Pretrained weights come from torchvision where its network
is the same, else from Keras's own files (each family module says which);
:mod:`kerasish.applications.weight_map` maps torch checkpoints onto the
Keras-named layers. Each family module has Keras's ``preprocess_input`` and
``decode_predictions``::

    from kerasish.applications import ResNet50
    from kerasish.applications.resnet import preprocess_input, decode_predictions
"""

from kerasish.applications import (
    convnext, densenet, efficientnet, efficientnet_v2, imagenet_utils, inception_resnet_v2, inception_v3, mobilenet,
    mobilenet_v2, mobilenet_v3, nasnet, resnet, resnet_v2, vgg, weight_map, xception,
)
from kerasish.applications._torchvision_backbone import TorchModuleLayer, TorchvisionNormalization
from kerasish.applications.convnext import ConvNeXtBase, ConvNeXtLarge, ConvNeXtSmall, ConvNeXtTiny, ConvNeXtXLarge
from kerasish.applications.densenet import DenseNet121, DenseNet169, DenseNet201
from kerasish.applications.efficientnet import (
    EfficientNetB0, EfficientNetB1, EfficientNetB2, EfficientNetB3, EfficientNetB4, EfficientNetB5, EfficientNetB6,
    EfficientNetB7,
)
from kerasish.applications.efficientnet_v2 import (
    EfficientNetV2B0, EfficientNetV2B1, EfficientNetV2B2, EfficientNetV2B3, EfficientNetV2L, EfficientNetV2M,
    EfficientNetV2S,
)
from kerasish.applications.inception_resnet_v2 import InceptionResNetV2
from kerasish.applications.inception_v3 import InceptionV3
from kerasish.applications.mobilenet import MobileNet
from kerasish.applications.mobilenet_v2 import MobileNetV2
from kerasish.applications.mobilenet_v3 import MobileNetV3Large, MobileNetV3Small
from kerasish.applications.nasnet import NASNetLarge, NASNetMobile
from kerasish.applications.resnet import ResNet50, ResNet101, ResNet152
from kerasish.applications.resnet_v2 import ResNet50V2, ResNet101V2, ResNet152V2
from kerasish.applications.vgg import VGG16, VGG19
from kerasish.applications.xception import Xception

# Keras's module names for the VGG families.
vgg16 = vgg19 = vgg

__all__ = [
    "ConvNeXtBase", "ConvNeXtLarge", "ConvNeXtSmall", "ConvNeXtTiny", "ConvNeXtXLarge",
    "DenseNet121", "DenseNet169", "DenseNet201",
    "EfficientNetB0", "EfficientNetB1", "EfficientNetB2", "EfficientNetB3", "EfficientNetB4", "EfficientNetB5",
    "EfficientNetB6", "EfficientNetB7",
    "EfficientNetV2B0", "EfficientNetV2B1", "EfficientNetV2B2", "EfficientNetV2B3", "EfficientNetV2L",
    "EfficientNetV2M", "EfficientNetV2S",
    "InceptionResNetV2", "InceptionV3", "MobileNet", "MobileNetV2", "MobileNetV3Large", "MobileNetV3Small",
    "NASNetLarge", "NASNetMobile", "ResNet50", "ResNet101", "ResNet152", "ResNet50V2", "ResNet101V2", "ResNet152V2",
    "VGG16", "VGG19", "Xception",
    "TorchModuleLayer", "TorchvisionNormalization",
    "convnext", "densenet", "efficientnet", "efficientnet_v2", "imagenet_utils", "inception_resnet_v2", "inception_v3",
    "mobilenet", "mobilenet_v2", "mobilenet_v3", "nasnet", "resnet", "resnet_v2", "vgg", "vgg16", "vgg19", "weight_map",
    "xception",
]
