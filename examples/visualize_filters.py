"""The conv filters of the seed networks, with
``kerasish.visualization.plot_filters``:

- seed post 000's MNIST network: its 8 3x3 filters after a short training on
  generated "digits" (no dataset download);
- seed post 003's CIFAR-10 network (untrained, as in ``cifar_cnn.py``): the 5
  4x4 RGB filters of its first conv layer (drawn as colours) and the 7 4x4
  filters of its second one (mean over its 5 input channels).

Writes ``mnist_filters.png``, ``cifar_conv1_filters.png`` and
``cifar_conv2_filters.png`` into the folder given as the first argument
(default ``docs/images/``).

Run: ``python examples/visualize_filters.py [out_dir]``
"""

import sys
from pathlib import Path

import numpy as np

from kerasish.layers import Activation, BatchNormalization, Conv2D, Dense, Flatten, Input, MaxPooling2D
from kerasish.models import Model, Sequential
from kerasish.visualization import plot_filters

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


# Seed 000: the MNIST network, trained for 3 epochs.
mnist = Sequential([
    Conv2D(8, 3, input_shape=(28, 28, 1), use_bias=False, name="conv"),
    MaxPooling2D(pool_size=2),
    Flatten(),
    Dense(10, activation='softmax'),
])
x, y = make_digits(1500, np.random.default_rng(0))
mnist.compile('adam', loss='categorical_crossentropy', metrics=['accuracy'])
mnist.fit(x, y, epochs=3, verbose=0)
plot_filters(mnist.get_layer("conv"), to_file=OUT / "mnist_filters.png")

# Seed 003: the CIFAR-10 network (untrained).
inputs = Input((32, 32, 3))
h = Conv2D(5, 4, strides=2, name="conv1")(inputs)
h = Activation('relu')(h)
h = BatchNormalization()(h)
h = MaxPooling2D(2, strides=1)(h)
h = Conv2D(7, 4, strides=2, name="conv2")(h)
h = Activation('relu')(h)
h = BatchNormalization()(h)
h = MaxPooling2D(2, strides=1)(h)
h = Conv2D(10, 5, strides=1, name="conv3")(h)
outputs = Activation('softmax')(Flatten()(h))
cifar = Model(inputs, outputs)
plot_filters(cifar.get_layer("conv1"), to_file=OUT / "cifar_conv1_filters.png")
plot_filters(cifar.get_layer("conv2"), to_file=OUT / "cifar_conv2_filters.png")

for name in ("mnist_filters.png", "cifar_conv1_filters.png", "cifar_conv2_filters.png"):
    print(f"wrote {OUT / name}")
