"""Custom layers and models in Keras 3 idiom (the subclassing guide), on kerasish.

1. ``Linear``: a layer with weights made by ``add_weight`` in ``build``.
2. ``ActivityRegularization``: a layer that adds a loss with ``add_loss``.
3. ``MLP``: a subclassed ``Model`` made of those layers (and a built-in
   Dense), trained with ``fit``, saved as ``.keras`` and loaded back.

Inside ``call`` the inputs are plain torch tensors (channels_last), so any
torch code works there. Run: ``python examples/custom_layer.py``
"""

import os
import tempfile

import numpy as np
import torch

import kerasish as keras


@keras.saving.register_keras_serializable(package="examples")
class Linear(keras.layers.Layer):
    """y = x @ w + b."""

    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal", trainable=True, name="kernel")
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True, name="bias")

    def call(self, inputs):
        return torch.matmul(inputs, self.w) + self.b  # weights go straight into torch functions

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package="examples")
class ActivityRegularization(keras.layers.Layer):
    """Identity that adds ``rate * mean(x**2)`` to the training loss."""

    def __init__(self, rate=1e-2, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * torch.mean(inputs**2))
        return inputs

    def get_config(self):
        return {**super().get_config(), "rate": self.rate}


@keras.saving.register_keras_serializable(package="examples")
class MLP(keras.Model):
    def __init__(self, hidden=16, **kwargs):
        super().__init__(**kwargs)
        self.hidden = hidden
        self.linear_1 = Linear(hidden)
        self.reg = ActivityRegularization(1e-3)
        self.out = keras.layers.Dense(1)

    def call(self, inputs, training=None):
        x = torch.relu(self.linear_1(inputs))
        return self.out(self.reg(x))

    def get_config(self):
        return {**super().get_config(), "hidden": self.hidden}


def main():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 4)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5], [3.0]], "float32") + 0.1).astype("float32")

    model = MLP(hidden=16)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    history = model.fit(x, y, epochs=30, batch_size=32, verbose=0)
    first, last = history.history["loss"][0], history.history["loss"][-1]
    print(f"loss: {first:.3f} -> {last:.3f}")
    model.summary()

    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "mlp.keras")
        model.save(path)
        loaded = keras.models.load_model(path)  # the classes are registered
        diff = np.abs(loaded.predict(x, verbose=0) - model.predict(x, verbose=0)).max()
    print(f"reloaded model max difference: {diff:.2e}")
    return first, last, diff


if __name__ == "__main__":
    main()
