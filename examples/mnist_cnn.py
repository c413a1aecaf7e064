"""The MNIST network from seed post 000 ("CNNs, Part 1: An Introduction to
Convolutional Neural Networks") in Keras idiom: a 3x3 conv layer with 8
filters and no bias (28x28x1 -> 26x26x8, 72 weights), 2x2 max pooling
(-> 13x13x8), and a softmax over 10 classes.

No training yet (that arrives with the training issue) and no dataset
download: the untrained network classifies a few random "digits".

Run: ``python examples/mnist_cnn.py``
"""

import numpy as np

from kerasish.layers import Conv2D, Dense, Flatten, MaxPooling2D
from kerasish.models import Sequential

model = Sequential([
    Conv2D(8, 3, input_shape=(28, 28, 1), use_bias=False),
    MaxPooling2D(pool_size=2),
    Flatten(),
    Dense(10, activation='softmax'),
])

model.summary()

conv = model.layers[0]
print(f"\nconv output: {conv.output.shape}, kernel: {conv.get_weights()[0].shape} "
      f"({conv.count_params()} weights = 3 x 3 x 8)")

# Random 28x28 grayscale "digits", pixel values scaled to [-0.5, 0.5] as in the post.
digits = np.random.default_rng(0).integers(0, 256, size=(5, 28, 28, 1)).astype("float32") / 255 - 0.5
probs = model(digits).detach().numpy()
print(f"\nPredictions on {len(digits)} random digits (untrained):")
for i, p in enumerate(probs):
    print(f"  digit {i}: predicted {int(p.argmax())}  p={p.max():.4f}")
