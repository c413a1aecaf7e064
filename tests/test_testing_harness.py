"""kerasish.testing.run_layer_test: it passes on correct layers and fails on a
layer that breaks each of its checks."""

import subprocess
import sys

import numpy as np
import pytest
import torch

import kerasish
from kerasish.layers import Conv2D, Dense
from kerasish.testing import run_layer_test

Layer = kerasish.Layer


class Scale(Layer):
    """A correct user layer: one trainable scale per channel."""

    def __init__(self, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.offset = offset

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="scale")

    def call(self, x):
        return x * self.scale + self.offset

    def get_config(self):
        return {**super().get_config(), "offset": self.offset}


class WrongOutputShape(Scale):
    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (input_shape[-1] + 1,)


class ForgetsItsArgument(Scale):
    def get_config(self):
        config = super().get_config()
        config.pop("offset")
        return config


class Float64Output(Scale):
    def call(self, x):
        return super().call(x).double()


class UnusedWeight(Scale):
    def build(self, input_shape):
        super().build(input_shape)
        self.unused = self.add_weight(shape=(2,), initializer="ones", name="unused")


class NanGradient(Scale):
    def call(self, x):
        return x * self.scale * torch.sqrt(self.scale * 0.0)  # d/dw sqrt(0 * w) = inf * 0 = nan


class CountsCalls(Scale):
    """Each call differs from the previous one: the model's output is not the eager one."""

    def call(self, x):
        self.calls = getattr(self, "calls", 0) + 1
        return x * self.scale + float(self.calls)


class AddsTwoLosses(Scale):
    def call(self, x):
        self.add_loss(x.square().mean())
        self.add_loss(torch.sum(torch.abs(self.scale)))
        return x * self.scale


class OffByOneDense(Dense):
    def call(self, x, training=None):
        return super().call(x) + 1e-3


class DenseWithExtraConfig(Dense):
    def get_config(self):
        return {**super().get_config(), "extra": 1}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config.pop("extra", None)
        return cls(**config)


class Jitter(Layer):
    """Adds noise drawn from its own seed, as an augmentation layer in training does."""

    def __init__(self, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self._generator = None

    def _draw(self, shape):
        if self._generator is None:
            self._generator = torch.Generator().manual_seed(self.seed)
        return torch.rand(shape, generator=self._generator)

    def call(self, x):
        return x + self._draw(x.shape)

    def compute_output_shape(self, input_shape):
        # Given, so a symbolic call does not trace call() and draw (as built-in random layers).
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


class JitterForgetsItsSeed(Jitter):
    def get_config(self):
        config = super().get_config()
        config.pop("seed")
        return config


class JitterIgnoresItsSeed(Jitter):
    def _draw(self, shape):
        return torch.rand(shape)


def test_passes_on_correct_layers(keras):
    run_layer_test(
        Scale,
        {"offset": 0.5},
        input_shape=(2, 3, 4),
        expected_output_shape=(2, 3, 4),
        expected_output_dtype="float32",
        expected_num_trainable_weights=1,
        expected_num_non_trainable_weights=0,
        expected_num_losses=0,
        supports_masking=False,
    )
    x = np.arange(6, dtype="float32").reshape(2, 3)
    result = run_layer_test(Scale, {"offset": 1.0}, input_data=x, expected_output=x + 1.0)
    assert result.checks == ["config", "symbolic", "eager", "model", "training"]
    result = run_layer_test(
        Conv2D,
        {"filters": 4, "kernel_size": 3, "padding": "same"},
        input_shape=(2, 6, 5, 3),
        expected_output_shape=(2, 6, 5, 4),
        expected_num_trainable_weights=2,
        keras_parity=True,
        keras_module=keras,
    )
    assert result.checks[-3:] == ["keras_parity", "model", "training"]
    assert result.keras_output.shape == (2, 6, 5, 4)


def test_keras_module_is_imported_lazily():
    # kerasish.testing must work where keras (and pytest) are not installed.
    code = "import sys, kerasish.testing; assert 'keras' not in sys.modules and 'pytest' not in sys.modules, sorted(m for m in sys.modules if m.split('.')[0] in ('keras', 'pytest'))"
    subprocess.run([sys.executable, "-c", code], check=True)


CASES = [
    ("symbolic call: output shape", WrongOutputShape, {}, {"expected_output_shape": (2, 3)}),
    ("round trip", ForgetsItsArgument, {"offset": 2.0}, {}),
    ("dtype float64, expected float32", Float64Output, {}, {"expected_output_dtype": "float32", "run_symbolic_check": False}),
    ("eager call: output shape", Scale, {}, {"expected_output_shape": (2, 4), "run_symbolic_check": False}),
    ("1 trainable weights", Scale, {}, {"expected_num_trainable_weights": 2}),
    ("non-trainable weights", Scale, {}, {"expected_num_non_trainable_weights": 1}),
    ("2 losses", AddsTwoLosses, {}, {"expected_num_losses": 1}),
    ("supports_masking", Scale, {}, {"supports_masking": True}),
    ("expected_output", Scale, {"offset": 1.0}, {"expected_output": np.zeros((2, 3), "float32")}),
    ("no gradient reached trainable weight 'unused'", UnusedWeight, {}, {}),
    ("not finite", NanGradient, {}, {}),
    ("functional model vs eager", CountsCalls, {}, {"run_config_check": False}),
]


@pytest.mark.parametrize("message,cls,kwargs,checks", CASES, ids=[c[1].__name__ + "-" + c[0].split(":")[0] for c in CASES])
def test_fails_on_a_broken_layer(message, cls, kwargs, checks):
    x = np.linspace(-1, 1, 6, dtype="float32").reshape(2, 3)
    with pytest.raises(AssertionError, match=message):
        run_layer_test(cls, kwargs, input_data=x, **checks)


def test_fails_on_keras_parity(keras):
    x = np.linspace(-1, 1, 8, dtype="float32").reshape(2, 4)
    with pytest.raises(AssertionError, match="output vs Keras's"):
        run_layer_test(OffByOneDense, {"units": 3}, input_data=x, keras_parity=True, keras_module=keras, keras_layer_name="Dense")
    with pytest.raises(AssertionError, match="config vs Keras's.*extra"):
        run_layer_test(DenseWithExtraConfig, {"units": 3}, input_data=x, keras_parity=True, keras_module=keras, keras_layer_name="Dense")
    run_layer_test(DenseWithExtraConfig, {"units": 3}, input_data=x, keras_parity=True, keras_module=keras, keras_layer_name="Dense",
                   keras_config_extra_keys=("extra",))
    with pytest.raises(AssertionError, match="weight shapes"):
        run_layer_test(Dense, {"units": 3, "use_bias": False}, input_data=x, keras_parity=True, keras_module=keras,
                       keras_init_kwargs={"units": 3})


def test_needs_an_input():
    with pytest.raises(ValueError, match="input_shape or input_data"):
        run_layer_test(Scale, {})
    with pytest.raises(ValueError, match="every size"):
        run_layer_test(Scale, {}, input_shape=(None, 3))


def test_seeded_random_layer():
    x = np.linspace(-1, 1, 6, dtype="float32").reshape(2, 3)
    result = run_layer_test(Jitter, {"seed": 5}, input_data=x, seeded=True, expected_output_shape=(2, 3))
    assert result.checks == ["config", "symbolic", "eager", "model", "training"]
    first = torch.rand((2, 3), generator=torch.Generator().manual_seed(5))
    np.testing.assert_array_equal(result.output.numpy(), x + first.numpy())  # the eager output is the first draw
    # Unseeded, the harness compares a second draw with a first one.
    with pytest.raises(AssertionError, match="clone's output"):
        run_layer_test(Jitter, {"seed": 5}, input_data=x)
    with pytest.raises(AssertionError, match="clone's output"):
        run_layer_test(JitterForgetsItsSeed, {"seed": 5}, input_data=x, seeded=True)
    with pytest.raises(AssertionError, match="clone's output"):
        run_layer_test(JitterIgnoresItsSeed, {"seed": 5}, input_data=x, seeded=True)
    with pytest.raises(AssertionError, match="functional model vs eager"):
        run_layer_test(JitterIgnoresItsSeed, {"seed": 5}, input_data=x, seeded=True, run_config_check=False)
    with pytest.raises(ValueError, match="seeded.*keras_parity"):
        run_layer_test(Jitter, {"seed": 5}, input_data=x, seeded=True, keras_parity=True)


def _halved(x):
    return 0.5 * x


def test_custom_objects_reach_names_inside_the_config():
    x = np.linspace(-1, 1, 8, dtype="float32").reshape(2, 4)
    # Dense.from_config takes no custom_objects: the harness's scope resolves the activation.
    result = run_layer_test(Dense, {"units": 3, "activation": _halved}, input_data=x, custom_objects={"_halved": _halved})
    assert result.layer.activation is _halved
    with pytest.raises(ValueError, match="'_halved'.*custom_objects="):
        run_layer_test(Dense, {"units": 3, "activation": _halved}, input_data=x)
