"""Embedding, SimpleRNN, LSTM, GRU and Bidirectional against Keras 3: harness + parity
on the same weights, configs both ways, `.weights.h5` and `.keras` files written by
Keras, bad input, and small fits."""

import json

import numpy as np
import pytest
import torch

import kerasish
from kerasish import Input, Model, Sequential
from kerasish.layers import GRU, LSTM, Bidirectional, Dense, Embedding, SimpleRNN
from kerasish.losses import SparseCategoricalCrossentropy
from kerasish.optimizers import Adam

from conftest import assert_close_f32, to_numpy


def _ids(rng, shape, high):
    return rng.integers(0, high, size=shape).astype("int32")


# ----------------------------------------------------------------------------
# Embedding
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["int32", "int64"])
def test_embedding_harness_parity(layer_test, rng, dtype):
    layer_test(Embedding, {"input_dim": 10, "output_dim": 4}, input_data=_ids(rng, (3, 5), 10).astype(dtype),
               expected_output_shape=(3, 5, 4), expected_num_trainable_weights=1, keras_parity=True)


def test_embedding_float_ids_truncate_as_keras(keras, rng):
    kl = Embedding(7, 3)
    x = np.array([[0.0, 1.9, 6.2]], dtype="float32")
    out = to_numpy(kl(x))
    assert_close_f32(out, kl.get_weights()[0][[0, 1, 6]][None])
    kr = keras.layers.Embedding(7, 3)
    kr.build((None, 3))
    kr.set_weights(kl.get_weights())
    assert_close_f32(out, to_numpy(kr(x)))


def test_embedding_config_mask_zero_input_length(keras):
    kl = Embedding(10, 4, mask_zero=True)
    assert kl.supports_masking
    assert kl.get_config()["mask_zero"] is True
    mask = kl.compute_mask(np.array([[0, 3, 0]]))
    assert to_numpy(mask).tolist() == [[False, True, False]]
    with pytest.warns(UserWarning, match="input_length"):
        e = Embedding(10, 4, input_length=5)
    assert "input_length" not in e.get_config()
    kr = keras.layers.Embedding(10, 4, mask_zero=True)
    assert set(kr.get_config()) == set(kl.get_config())
    assert Embedding.from_config(kl.get_config()).get_config() == kl.get_config()


@pytest.mark.parametrize("bad", [10, -1])
def test_embedding_out_of_range_id_is_a_value_error(bad):
    kl = Embedding(10, 4, name="emb")
    with pytest.raises(ValueError, match=rf"'emb'.*token id {bad}"):
        kl(np.array([[1, bad]]))
    inp = Input((2,), dtype="int32")
    model = Model(inp, Embedding(10, 4, name="emb2")(inp))
    with pytest.raises(ValueError, match=rf"'emb2'.*token id {bad}"):
        model(torch.tensor([[1, bad]], dtype=torch.int32))


def test_embedding_gradient_reaches_weights(rng):
    kl = Embedding(6, 3)
    y = kl(_ids(rng, (4, 5), 6))
    y.sum().backward()
    g = kl.embeddings.grad
    assert g is not None and torch.isfinite(g).all() and g.abs().sum() > 0


# ----------------------------------------------------------------------------
# LSTM / SimpleRNN
# ----------------------------------------------------------------------------
RNN_CASES = [
    {},
    {"return_sequences": True},
    {"go_backwards": True},
    {"go_backwards": True, "return_sequences": True},
    {"return_state": True},
    {"return_sequences": True, "return_state": True},
    {"use_bias": False},
]


def _rnn_weights(rng):
    return lambda shapes: [rng.standard_normal(s).astype("float32") * 0.5 for s in shapes]


@pytest.mark.parametrize("kwargs", RNN_CASES)
@pytest.mark.parametrize("cls,n_states", [(LSTM, 2), (GRU, 1), (SimpleRNN, 1)])
def test_rnn_harness_parity(layer_test, rng, cls, n_states, kwargs):
    b, t, f, u = 3, 6, 4, 5
    out = (b, t, u) if kwargs.get("return_sequences") else (b, u)
    expected = [out] + [(b, u)] * n_states if kwargs.get("return_state") else out
    layer_test(cls, {"units": u, **kwargs}, input_shape=(b, t, f), expected_output_shape=expected,
               expected_num_trainable_weights=2 if kwargs.get("use_bias") is False else 3,
               weights=_rnn_weights(rng), keras_parity=True, terms=t * (f + u), depth=t)


@pytest.mark.parametrize("cls,n_states", [(LSTM, 2), (GRU, 1), (SimpleRNN, 1)])
def test_rnn_initial_state_parity(keras, rng, cls, n_states):
    b, t, f, u = 2, 5, 3, 4
    x = rng.standard_normal((b, t, f)).astype("float32")
    states = [rng.standard_normal((b, u)).astype("float32") for _ in range(n_states)]
    kl = cls(u, return_sequences=True)
    kl.build((None, t, f))
    kl.set_weights(_rnn_weights(rng)([w.shape for w in kl.weights]))
    kr = getattr(keras.layers, cls.__name__)(u, return_sequences=True)
    kr.build((None, t, f))
    kr.set_weights(kl.get_weights())
    mine = to_numpy(kl(x, initial_state=states))
    theirs = to_numpy(kr(x, initial_state=states))
    assert_close_f32(mine, theirs, terms=t * (f + u), depth=t)
    # the same inside a functional model with states as inputs
    xi, si = Input((t, f)), [Input((u,)) for _ in range(n_states)]
    model = Model([xi, *si], kl(xi, initial_state=si))
    assert_close_f32(to_numpy(model([torch.as_tensor(x), *map(torch.as_tensor, states)])), theirs, terms=t * (f + u), depth=t)


def test_lstm_weight_layout_and_unit_forget_bias(keras):
    kl = LSTM(3)
    kl.build((None, 4, 2))
    assert [w.shape for w in kl.weights] == [(2, 12), (3, 12), (12,)]
    assert [w.name for w in kl.weights] == ["kernel", "recurrent_kernel", "bias"]
    np.testing.assert_array_equal(kl.get_weights()[2], [0] * 3 + [1] * 3 + [0] * 6)
    # torch's second bias stays zero and frozen: Keras has one bias
    mod = kl.torch_module
    assert not mod.bias_hh_l0.requires_grad and float(mod.bias_hh_l0.abs().sum()) == 0
    assert LSTM(3, unit_forget_bias=False).get_config()["unit_forget_bias"] is False
    # the kernel is torch's weight_ih transposed, gate order i, f, c, o = torch's i, f, g, o
    np.testing.assert_array_equal(kl.get_weights()[0], to_numpy(mod.weight_ih_l0).T)


@pytest.mark.parametrize("cls", [LSTM, GRU, SimpleRNN])
def test_rnn_config_matches_keras(keras, cls):
    kl = cls(3, return_sequences=True, go_backwards=True)
    kr = getattr(keras.layers, cls.__name__)(3, return_sequences=True, go_backwards=True)
    mine, theirs = kl.get_config(), kr.get_config()
    assert set(mine) == set(theirs)
    for key in theirs:
        if key not in ("name", "dtype"):
            assert mine[key] == theirs[key], key


@pytest.mark.parametrize("kwargs,match", [
    ({"activation": "relu"}, "activation='tanh'"),
    ({"dropout": 0.2}, "dropout"),
    ({"recurrent_dropout": 0.2}, "recurrent_dropout"),
    ({"stateful": True}, "stateful"),
    ({"unroll": True}, "unroll"),
])
def test_rnn_refuses_what_the_fused_kernel_cannot_do(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LSTM(3, **kwargs)


def test_gru_weight_layout_and_reset_after():
    kl = GRU(3)
    kl.build((None, 4, 2))
    assert [w.shape for w in kl.weights] == [(2, 9), (3, 9), (2, 9)]
    mod = kl.torch_module
    w = to_numpy(mod.weight_ih_l0)  # torch gates r, z, n
    k = kl.get_weights()[0]  # Keras gates z, r, h
    np.testing.assert_array_equal(k[:, :3], w[3:6].T)
    np.testing.assert_array_equal(k[:, 3:6], w[:3].T)
    np.testing.assert_array_equal(k[:, 6:], w[6:].T)
    # set_weights round trip through the reordering
    new = [np.arange(np.prod(s), dtype="float32").reshape(s) for s in ([2, 9], [3, 9], [2, 9])]
    kl.set_weights(new)
    for a, b in zip(kl.get_weights(), new):
        np.testing.assert_array_equal(a, b)
    assert GRU(3).get_config()["reset_after"] is True
    with pytest.raises(ValueError, match="reset_after=True"):
        GRU(3, reset_after=False)


def test_lstm_refuses_other_recurrent_activation():
    with pytest.raises(ValueError, match="recurrent_activation='sigmoid'"):
        LSTM(3, recurrent_activation="hard_sigmoid")


def test_rnn_bad_input_shapes():
    with pytest.raises(ValueError, match=r"'seq'.*\(batch, timesteps, features\)"):
        LSTM(3, name="seq")(np.zeros((2, 4), dtype="float32"))
    kl = LSTM(3, name="st")
    with pytest.raises(ValueError, match=r"'st'.*2 initial state"):
        kl(np.zeros((2, 4, 5), dtype="float32"), initial_state=[np.zeros((2, 3), dtype="float32")])
    with pytest.raises(ValueError, match=r"'st'.*initial_state\[1\] must have shape \(2, 3\)"):
        kl(np.zeros((2, 4, 5), dtype="float32"), initial_state=[np.zeros((2, 3), dtype="float32"), np.zeros((2, 4), dtype="float32")])
    with pytest.raises(ValueError, match=r"'st'.*built for 5 features"):
        kl(np.zeros((2, 4, 6), dtype="float32"))


# ----------------------------------------------------------------------------
# Models: Keras's weight file, a fit
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("rnn", ["LSTM", "GRU", "SimpleRNN"])
def test_keras_weights_h5_loads(keras, rng, tmp_path, rnn):
    kr = keras.Sequential([keras.Input((7,), dtype="int32"), keras.layers.Embedding(20, 6), getattr(keras.layers, rnn)(5),
                           keras.layers.Dense(3)])
    path = str(tmp_path / "m.weights.h5")
    kr.save_weights(path)
    model = Sequential([Input((7,), dtype="int32"), Embedding(20, 6), globals()[rnn](5), Dense(3)])
    model.load_weights(path)
    for a, b in zip(model.get_weights(), kr.get_weights()):
        np.testing.assert_array_equal(a, to_numpy(b))
    x = _ids(rng, (4, 7), 20)
    assert_close_f32(to_numpy(model(torch.as_tensor(x))), to_numpy(kr(x)), terms=7 * 11, depth=8)
    # and back: kerasish's file loads in Keras
    out = str(tmp_path / "mine.weights.h5")
    model.save_weights(out)
    kr2 = keras.Sequential([keras.Input((7,), dtype="int32"), keras.layers.Embedding(20, 6),
                            getattr(keras.layers, rnn)(5), keras.layers.Dense(3)])
    kr2.load_weights(out)
    for a, b in zip(model.get_weights(), kr2.get_weights()):
        np.testing.assert_array_equal(a, to_numpy(b))


def test_embedding_gru_dense_fit_decreases_loss(rng):
    torch.manual_seed(0)
    x = _ids(rng, (64, 7), 20)
    y = (x[:, -1] > 9).astype("int32")  # learnable from the last token
    model = Sequential([Input((7,), dtype="int32"), Embedding(20, 8), GRU(8), Dense(2)])
    model.compile(optimizer=Adam(learning_rate=0.02), loss=SparseCategoricalCrossentropy(from_logits=True))
    losses = model.fit(x, y, epochs=8, batch_size=16, verbose=0).history["loss"]
    assert losses[-1] < losses[0] * 0.5, losses


def test_embedding_lstm_dense_fit_decreases_loss(rng):
    torch.manual_seed(0)
    x = _ids(rng, (64, 7), 20)
    y = (x[:, 0] > 9).astype("int32")  # learnable from the first token
    model = Sequential([Input((7,), dtype="int32"), Embedding(20, 8), LSTM(8, go_backwards=True), Dense(2)])
    model.compile(optimizer=Adam(learning_rate=0.02), loss=SparseCategoricalCrossentropy(from_logits=True))
    hist = model.fit(x, y, epochs=8, batch_size=16, verbose=0)
    losses = hist.history["loss"]
    assert losses[-1] < losses[0] * 0.5, losses
    # torch's second bias never moved
    lstm = model.layers[1]
    assert float(lstm.torch_module.bias_hh_l0.abs().sum()) == 0


# ----------------------------------------------------------------------------
# Bidirectional
# ----------------------------------------------------------------------------
BIDI_CASES = [
    ("LSTM", {}, "concat"),
    ("LSTM", {"return_sequences": True}, "concat"),
    ("GRU", {"return_sequences": True}, "sum"),
    ("SimpleRNN", {}, "mul"),
    ("GRU", {}, "ave"),
    ("LSTM", {"return_sequences": True}, None),
    ("LSTM", {"return_state": True}, "concat"),
    ("GRU", {"return_sequences": True, "return_state": True}, None),
]


@pytest.mark.parametrize("rnn,kwargs,merge_mode", BIDI_CASES)
def test_bidirectional_harness_parity(keras, layer_test, rng, rnn, kwargs, merge_mode):
    b, t, f, u = 3, 5, 4, 3
    step = (b, t, u) if kwargs.get("return_sequences") else (b, u)
    out = [step, step] if merge_mode is None else [step[:-1] + (2 * u,) if merge_mode == "concat" else step]
    if kwargs.get("return_state"):
        out += [(b, u)] * (2 if rnn == "LSTM" else 1) * 2
    expected = out[0] if len(out) == 1 else out
    n_vars = 6
    # the inner layer named, so the nested configs' names match whatever each library's name counters are
    layer_test(Bidirectional, {"layer": globals()[rnn](u, name="rnn", **kwargs), "merge_mode": merge_mode},
               keras_init_kwargs={"layer": getattr(keras.layers, rnn)(u, name="rnn", **kwargs), "merge_mode": merge_mode},
               input_shape=(b, t, f), expected_output_shape=expected, expected_num_trainable_weights=n_vars,
               weights=_rnn_weights(rng), keras_parity=True, terms=t * (f + u), depth=t)


def test_bidirectional_backward_layer_initial_state_and_h5(keras, rng, tmp_path):
    b, t, f, u = 2, 5, 3, 4
    x = rng.standard_normal((b, t, f)).astype("float32")
    states = [rng.standard_normal((b, u)).astype("float32") for _ in range(4)]
    kl = Bidirectional(LSTM(u, return_sequences=True), backward_layer=LSTM(u, return_sequences=True, go_backwards=True))
    kr = keras.layers.Bidirectional(keras.layers.LSTM(u, return_sequences=True),
                                    backward_layer=keras.layers.LSTM(u, return_sequences=True, go_backwards=True))
    kr.build((None, t, f))
    kl.build((None, t, f))
    kl.set_weights(_rnn_weights(rng)([w.shape for w in kl.weights]))
    kr.set_weights(kl.get_weights())
    assert_close_f32(to_numpy(kl(x, initial_state=states)), to_numpy(kr(x, initial_state=states)),
                     terms=t * (f + u), depth=t)
    # Keras's weight file: forward_layer/cell and backward_layer/cell
    km = keras.Sequential([keras.Input((t, f)), keras.layers.Bidirectional(keras.layers.GRU(u)), keras.layers.Dense(2)])
    path = str(tmp_path / "bidi.weights.h5")
    km.save_weights(path)
    model = Sequential([Input((t, f)), Bidirectional(GRU(u)), Dense(2)])
    model.load_weights(path)
    for a, c in zip(model.get_weights(), km.get_weights()):
        np.testing.assert_array_equal(a, to_numpy(c))
    assert_close_f32(to_numpy(model(torch.as_tensor(x))), to_numpy(km(x)), terms=t * (f + u), depth=t + 1)


def test_bidirectional_names_config_and_errors(keras):
    kl = Bidirectional(LSTM(3, name="enc"))
    assert kl.forward_layer.name == "forward_enc" and kl.backward_layer.name == "backward_enc"
    assert kl.backward_layer.go_backwards and not kl.forward_layer.go_backwards
    clone = Bidirectional.from_config(kl.get_config())
    assert clone.get_config() == kl.get_config()
    kr = keras.layers.Bidirectional(keras.layers.LSTM(3, name="enc"))
    assert set(kr.get_config()) == set(kl.get_config())
    assert kr.get_config()["layer"]["config"] == {**kl.get_config()["layer"]["config"],
                                                  "dtype": kr.get_config()["layer"]["config"]["dtype"]}
    with pytest.raises(ValueError, match="merge_mode"):
        Bidirectional(LSTM(3), merge_mode="max")
    with pytest.raises(ValueError, match="recurrent layer"):
        Bidirectional(Dense(3))
    with pytest.raises(ValueError, match="go_backwards"):
        Bidirectional(LSTM(3), backward_layer=LSTM(3))
    with pytest.raises(ValueError, match="return_sequences"):
        Bidirectional(LSTM(3), backward_layer=LSTM(3, go_backwards=True, return_sequences=True))
    with pytest.raises(ValueError, match="4 initial state"):
        Bidirectional(LSTM(3))(np.zeros((2, 4, 5), dtype="float32"), initial_state=[np.zeros((2, 3), dtype="float32")] * 2)


def test_keras_file_round_trip(keras, rng, tmp_path):
    """A `.keras` file Keras writes (Embedding, Bidirectional LSTM, GRU) loads and
    computes Keras's output; the file kerasish writes back loads in Keras."""
    km = keras.Sequential([keras.Input((7,), dtype="int32"), keras.layers.Embedding(20, 6),
                           keras.layers.Bidirectional(keras.layers.LSTM(5, return_sequences=True)),
                           keras.layers.GRU(4), keras.layers.Dense(3)])
    path = str(tmp_path / "m.keras")
    km.save(path)
    model = kerasish.models.load_model(path)
    x = _ids(rng, (4, 7), 20)
    expected = to_numpy(km(x))
    assert_close_f32(to_numpy(model(torch.as_tensor(x))), expected, terms=7 * 15, depth=16)
    back = str(tmp_path / "mine.keras")
    model.save(back)
    assert_close_f32(to_numpy(keras.models.load_model(back)(x)), expected, terms=7 * 15, depth=16)


@pytest.mark.parametrize("name,kwargs", [
    ("Embedding", dict(input_dim=10, output_dim=3, mask_zero=True, embeddings_regularizer="l2")),
    ("LSTM", dict(units=3, return_sequences=True, unit_forget_bias=False, kernel_regularizer="l2")),
    ("GRU", dict(units=3, go_backwards=True, return_state=True)),
    ("SimpleRNN", dict(units=3, use_bias=False)),
])
def test_configs_cross_read_with_keras(keras, name, kwargs):
    ours = globals()[name](**kwargs)
    theirs = getattr(keras.layers, name)(**kwargs)
    assert set(ours.get_config()) == set(theirs.get_config())
    getattr(keras.layers, name).from_config(json.loads(json.dumps(ours.get_config())))
    back = type(ours).from_config(json.loads(json.dumps(theirs.get_config())))
    assert {k: v for k, v in back.get_config().items() if k not in ("name", "dtype")} == \
        {k: v for k, v in ours.get_config().items() if k not in ("name", "dtype")}
