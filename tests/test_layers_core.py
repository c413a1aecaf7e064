"""Dense, Activation, Identity, Lambda and Rescaling against Keras 3: values,
shapes, configs, losses, errors, and inside functional models (where rank-4
tensors run in the internal NCHW layout)."""

import numpy as np
import pytest
import torch

import kerasish
from kerasish import Input, Model, activations, regularizers
from kerasish.engine.serialization import deserialize_layer, serialize_layer
from kerasish.layers import Activation, Dense, Identity, Lambda, Rescaling

from conftest import assert_close_f32, to_numpy

# Every activation name kerasish knows. "threshold" needs arguments (it fails
# in Keras too); "glu" halves the last axis, so it needs an even size.
ACTIVATION_NAMES = sorted(set(activations.ALL_ACTIVATIONS) | set(activations.ALIASES))
USABLE_NAMES = [n for n in ACTIVATION_NAMES if n != "threshold"]
# keras 3.15's sparsemax is wrong when more than one entry is in the support
# (tau sums the cumulative sums); kerasish's is checked against Keras's linear
# output followed by the correct sparsemax, on Keras's last axis.
KERAS_SPARSEMAX_IS_WRONG = "sparsemax"
# glu halves the last axis when it runs, but Keras 3's symbolic call and
# compute_output_shape keep the input's size, and kerasish follows Keras there:
# the harness's symbolic check (against the eager shape) is left out for it.
GLU_SYMBOLIC_SHAPE_IS_KERAS_S = "glu"


def _config_matches(kl, kr):
    mine, theirs = kl.get_config(), kr.get_config()
    assert set(mine) == set(theirs), (sorted(mine), sorted(theirs))
    for key in theirs:
        if key not in ("name", "dtype"):
            assert mine[key] == theirs[key], (key, mine[key], theirs[key])


def _in_model(layer, x):
    inp = Input(x.shape[1:])
    model = Model(inp, layer(inp))
    return to_numpy(model(torch.as_tensor(x)))


def _keras_weights(kr):
    return [to_numpy(w) for w in kr.get_weights()]


def _sparsemax_last_axis(z):
    return to_numpy(activations.sparsemax(torch.as_tensor(z), axis=-1))


# ----------------------------------------------------------------------------
# Dense
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(3, 7), (2, 4, 7), (2, 3, 4, 7)])
@pytest.mark.parametrize("activation", USABLE_NAMES)
def test_dense_every_activation_every_rank(keras, layer_test, rng, shape, activation):
    units = 6  # even, for glu
    x = (rng.standard_normal(shape) * 2).astype("float32")
    kl = Dense(units, activation=activation)
    if activation == KERAS_SPARSEMAX_IS_WRONG:
        kr = keras.layers.Dense(units)
        expected = _sparsemax_last_axis(to_numpy(kr(x)))
        kl(x)
        kl.set_weights(_keras_weights(kr))
        assert_close_f32(kl(x), expected, terms=x.shape[-1])
        np.testing.assert_allclose(expected.sum(-1), 1.0, atol=1e-5)
    else:
        result = layer_test(Dense, dict(units=units, activation=activation), input_data=x, keras_parity=True,
                            run_symbolic_check=activation != GLU_SYMBOLIC_SHAPE_IS_KERAS_S,
                            expected_num_trainable_weights=2,
                            expected_num_non_trainable_weights=0, expected_num_losses=0)
        kl, expected = result.layer, result.keras_output
        _config_matches(kl, result.keras_layer)
    assert_close_f32(_in_model(kl, x), expected, terms=x[0].size)


def test_dense_callable_activation_sees_keras_layout(layer_test, rng):
    # A user function with an axis must see the channels axis last, also inside a model.
    def act(t):
        return torch.softmax(t, dim=-1)

    x = rng.standard_normal((2, 3, 4, 5)).astype("float32")
    # The config names the function: the round trip finds it through custom_objects.
    result = layer_test(Dense, {"units": 4, "activation": act}, input_data=x, keras_parity=True, custom_objects={"act": act},
                        expected_output_shape=(2, 3, 4, 4), expected_num_trainable_weights=2)
    assert_close_f32(_in_model(result.layer, x), result.keras_output, terms=x[0].size)


def test_dense_kernel_regularizer_losses_match_keras(keras, layer_test, rng):
    x = rng.standard_normal((4, 6)).astype("float32")
    result = layer_test(
        Dense, dict(units=3, kernel_regularizer=regularizers.l2(0.1), bias_regularizer=regularizers.l2(0.5), bias_initializer="ones"),
        keras_init_kwargs=dict(units=3, kernel_regularizer=keras.regularizers.l2(0.1), bias_regularizer=keras.regularizers.l2(0.5),
                               bias_initializer="ones"),
        input_data=x, keras_parity=True, keras_config_parity=False,  # compared below, with Keras's own objects
        expected_output_shape=(4, 3), expected_num_trainable_weights=2, expected_num_losses=2)
    kl, kr = result.layer, result.keras_layer
    ours = [float(l.detach()) for l in kl.losses]
    theirs = [float(to_numpy(l)) for l in kr.losses]
    assert len(ours) == len(theirs) == 2
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    kernel = _keras_weights(kr)[0]
    np.testing.assert_allclose(ours[0], 0.1 * np.sum(kernel**2), rtol=1e-5)
    _config_matches(kl, kr)
    # The regularization term is differentiable with respect to the native weight.
    kl.losses[0].backward()
    assert kl.module.weight.grad is not None


def test_dense_config_round_trip_and_keras_config(keras):
    kl = Dense(5, activation="relu", use_bias=False, kernel_regularizer=regularizers.l2(0.1), name="d_cfg")
    clone = Dense.from_config(kl.get_config())
    assert clone.get_config() == kl.get_config()
    # A config Keras wrote loads too (its extra keys included).
    kr = keras.layers.Dense(4, activation="tanh", kernel_regularizer=keras.regularizers.l2(0.2))
    from_keras = Dense.from_config(kr.get_config())
    _config_matches(from_keras, kr)
    assert "activity_regularizer" not in kl.get_config()
    with_act = Dense(2, activity_regularizer=regularizers.l2(0.1))
    _config_matches(with_act, keras.layers.Dense(2, activity_regularizer=keras.regularizers.l2(0.1)))


def test_dense_bad_input():
    with pytest.raises(ValueError, match="units"):
        Dense(units=0)
    with pytest.raises(ValueError, match="units"):
        Dense(-3)
    with pytest.raises(ValueError, match="Dense.*activation.*nope"):
        Dense(3, activation="nope")
    with pytest.raises(ValueError, match="dense_unknown.*last axis"):
        Dense(3, name="dense_unknown")(Input((None,)))
    with pytest.raises(ValueError, match="Dense.*rank >= 2"):
        Dense(3)(np.zeros((4,), "float32"))
    d = Dense(3, name="dense_built")
    d(np.zeros((2, 4), "float32"))
    with pytest.raises(ValueError, match="dense_built"):
        d(np.zeros((2, 5), "float32"))


# ----------------------------------------------------------------------------
# Activation
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", USABLE_NAMES)
@pytest.mark.parametrize("shape", [(3, 6), (2, 3, 4, 6)])
def test_activation_layer_every_name(keras, layer_test, rng, name, shape):
    x = (rng.standard_normal(shape) * 2).astype("float32")
    kl = Activation(name)
    if name == KERAS_SPARSEMAX_IS_WRONG:
        expected = _sparsemax_last_axis(x)
        np.testing.assert_allclose(to_numpy(kl(x)), expected, atol=1e-6)
    else:
        result = layer_test(Activation, {"activation": name}, input_data=x, keras_parity=True, expected_num_trainable_weights=0,
                            run_symbolic_check=name != GLU_SYMBOLIC_SHAPE_IS_KERAS_S, expected_num_non_trainable_weights=0)
        kl, expected = result.layer, result.keras_output
        _config_matches(kl, result.keras_layer)
    assert_close_f32(_in_model(kl, x), expected, terms=x[0].size)
    clone = Activation.from_config(kl.get_config())
    np.testing.assert_array_equal(to_numpy(clone(x)), to_numpy(kl(x)))


def test_softmax_on_images_is_over_channels(keras, rng):
    x = rng.standard_normal((2, 5, 4, 3)).astype("float32")
    for name in ("softmax", "log_softmax"):
        expected = to_numpy(keras.layers.Activation(name)(x))
        got = _in_model(Activation(name), x)
        assert_close_f32(got, expected, terms=x.shape[-1])
    np.testing.assert_allclose(_in_model(Activation("softmax"), x).sum(-1), 1.0, atol=1e-5)


def test_activation_errors():
    with pytest.raises(ValueError, match="Activation.*activation.*nope"):
        Activation("nope")
    with pytest.raises(TypeError):
        Activation("threshold")(np.zeros((2, 3), "float32"))  # needs arguments, as in Keras


# ----------------------------------------------------------------------------
# Identity
# ----------------------------------------------------------------------------
def test_identity(keras, layer_test, rng):
    for shape in [(2, 3), (2, 3, 4, 5)]:
        x = rng.standard_normal(shape).astype("float32")
        result = layer_test(Identity, {}, input_data=x, keras_parity=True, expected_output_shape=shape, expected_num_trainable_weights=0)
        kl = result.layer
        _config_matches(kl, result.keras_layer)
        np.testing.assert_array_equal(_in_model(kl, x), x)
    t = torch.ones(2, 3)
    assert Identity()(t) is t
    a, b = Input((3,)), Input((4, 4, 2))
    outs = Identity()([a, b])
    assert [o.shape for o in outs] == [(None, 3), (None, 4, 4, 2)]
    assert Identity.from_config(Identity(name="idy").get_config()).name == "idy"


# ----------------------------------------------------------------------------
# Lambda
# ----------------------------------------------------------------------------
def _square(x):
    return x**2


def _scale(x, factor=1.0):
    return x * factor


LAMBDA_CASES = [
    ((2, 5), lambda x: x**2 + 1),
    ((2, 4, 5, 3), lambda x: x[..., :2] * 2),  # channel slice: layout dependent
    ((2, 4, 5, 3), lambda x: x.sum(-1, keepdim=True)),
    ((2, 4, 5, 3), lambda x: x.reshape(x.shape[0], -1)),  # rank 4 -> 2 in Keras order
    ((2, 6, 4), lambda x: x.reshape(x.shape[0], 2, 3, 4)),  # rank 3 -> 4
    ((2, 4, 5, 3), lambda x: torch.softmax(x, dim=-1)),
    ((2, 4, 5, 3), lambda x: x.mean(dim=(1, 2))),
    ((2, 3, 4), _square),
]


@pytest.mark.parametrize("shape,fn", LAMBDA_CASES)
def test_lambda_matches_keras(keras, layer_test, rng, shape, fn):
    x = rng.standard_normal(shape).astype("float32")
    # A lambda's config holds code: from_config refuses it without safe_mode=False
    # (test_lambda_config_refuses_code_unless_unsafe), so no round trip here.
    result = layer_test(Lambda, {"function": fn}, input_data=x, keras_parity=True, run_config_check=False,
                        expected_num_trainable_weights=0)
    kl, expected = result.layer, result.keras_output
    assert_close_f32(_in_model(kl, x), expected, terms=x[0].size)
    _config_matches(kl, result.keras_layer)  # same function object -> the same marshalled code


def test_lambda_arguments_and_training(layer_test, rng):
    x = rng.standard_normal((2, 4, 4, 3)).astype("float32")
    # A named function is written by name (no code): the round trip finds it through custom_objects.
    result = layer_test(Lambda, {"function": _scale, "arguments": {"factor": 3.0}}, input_data=x, keras_parity=True,
                        custom_objects={"_scale": _scale}, expected_output=3.0 * x, expected_num_trainable_weights=0)
    _config_matches(result.layer, result.keras_layer)

    def drop(x, training=None):
        return x * 0 if training else x

    layer = Lambda(drop)
    np.testing.assert_array_equal(to_numpy(layer(x)), x)
    np.testing.assert_array_equal(to_numpy(layer(x, training=True)), 0 * x)
    inp = Input((4, 4, 3))
    model = Model(inp, layer(inp))
    np.testing.assert_array_equal(to_numpy(model(torch.as_tensor(x), training=True)), 0 * x)


def test_lambda_output_shape(keras):
    for in_shape, fn in LAMBDA_CASES:
        shape = (None,) + in_shape[1:]
        assert Lambda(fn).compute_output_shape(shape) == tuple(keras.layers.Lambda(fn).compute_output_shape(shape))
    # Unknown sizes stay unknown.
    assert Lambda(lambda x: x[:, :, :2]).compute_output_shape((None, None, 5)) == (None, None, 2)
    # Given explicitly: a tuple without the batch axis, or a callable on the full shape.
    fn = lambda x: x  # noqa: E731
    for output_shape in [(7,), lambda s: (s[0], 7)]:
        kl, kr = Lambda(fn, output_shape=output_shape), keras.layers.Lambda(fn, output_shape=output_shape)
        assert kl.compute_output_shape((None, 3)) == tuple(kr.compute_output_shape((None, 3)))
        assert Lambda(fn, output_shape=output_shape)(Input((3,))).shape == (None, 7)
    # A function that cannot run on meta tensors falls back to real ones.
    inp = Input((4,))
    assert Lambda(lambda x: torch.as_tensor(x.cpu().numpy()[:, :2]))(inp).shape == (None, 2)


def test_lambda_config_refuses_code_unless_unsafe(keras, rng):
    x = rng.standard_normal((2, 3)).astype("float32")
    k = 3.0
    layer = Lambda(lambda t: t * k + 1, output_shape=lambda s: s, name="lam")
    config = layer.get_config()
    assert config["function"]["class_name"] == "__lambda__"
    assert set(config["function"]["config"]) == {"code", "defaults", "closure"}
    with pytest.raises(ValueError, match="safe_mode=False"):
        Lambda.from_config(config)
    with pytest.raises(ValueError, match="safe_mode"):
        Lambda.from_config(config, safe_mode=True)
    # The engine's deserialization (no safe_mode) refuses it as well.
    with pytest.raises(ValueError, match="safe_mode"):
        deserialize_layer(serialize_layer(layer))
    inp = Input((3,))
    model = Model(inp, layer(inp))
    with pytest.raises(ValueError, match="safe_mode"):
        Model.from_config(model.get_config())
    revived = Lambda.from_config(config, safe_mode=False)
    np.testing.assert_allclose(to_numpy(revived(x)), x * 3 + 1, atol=1e-6)
    assert revived.compute_output_shape((None, 3)) == (None, 3)
    # The config is Keras's format: Keras loads ours, and we load Keras's.
    from_ours = keras.layers.Lambda.from_config(layer.get_config(), safe_mode=False)
    np.testing.assert_allclose(to_numpy(from_ours(x)), x * 3 + 1, atol=1e-6)
    with pytest.raises(ValueError, match="safe_mode"):
        keras.layers.Lambda.from_config(layer.get_config())
    kr = keras.layers.Lambda(lambda t: t - 2.0)
    with pytest.raises(ValueError, match="safe_mode"):
        Lambda.from_config(kr.get_config())
    np.testing.assert_allclose(to_numpy(Lambda.from_config(kr.get_config(), safe_mode=False)(x)), x - 2.0, atol=1e-6)


def test_lambda_named_function_config(keras, rng):
    x = rng.standard_normal((2, 3)).astype("float32")
    layer = Lambda(_square)
    config = layer.get_config()
    assert config["function"] == keras.layers.Lambda(_square).get_config()["function"]
    with pytest.raises(TypeError, match="_square"):
        Lambda.from_config(config)  # not registered: must be given back
    revived = Lambda.from_config(config, custom_objects={"_square": _square})
    np.testing.assert_array_equal(to_numpy(revived(x)), x**2)
    relu = Lambda.from_config(Lambda(activations.relu).get_config())  # kerasish's own functions are known
    np.testing.assert_array_equal(to_numpy(relu(x)), np.maximum(x, 0))


def test_lambda_bad_input():
    with pytest.raises(ValueError, match="function"):
        Lambda(3)
    with pytest.raises(ValueError, match="arguments"):
        Lambda(_square, arguments=[1])
    with pytest.raises(ValueError, match="output_shape"):
        Lambda(_square, output_shape="big")
    with pytest.raises(ValueError, match="lambda_bad"):
        Lambda(lambda x: x.reshape(x.shape[0], 7), name="lambda_bad")(Input((3,)))


# ----------------------------------------------------------------------------
# Rescaling
# ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "scale,offset",
    [(1 / 255.0, 0.0), (1 / 127.5, -1.0), (2, 3), (np.array([1.0, 2.0, 0.5], "float32"), np.array([0.0, -1.0, 1.0], "float32"))],
)
@pytest.mark.parametrize("shape", [(2, 4, 5, 3), (2, 3)])
def test_rescaling_matches_keras(keras, layer_test, rng, scale, offset, shape):
    x = (rng.standard_normal(shape) * 100).astype("float32")
    result = layer_test(Rescaling, dict(scale=scale, offset=offset), input_data=x, keras_parity=True, expected_output_shape=shape,
                        expected_output_dtype="float32", expected_num_trainable_weights=0, expected_num_non_trainable_weights=0)
    kl, kr, expected = result.layer, result.keras_layer, result.keras_output
    assert_close_f32(_in_model(kl, x), expected, terms=x[0].size)
    mine, theirs = kl.get_config(), kr.get_config()
    assert set(mine) == set(theirs)
    for key in ("scale", "offset"):
        assert type(mine[key]) is type(theirs[key])
        if isinstance(theirs[key], dict):
            assert mine[key]["class_name"] == theirs[key]["class_name"]
            np.testing.assert_allclose(mine[key]["config"]["value"], theirs[key]["config"]["value"])
        else:
            assert mine[key] == theirs[key]
    clone = Rescaling.from_config(kl.get_config())
    np.testing.assert_array_equal(to_numpy(clone(x)), to_numpy(kl(x)))
    from_keras = Rescaling.from_config(kr.get_config())
    assert_close_f32(from_keras(x), expected)


def test_rescaling_casts_integer_images(keras):
    x = np.arange(2 * 2 * 2 * 3, dtype="uint8").reshape(2, 2, 2, 3)
    got = Rescaling(1 / 255.0)(torch.as_tensor(x))
    assert got.dtype == torch.float32
    np.testing.assert_allclose(to_numpy(got), to_numpy(keras.layers.Rescaling(1 / 255.0)(x)), atol=1e-7)
    inp = Input((2, 2, 3))
    model = Model(inp, Rescaling(1 / 255.0)(inp))
    assert model(torch.as_tensor(x)).dtype == torch.float32


def test_rescaling_integer_images_harness(layer_test):
    """uint8 images in, float32 out: eagerly and symbolically, as Keras."""
    layer_test(Rescaling, {"scale": 1 / 255.0}, input_shape=(2, 4, 4, 3), input_dtype="uint8", keras_parity=True,
               expected_output_dtype="float32", run_training_check=False)


def test_rescaling_errors():
    with pytest.raises(ValueError, match="scale"):
        Rescaling("big")
    with pytest.raises(ValueError, match="offset"):
        Rescaling(1.0, offset=None)
    with pytest.raises(ValueError, match="scale"):
        Rescaling(True)


def test_exports():
    for name in ["Reshape", "Permute", "ZeroPadding2D", "Cropping2D", "UpSampling2D", "Identity", "Lambda", "Rescaling"]:
        cls = getattr(kerasish.layers, name)
        assert cls.__name__ == name


def test_dense_relu_on_sequences_runs_in_place_before_the_view():
    """The ReLU of a Dense on (batch, steps, features) runs in place on the 2-D product, so
    autograd records no CopySlices (which would copy the whole output again backwards)."""
    import torch
    from kerasish.layers import Dense

    layer = Dense(5, activation="relu")
    x = torch.randn(2, 3, 4, requires_grad=True)
    y = layer(x)
    assert y.shape == (2, 3, 5) and type(y.grad_fn).__name__ != "CopySlices"
    ref = torch.relu(x @ layer.kernel.value + layer.bias.value)
    torch.testing.assert_close(y, ref)
    y.sum().backward()
    assert x.grad is not None and x.grad.shape == x.shape
