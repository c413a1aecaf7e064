"""Reshape, Permute, ZeroPadding2D, Cropping2D, UpSampling2D and Flatten
against Keras 3: values, shapes, configs, errors, and inside functional models
(where rank-4 tensors run in the internal NCHW layout)."""

import itertools

import numpy as np
import pytest
import torch

import kerasish
from kerasish import Input, Model
from kerasish.layers import Cropping2D, Flatten, Permute, Reshape, UpSampling2D, ZeroPadding2D

from conftest import assert_close_f32, to_numpy


def _config_matches(kl, kr):
    """Same keys and values as Keras's config, except name and dtype formatting."""
    mine, theirs = kl.get_config(), kr.get_config()
    assert set(mine) == set(theirs), (sorted(mine), sorted(theirs))
    for key in theirs:
        if key not in ("name", "dtype"):
            assert mine[key] == theirs[key], (key, mine[key], theirs[key])


def _round_trip(kl, x):
    clone = type(kl).from_config(kl.get_config())
    assert clone.get_config() == kl.get_config()
    np.testing.assert_array_equal(to_numpy(clone(x)), to_numpy(kl(x)))


def _in_model(layer, x):
    """The layer's output when it runs inside a functional model."""
    inp = Input(x.shape[1:])
    model = Model(inp, layer(inp))
    return to_numpy(model(torch.as_tensor(x)))


def _check(layer_test, cls, kwargs, x):
    """The harness with Keras parity (values, shapes, in a model, training step),
    then the stricter config comparison and an exact round trip."""
    result = layer_test(cls, kwargs, input_data=x, keras_parity=True, expected_num_trainable_weights=0,
                        expected_num_non_trainable_weights=0, expected_num_losses=0)
    assert_close_f32(_in_model(result.layer, x), result.keras_output, terms=x[0].size)
    _config_matches(result.layer, result.keras_layer)
    _round_trip(result.layer, x)
    return to_numpy(result.output)


# ----------------------------------------------------------------------------
# Reshape
# ----------------------------------------------------------------------------
RESHAPE_CASES = [
    ((2, 12), (3, 4)),
    ((2, 12), (-1, 2, 2)),
    ((2, 12), (2, -1)),
    ((2, 12), (2, 3, 2)),
    ((2, 6, 4), (4, 6)),
    ((2, 6, 4), (2, 3, 4)),  # rank 3 -> rank 4: the output becomes internal NCHW
    ((2, 6, 4), (-1,)),
    ((2, 4, 6, 3), (-1, 3)),  # rank 4 -> rank 2: read in channels_last order
    ((2, 4, 6, 3), (4, 18)),
    ((2, 4, 6, 3), (6, 4, 3)),  # rank 4 -> rank 4 with other sizes
    ((2, 4, 6, 3), (2, 2, 6, 3)),
    ((2, 4, 6, 3), (3, 2, 2, 6)),
    ((3, 5, 7), (7, 5, 1)),
]


@pytest.mark.parametrize("in_shape,target", RESHAPE_CASES)
def test_reshape_matches_keras(keras, layer_test, rng, in_shape, target):
    x = rng.standard_normal(in_shape).astype("float32")
    got = _check(layer_test, Reshape, {"target_shape": target}, x)
    assert got.shape[1:] == keras.layers.Reshape(target).compute_output_shape((None,) + in_shape[1:])[1:]


def test_reshape_unknown_sizes_give_none(keras):
    for in_shape, target in [((None, None, 4), (-1, 2)), ((None, 3, None), (3, -1)), ((None, 12), (-1, 4)), ((None, None), (2, 3))]:
        try:
            expected = keras.layers.Reshape(target).compute_output_shape(in_shape)
        except ValueError:
            with pytest.raises(ValueError):
                Reshape(target).compute_output_shape(in_shape)
            continue
        assert Reshape(target).compute_output_shape(in_shape) == tuple(expected)
    inp = Input((None, 4))
    assert Reshape((-1, 2))(inp).shape == (None, None, 2)


def test_reshape_dynamic_sizes_in_model(rng):
    inp = Input((None, 4))
    model = Model(inp, Reshape((-1, 2))(inp))
    for n in (3, 5):
        x = rng.standard_normal((2, n, 4)).astype("float32")
        np.testing.assert_array_equal(to_numpy(model(torch.as_tensor(x))), x.reshape(2, -1, 2))


def test_reshape_empty_batch():
    out = Reshape((-1, 4))(np.zeros((0, 12), "float32"))
    assert tuple(out.shape) == (0, 3, 4)


def test_reshape_is_a_view_of_channels_last_memory(rng):
    x = torch.as_tensor(rng.standard_normal((2, 4, 6, 3)).astype("float32"))
    y = Reshape((-1, 3))(x)
    assert y.data_ptr() == x.data_ptr()
    inp = Input((4, 6, 3))
    model = Model(inp, Reshape((24, 3))(inp))
    assert model(x).data_ptr() == x.data_ptr()


def test_reshape_errors(keras):
    with pytest.raises(ValueError, match="target_shape"):
        Reshape((5, 5))(np.zeros((2, 12), "float32"))
    with pytest.raises(ValueError, match="target_shape"):
        keras.layers.Reshape((5, 5))(np.zeros((2, 12), "float32"))
    with pytest.raises(ValueError, match="Reshape.*target_shape"):
        Reshape((5, -1))(Input((12,)))
    with pytest.raises(ValueError, match="target_shape"):
        Reshape((-1, -1))
    with pytest.raises(ValueError, match="target_shape"):
        Reshape((2, -3))
    with pytest.raises(ValueError, match="target_shape"):
        Reshape(4)
    with pytest.raises(ValueError, match="reshape_bad"):
        Reshape((7,), name="reshape_bad")(Input((3, 4)))


# ----------------------------------------------------------------------------
# Permute
# ----------------------------------------------------------------------------
PERMUTE_CASES = [((2, 3), (1,)), ((2, 3, 5), (2, 1))]
PERMUTE_CASES += [((2, 3, 4, 5), p) for p in itertools.permutations((1, 2, 3))]
PERMUTE_CASES += [((2, 2, 3, 4, 5), (4, 1, 3, 2)), ((2, 2, 3, 4, 5), (2, 3, 4, 1))]


@pytest.mark.parametrize("in_shape,dims", PERMUTE_CASES)
def test_permute_matches_keras(layer_test, rng, in_shape, dims):
    x = rng.standard_normal(in_shape).astype("float32")
    _check(layer_test, Permute, {"dims": dims}, x)


def test_permute_is_a_view(rng):
    x = torch.as_tensor(rng.standard_normal((2, 3, 4, 5)).astype("float32"))
    assert Permute((3, 1, 2))(x).data_ptr() == x.data_ptr()


def test_permute_errors(keras):
    for bad in [(0, 1), (1, 3), (1, 1), (2, 3), ("a", 1)]:
        with pytest.raises(ValueError, match="dims"):
            Permute(bad)
    with pytest.raises(ValueError, match="dims"):
        keras.layers.Permute((0, 1))
    with pytest.raises(ValueError, match="Permute.*rank 3"):
        Permute((2, 1))(np.zeros((2, 3, 4, 5), "float32"))
    with pytest.raises(ValueError, match="permute_x"):
        Permute((2, 1), name="permute_x")(Input((3,)))


# ----------------------------------------------------------------------------
# ZeroPadding2D
# ----------------------------------------------------------------------------
PADDINGS = [1, 0, (1, 2), ((1, 0), (2, 3)), ((0, 2), (1, 1)), [[2, 1], [0, 0]]]


@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("hw", [(5, 6), (4, 7)])
def test_zero_padding2d_matches_keras(layer_test, rng, padding, data_format, hw):
    shape = (2, *hw, 3) if data_format == "channels_last" else (2, 3, *hw)
    x = rng.standard_normal(shape).astype("float32")
    _check(layer_test, ZeroPadding2D, dict(padding=padding, data_format=data_format), x)


def test_zero_padding2d_native_module_and_memory(rng):
    x = torch.as_tensor(rng.standard_normal((2, 5, 6, 3)).astype("float32"))
    inp = Input((5, 6, 3))
    model = Model(inp, ZeroPadding2D(((1, 0), (2, 3)), name="pad")(inp))
    assert isinstance(model.pad, torch.nn.ZeroPad2d)
    assert model.pad.padding == (2, 3, 1, 0)
    assert "ZeroPad2d" in repr(model)
    assert model(x).is_contiguous()  # channels_last memory all the way: NHWC contiguous at the edge


def test_zero_padding2d_errors():
    for bad in [-1, (1, 2, 3), ((1, 2, 3), (1, 1)), ((1, -1), (0, 0)), "same", 1.5]:
        with pytest.raises(ValueError, match="padding"):
            ZeroPadding2D(bad)
    with pytest.raises(ValueError, match="data_format"):
        ZeroPadding2D(1, data_format="nhwc")
    with pytest.raises(ValueError, match="ZeroPadding2D.*4-D"):
        ZeroPadding2D(1)(np.zeros((2, 3, 4), "float32"))


# ----------------------------------------------------------------------------
# Cropping2D
# ----------------------------------------------------------------------------
CROPPINGS = [0, 1, (1, 2), ((1, 0), (2, 3)), ((0, 2), (0, 0)), ((3, 0), (0, 1)), [[0, 1], [2, 0]]]


@pytest.mark.parametrize("cropping", CROPPINGS)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("hw", [(7, 8), (6, 9)])
def test_cropping2d_matches_keras(layer_test, rng, cropping, data_format, hw):
    shape = (2, *hw, 3) if data_format == "channels_last" else (2, 3, *hw)
    x = rng.standard_normal(shape).astype("float32")
    _check(layer_test, Cropping2D, dict(cropping=cropping, data_format=data_format), x)


def test_cropping2d_unknown_sizes(keras):
    for df, shape in [("channels_last", (None, None, 8, 3)), ("channels_first", (None, 3, None, None))]:
        assert Cropping2D(((1, 2), (3, 0)), data_format=df).compute_output_shape(shape) == keras.layers.Cropping2D(
            ((1, 2), (3, 0)), data_format=df
        ).compute_output_shape(shape)


def test_cropping2d_errors(keras):
    with pytest.raises(ValueError, match="cropping"):
        Cropping2D(((2, 3), (0, 0)))(np.zeros((1, 5, 5, 1), "float32"))  # crops all 5 rows
    with pytest.raises(ValueError, match="cropping"):
        keras.layers.Cropping2D(((2, 3), (0, 0)))(np.zeros((1, 5, 5, 1), "float32"))
    with pytest.raises(ValueError, match="crop_me.*cropping"):
        Cropping2D(((0, 0), (4, 4)), name="crop_me")(Input((10, 7, 3)))
    with pytest.raises(ValueError, match="cropping"):
        Cropping2D(((0, 0), (2, 2)), data_format="channels_first")(Input((3, 10, 4)))
    for bad in [-1, (1, 2, 3), ((1, -2), (0, 0)), "x"]:
        with pytest.raises(ValueError, match="cropping"):
            Cropping2D(bad)
    with pytest.raises(ValueError, match="Cropping2D.*4-D"):
        Cropping2D(1)(np.zeros((2, 3, 4), "float32"))


# ----------------------------------------------------------------------------
# UpSampling2D
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("size", [2, (2, 3), (3, 1), (1, 41)])
@pytest.mark.parametrize("interpolation", ["nearest", "bilinear", "bicubic"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_up_sampling2d_matches_keras(layer_test, rng, size, interpolation, data_format):
    shape = (2, 5, 4, 3) if data_format == "channels_last" else (2, 3, 5, 4)
    x = rng.standard_normal(shape).astype("float32")
    _check(layer_test, UpSampling2D, dict(size=size, data_format=data_format, interpolation=interpolation), x)


def test_up_sampling2d_nearest_factors_repeat_exactly(rng):
    # torch's nearest kernel rounds 1/factor in float32; some factors need the repeat path.
    x = rng.standard_normal((1, 3, 300, 1)).astype("float32")
    for f in (25, 41, 47, 3):
        y = to_numpy(UpSampling2D((1, f))(x))
        np.testing.assert_array_equal(y, np.repeat(x, f, axis=2))


def test_up_sampling2d_native_module():
    inp = Input((4, 4, 2))
    model = Model(inp, UpSampling2D((2, 3), interpolation="bilinear", name="up")(inp))
    assert isinstance(model.up, torch.nn.Upsample)
    assert model.up.mode == "bilinear" and model.up.scale_factor == (2.0, 3.0)
    assert "Upsample" in repr(model)
    assert model.output_shape == (None, 8, 12, 2)


def test_up_sampling2d_errors():
    with pytest.raises(ValueError, match="interpolation"):
        UpSampling2D(2, interpolation="lanczos3")
    with pytest.raises(ValueError, match="size"):
        UpSampling2D(0)
    with pytest.raises(ValueError, match="size"):
        UpSampling2D((2, 2, 2))
    with pytest.raises(ValueError, match="UpSampling2D.*4-D"):
        UpSampling2D()(Input((4, 4)))


# ----------------------------------------------------------------------------
# Flatten
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(2, 3, 4), (2, 3, 4, 5), (2, 2, 3, 4, 5), (2, 7)])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_flatten_matches_keras(layer_test, rng, shape, data_format):
    x = rng.standard_normal(shape).astype("float32")
    _check(layer_test, Flatten, dict(data_format=data_format), x)


def test_flatten_unknown_sizes(keras):
    for shape in [(None, None, 4), (None, 3, 4, 5), (None, 3, None, 5)]:
        assert Flatten().compute_output_shape(shape) == keras.layers.Flatten().compute_output_shape(shape)


# ----------------------------------------------------------------------------
# A small model chaining them, against the same model in Keras
# ----------------------------------------------------------------------------
def test_chain_matches_keras(keras, rng):
    x = rng.standard_normal((2, 6, 5, 3)).astype("float32")

    def build(L, inp):
        y = L.ZeroPadding2D(((1, 0), (0, 2)))(inp)
        y = L.UpSampling2D((2, 1), interpolation="bilinear")(y)
        y = L.Cropping2D(((2, 1), (1, 0)))(y)
        y = L.Permute((2, 1, 3))(y)
        y = L.Reshape((-1, 6))(y)
        y = L.Reshape((2, 3, -1, 3))(y)
        return L.Flatten()(y)

    kin = keras.Input((6, 5, 3))
    expected = to_numpy(keras.Model(kin, build(keras.layers, kin))(x))
    inp = Input((6, 5, 3))
    model = Model(inp, build(kerasish.layers, inp))
    assert_close_f32(model(torch.as_tensor(x)), expected, terms=x[0].size)
    assert model.output_shape == expected.shape[:0] + (None,) + expected.shape[1:]
