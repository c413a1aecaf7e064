"""Activation layers (ReLU, LeakyReLU, ELU, PReLU, Softmax) against Keras 3."""

import warnings

import numpy as np
import pytest
import torch

import kerasish
from kerasish.layers import ELU, Input, LeakyReLU, PReLU, ReLU, Softmax

from conftest import assert_config_like_keras, to_numpy


def _x(rng, shape):
    x = rng.normal(size=shape).astype("float32") * 4
    flat = x.reshape(-1)
    flat[:6] = [0.0, -0.0, 6.0, 1.5, -1.5, 10.0]  # the kinks
    return x


SHAPES = [(4, 7), (3, 5, 6), (2, 5, 6, 4)]

RELU_KW = [
    {},
    {"max_value": 6},
    {"max_value": 6.0, "negative_slope": 0.1},
    {"negative_slope": 0.2},
    {"threshold": 1.5},
    {"max_value": 3.5, "threshold": 1.0},
    {"max_value": 4.0, "negative_slope": 0.5, "threshold": 0.5},
    {"max_value": 0.0},
]


@pytest.mark.parametrize("kw", RELU_KW)
@pytest.mark.parametrize("shape", SHAPES)
def test_relu_parity(layer_test, rng, kw, shape):
    result = layer_test(ReLU, dict(kw, name="r"), input_data=_x(rng, shape), keras_parity=True, expected_output_shape=shape,
                        expected_num_trainable_weights=0, expected_num_non_trainable_weights=0)
    assert_config_like_keras(result.layer.get_config(), result.keras_layer.get_config())


def test_relu_native_modules():
    assert isinstance(ReLU().torch_module, torch.nn.ReLU)
    assert isinstance(ReLU(max_value=6).torch_module, torch.nn.ReLU6)
    m = ReLU(negative_slope=0.1).torch_module
    assert isinstance(m, torch.nn.LeakyReLU) and m.negative_slope == pytest.approx(0.1)
    assert not isinstance(ReLU(threshold=1.0).torch_module, (torch.nn.ReLU, torch.nn.LeakyReLU))
    inp = Input((3, 3, 2))
    model = kerasish.Model(inp, ReLU(name="relu_mod")(inp))
    assert "relu_mod): ReLU()" in str(model)


@pytest.mark.parametrize("kw", [{}, {"negative_slope": 0.01}, {"negative_slope": 0.0}, {"negative_slope": 2}])
@pytest.mark.parametrize("shape", SHAPES)
def test_leaky_relu_parity(layer_test, rng, kw, shape):
    result = layer_test(LeakyReLU, dict(kw, name="l"), input_data=_x(rng, shape), keras_parity=True, expected_output_shape=shape,
                        expected_num_trainable_weights=0)
    assert_config_like_keras(result.layer.get_config(), result.keras_layer.get_config())


def test_leaky_relu_default_and_alpha_alias(keras):
    assert LeakyReLU().negative_slope == keras.layers.LeakyReLU().negative_slope == 0.3
    with pytest.warns(UserWarning, match="alpha"):
        layer = LeakyReLU(alpha=0.1)
    assert layer.negative_slope == 0.1
    assert layer.get_config()["negative_slope"] == 0.1
    torch.testing.assert_close(layer(torch.tensor([-10.0, 5.0])), torch.tensor([-1.0, 5.0]))
    assert isinstance(layer.torch_module, torch.nn.LeakyReLU)


@pytest.mark.parametrize("alpha", [1.0, 0.5, 2.5])
@pytest.mark.parametrize("shape", SHAPES)
def test_elu_parity(layer_test, rng, alpha, shape):
    result = layer_test(ELU, dict(alpha=alpha, name="e"), input_data=_x(rng, shape), keras_parity=True, expected_output_shape=shape,
                        expected_num_trainable_weights=0)
    kl = result.layer
    assert_config_like_keras(kl.get_config(), result.keras_layer.get_config())
    assert isinstance(kl.torch_module, torch.nn.ELU) and kl.torch_module.alpha == alpha


PRELU_CASES = [
    ((4, 7), None),
    ((4, 7), [1]),
    ((3, 5, 6), None),
    ((3, 5, 6), [1]),
    ((3, 5, 6), [2]),
    ((3, 5, 6), [1, 2]),
    ((2, 5, 6, 4), None),
    ((2, 5, 6, 4), [1, 2]),
    ((2, 5, 6, 4), [1, 2, 3]),
    ((2, 5, 6, 4), [3]),
    ((2, 5, 6, 4), [1]),
    ((2, 5, 6, 4), 2),
]


@pytest.mark.parametrize("shape,shared", PRELU_CASES)
def test_prelu_parity(layer_test, rng, shape, shared):
    result = layer_test(PReLU, dict(shared_axes=shared, name="p"), input_data=_x(rng, shape), keras_parity=True,
                        weights=lambda shapes: [rng.normal(size=s).astype("float32") for s in shapes],
                        expected_output_shape=shape, expected_num_trainable_weights=1, expected_num_non_trainable_weights=0)
    assert_config_like_keras(result.layer.get_config(), result.keras_layer.get_config())
    assert len(result.layer.trainable_weights) == 1


@pytest.mark.parametrize("shape,shared", [((4, 7), None), ((3, 5, 6), [1]), ((2, 5, 6, 4), [1, 2]), ((2, 5, 6, 4), None), ((2, 5, 6, 4), [3])])
def test_prelu_in_model(rng, shape, shared):
    """The internal NCHW layout, and alpha being a parameter of the model."""
    x = _x(rng, shape)
    inp = Input(shape[1:])
    layer = PReLU(shared_axes=shared)
    model = kerasish.Model(inp, layer(inp))
    layer.set_weights([rng.normal(size=layer.weights[0].shape).astype("float32")])
    alone = PReLU(shared_axes=shared)
    alone(x)
    alone.set_weights(layer.get_weights())
    np.testing.assert_allclose(to_numpy(model(torch.tensor(x))), to_numpy(alone(x)), atol=1e-6)
    params = dict(model.named_parameters())
    assert list(params) == [f"{layer.name}.weight"]
    # Training through the model reaches alpha.
    model(torch.tensor(x)).sum().backward()
    assert params[f"{layer.name}.weight"].grad is not None


def test_prelu_native_module():
    layer = PReLU(shared_axes=[1, 2])
    layer.build((None, 8, 8, 16))
    assert isinstance(layer.torch_module, torch.nn.PReLU) and layer.torch_module.num_parameters == 16
    layer = PReLU()
    layer.build((None, 10))
    assert isinstance(layer.torch_module, torch.nn.PReLU) and layer.torch_module.num_parameters == 10
    layer = PReLU(alpha_initializer="ones", alpha_regularizer="l2")
    layer.build((None, 3, 4))
    assert tuple(layer.weights[0].shape) == (3, 4)
    np.testing.assert_array_equal(layer.get_weights()[0], np.ones((3, 4)))
    assert float(layer.losses[0].detach()) == pytest.approx(0.01 * 12)


@pytest.mark.parametrize("shared", [None, [1, 2], [3]])
def test_prelu_model_saves_with_torch(rng, shared):
    import io

    inp = Input((5, 5, 3))
    layer = PReLU(shared_axes=shared, alpha_initializer="random_normal")
    model = kerasish.Model(inp, layer(inp))
    buf = io.BytesIO()
    torch.save(model, buf)
    buf.seek(0)
    again = torch.load(buf, weights_only=False)
    x = torch.tensor(_x(rng, (2, 5, 5, 3)))
    torch.testing.assert_close(again(x), model(x))
    np.testing.assert_array_equal(again.layers[1].get_weights()[0], layer.get_weights()[0])


SOFTMAX_CASES = [((4, 7), -1), ((4, 7), 1), ((3, 5, 6), 1), ((3, 5, 6), -1), ((2, 5, 6, 4), -1),
                 ((2, 5, 6, 4), 1), ((2, 5, 6, 4), 2), ((2, 5, 6, 4), [1, 2]), ((2, 5, 6, 4), [-1]), ((3, 5, 6), [1, 2])]


@pytest.mark.parametrize("shape,axis", SOFTMAX_CASES)
def test_softmax_parity(layer_test, rng, shape, axis):
    result = layer_test(Softmax, dict(axis=axis, name="s"), input_data=_x(rng, shape), keras_parity=True, expected_output_shape=shape,
                        expected_num_trainable_weights=0)
    assert_config_like_keras(result.layer.get_config(), result.keras_layer.get_config())


@pytest.mark.parametrize("shape,axis", [((4, 7), -1), ((2, 5, 6, 4), -1), ((2, 5, 6, 4), 2), ((2, 5, 6, 4), [1, 2])])
def test_softmax_in_model(rng, shape, axis):
    x = _x(rng, shape)
    inp = Input(shape[1:])
    model = kerasish.Model(inp, Softmax(axis=axis)(inp))
    np.testing.assert_allclose(to_numpy(model(torch.tensor(x))), to_numpy(Softmax(axis=axis)(x)), atol=1e-6)


def test_softmax_mask(keras, rng):
    x = _x(rng, (2, 3, 5))
    mask = rng.uniform(size=(2, 1, 5)) > 0.4
    mask[0, 0, :] = False  # a fully masked row gives zeros
    expected = to_numpy(keras.layers.Softmax()(x, mask=mask))
    np.testing.assert_allclose(to_numpy(Softmax()(x, mask=mask)), expected, atol=1e-6)
    x4 = _x(rng, (2, 3, 4, 5))
    m4 = (rng.uniform(size=(2, 3, 4, 5)) > 0.3).astype("float32")
    expected = to_numpy(keras.layers.Softmax()(x4, mask=m4))
    np.testing.assert_allclose(to_numpy(Softmax()(x4, mask=m4)), expected, atol=1e-6)


def test_softmax_native_module():
    layer = Softmax()
    layer.build((None, 4, 4, 3))
    assert isinstance(layer.torch_module, torch.nn.Softmax) and layer.torch_module.dim == 1


def test_activation_chain_in_model(keras, rng):
    """A small functional model mixing all of them, against the same Keras model."""
    x = _x(rng, (2, 6, 5, 3))

    def build(L, lib_model, inp):
        y = L.ReLU(max_value=6.0)(inp)
        y = L.PReLU(shared_axes=[1, 2], alpha_initializer="ones")(y)
        y = L.LeakyReLU(negative_slope=0.1)(y)
        y = L.ELU(alpha=0.7)(y)
        y = L.Softmax(axis=2)(y)
        return lib_model(inp, y)

    ours = build(kerasish.layers, kerasish.Model, Input((6, 5, 3)))
    theirs = build(keras.layers, keras.Model, keras.Input((6, 5, 3)))
    np.testing.assert_allclose(to_numpy(ours(torch.tensor(x))), to_numpy(theirs(x)), atol=1e-6)


def test_bad_input():
    with pytest.raises(ValueError, match="max_value.*ReLU.*-1"):
        ReLU(max_value=-1)
    with pytest.raises(ValueError, match="negative_slope.*ReLU"):
        ReLU(negative_slope=-0.5)
    with pytest.raises(ValueError, match="threshold.*ReLU"):
        ReLU(threshold=None)
    with pytest.raises(ValueError, match="negative_slope"):
        LeakyReLU(negative_slope=-0.1)
    with pytest.raises(ValueError, match="ELU.*alpha"):
        ELU(alpha="big")
    with pytest.raises(ValueError, match="Softmax.*axis"):
        Softmax(axis="last")
    with pytest.raises(ValueError, match="softmax_bad.*axis 3"):
        Softmax(axis=3, name="softmax_bad")(Input((4, 5)))
    with pytest.raises(ValueError, match="PReLU.*shared_axes"):
        PReLU(shared_axes="x")
    with pytest.raises(ValueError, match="prelu_bad.*shared axis 0"):
        PReLU(shared_axes=[0], name="prelu_bad")(Input((4, 5)))
    with pytest.raises(ValueError, match="prelu_unknown.*known sizes"):
        PReLU(name="prelu_unknown")(Input((None, 5)))
    layer = PReLU(name="prelu_built")
    layer(Input((4,)))
    with pytest.raises(ValueError, match="prelu_built.*built for"):
        layer(np.zeros((2, 5), "float32"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        PReLU(shared_axes=[1, 2])(Input((None, None, 3)))  # unknown shared axes are fine
