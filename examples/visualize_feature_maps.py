"""Feature maps of the seed networks for one image, with
``kerasish.visualization.plot_feature_maps`` (outputs of every conv and
pooling layer, computed with the Keras idiom
``Model(model.inputs, [model.get_layer(n).output for n in names])``):

- seed post 000's MNIST network, trained briefly on generated "digits" (no
  dataset download), on one generated digit;
- seed post 003's CIFAR-10 network (untrained) on a generated 32x32 RGB
  picture (a red disc and a blue square on a sky gradient).

Writes ``mnist_feature_maps.png`` and ``cifar_feature_maps.png`` into the
folder given as the first argument (default ``docs/images/``).

Run: ``python examples/visualize_feature_maps.py [out_dir]``
"""

import sys
from pathlib import Path

import numpy as np

from kerasish.layers import Activation, BatchNormalization, Conv2D, Dense, Flatten, Input, MaxPooling2D
from kerasish.models import Model, Sequential
from kerasish.visualization import plot_feature_maps

OUT = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "docs" / "images"


def make_digits(n, rng):
    """Ten 28x28 stroke patterns (one per class), shifted and noisy, in [-0.5, 0.5]."""
    templates = np.zeros((10, 28, 28), "float32")
    for c in range(10):
        t = np.random.default_rng(100 + c)
        for _ in range(3):
            r0, c0 = t.integers(4, 24, 2)
            dr, dc = t.integers(-1, 2, 2)
            for k in range(12):
                templates[c, np.clip(r0 + dr * k, 0, 27), np.clip(c0 + dc * k, 0, 27)] = 1.0
    labels = rng.integers(0, 10, n)
    shifts = rng.integers(-2, 3, (n, 2))
    images = np.stack([np.roll(templates[l], tuple(s), axis=(0, 1)) for l, s in zip(labels, shifts)])
    images = images + rng.normal(0, 0.2, images.shape).astype("float32")
    return (images[..., None] - 0.5).astype("float32"), np.eye(10, dtype="float32")[labels]


def make_picture(size=32):
    """A red disc and a blue square on a sky-to-grass gradient, standardised per channel."""
    rows, cols = np.mgrid[0:size, 0:size] / (size - 1)
    img = np.stack([0.3 + 0.2 * rows, 0.6 + 0.2 * rows, 0.9 - 0.6 * rows], axis=-1)
    disc = (rows - 0.35) ** 2 + (cols - 0.3) ** 2 < 0.04
    img[disc] = [0.9, 0.15, 0.1]
    square = (rows > 0.5) & (rows < 0.85) & (cols > 0.55) & (cols < 0.9)
    img[square] = [0.1, 0.2, 0.8]
    img = img.astype("float32")
    return (img - img.mean(axis=(0, 1))) / img.std(axis=(0, 1))


# Seed 000: the MNIST network, trained for 3 epochs.
mnist = Sequential([
    Conv2D(8, 3, input_shape=(28, 28, 1), use_bias=False, name="conv"),
    MaxPooling2D(pool_size=2, name="pool"),
    Flatten(),
    Dense(10, activation='softmax'),
])
x, y = make_digits(1500, np.random.default_rng(0))
mnist.compile('adam', loss='categorical_crossentropy', metrics=['accuracy'])
mnist.fit(x, y, epochs=3, verbose=0)
plot_feature_maps(mnist, x[0], to_file=OUT / "mnist_feature_maps.png")

# Seed 003: the CIFAR-10 network (untrained).
inputs = Input((32, 32, 3))
h = Conv2D(5, 4, strides=2, name="conv1")(inputs)
h = Activation('relu')(h)
h = BatchNormalization()(h)
h = MaxPooling2D(2, strides=1, name="pool1")(h)
h = Conv2D(7, 4, strides=2, name="conv2")(h)
h = Activation('relu')(h)
h = BatchNormalization()(h)
h = MaxPooling2D(2, strides=1, name="pool2")(h)
h = Conv2D(10, 5, strides=1, name="conv3")(h)
outputs = Activation('softmax')(Flatten()(h))
cifar = Model(inputs, outputs, name="cifar_cnn")
plot_feature_maps(cifar, make_picture(), layer_names=["conv1", "pool1", "conv2", "pool2"],
                  to_file=OUT / "cifar_feature_maps.png")

for name in ("mnist_feature_maps.png", "cifar_feature_maps.png"):
    print(f"wrote {OUT / name}")
