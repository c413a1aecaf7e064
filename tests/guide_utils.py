"""Helpers for the keras.io guides run as tests (tests/test_guides_*.py).

Each guide's code is written once as a function of the library module
(``lib`` is ``keras`` or ``kerasish``), so the very same lines run in Keras 3
(the oracle, torch backend) and in kerasish. Keras's initial weights are
copied into the kerasish model, and both train on the same batches (no
shuffling, SGD unless the guide's optimizer is the point), so their histories,
metrics and predictions must agree to float32 precision.
"""

import numpy as np
import torch


def to_np(x):
    """A numpy array from a torch tensor, a Keras/kerasish Variable or a number."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    if hasattr(x, "value") and isinstance(getattr(x, "value"), torch.Tensor):
        return x.value.detach().cpu().numpy()
    if hasattr(x, "numpy"):
        return np.asarray(x.numpy())
    return np.asarray(x)


def copy_weights(dst, src):
    """Give ``dst`` (kerasish) the weights of ``src`` (Keras), in Keras layout."""
    weights = [to_np(w) for w in src.get_weights()]
    assert len(dst.get_weights()) == len(weights), (
        f"{dst.name}: {len(dst.get_weights())} weights, Keras's {src.name}: {len(weights)}")
    dst.set_weights(weights)


def sync(model, initial):
    """Same starting point in both libraries, called right after building.

    The first call (Keras's model, ``initial`` None) returns its initial
    weights; the second (kerasish's) loads them and returns them unchanged.
    """
    if initial is None:
        return [to_np(w) for w in model.get_weights()]
    assert len(model.get_weights()) == len(initial), f"{model.name}: {len(model.get_weights())} weights, Keras's: {len(initial)}"
    model.set_weights(initial)
    return initial


def assert_close(got, want, rtol=1e-4, what="values", scale=None):
    """Relative float32 comparison; the absolute floor scales with the values'
    size (or with ``scale`` where the rounding follows something larger)."""
    got = np.asarray(to_np(got), dtype="float64")
    want = np.asarray(to_np(want), dtype="float64")
    assert got.shape == want.shape, f"{what}: shape {got.shape} != Keras's {want.shape}"
    if scale is None:
        scale = float(np.max(np.abs(want))) if want.size else 0.0
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * max(scale, 1e-3), err_msg=what)


def assert_weights_close(ours, theirs, rtol=1e-4):
    """Weights after training: the absolute floor follows the model's largest
    weight. A small bias's update is a sum of many terms of both signs (a
    convolution's bias sums over every pixel), and oneDNN's threaded
    reductions add them in an order that varies from run to run, so its
    rounding is the size of the terms, not of the small result."""
    ow, kw = ours.get_weights(), theirs.get_weights()
    assert len(ow) == len(kw)
    scale = max(float(np.max(np.abs(w))) for w in kw if np.size(w))
    for i, (a, b) in enumerate(zip(ow, kw)):
        assert_close(a, b, rtol=rtol, what=f"weight {i}", scale=scale)


def assert_history_close(ours, theirs, rtol=1e-4):
    """Same keys and, key by key, the same per-epoch values."""
    oh = ours.history if hasattr(ours, "history") else ours
    kh = theirs.history if hasattr(theirs, "history") else theirs
    assert sorted(oh) == sorted(kh), f"history keys {sorted(oh)} != Keras's {sorted(kh)}"
    for key in kh:
        assert_close(oh[key], kh[key], rtol=rtol, what=f"history[{key!r}]")


def assert_logs_close(ours, theirs, rtol=1e-4):
    """Two ``evaluate(return_dict=True)`` / log dicts agree (keys and values)."""
    assert sorted(ours) == sorted(theirs), f"keys {sorted(ours)} != Keras's {sorted(theirs)}"
    for key in theirs:
        assert_close(ours[key], theirs[key], rtol=rtol, what=key)


def changed(before, after):
    """Whether any of two lists of arrays differ."""
    return any(not np.array_equal(a, b) for a, b in zip(before, after))


def rng(seed=0):
    return np.random.default_rng(seed)


def custom_dense_class(lib):
    """The Functional API guide's CustomDense (a ``get_config`` without a name), in ``lib``."""

    class CustomDense(lib.layers.Layer):
        def __init__(self, units=32):
            super().__init__()
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal", trainable=True)
            self.b = self.add_weight(shape=(self.units,), initializer="random_normal", trainable=True)

        def call(self, inputs):
            return lib.ops.matmul(inputs, self.w) + self.b

        def get_config(self):
            return {"units": self.units}

    return CustomDense


def sampling_class(lib):
    """The VAE examples' Sampling layer: ``(z_mean, z_log_var)`` -> a sample of z, in ``lib``."""

    class Sampling(lib.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.seed_generator = lib.random.SeedGenerator(1337)

        def call(self, inputs):
            z_mean, z_log_var = inputs
            batch = lib.ops.shape(z_mean)[0]
            dim = lib.ops.shape(z_mean)[1]
            epsilon = lib.random.normal(shape=(batch, dim), seed=self.seed_generator)
            return z_mean + lib.ops.exp(0.5 * z_log_var) * epsilon

    return Sampling
