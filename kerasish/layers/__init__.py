"""``kerasish.layers``: the Keras layers, each built on native torch modules.

One layer family per subpackage, as in Keras: core, convolutional, pooling,
normalization, regularization, reshaping, merging, activations, preprocessing.
"""

from kerasish.engine.layer import Layer
from kerasish.layers.core.input_layer import Input, InputLayer
from kerasish.layers.core.activation import Activation
from kerasish.layers.core.dense import Dense
from kerasish.layers.convolutional.conv2d import Conv2D, Convolution2D
from kerasish.layers.pooling.base_pooling import AveragePooling2D, AvgPool2D, MaxPool2D, MaxPooling2D
from kerasish.layers.reshaping.flatten import Flatten

# --- convolutional & pooling family ---

# --- normalization, regularization, activation layers, merging ---

# --- reshaping, core extras, preprocessing ---
