"""BatchNormalization and LayerNormalization against Keras 3 (torch backend)."""

import numpy as np
import pytest
import torch

import kerasish
from kerasish.layers import BatchNormalization, Input, LayerNormalization

from conftest import assert_close_f32, assert_config_like_keras, to_numpy


def _data(rng, shape, scale=3.0, shift=1.5):
    return (rng.normal(size=shape) * scale + shift).astype("float32")


def _bn_weights(rng, c, scale=True, center=True):
    w = []
    if scale:
        w.append(rng.normal(size=c).astype("float32"))
    if center:
        w.append(rng.normal(size=c).astype("float32"))
    w.append(rng.normal(size=c).astype("float32"))  # moving mean
    w.append(rng.uniform(0.3, 3.0, size=c).astype("float32"))  # moving variance
    return w


# --------------------------------------------------------------------------
# BatchNormalization
# --------------------------------------------------------------------------
BN_CASES = [
    ((6, 5), -1),
    ((6, 7, 5), -1),
    ((6, 5, 7), 1),
    ((4, 5, 6, 3), -1),
    ((4, 5, 6, 3), 3),
    ((4, 3, 5, 6), 1),  # channels_first data
    ((4, 5, 6, 3), 2),
    ((3, 4, 5, 6, 2), -1),
]


@pytest.mark.parametrize("shape,axis", BN_CASES)
def test_bn_inference_parity(layer_test, rng, shape, axis):
    x = _data(rng, shape)
    layer_test(BatchNormalization, dict(axis=axis, momentum=0.9, epsilon=1e-2), input_data=x, weights=_bn_weights(rng, shape[axis]),
               keras_parity=True, expected_output_shape=shape, expected_num_trainable_weights=2, expected_num_non_trainable_weights=2,
               expected_num_losses=0)


@pytest.mark.parametrize("shape,axis", BN_CASES)
def test_bn_training_parity_and_moving_stats(keras, rng, shape, axis):
    """Batch statistics in the output; moving mean AND moving variance updated
    exactly as Keras (biased batch variance), over several steps."""
    kr = keras.layers.BatchNormalization(axis=axis, momentum=0.8)
    kr.build((None,) + shape[1:])
    w = _bn_weights(rng, shape[axis])
    kr.set_weights(w)
    kl = BatchNormalization(axis=axis, momentum=0.8)
    kl.build((None,) + shape[1:])
    kl.set_weights(w)
    for step in range(3):
        x = _data(rng, shape, scale=1.0 + step, shift=step - 1.0)
        expected = to_numpy(kr(x, training=True))
        got = to_numpy(kl(x, training=True))
        assert_close_f32(got, expected, terms=x.size)  # batch statistics sum over the batch
        for a, b in zip(kl.get_weights(), kr.get_weights()):
            assert_close_f32(a, b, terms=x.size, depth=step + 1)
    # ... and the moving variance is NOT torch's unbiased update.
    x = _data(rng, shape)
    c_axis = axis % len(shape)
    dims = tuple(i for i in range(len(shape)) if i != c_axis)
    before = kl.get_weights()[3]
    kl(x, training=True)
    after = kl.get_weights()[3]
    biased = 0.8 * before + 0.2 * x.var(axis=dims)
    unbiased = 0.8 * before + 0.2 * x.var(axis=dims, ddof=1)
    assert_close_f32(after, biased, terms=x.size)
    assert np.abs(after - unbiased).max() > 1e-4


def test_bn_inference_does_not_touch_moving_stats(rng):
    kl = BatchNormalization()
    x = _data(rng, (8, 4))
    kl(x)
    w0 = kl.get_weights()
    kl(x, training=False)
    for a, b in zip(w0, kl.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_bn_single_value_per_feature(keras, rng):
    """Batch of one, rank 2: torch's kernel refuses it; Keras gives variance 0."""
    x = _data(rng, (1, 5))
    kr = keras.layers.BatchNormalization(momentum=0.5)
    kr.build((None, 5))
    w = _bn_weights(rng, 5)
    kr.set_weights(w)
    kl = BatchNormalization(momentum=0.5)
    kl.build((None, 5))
    kl.set_weights(w)
    np.testing.assert_allclose(to_numpy(kl(x, training=True)), to_numpy(kr(x, training=True)), atol=1e-5)
    for a, b in zip(kl.get_weights(), kr.get_weights()):
        np.testing.assert_allclose(a, to_numpy(b), atol=1e-6)


@pytest.mark.parametrize("center,scale", [(False, True), (True, False), (False, False)])
def test_bn_center_scale(layer_test, rng, center, scale):
    x = _data(rng, (4, 3, 3, 5))
    result = layer_test(BatchNormalization, dict(center=center, scale=scale), input_data=x, keras_parity=True,
                        weights=_bn_weights(rng, 5, scale=scale, center=center),
                        expected_num_trainable_weights=int(center) + int(scale), expected_num_non_trainable_weights=2)
    kl, kr = result.layer, result.keras_layer
    assert [w.name for w in kl.weights] == [w.name for w in kr.weights]
    assert len(kl.trainable_weights) == len(kr.trainable_weights)
    kl2 = BatchNormalization(center=center, scale=scale)
    kl2(x)
    kl2.set_weights(kl.get_weights())
    assert_close_f32(kl2(x, training=True), kr(x, training=True), terms=x.size)


def test_bn_frozen_runs_in_inference_mode(keras, rng):
    x = _data(rng, (6, 4, 4, 3))
    w = _bn_weights(rng, 3)
    kr = keras.layers.BatchNormalization()
    kr.build((None, 4, 4, 3))
    kr.set_weights(w)
    kr.trainable = False
    kl = BatchNormalization()
    kl.build((None, 4, 4, 3))
    kl.set_weights(w)
    kl.trainable = False
    got = to_numpy(kl(x, training=True))
    assert_close_f32(got, kr(x, training=True))
    np.testing.assert_allclose(got, to_numpy(kl(x, training=False)), atol=0)
    for a, b in zip(kl.get_weights(), w):
        np.testing.assert_array_equal(a, b)
    assert kl.trainable_weights == [] and len(kl.non_trainable_weights) == 4
    # Frozen through the model too.
    inp = Input((4, 4, 3))
    bn = BatchNormalization()
    model = kerasish.Model(inp, bn(inp))
    bn.set_weights(w)
    model.trainable = False
    np.testing.assert_allclose(to_numpy(model(torch.tensor(x), training=True)), got, atol=1e-6)
    model.trainable = True
    assert np.abs(to_numpy(model(torch.tensor(x), training=True)) - got).max() > 1e-3


@pytest.mark.parametrize("shape,axis", [((6, 5), -1), ((4, 5, 6, 3), -1), ((4, 3, 5, 6), 1), ((6, 7, 5), -1)])
def test_bn_in_model(rng, shape, axis):
    x = _data(rng, shape)
    inp = Input(shape[1:])
    bn = BatchNormalization(axis=axis, momentum=0.7)
    model = kerasish.Model(inp, bn(inp))
    bn.set_weights(_bn_weights(rng, shape[axis]))
    alone = BatchNormalization(axis=axis, momentum=0.7)
    alone(x)
    alone.set_weights(bn.get_weights())
    np.testing.assert_allclose(to_numpy(model(torch.tensor(x))), to_numpy(alone(x)), atol=1e-6)
    np.testing.assert_allclose(to_numpy(model(torch.tensor(x), training=True)), to_numpy(alone(x, training=True)), atol=1e-5)
    for a, b in zip(bn.get_weights(), alone.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)
    assert model.output_shape == (None,) + shape[1:]
    keys = set(model.state_dict())
    assert {f"{bn.name}.weight", f"{bn.name}.bias", f"{bn.name}.running_mean", f"{bn.name}.running_var"} <= keys


def test_bn_gradients_match_keras(keras, rng):
    x = _data(rng, (5, 3, 4, 2))
    w = _bn_weights(rng, 2)
    kr = keras.layers.BatchNormalization()
    kr.build((None, 3, 4, 2))
    kr.set_weights(w)
    kl = BatchNormalization()
    kl.build((None, 3, 4, 2))
    kl.set_weights(w)
    g = torch.tensor(rng.normal(size=x.shape).astype("float32"))
    xr = torch.tensor(x, requires_grad=True)
    (kr(xr, training=True) * g).sum().backward()
    xl = torch.tensor(x, requires_grad=True)
    (kl(xl, training=True) * g).sum().backward()
    np.testing.assert_allclose(xl.grad.numpy(), xr.grad.cpu().numpy(), atol=1e-4, rtol=1e-4)
    gamma_r = kr.weights[0].value.grad.cpu().numpy()
    np.testing.assert_allclose(kl._torch_module.weight.grad.numpy(), gamma_r, atol=1e-4, rtol=1e-4)


def test_bn_config_round_trip(keras):
    kw = dict(axis=1, momentum=0.9, epsilon=1e-4, center=False, beta_initializer="ones", gamma_initializer="zeros",
              moving_variance_initializer="zeros", gamma_regularizer="l2", name="bn_cfg")
    kl = BatchNormalization(**kw)
    kr = keras.layers.BatchNormalization(**kw)
    assert_config_like_keras(kl.get_config(), kr.get_config())
    again = BatchNormalization.from_config(kl.get_config())
    assert again.get_config() == kl.get_config()
    again.build((None, 3, 4, 4))
    assert [tuple(w.shape) for w in again.weights] == [(3,), (3,), (3,)]
    np.testing.assert_array_equal(again.get_weights()[0], np.zeros(3))  # gamma_initializer
    np.testing.assert_array_equal(again.get_weights()[2], np.zeros(3))  # moving_variance_initializer
    assert len(again.losses) == 1
    # Keras reads our config.
    keras.layers.BatchNormalization.from_config(kl.get_config())


def test_bn_regularizer_losses(keras, rng):
    kl = BatchNormalization(gamma_regularizer=kerasish.regularizers.L2(0.1), beta_regularizer="l1")
    kl.build((None, 4))
    w = _bn_weights(rng, 4)
    kl.set_weights(w)
    losses = [float(l.detach()) for l in kl.losses]
    assert losses == pytest.approx([0.1 * np.sum(w[0] ** 2), 0.01 * np.sum(np.abs(w[1]))], rel=1e-5)


def test_bn_native_module(rng):
    kl = BatchNormalization(momentum=0.9, epsilon=1e-3)
    kl.build((None, 8, 8, 16))
    m = kl.torch_module
    assert isinstance(m, torch.nn.BatchNorm2d) and m.num_features == 16
    assert m.momentum == pytest.approx(0.1) and m.eps == pytest.approx(1e-3)
    k1 = BatchNormalization()
    k1.build((None, 5))
    assert isinstance(k1.torch_module, torch.nn.BatchNorm1d)


def test_bn_bad_input(keras):
    with pytest.raises(ValueError, match="axis"):
        BatchNormalization(axis=[1, 2])
    with pytest.raises(ValueError, match="momentum"):
        BatchNormalization(momentum="fast")
    with pytest.raises(ValueError, match="renorm"):
        BatchNormalization(renorm=True)
    with pytest.raises(ValueError, match="batch_normalization_bad.*axis 4"):
        BatchNormalization(axis=4, name="batch_normalization_bad")(Input((3, 3, 2)))
    with pytest.raises(ValueError, match="known size"):
        BatchNormalization()(Input((3, None)))
    with pytest.raises(ValueError, match="rank >= 2"):
        BatchNormalization()(np.zeros((4,), "float32"))
    bn = BatchNormalization(name="bn_built")
    bn(Input((4,)))
    with pytest.raises(ValueError, match="bn_built.*built for"):
        bn(np.zeros((2, 5), "float32"))


# --------------------------------------------------------------------------
# LayerNormalization
# --------------------------------------------------------------------------
LN_CASES = [
    ((4, 6), -1),
    ((3, 5, 6), -1),
    ((3, 5, 6), [-2, -1]),
    ((3, 5, 6), [1, 2]),
    ((2, 4, 5, 3), -1),
    ((2, 4, 5, 3), [1, 2, 3]),
    ((2, 4, 5, 3), [2, 3]),
    ((2, 4, 5, 3), [1, 3]),  # non-contiguous: Keras's moments path
    ((2, 4, 5, 3), [3, 1]),
]


@pytest.mark.parametrize("shape,axis", LN_CASES)
def test_ln_parity(layer_test, rng, shape, axis):
    x = _data(rng, shape)
    result = layer_test(LayerNormalization, dict(axis=axis, epsilon=1e-2), input_data=x, keras_parity=True, expected_output_shape=shape,
                        weights=lambda shapes: [rng.normal(size=s).astype("float32") for s in shapes],
                        expected_num_trainable_weights=2, expected_num_non_trainable_weights=0)
    assert_config_like_keras(result.layer.get_config(), result.keras_layer.get_config())


@pytest.mark.parametrize("center,scale", [(False, True), (True, False), (False, False)])
def test_ln_center_scale(layer_test, rng, center, scale):
    x = _data(rng, (3, 4, 4, 5))
    result = layer_test(LayerNormalization, dict(center=center, scale=scale), input_data=x, keras_parity=True,
                        weights=lambda shapes: [rng.normal(size=s).astype("float32") for s in shapes],
                        expected_num_trainable_weights=int(center) + int(scale))
    assert [w.name for w in result.layer.weights] == [w.name for w in result.keras_layer.weights]


def test_ln_rms_scaling(keras, layer_test, rng):
    x = _data(rng, (3, 7))
    # rms_scaling warns (experimental) in both libraries.
    with pytest.warns(UserWarning):
        keras.layers.LayerNormalization(rms_scaling=True)
    with pytest.warns(UserWarning):
        LayerNormalization(rms_scaling=True)
    with pytest.warns(UserWarning):  # the harness makes both layers again
        layer_test(LayerNormalization, {"rms_scaling": True}, input_data=x, keras_parity=True,
                   weights=lambda shapes: [rng.normal(size=s).astype("float32") for s in shapes])


@pytest.mark.parametrize("shape,axis", [((3, 6), -1), ((2, 4, 5, 3), -1), ((2, 4, 5, 3), [1, 2, 3]), ((2, 4, 5, 3), [1, 3])])
def test_ln_in_model(rng, shape, axis):
    x = _data(rng, shape)
    inp = Input(shape[1:])
    ln = LayerNormalization(axis=axis)
    model = kerasish.Model(inp, ln(inp))
    ln.set_weights([rng.normal(size=w.shape).astype("float32") for w in ln.weights])
    alone = LayerNormalization(axis=axis)
    alone(x)
    alone.set_weights(ln.get_weights())
    np.testing.assert_allclose(to_numpy(model(torch.tensor(x))), to_numpy(alone(x)), atol=1e-6)
    assert isinstance(ln.torch_module, torch.nn.LayerNorm)


def test_ln_config_round_trip(keras):
    kl = LayerNormalization(axis=[1, 2], epsilon=1e-5, center=False, gamma_regularizer="l2", name="ln_cfg")
    kr = keras.layers.LayerNormalization(axis=[1, 2], epsilon=1e-5, center=False, gamma_regularizer="l2", name="ln_cfg")
    assert_config_like_keras(kl.get_config(), kr.get_config())
    again = LayerNormalization.from_config(kl.get_config())
    assert again.get_config() == kl.get_config()
    again.build((None, 3, 4))
    assert [tuple(w.shape) for w in again.weights] == [(3, 4)]
    assert len(again.losses) == 1


def test_ln_bad_input():
    with pytest.raises(TypeError, match="axis"):
        LayerNormalization(axis="last")
    with pytest.raises(ValueError, match="axis"):
        LayerNormalization(axis=[1, 1])
    with pytest.raises(ValueError, match="ln_bad.*axis 3 is out of bounds"):
        LayerNormalization(axis=3, name="ln_bad")(Input((4, 5)))
    with pytest.raises(ValueError, match="known sizes"):
        LayerNormalization()(Input((4, None)))
