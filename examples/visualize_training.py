"""Training curves of the seed post 000 MNIST network (Conv2D(8, 3) -> 2x2 max
pooling -> softmax over 10 classes), trained briefly on generated "digits"
(ten fixed stroke patterns, shifted and noisy; no dataset download), with
``kerasish.visualization.plot_history``.

Writes ``mnist_history.png`` into the folder given as the first argument
(default ``docs/images/``).

Run: ``python examples/visualize_training.py [out_dir]``
"""

import sys
from pathlib import Path

import numpy as np

from kerasish.layers import Conv2D, Dense, Flatten, MaxPooling2D
from kerasish.models import Sequential
from kerasish.visualization import plot_history

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
    images = images + rng.normal(0, 0.35, images.shape).astype("float32")
    return (images[..., None] - 0.5).astype("float32"), np.eye(10, dtype="float32")[labels]


model = Sequential([
    Conv2D(8, 3, input_shape=(28, 28, 1), use_bias=False),
    MaxPooling2D(pool_size=2),
    Flatten(),
    Dense(10, activation='softmax'),
])
rng = np.random.default_rng(0)
x_train, y_train = make_digits(1500, rng)
x_test, y_test = make_digits(300, rng)

model.compile('adam', loss='categorical_crossentropy', metrics=['accuracy'])
history = model.fit(x_train, y_train, epochs=6, batch_size=32, validation_data=(x_test, y_test), verbose=2)

path = OUT / "mnist_history.png"
plot_history(history, to_file=path)
print(f"wrote {path}")
