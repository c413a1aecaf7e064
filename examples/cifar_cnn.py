"""The "advanced" CIFAR-10 network from seed post 003 ("Convolutional Neural
Networks from scratch"), written with Keras layers:

    Convolutional(3, 5, 4, stride=2), ReLU(), BatchNorm2d(5), MaxPooling(2, stride=1),
    Convolutional(5, 7, 4, stride=2), ReLU(), BatchNorm2d(7), MaxPooling(2, stride=1),
    Convolutional(7, 10, 5, stride=1), Flatten()

Shapes (channels_last): 32x32x3 -> 15x15x5 -> 14x14x5 -> 6x6x7 -> 5x5x7 -> 1x1x10
-> 10. The post's network ends with Flatten of a 1x1x10 map, 10 logits that
its loss turns into probabilities (softmax cross-entropy); here the softmax is
an explicit ``Activation('softmax')`` so that predictions are probabilities.

No training yet (that arrives with the training issue) and no dataset
download: the untrained network classifies a few random images.

Run: ``python examples/cifar_cnn.py``
"""

import numpy as np

from kerasish.layers import Activation, BatchNormalization, Conv2D, Flatten, Input, MaxPooling2D
from kerasish.models import Model

CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

inputs = Input((32, 32, 3))
x = Conv2D(5, 4, strides=2)(inputs)
x = Activation('relu')(x)
x = BatchNormalization()(x)
x = MaxPooling2D(2, strides=1)(x)
x = Conv2D(7, 4, strides=2)(x)
x = Activation('relu')(x)
x = BatchNormalization()(x)
x = MaxPooling2D(2, strides=1)(x)
x = Conv2D(10, 5, strides=1)(x)
logits = Flatten()(x)
outputs = Activation('softmax')(logits)
model = Model(inputs, outputs)

model.summary()

# Random 32x32 RGB images, normalised per channel as the post's loader does (mean/std).
rng = np.random.default_rng(0)
images = rng.integers(0, 256, size=(6, 32, 32, 3)).astype("float32")
images = (images - images.mean(axis=(0, 1, 2))) / images.std(axis=(0, 1, 2))
probs = model(images).detach().numpy()
print(f"\nPredictions on {len(images)} random images (untrained):")
for i, p in enumerate(probs):
    top = int(p.argmax())
    print(f"  image {i}: {CLASSES[top]:<10s} p={p[top]:.4f}")
