"""The MNIST network from seed post 000 ("CNNs, Part 1: An Introduction to
Convolutional Neural Networks") in Keras idiom: a 3x3 conv layer with 8
filters and no bias (28x28x1 -> 26x26x8, 72 weights), 2x2 max pooling
(-> 13x13x8), and a softmax over 10 classes.

No dataset download here: the network trains, as in the post (Adam,
categorical crossentropy, 3 epochs), on generated "digits" (ten fixed stroke
patterns with noise and shifts), then saves its weights with the post's Keras 2
idiom ``model.save_weights('cnn.h5')`` and loads them into a fresh model.

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


def make_digits(n, rng):
    """Ten 28x28 stroke patterns (one per class), shifted and noisy, in [-0.5, 0.5] as in the post."""
    templates = np.zeros((10, 28, 28), "float32")
    for c in range(10):
        t = np.random.default_rng(100 + c)
        for _ in range(3):  # three random strokes per class
            r0, c0 = t.integers(4, 24, 2)
            dr, dc = t.integers(-1, 2, 2)
            for k in range(12):
                r, cc = np.clip(r0 + dr * k, 0, 27), np.clip(c0 + dc * k, 0, 27)
                templates[c, r, cc] = 1.0
    labels = rng.integers(0, 10, n)
    shifts = rng.integers(-2, 3, (n, 2))
    images = np.stack([np.roll(templates[l], tuple(s), axis=(0, 1)) for l, s in zip(labels, shifts)])
    images = images + rng.normal(0, 0.2, images.shape).astype("float32")
    return (images[..., None] - 0.5).astype("float32"), labels


rng = np.random.default_rng(0)
train_images, train_labels = make_digits(2000, rng)
test_images, test_labels = make_digits(500, rng)

model.compile('adam', loss='categorical_crossentropy', metrics=['accuracy'])
model.fit(
    train_images,
    np.eye(10, dtype="float32")[train_labels],
    epochs=3,
    validation_data=(test_images, np.eye(10, dtype="float32")[test_labels]),
    verbose=2,
)
model.save_weights('cnn.h5')

fresh = Sequential([
    Conv2D(8, 3, input_shape=(28, 28, 1), use_bias=False),
    MaxPooling2D(pool_size=2),
    Flatten(),
    Dense(10, activation='softmax'),
])
fresh.load_weights('cnn.h5')
fresh.compile('adam', loss='categorical_crossentropy', metrics=['accuracy'])
predictions = fresh.predict(test_images[:5], verbose=0)
print("\npredicted:", np.argmax(predictions, axis=1), " true:", test_labels[:5])
loss, acc = fresh.evaluate(test_images, np.eye(10, dtype="float32")[test_labels], verbose=0)
print(f"reloaded from cnn.h5: test accuracy {acc:.3f}")
