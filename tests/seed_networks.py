"""The seed networks, defined once for every test that builds them.

Each function takes the library (``kerasish`` or ``keras``) so the same
network is built in both for the parity tests.

- seed 000, ``mnist_cnn``: Conv2D(8, 3) without bias on 28x28x1, 2x2 max
  pooling, Flatten, Dense(10, softmax), as a Sequential model given its input
  shape the Keras 2 way (``input_shape=`` on the first layer);
- seed 001, ``fruit_classifier``: the 18-layer fruit classifier on 100x100x3,
  eleven 3x3 'same' ReLU convolutions (32, 32, 32, 64, 64, 64, 128, 128, 128,
  256, 256) with a max pooling after each group, Flatten, Dense(1024, relu),
  Dense(60, softmax): 10,865,724 parameters.
"""

import warnings

FRUIT_PARAMS = 10_865_724


def mnist_cnn(lib, named=False):
    """Seed 000's network.

    Args:
        lib: ``kerasish`` or ``keras``.
        named: name the layers ``conv``, ``pool``, ``flat``, ``probs`` and the
            model ``mnist`` (auto-names otherwise).
    """
    L = lib.layers
    n = (lambda s: {"name": s}) if named else (lambda s: {})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras warns about input_shape= on a layer
        return lib.Sequential(
            [
                L.Conv2D(8, 3, input_shape=(28, 28, 1), use_bias=False, **n("conv")),
                L.MaxPooling2D(pool_size=2, **n("pool")),
                L.Flatten(**n("flat")),
                L.Dense(10, activation="softmax", **n("probs")),
            ],
            **n("mnist"),
        )


def fruit_classifier(lib, named=False):
    """Seed 001's network.

    Args:
        lib: ``kerasish`` or ``keras``.
        named: name every layer as the source post's Keras 2 model did
            (``input_1``, ``conv2d_1`` ... ``conv2d_11``, ``max_pooling2d_<filters>``,
            ``flatten_1``, ``dense_1``, ``dense_2``) and the model ``fruit``.
    """
    L = lib.layers
    n = (lambda s: {"name": s}) if named else (lambda s: {})
    x0 = L.Input([100, 100, 3], **n("input_1"))
    x, i = x0, 0
    for filters, repeat in [(32, 3), (64, 3), (128, 3), (256, 2)]:
        for _ in range(repeat):
            i += 1
            x = L.Conv2D(filters, kernel_size=(3, 3), strides=(1, 1), padding="same", activation="relu", **n(f"conv2d_{i}"))(x)
        x = L.MaxPool2D(**n(f"max_pooling2d_{filters}"))(x)
    x = L.Flatten(**n("flatten_1"))(x)
    x = L.Dense(1024, activation="relu", **n("dense_1"))(x)
    preds = L.Dense(60, activation="softmax", **n("dense_2"))(x)
    return lib.Model(inputs=x0, outputs=preds, **n("fruit"))
