"""``kerasish.layers``: the Keras layers, each built on native torch modules.

One layer family per subpackage, as in Keras: core, convolutional, pooling,
normalization, regularization, reshaping, merging, activations, preprocessing.
"""

from kerasish.engine.layer import Layer
from kerasish.layers.core.input_layer import Input, InputLayer
from kerasish.layers.core.activation import Activation
from kerasish.layers.core.dense import Dense
from kerasish.layers.core.tensor_op import TensorOp
from kerasish.layers.convolutional.conv2d import Conv2D, Convolution2D
from kerasish.layers.pooling.base_pooling import AveragePooling2D, AvgPool2D, MaxPool2D, MaxPooling2D
from kerasish.layers.reshaping.flatten import Flatten

# --- convolutional & pooling family ---
from kerasish.layers.convolutional.separable_conv2d import SeparableConv2D, SeparableConvolution2D
from kerasish.layers.convolutional.depthwise_conv2d import DepthwiseConv2D
from kerasish.layers.convolutional.conv2d_transpose import Conv2DTranspose, Convolution2DTranspose
from kerasish.layers.pooling.global_pooling import GlobalAveragePooling2D, GlobalAvgPool2D, GlobalMaxPool2D, GlobalMaxPooling2D

# --- normalization, regularization, activation layers, merging ---
from kerasish.layers.normalization import BatchNormalization, LayerNormalization
from kerasish.layers.regularization import Dropout, SpatialDropout2D
from kerasish.layers.activations import ELU, LeakyReLU, PReLU, ReLU, Softmax
from kerasish.layers.merging import Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract
from kerasish.layers.merging import add, average, concatenate, dot, maximum, minimum, multiply, subtract

# --- reshaping, core extras, preprocessing ---
from kerasish.layers.reshaping.reshape import Reshape
from kerasish.layers.reshaping.permute import Permute
from kerasish.layers.reshaping.zero_padding2d import ZeroPadding2D
from kerasish.layers.reshaping.cropping2d import Cropping2D
from kerasish.layers.reshaping.up_sampling2d import UpSampling2D
from kerasish.layers.core.identity import Identity
from kerasish.layers.core.lambda_layer import Lambda
from kerasish.layers.preprocessing.rescaling import Rescaling

# --- preprocessing and augmentation ---
from kerasish.layers.preprocessing.resizing import Resizing
from kerasish.layers.preprocessing.center_crop import CenterCrop
from kerasish.layers.preprocessing.normalization import Normalization
from kerasish.layers.preprocessing.random_flip import RandomFlip
from kerasish.layers.preprocessing.random_rotation import RandomRotation
from kerasish.layers.preprocessing.random_zoom import RandomZoom
from kerasish.layers.preprocessing.random_translation import RandomTranslation
from kerasish.layers.preprocessing.random_contrast import RandomContrast
from kerasish.layers.preprocessing.random_brightness import RandomBrightness
from kerasish.layers.preprocessing.random_crop import RandomCrop

# --- sequence models: embedding, recurrent ---
from kerasish.layers.core.embedding import Embedding
from kerasish.layers.core.reversible_embedding import ReversibleEmbedding
from kerasish.layers.core.masking import Masking
from kerasish.layers.rnn import (
    GRU, LSTM, RNN, Bidirectional, ConvLSTM2D, GRUCell, LSTMCell, SimpleRNN, SimpleRNNCell, StackedRNNCells,
    TimeDistributed,
)

# --- 1-D layers (sequences) ---
from kerasish.layers.convolutional.conv1d import Conv1D, Convolution1D
from kerasish.layers.pooling.pooling1d import AveragePooling1D, AvgPool1D, MaxPool1D, MaxPooling1D
from kerasish.layers.pooling.global_pooling1d import GlobalAveragePooling1D, GlobalAvgPool1D, GlobalMaxPool1D, GlobalMaxPooling1D
from kerasish.layers.reshaping.up_sampling1d import UpSampling1D
from kerasish.layers.reshaping.zero_padding1d import ZeroPadding1D
from kerasish.layers.reshaping.cropping1d import Cropping1D
from kerasish.layers.reshaping.repeat_vector import RepeatVector
from kerasish.layers.regularization import SpatialDropout1D
from kerasish.layers.convolutional.conv1d_transpose import Conv1DTranspose, Convolution1DTranspose
from kerasish.layers.convolutional.separable_conv1d import SeparableConv1D, SeparableConvolution1D
from kerasish.layers.convolutional.depthwise_conv1d import DepthwiseConv1D

# --- 3-D layers (volumes) ---
from kerasish.layers.convolutional.conv3d import Conv3D, Convolution3D
from kerasish.layers.convolutional.conv3d_transpose import Conv3DTranspose, Convolution3DTranspose
from kerasish.layers.pooling.pooling3d import AveragePooling3D, AvgPool3D, MaxPool3D, MaxPooling3D
from kerasish.layers.pooling.global_pooling3d import GlobalAveragePooling3D, GlobalAvgPool3D, GlobalMaxPool3D, GlobalMaxPooling3D
from kerasish.layers.reshaping.up_sampling3d import UpSampling3D
from kerasish.layers.reshaping.zero_padding3d import ZeroPadding3D
from kerasish.layers.reshaping.cropping3d import Cropping3D
from kerasish.layers.regularization import SpatialDropout3D
# --- issue 19: more normalization, noise, adaptive pooling ---
from kerasish.layers.normalization.group_normalization import GroupNormalization
from kerasish.layers.normalization.unit_normalization import UnitNormalization
from kerasish.layers.normalization.rms_normalization import RMSNormalization
from kerasish.layers.regularization.noise import AlphaDropout, GaussianDropout, GaussianNoise
from kerasish.layers.regularization.activity_regularization import ActivityRegularization
from kerasish.layers.pooling.adaptive_pooling import (
    AdaptiveAveragePooling1D, AdaptiveAveragePooling2D, AdaptiveAveragePooling3D,
    AdaptiveMaxPooling1D, AdaptiveMaxPooling2D, AdaptiveMaxPooling3D,
)
from kerasish.layers.core.input_spec import InputSpec
from kerasish.layers.core.wrapper import Wrapper
from kerasish.layers.normalization.spectral_normalization import SpectralNormalization
from kerasish.layers.core.torch_module_wrapper import TorchModuleWrapper
# --- issue 19: attention ---
from kerasish.layers.core.einsum_dense import EinsumDense
from kerasish.layers.attention import (
    AdditiveAttention, Attention, GroupedQueryAttention, GroupQueryAttention, MultiHeadAttention,
)
# --- issue 20: feature preprocessing ---
from kerasish.layers.preprocessing.category_encoding import CategoryEncoding
from kerasish.layers.preprocessing.discretization import Discretization
from kerasish.layers.preprocessing.hashed_crossing import HashedCrossing
from kerasish.layers.preprocessing.hashing import Hashing

# --- issue 20: image augmentation ---
from kerasish.layers.preprocessing.auto_contrast import AutoContrast
from kerasish.layers.preprocessing.equalization import Equalization
from kerasish.layers.preprocessing.clahe import ContrastLimitedAdaptiveHistogramEqualization
from kerasish.layers.preprocessing.solarization import Solarization
from kerasish.layers.preprocessing.random_invert import RandomInvert
from kerasish.layers.preprocessing.random_posterization import RandomPosterization
from kerasish.layers.preprocessing.random_grayscale import RandomGrayscale
from kerasish.layers.preprocessing.random_color_degeneration import RandomColorDegeneration
from kerasish.layers.preprocessing.random_hue import RandomHue
from kerasish.layers.preprocessing.random_saturation import RandomSaturation
from kerasish.layers.preprocessing.random_sharpness import RandomSharpness
from kerasish.layers.preprocessing.random_color_jitter import RandomColorJitter
from kerasish.layers.preprocessing.random_erasing import RandomErasing
from kerasish.layers.preprocessing.random_shear import RandomShear
from kerasish.layers.preprocessing.random_perspective import RandomPerspective
from kerasish.layers.preprocessing.random_gaussian_blur import RandomGaussianBlur
from kerasish.layers.preprocessing.random_elastic_transform import RandomElasticTransform
from kerasish.layers.preprocessing.mix_up import MixUp
from kerasish.layers.preprocessing.cut_mix import CutMix
from kerasish.layers.preprocessing.pipeline import Pipeline
from kerasish.layers.preprocessing.rand_augment import RandAugment
from kerasish.layers.preprocessing.aug_mix import AugMix
# --- issue 20: text preprocessing ---
from kerasish.layers.preprocessing.string_lookup import StringLookup
from kerasish.layers.preprocessing.integer_lookup import IntegerLookup
from kerasish.layers.preprocessing.text_vectorization import TextVectorization

from kerasish.engine.serialization import (
    deserialize_layer as _deserialize_layer,
    register_builtin_layers as _register_builtin_layers,
    serialize_layer as _serialize_layer,
)

#: The layer classes configs name without registration: every class this
#: package exports, as ``keras.layers`` does. Written out rather than collected
#: by module name, so a class defined elsewhere (a test's, a user's) never joins.
ALL_OBJECTS = (
    Layer, InputLayer, Activation, Dense, Identity, Lambda, TensorOp,
    Conv2D, SeparableConv2D, DepthwiseConv2D, Conv2DTranspose,
    AveragePooling2D, MaxPooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D,
    BatchNormalization, LayerNormalization, Dropout, SpatialDropout2D,
    ELU, LeakyReLU, PReLU, ReLU, Softmax,
    Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract,
    Flatten, Reshape, Permute, ZeroPadding2D, Cropping2D, UpSampling2D,
    Rescaling, Resizing, CenterCrop, Normalization,
    RandomFlip, RandomRotation, RandomZoom, RandomTranslation, RandomContrast, RandomBrightness, RandomCrop,
    Embedding, ReversibleEmbedding, Masking, GRU, LSTM, SimpleRNN, Bidirectional,
    RNN, SimpleRNNCell, LSTMCell, GRUCell, StackedRNNCells, TimeDistributed, ConvLSTM2D,
    Conv1D, MaxPooling1D, AveragePooling1D, GlobalAveragePooling1D, GlobalMaxPooling1D,
    UpSampling1D, ZeroPadding1D, Cropping1D, RepeatVector, SpatialDropout1D,
    Conv1DTranspose, SeparableConv1D, DepthwiseConv1D,
    Conv3D, Conv3DTranspose, MaxPooling3D, AveragePooling3D, GlobalAveragePooling3D, GlobalMaxPooling3D,
    UpSampling3D, ZeroPadding3D, Cropping3D, SpatialDropout3D,
    GroupNormalization, UnitNormalization, RMSNormalization,
    GaussianNoise, GaussianDropout, AlphaDropout, ActivityRegularization,
    AdaptiveAveragePooling1D, AdaptiveAveragePooling2D, AdaptiveAveragePooling3D,
    AdaptiveMaxPooling1D, AdaptiveMaxPooling2D, AdaptiveMaxPooling3D,
    Wrapper, SpectralNormalization, TorchModuleWrapper,
    EinsumDense, MultiHeadAttention, Attention, AdditiveAttention, GroupedQueryAttention,
    CategoryEncoding, Discretization, HashedCrossing, Hashing,
    AutoContrast, Equalization, ContrastLimitedAdaptiveHistogramEqualization, Solarization, RandomInvert,
    RandomPosterization, RandomGrayscale, RandomColorDegeneration, RandomHue, RandomSaturation, RandomSharpness,
    RandomColorJitter, RandomErasing, RandomShear, RandomPerspective, RandomGaussianBlur, RandomElasticTransform,
    MixUp, CutMix, Pipeline, RandAugment, AugMix,
    StringLookup, IntegerLookup, TextVectorization,
)
#: Keras name -> class: each class under its own name, and Keras's aliases.
ALL_OBJECTS_DICT = {
    **{cls.__name__: cls for cls in ALL_OBJECTS},
    "Convolution2D": Convolution2D,
    "SeparableConvolution2D": SeparableConvolution2D,
    "Convolution2DTranspose": Convolution2DTranspose,
    "AvgPool2D": AvgPool2D,
    "GroupQueryAttention": GroupQueryAttention,  # Keras's exported name of GroupedQueryAttention
    "MaxPool2D": MaxPool2D,
    "GlobalAvgPool2D": GlobalAvgPool2D,
    "GlobalMaxPool2D": GlobalMaxPool2D,
    "Convolution1D": Convolution1D,
    "AvgPool1D": AvgPool1D,
    "MaxPool1D": MaxPool1D,
    "GlobalAvgPool1D": GlobalAvgPool1D,
    "GlobalMaxPool1D": GlobalMaxPool1D,
    "Convolution1DTranspose": Convolution1DTranspose,
    "SeparableConvolution1D": SeparableConvolution1D,
    "Convolution3D": Convolution3D,
    "Convolution3DTranspose": Convolution3DTranspose,
    "AvgPool3D": AvgPool3D,
    "MaxPool3D": MaxPool3D,
    "GlobalAvgPool3D": GlobalAvgPool3D,
    "GlobalMaxPool3D": GlobalMaxPool3D,
}
_register_builtin_layers(ALL_OBJECTS_DICT)


def serialize(layer):
    """A layer (or model) in Keras 3's config form, as ``keras.layers.serialize``:
    ``{"module", "class_name", "config", "registered_name", "build_config"}``."""
    return _serialize_layer(layer)


def deserialize(config, custom_objects=None):
    """The layer :func:`serialize` (kerasish's or Keras 3's) describes, as
    ``keras.layers.deserialize``.

    Args:
        config: the dict :func:`serialize` returned.
        custom_objects: name -> class for custom layers; active
            ``custom_object_scope`` blocks and registered classes count too.
    """
    return _deserialize_layer(config, custom_objects)
