"""Dropout and SpatialDropout2D: identity at inference, Keras's statistics in
training (the random masks themselves cannot match Keras's)."""

import numpy as np
import pytest
import torch

import kerasish
from kerasish.layers import Dense, Dropout, Input, SpatialDropout2D

from conftest import assert_config_like_keras, to_numpy


@pytest.mark.parametrize("layer", [lambda: Dropout(0.5), lambda: Dropout(0.3, noise_shape=(None, 1, 4)), lambda: SpatialDropout2D(0.4)])
def test_inference_is_identity(rng, layer):
    lay = layer()
    shape = (3, 5, 4) if isinstance(lay, Dropout) and lay.noise_shape else (3, 5, 6, 4)
    x = rng.normal(size=shape).astype("float32")
    np.testing.assert_array_equal(to_numpy(lay(x)), x)
    np.testing.assert_array_equal(to_numpy(lay(x, training=False)), x)
    t = torch.tensor(x)
    assert lay(t) is t or torch.equal(lay(t), t)


@pytest.mark.parametrize("cls,kwargs,shape", [
    (Dropout, {"rate": 0.5}, (3, 5, 6, 4)),
    (Dropout, {"rate": 0.3, "noise_shape": (None, 1, 4)}, (3, 5, 4)),
    (SpatialDropout2D, {"rate": 0.4, "seed": 3}, (3, 5, 6, 4)),
    (SpatialDropout2D, {"rate": 0.4, "data_format": "channels_first"}, (3, 4, 5, 6)),
])
def test_layer_harness(layer_test, cls, kwargs, shape):
    # At inference: Keras's output (the input), shapes, config, in a model, gradients.
    layer_test(cls, kwargs, input_shape=shape, keras_parity=True, expected_output_shape=shape,
               expected_num_trainable_weights=0, expected_num_non_trainable_weights=0, expected_num_losses=0)
    # In training the masks are random: no parity, and the model's call draws another mask.
    layer_test(cls, kwargs, input_shape=shape, call_kwargs={"training": True}, expected_output_shape=shape,
               expected_output_dtype="float32", run_model_check=False)


@pytest.mark.parametrize("rate", [0.2, 0.5, 0.8])
@pytest.mark.parametrize("seed", [None, 7])
def test_dropout_training_statistics(rate, seed):
    x = torch.ones(200, 500)
    y = Dropout(rate, seed=seed)(x, training=True)
    kept = (y != 0).float().mean().item()
    assert abs(kept - (1 - rate)) < 0.01
    values = torch.unique(y)
    assert torch.allclose(values[values != 0], torch.tensor(1 / (1 - rate)))


def test_dropout_rate_edges():
    x = torch.randn(4, 5)
    assert torch.equal(Dropout(0.0)(x, training=True), x)
    assert torch.equal(Dropout(1.0)(x, training=True), torch.zeros_like(x))
    assert torch.equal(SpatialDropout2D(1.0)(torch.ones(2, 3, 3, 2), training=True), torch.zeros(2, 3, 3, 2))


def test_dropout_noise_shape_rank4_in_model():
    """noise_shape is Keras layout; inside a model the tensor is NCHW."""
    inp = Input((6, 7, 16))
    model = kerasish.Model(inp, Dropout(0.5, noise_shape=(None, 1, 1, 16))(inp))
    y = model(torch.ones(8, 6, 7, 16), training=True)
    assert y.shape == (8, 6, 7, 16)
    per_channel = y.reshape(8, 42, 16)
    assert torch.equal(per_channel, per_channel[:, :1].expand_as(per_channel))  # same over H, W
    assert 0.25 < (y[:, 0, 0] != 0).float().mean().item() < 0.75
    torch.testing.assert_close(model(torch.ones(2, 6, 7, 16)), torch.ones(2, 6, 7, 16))
    # Eager, same rule.
    y = Dropout(0.5, noise_shape=(8, 6, 1, 1))(torch.ones(8, 6, 7, 16), training=True)
    flat = y.reshape(8, 6, -1)
    assert torch.equal(flat, flat[:, :, :1].expand_as(flat))


def test_dropout_seed_is_reproducible():
    x = torch.ones(10, 50)
    a, b = Dropout(0.5, seed=3), Dropout(0.5, seed=3)
    ya1, ya2 = a(x, training=True), a(x, training=True)
    yb1, yb2 = b(x, training=True), b(x, training=True)
    assert torch.equal(ya1, yb1) and torch.equal(ya2, yb2)
    assert not torch.equal(ya1, ya2)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_spatial_dropout_drops_whole_channels(data_format):
    layer = SpatialDropout2D(0.5, data_format=data_format)
    shape = (16, 5, 6, 32) if data_format == "channels_last" else (16, 32, 5, 6)
    y = layer(torch.ones(shape), training=True)
    maps = y if data_format == "channels_first" else y.permute(0, 3, 1, 2)
    flat = maps.reshape(16, 32, -1)
    assert torch.equal(flat, flat[:, :, :1].expand_as(flat))  # each map all-zero or all-scaled
    assert set(torch.unique(flat).tolist()) <= {0.0, 2.0}
    kept = (flat[:, :, 0] != 0).float().mean().item()
    assert 0.35 < kept < 0.65
    # Inside a model (internal NCHW layout), same behaviour.
    inp = Input(shape[1:])
    model = kerasish.Model(inp, SpatialDropout2D(0.5, data_format=data_format)(inp))
    y = model(torch.ones(shape), training=True)
    maps = y if data_format == "channels_first" else y.permute(0, 3, 1, 2)
    flat = maps.reshape(16, 32, -1)
    assert torch.equal(flat, flat[:, :, :1].expand_as(flat))
    assert 0.35 < (flat[:, :, 0] != 0).float().mean().item() < 0.65
    torch.testing.assert_close(model(torch.ones(shape)), torch.ones(shape))


def test_spatial_dropout_seeded():
    x = torch.ones(4, 3, 3, 8)
    a = SpatialDropout2D(0.5, seed=11)(x, training=True)
    b = SpatialDropout2D(0.5, seed=11)(x, training=True)
    assert torch.equal(a, b)
    flat = a.permute(0, 3, 1, 2).reshape(4, 8, -1)
    assert torch.equal(flat, flat[:, :, :1].expand_as(flat))


def test_dropout_in_model_training_flag(rng):
    inp = Input((20,))
    out = Dense(30)(Dropout(0.5)(inp))
    model = kerasish.Model(inp, out)
    x = torch.tensor(rng.normal(size=(4, 20)).astype("float32"))
    torch.testing.assert_close(model(x), model(x))
    model.train()
    assert not torch.equal(model(x), model(x))
    model.eval()
    y = model(x)
    assert torch.equal(model(x, training=False), y)
    assert y.requires_grad
    model(x, training=True).sum().backward()


def test_native_modules():
    assert isinstance(Dropout(0.3).torch_module, torch.nn.Dropout)
    assert Dropout(0.3).torch_module.p == pytest.approx(0.3)
    assert isinstance(SpatialDropout2D(0.2).torch_module, torch.nn.Dropout2d)


def test_config(keras):
    for kl, kr in [
        (Dropout(0.3, noise_shape=(None, 1, 5), seed=4, name="d1"), keras.layers.Dropout(0.3, noise_shape=(None, 1, 5), seed=4, name="d1")),
        (Dropout(0.5, name="d2"), keras.layers.Dropout(0.5, name="d2")),
        (SpatialDropout2D(0.2, data_format="channels_first", seed=1, name="s1"),
         keras.layers.SpatialDropout2D(0.2, data_format="channels_first", seed=1, name="s1")),
    ]:
        assert_config_like_keras(kl.get_config(), kr.get_config())
        again = type(kl).from_config(kl.get_config())
        assert again.get_config() == kl.get_config()
        type(kr).from_config(kl.get_config())  # Keras reads ours


def test_shapes(keras):
    for kl, kr, shape in [
        (Dropout(0.2), keras.layers.Dropout(0.2), (None, 3, 4)),
        (SpatialDropout2D(0.2), keras.layers.SpatialDropout2D(0.2), (None, 5, 5, 3)),
    ]:
        assert kl.compute_output_shape(shape) == kr.compute_output_shape(shape)
        assert kl(Input(shape[1:])).shape == shape
    d = Dropout(0.1)
    d(Input((3,)))
    assert d.count_params() == 0 and d.weights == []


def test_bad_input():
    with pytest.raises(ValueError, match="Dropout.*rate=1.5"):
        Dropout(1.5)
    with pytest.raises(ValueError, match="Dropout.*rate=-0.1"):
        Dropout(-0.1)
    with pytest.raises(ValueError, match="SpatialDropout2D.*rate=2"):
        SpatialDropout2D(2)
    with pytest.raises(ValueError, match="rate"):
        Dropout("half")
    with pytest.raises(ValueError, match="noise_shape"):
        Dropout(0.5, noise_shape="abc")
    with pytest.raises(ValueError, match="noise_shape"):
        Dropout(0.5, noise_shape=(None, 0))
    with pytest.raises(ValueError, match="seed"):
        Dropout(0.5, seed="x")
    with pytest.raises(ValueError, match="data_format"):
        SpatialDropout2D(0.5, data_format="nhwc")
    with pytest.raises(ValueError, match="drop_bad.*noise_shape"):
        Dropout(0.5, noise_shape=(None, 3), name="drop_bad")(Input((4,)))
    with pytest.raises(ValueError, match="noise_shape"):
        Dropout(0.5, noise_shape=(None, 1, 4))(Input((4,)))
    with pytest.raises(ValueError, match="sd_bad.*4-D"):
        SpatialDropout2D(0.5, name="sd_bad")(Input((4, 4)))
