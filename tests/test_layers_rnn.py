"""Embedding, SimpleRNN, LSTM, GRU, the cells, RNN, StackedRNNCells, Bidirectional,
TimeDistributed and ConvLSTM2D against Keras 3: harness + parity on the same weights
(fused kernels and the step loop: activations, reset_after=False, masks, go_backwards,
stateful, initial states), dropout statistics, configs both ways, `.weights.h5` and
`.keras` files written by Keras, bad input, and small fits."""

import json

import numpy as np
import pytest
import torch

import kerasish
from kerasish import Input, Model, Sequential
from kerasish.layers import (
    GRU, LSTM, RNN, Bidirectional, Conv2D, ConvLSTM2D, Dense, Embedding, GRUCell, Layer, LSTMCell, SimpleRNN,
    SimpleRNNCell, StackedRNNCells, TimeDistributed,
)
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


@pytest.mark.parametrize("kwargs", [{"activation": "relu"}, {"dropout": 0.2}, {"recurrent_dropout": 0.2},
                                    {"stateful": True}, {"unroll": True}, {"recurrent_activation": "hard_sigmoid"}])
def test_rnn_accepts_what_the_fused_kernel_cannot_do(kwargs):
    """Accepted and kept in the config: the step loop runs them."""
    config = LSTM(3, **kwargs).get_config()
    for key, value in kwargs.items():
        assert config[key] == value


def test_rnn_bad_arguments():
    with pytest.raises(ValueError, match="dropout"):
        LSTM(3, dropout=1.5)
    with pytest.raises(ValueError, match="use_cudnn"):
        GRU(3, use_cudnn="yes")
    with pytest.raises(ValueError, match=r"RNN: an RNN cell needs a `call\(inputs, states\)`"):
        RNN(object())
    with pytest.raises(ValueError, match="state_size"):
        RNN(Dense(2))


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
    # reset_after=False: Keras's (3*units,) bias is torch's bias_ih; bias_hh stays zero and frozen
    kl = GRU(3, reset_after=False)
    kl.build((None, 4, 2))
    assert [w.shape for w in kl.weights] == [(2, 9), (3, 9), (9,)]
    b = np.arange(9, dtype="float32")
    kl.set_weights([kl.get_weights()[0], kl.get_weights()[1], b])
    np.testing.assert_array_equal(to_numpy(kl.torch_module.bias_ih_l0), np.r_[b[3:6], b[:3], b[6:]])
    assert not kl.torch_module.bias_hh_l0.requires_grad


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


# ----------------------------------------------------------------------------
# The step loop: cells, RNN(cell), StackedRNNCells, custom cells
# ----------------------------------------------------------------------------
B, T, F, U = 3, 6, 4, 5
# right-padded, arbitrary (holes, masked start), and all-masked rows
MASKS = {
    "right_padded": np.array([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1], [1, 1, 0, 0, 0, 0]], bool),
    "arbitrary": np.array([[1, 0, 1, 1, 0, 1], [0, 0, 1, 1, 1, 0], [0, 0, 0, 0, 0, 0]], bool),
}


def _same_weights(rng, kl, kr, shape=(None, T, F)):
    if not kl.built:
        kl.build(shape)
    kr.build(shape)
    weights = _rnn_weights(rng)([w.shape for w in kl.get_weights()])
    kl.set_weights(weights)
    kr.set_weights(weights)


def _assert_outputs_close(mine, theirs, steps=T):
    mine = kerasish.tree.flatten(mine)
    theirs = [to_numpy(t) for t in __import__("keras").tree.flatten(theirs)]
    assert len(mine) == len(theirs)
    for a, b in zip(mine, theirs):
        assert_close_f32(to_numpy(a), b, terms=steps * (F + U), depth=steps)


@pytest.mark.parametrize("cell", ["SimpleRNNCell", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("kwargs", [{}, {"return_sequences": True, "go_backwards": True}, {"return_state": True}])
def test_rnn_of_each_cell_harness_parity(keras, layer_test, rng, cell, kwargs):
    n_states = 2 if cell == "LSTMCell" else 1
    out = (B, T, U) if kwargs.get("return_sequences") else (B, U)
    expected = [out] + [(B, U)] * n_states if kwargs.get("return_state") else out
    layer_test(RNN, {"cell": globals()[cell](U, name="cell"), **kwargs},
               keras_init_kwargs={"cell": getattr(keras.layers, cell)(U, name="cell"), **kwargs},
               input_shape=(B, T, F), expected_output_shape=expected, expected_num_trainable_weights=3,
               weights=_rnn_weights(rng), keras_parity=True, terms=T * (F + U), depth=T)


@pytest.mark.parametrize("cell,kwargs", [
    ("SimpleRNNCell", {"activation": "relu", "use_bias": False}),
    ("LSTMCell", {"activation": "relu", "recurrent_activation": "hard_sigmoid", "unit_forget_bias": False}),
    ("GRUCell", {"reset_after": False}),
    ("GRUCell", {"reset_after": True, "activation": "softsign"}),
])
def test_cells_step_and_config_match_keras(keras, rng, cell, kwargs):
    mine, theirs = globals()[cell](U, **kwargs), getattr(keras.layers, cell)(U, **kwargs)
    mine.build((None, F))
    theirs.build((None, F))
    weights = _rnn_weights(rng)([w.shape for w in mine.get_weights()])
    assert [w.shape for w in mine.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    mine.set_weights(weights)
    theirs.set_weights(weights)
    x = rng.standard_normal((B, F)).astype("float32")
    states = [rng.standard_normal((B, U)).astype("float32") for _ in range(2 if cell == "LSTMCell" else 1)]
    out, new = mine(x, [torch.as_tensor(s) for s in states])
    k_out, k_new = theirs(x, states)
    assert_close_f32(to_numpy(out), to_numpy(k_out), terms=F + U, depth=2)
    for a, b in zip(new, k_new):
        assert_close_f32(to_numpy(a), to_numpy(b), terms=F + U, depth=2)
    config = mine.get_config()
    assert set(config) == set(theirs.get_config())
    assert type(mine).from_config(config).get_config() == config
    theirs_back = getattr(keras.layers, cell).from_config(json.loads(json.dumps(config)))
    assert theirs_back.units == U


@pytest.mark.parametrize("name,kwargs", [
    ("SimpleRNN", {"activation": "relu"}),
    ("LSTM", {"activation": "softsign", "recurrent_activation": "hard_sigmoid"}),
    ("GRU", {"reset_after": False}),
    ("GRU", {"reset_after": False, "use_bias": False, "go_backwards": True}),
    ("LSTM", {"use_cudnn": False, "go_backwards": True}),
])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_step_loop_layers_parity(keras, rng, name, kwargs, return_sequences):
    """Arguments the fused kernels cannot run go through the step loop, on the same weights."""
    kl = globals()[name](U, return_sequences=return_sequences, return_state=True, **kwargs)
    kr = getattr(keras.layers, name)(U, return_sequences=return_sequences, return_state=True, **kwargs)
    _same_weights(rng, kl, kr)
    x = rng.standard_normal((B, T, F)).astype("float32")
    _assert_outputs_close(kl(x), kr(x))


@pytest.mark.parametrize("mask", list(MASKS))
@pytest.mark.parametrize("name,kwargs", [
    ("SimpleRNN", {}),
    ("LSTM", {}),
    ("GRU", {}),
    ("LSTM", {"go_backwards": True}),
    ("GRU", {"zero_output_for_mask": True}),
    ("SimpleRNN", {"go_backwards": True, "zero_output_for_mask": True}),
    ("GRU", {"reset_after": False, "go_backwards": True}),
])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_masks_parity(keras, rng, name, kwargs, mask, return_sequences):
    """Keras's rules: masked steps keep the states; their output is the previous one (or zeros)."""
    kl = globals()[name](U, return_sequences=return_sequences, return_state=True, **kwargs)
    kr = getattr(keras.layers, name)(U, return_sequences=return_sequences, return_state=True, **kwargs)
    _same_weights(rng, kl, kr)
    x = rng.standard_normal((B, T, F)).astype("float32")
    m = MASKS[mask]
    _assert_outputs_close(kl(x, mask=m), kr(x, mask=m))
    assert kl.supports_masking
    mt = torch.as_tensor(m)
    out_mask = kl.compute_mask(x, mt)
    assert out_mask[0] is (mt if return_sequences else None)
    assert out_mask[1:] == [None] * (2 if name == "LSTM" else 1)


def test_mask_of_all_true_is_the_fused_result(rng):
    layer = LSTM(U, return_sequences=True)
    x = rng.standard_normal((B, T, F)).astype("float32")
    assert_close_f32(to_numpy(layer(x, mask=np.ones((B, T), bool))), to_numpy(layer(x)), terms=T * (F + U), depth=T)


def test_masks_in_a_functional_model_parity(keras, rng):
    """A mask given as a model input (bool) reaches the layer in a model as in Keras."""
    xi, mi = Input((T, F)), Input((T,), dtype="bool")
    layer = GRU(U, return_sequences=True, go_backwards=True)
    model = Model([xi, mi], layer(xi, mask=mi))
    kxi, kmi = keras.Input((T, F)), keras.Input((T,), dtype="bool")
    kl = keras.layers.GRU(U, return_sequences=True, go_backwards=True)
    kmodel = keras.Model([kxi, kmi], kl(kxi, mask=kmi))
    layer.set_weights(_rnn_weights(rng)([w.shape for w in layer.get_weights()]))
    kl.set_weights(layer.get_weights())
    x = rng.standard_normal((B, T, F)).astype("float32")
    m = MASKS["arbitrary"]
    assert_close_f32(to_numpy(model([torch.as_tensor(x), torch.as_tensor(m)])), to_numpy(kmodel([x, m])),
                     terms=T * (F + U), depth=T)


def test_stacked_rnn_cells_parity_config_and_h5(keras, rng, tmp_path):
    def cells(lib):
        return [lib.LSTMCell(U), lib.GRUCell(3, reset_after=False), lib.SimpleRNNCell(2)]

    kl = RNN(StackedRNNCells(cells(kerasish.layers)), return_sequences=True, return_state=True)
    kr = keras.layers.RNN(keras.layers.StackedRNNCells(cells(keras.layers)), return_sequences=True, return_state=True)
    _same_weights(rng, kl, kr)
    assert len(kl.weights) == 9
    x = rng.standard_normal((B, T, F)).astype("float32")
    for m in (None, MASKS["arbitrary"]):
        mine, theirs = kl(x, mask=m), kr(x, mask=m)
        # [output, [h, c], h, h] as Keras nests the states: one entry per cell
        assert isinstance(mine[1], list) and len(mine[1]) == 2
        _assert_outputs_close(mine, theirs)
    assert kl.compute_output_shape((B, T, F)) == [(B, T, 2), [(B, U), (B, U)], (B, 3), (B, 2)]
    # a list of cells is stacked
    assert isinstance(RNN([SimpleRNNCell(2), SimpleRNNCell(3)]).cell, StackedRNNCells)
    # config both ways
    config = kl.get_config()
    assert set(config) == set(kr.get_config())
    assert RNN.from_config(json.loads(json.dumps(config))).get_config() == config
    keras.layers.RNN.from_config(json.loads(json.dumps(config)))
    # Keras's weight file
    km = keras.Sequential([keras.Input((T, F)), keras.layers.RNN(keras.layers.StackedRNNCells(cells(keras.layers))),
                           keras.layers.Dense(2)])
    path = str(tmp_path / "stacked.weights.h5")
    km.save_weights(path)
    model = Sequential([Input((T, F)), RNN(StackedRNNCells(cells(kerasish.layers))), Dense(2)])
    model.load_weights(path)
    assert_close_f32(to_numpy(model(torch.as_tensor(x))), to_numpy(km(x)), terms=T * (F + U), depth=T + 1)


class MinimalRNNCell(Layer):
    """keras.io's "Working with RNNs" custom cell, written on torch."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="uniform", name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units), initializer="uniform",
                                                name="recurrent_kernel")

    def call(self, inputs, states):
        prev_output = states[0]
        h = inputs @ self.kernel.value
        output = h + prev_output @ self.recurrent_kernel.value
        return output, [output]

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def _keras_minimal_cell(keras):
    class KerasMinimalRNNCell(keras.layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.state_size = units

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="uniform", name="kernel")
            self.recurrent_kernel = self.add_weight(shape=(self.units, self.units), initializer="uniform",
                                                    name="recurrent_kernel")

        def call(self, inputs, states):
            output = keras.ops.matmul(inputs, self.kernel) + keras.ops.matmul(states[0], self.recurrent_kernel)
            return output, [output]

    return KerasMinimalRNNCell


def test_custom_cell_parity_and_stacked(keras, rng):
    kcell = _keras_minimal_cell(keras)
    x = rng.standard_normal((B, T, F)).astype("float32")
    m = MASKS["right_padded"]
    kl = RNN(MinimalRNNCell(U), return_sequences=True, return_state=True, go_backwards=True)
    kr = keras.layers.RNN(kcell(U), return_sequences=True, return_state=True, go_backwards=True)
    _same_weights(rng, kl, kr)
    _assert_outputs_close(kl(x, mask=m), kr(x, mask=m))
    # stacked with a built-in cell
    kl = RNN([MinimalRNNCell(U), LSTMCell(3)])
    kr = keras.layers.RNN([kcell(U), keras.layers.LSTMCell(3)])
    _same_weights(rng, kl, kr)
    _assert_outputs_close(kl(x), kr(x))
    # trains: gradients reach the custom cell's weights
    kl(x).sum().backward()
    assert kl.cell.cells[0].kernel.grad is not None


def test_rnn_of_cell_in_a_model_fit_and_keras_h5(keras, rng, tmp_path):
    km = keras.Sequential([keras.Input((T, F)), keras.layers.RNN(keras.layers.LSTMCell(U)), keras.layers.Dense(2)])
    path = str(tmp_path / "cell.weights.h5")
    km.save_weights(path)
    model = Sequential([Input((T, F)), RNN(LSTMCell(U)), Dense(2)])
    model.load_weights(path)
    x = rng.standard_normal((B, T, F)).astype("float32")
    assert_close_f32(to_numpy(model(torch.as_tensor(x))), to_numpy(km(x)), terms=T * (F + U), depth=T + 1)
    out = str(tmp_path / "mine.weights.h5")
    model.save_weights(out)
    km.load_weights(out)
    for a, b in zip(model.get_weights(), km.get_weights()):
        np.testing.assert_array_equal(a, to_numpy(b))


@pytest.mark.parametrize("rnn,kwargs", [("GRU", {"reset_after": False}), ("SimpleRNN", {"activation": "relu"}),
                                        ("LSTM", {"dropout": 0.1, "recurrent_dropout": 0.1})])
def test_step_loop_layers_keras_weights_h5(keras, rng, tmp_path, rnn, kwargs):
    km = keras.Sequential([keras.Input((T, F)), getattr(keras.layers, rnn)(U, **kwargs), keras.layers.Dense(2)])
    path = str(tmp_path / "m.weights.h5")
    km.save_weights(path)
    model = Sequential([Input((T, F)), globals()[rnn](U, **kwargs), Dense(2)])
    model.load_weights(path)
    x = rng.standard_normal((B, T, F)).astype("float32")
    assert_close_f32(to_numpy(model(torch.as_tensor(x))), to_numpy(km(x)), terms=T * (F + U), depth=T + 1)


# ----------------------------------------------------------------------------
# Dropout (Keras's per-sequence masks; seeds cannot match Keras's, so statistics)
# ----------------------------------------------------------------------------
def test_input_dropout_mask_is_one_per_sequence():
    """Linear SimpleRNN, identity kernel, no recurrence: the output is the masked input,
    so the mask can be read off, and it is the same at every step, as Keras draws it."""
    f = 64
    layer = RNN(SimpleRNNCell(f, activation=None, use_bias=False, dropout=0.5, seed=3), return_sequences=True)
    layer.build((None, T, f))
    layer.set_weights([np.eye(f, dtype="float32"), np.zeros((f, f), dtype="float32")])
    x = np.ones((8, T, f), dtype="float32")
    out = to_numpy(layer(x, training=True))
    assert set(np.unique(out)) <= {0.0, 2.0}
    assert (out == out[:, :1]).all()  # one mask per sequence
    assert 0.35 < (out[:, 0] == 0).mean() < 0.65
    assert not (out[0, 0] == out[1, 0]).all()  # one mask per sample
    np.testing.assert_array_equal(to_numpy(layer(x, training=False)), x)  # inference: no dropout
    # seeded: the same masks run after run
    again = RNN(SimpleRNNCell(f, activation=None, use_bias=False, dropout=0.5, seed=3), return_sequences=True)
    again.build((None, T, f))
    again.set_weights(layer.get_weights())
    np.testing.assert_array_equal(to_numpy(again(x, training=True)), out)


@pytest.mark.parametrize("name", ["LSTM", "GRU", "SimpleRNN"])
def test_dropout_in_training_only(rng, name):
    layer = globals()[name](U, dropout=0.3, recurrent_dropout=0.3, return_sequences=True, seed=1)
    x = rng.standard_normal((B, T, F)).astype("float32")
    eval_out = to_numpy(layer(x))
    fused = globals()[name](U, return_sequences=True)
    fused.build((None, T, F))
    fused.set_weights(layer.get_weights())
    # inference is the fused kernel's result, training differs and trains
    assert_close_f32(eval_out, to_numpy(fused(x)), terms=T * (F + U), depth=T)
    train_out = layer(x, training=True)
    assert train_out.shape == (B, T, U) and torch.isfinite(train_out).all()
    assert not np.allclose(to_numpy(train_out), eval_out)
    train_out.sum().backward()
    assert all(v.grad is not None for v in layer.trainable_weights)


def test_lstm_per_gate_masks_with_recurrent_dropout():
    """Keras's implementation 1 (recurrent_dropout > 0): one input mask and one state mask per gate."""
    cell = LSTMCell(4, dropout=0.5, recurrent_dropout=0.5, seed=0)
    assert cell.implementation == 1
    assert LSTMCell(4, dropout=0.5).implementation == 2
    assert GRUCell(4, recurrent_dropout=0.1).implementation == 1 and GRUCell(4).implementation == 2
    cell.build((None, 2))
    runner = cell._runner(torch.zeros(3, 2), training=True)
    assert runner.in_mask.shape == (4, 3, 2) and runner.rec_mask.shape == (4, 3, 4)
    assert set(torch.unique(runner.in_mask).tolist()) <= {0.0, 2.0}


# ----------------------------------------------------------------------------
# Stateful
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("name,kwargs", [("LSTM", {}), ("GRU", {"reset_after": False}), ("SimpleRNN", {"go_backwards": True})])
def test_stateful_across_calls_and_reset_parity(keras, rng, name, kwargs):
    kl = globals()[name](U, stateful=True, return_sequences=True, **kwargs)
    kr = getattr(keras.layers, name)(U, stateful=True, return_sequences=True, **kwargs)
    _same_weights(rng, kl, kr, shape=(B, T, F))
    x1, x2 = (rng.standard_normal((B, T, F)).astype("float32") for _ in range(2))
    for x in (x1, x2):
        assert_close_f32(to_numpy(kl(x)), to_numpy(kr(x)), terms=2 * T * (F + U), depth=2 * T)
    states = kl.states
    assert len(states) == (2 if name == "LSTM" else 1) and float(states[0].abs().sum()) > 0
    for a, b in zip(states, kr.states):
        assert_close_f32(to_numpy(a), to_numpy(b), terms=2 * T * (F + U), depth=2 * T)
    kl.reset_states()
    kr.reset_states()
    assert all(float(s.abs().sum()) == 0 for s in kl.states)
    assert_close_f32(to_numpy(kl(x2)), to_numpy(kr(x2)), terms=T * (F + U), depth=T)
    # the states are no weights and are not in the state_dict
    assert len(kl.weights) == 3
    assert not any("rnn_state" in k for k in kl.torch_module.state_dict())


def test_stateful_equals_one_long_sequence(rng):
    layer = LSTM(U, stateful=True)
    whole = LSTM(U)
    whole.build((None, 2 * T, F))
    x = rng.standard_normal((B, 2 * T, F)).astype("float32")
    layer(x[:, :T])
    layer.set_weights(whole.get_weights())
    layer.reset_states()
    layer(x[:, :T])
    assert_close_f32(to_numpy(layer(x[:, T:])), to_numpy(whole(x)), terms=2 * T * (F + U), depth=2 * T)


def test_step_loop_model_fits(rng):
    """Dropout, reset_after=False and a non-default activation: the step loop trains in fit."""
    torch.manual_seed(0)
    x = _ids(rng, (64, 7), 20)
    y = (x[:, -1] > 9).astype("int32")
    model = Sequential([Input((7,), dtype="int32"), Embedding(20, 8),
                        GRU(8, reset_after=False, dropout=0.1, recurrent_dropout=0.1, seed=0, return_sequences=True),
                        SimpleRNN(8, activation="relu"), Dense(2)])
    model.compile(optimizer=Adam(learning_rate=0.02), loss=SparseCategoricalCrossentropy(from_logits=True))
    losses = model.fit(x, y, epochs=8, batch_size=16, verbose=0).history["loss"]
    assert losses[-1] < losses[0] * 0.6, losses


def test_stateful_in_a_model_and_errors(rng):
    model = Sequential([Input(batch_shape=(B, T, F)), GRU(U, stateful=True, name="sg"), Dense(2)])
    x = rng.standard_normal((B, T, F)).astype("float32")
    first = to_numpy(model(torch.as_tensor(x)))
    second = to_numpy(model(torch.as_tensor(x)))
    assert not np.allclose(first, second)  # the states carried over
    model.layers[0].reset_states()
    assert_close_f32(to_numpy(model(torch.as_tensor(x))), first, terms=T * (F + U), depth=T + 1)
    with pytest.raises(ValueError, match=r"'sg'.*stateful.*batch size 3"):
        model.layers[0](np.zeros((4, T, F), dtype="float32"))
    with pytest.raises(ValueError, match=r"'st'.*stateful=True needs a fixed batch size"):
        Sequential([Input((T, F)), LSTM(U, stateful=True, name="st")])


# ----------------------------------------------------------------------------
# Bad input through the step loop
# ----------------------------------------------------------------------------
def test_step_loop_bad_input():
    layer = RNN(LSTMCell(3), name="r")
    with pytest.raises(ValueError, match=r"'r'.*\(batch, timesteps, features\)"):
        layer(np.zeros((2, 4), dtype="float32"))
    x = np.zeros((2, 4, 5), dtype="float32")
    with pytest.raises(ValueError, match=r"'r'.*2 initial state"):
        layer(x, initial_state=[np.zeros((2, 3), dtype="float32")])
    with pytest.raises(ValueError, match=r"'r'.*initial_state\[1\] must have shape \(2, 3\)"):
        layer(x, initial_state=[np.zeros((2, 3), dtype="float32"), np.zeros((2, 4), dtype="float32")])
    with pytest.raises(ValueError, match=r"'r'.*mask must have shape \(batch, timesteps\) = \(2, 4\)"):
        layer(x, mask=np.ones((2, 5), bool))
    with pytest.raises(ValueError, match=r"'l'.*mask must have shape"):
        LSTM(3, name="l")(x, mask=np.ones((4,), bool))
    with pytest.raises(ValueError, match=r"'g'.*\(batch, timesteps, features\)"):
        GRU(3, name="g")(np.zeros((2, 4, 5, 1), dtype="float32"))
    with pytest.raises(ValueError, match=r"'u'.*unroll=True needs a known number of timesteps"):
        Sequential([Input((None, 3)), LSTM(2, unroll=True, name="u")])
    Sequential([Input((4, 3)), LSTM(2, unroll=True)])  # a known time axis: fine


def test_initial_state_through_the_step_loop_parity(keras, rng):
    kl = GRU(U, reset_after=False, return_sequences=True)
    kr = keras.layers.GRU(U, reset_after=False, return_sequences=True)
    _same_weights(rng, kl, kr)
    x = rng.standard_normal((B, T, F)).astype("float32")
    h = rng.standard_normal((B, U)).astype("float32")
    m = MASKS["arbitrary"]
    _assert_outputs_close(kl(x, initial_state=[h], mask=m), kr(x, initial_state=[h], mask=m))


# ----------------------------------------------------------------------------
# Bidirectional with masks and step-loop layers
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("mask", list(MASKS))
@pytest.mark.parametrize("make,merge_mode", [
    (lambda lib: lib.LSTM(U, return_sequences=True), "concat"),
    (lambda lib: lib.GRU(U), "sum"),
    (lambda lib: lib.GRU(U, reset_after=False, return_sequences=True, return_state=True), None),
    (lambda lib: lib.RNN(lib.SimpleRNNCell(U, activation="relu"), return_sequences=True), "ave"),
])
def test_bidirectional_masks_and_step_loop_parity(keras, rng, make, merge_mode, mask):
    kl = Bidirectional(make(kerasish.layers), merge_mode=merge_mode)
    kr = keras.layers.Bidirectional(make(keras.layers), merge_mode=merge_mode)
    _same_weights(rng, kl, kr)
    x = rng.standard_normal((B, T, F)).astype("float32")
    m = MASKS[mask]
    _assert_outputs_close(kl(x, mask=m), kr(x, mask=m))
    _assert_outputs_close(kl(x), kr(x))
    out_mask = kl.compute_mask(x, torch.as_tensor(m))
    if kl.return_sequences and merge_mode is not None and not kl.return_state:
        assert to_numpy(out_mask).tolist() == m.tolist()


# ----------------------------------------------------------------------------
# TimeDistributed
# ----------------------------------------------------------------------------
def test_time_distributed_dense_harness_parity(keras, layer_test, rng):
    layer_test(TimeDistributed, {"layer": Dense(3, name="d")}, keras_init_kwargs={"layer": keras.layers.Dense(3, name="d")},
               input_shape=(2, 5, 4), expected_output_shape=(2, 5, 3), expected_num_trainable_weights=2,
               weights=_rnn_weights(rng), keras_parity=True, terms=4)


def test_time_distributed_conv2d_harness_parity(keras, layer_test, rng):
    layer_test(TimeDistributed, {"layer": Conv2D(3, 3, padding="same", name="c")},
               keras_init_kwargs={"layer": keras.layers.Conv2D(3, 3, padding="same", name="c")},
               input_shape=(2, 3, 6, 6, 2), expected_output_shape=(2, 3, 6, 6, 3), expected_num_trainable_weights=2,
               weights=_rnn_weights(rng), keras_parity=True, terms=18)


def test_time_distributed_in_models_mask_h5_and_errors(keras, rng, tmp_path):
    # Conv2D per frame -> Flatten per frame -> LSTM, with Keras's weight file
    def build(lib):
        return [lib.Input((3, 6, 6, 2)), lib.TimeDistributed(lib.Conv2D(2, 3)), lib.TimeDistributed(lib.Flatten()),
                lib.LSTM(U), lib.Dense(2)]

    km = keras.Sequential(build(keras.layers))
    path = str(tmp_path / "td.weights.h5")
    km.save_weights(path)
    model = Sequential(build(kerasish.layers))
    model.load_weights(path)
    x = rng.standard_normal((2, 3, 6, 6, 2)).astype("float32")
    assert_close_f32(to_numpy(model(torch.as_tensor(x))), to_numpy(km(x)), terms=3 * 64, depth=8)
    # 4-D sequences (which a model carries as images): TimeDistributed(Dense) over (batch, time, steps, features)
    seq4 = rng.standard_normal((2, 3, 5, 4)).astype("float32")
    m4 = Sequential([Input((3, 5, 4)), TimeDistributed(Dense(2))])
    k4 = keras.Sequential([keras.Input((3, 5, 4)), keras.layers.TimeDistributed(keras.layers.Dense(2))])
    k4.set_weights(m4.get_weights())
    assert_close_f32(to_numpy(m4(torch.as_tensor(seq4))), to_numpy(k4(seq4)), terms=4)
    # the mask passes through unchanged; a masked LSTM inside sees it per step
    td = TimeDistributed(Dense(2))
    mask = torch.as_tensor(MASKS["arbitrary"])
    assert td.supports_masking and td.compute_mask(None, mask) is mask
    assert TimeDistributed.from_config(td.get_config()).get_config() == td.get_config()
    assert set(td.get_config()) == set(keras.layers.TimeDistributed(keras.layers.Dense(2)).get_config())
    with pytest.raises(ValueError, match=r"'tdx'.*at least 3 axes"):
        TimeDistributed(Dense(2), name="tdx")(np.zeros((2, 4), dtype="float32"))
    with pytest.raises(ValueError, match="Layer instance"):
        TimeDistributed("dense")


def test_time_distributed_passes_step_masks_to_an_rnn(keras, rng):
    """TimeDistributed(LSTM) over (batch, outer, inner, features) with a (batch, outer, inner) mask:
    each outer step's LSTM gets that step's (batch, inner) mask, as Keras gives it."""
    kl = TimeDistributed(LSTM(U, return_sequences=True))
    kr = keras.layers.TimeDistributed(keras.layers.LSTM(U, return_sequences=True))
    x = rng.standard_normal((B, 2, T, F)).astype("float32")
    kl.build((B, 2, T, F))
    kr.build((B, 2, T, F))
    weights = _rnn_weights(rng)([w.shape for w in kl.get_weights()])
    kl.set_weights(weights)
    kr.set_weights(weights)
    m = np.stack([MASKS["arbitrary"], MASKS["right_padded"]], axis=1)
    _assert_outputs_close(kl(x, mask=m), kr(x, mask=m))
    _assert_outputs_close(kl(x), kr(x))


@pytest.mark.parametrize("name", ["LSTM", "GRU", "SimpleRNN"])
@pytest.mark.parametrize("kwargs", [{}, {"go_backwards": True}, {"zero_output_for_mask": True},
                                    {"go_backwards": True, "zero_output_for_mask": True}])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_right_padded_masks_take_the_fused_kernel(keras, rng, monkeypatch, name, kwargs, return_sequences):
    """Right-padded masks (with an empty row and a full one) run the fused kernel, with Keras's results."""
    kl = globals()[name](U, return_sequences=return_sequences, return_state=name != "LSTM", **kwargs)
    kr = getattr(keras.layers, name)(U, return_sequences=return_sequences, return_state=name != "LSTM", **kwargs)
    _same_weights(rng, kl, kr)
    x = rng.standard_normal((4, T, F)).astype("float32")
    m = np.array([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1], [0, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0]], bool)
    h0 = [rng.standard_normal((4, U)).astype("float32") for _ in range(2 if name == "LSTM" else 1)]
    calls = []
    monkeypatch.setattr(type(kl), "_run_right_padded", lambda self, *a, _f=type(kl)._run_right_padded: calls.append(1) or _f(self, *a))
    _assert_outputs_close(kl(x, mask=m), kr(x, mask=m))
    _assert_outputs_close(kl(x, mask=m, initial_state=h0), kr(x, mask=m, initial_state=h0))
    assert len(calls) == 2
    # a mask with a hole takes the step loop
    hole = m.copy()
    hole[1, 2] = False
    _assert_outputs_close(kl(x, mask=hole), kr(x, mask=hole))
    assert len(calls) == 2


def test_keras_file_with_the_new_layers_round_trip(keras, rng, tmp_path):
    """A `.keras` file Keras writes with RNN(list of cells), a step-loop Bidirectional GRU,
    TimeDistributed and a relu SimpleRNN loads and computes Keras's output; kerasish's
    file loads back in Keras."""
    km = keras.Sequential([
        keras.Input((T, F)),
        keras.layers.RNN([keras.layers.LSTMCell(U), keras.layers.GRUCell(3, reset_after=False)], return_sequences=True),
        keras.layers.Bidirectional(keras.layers.GRU(3, reset_after=False, return_sequences=True)),
        keras.layers.TimeDistributed(keras.layers.Dense(2)),
        keras.layers.SimpleRNN(4, activation="relu"),
    ])
    path = str(tmp_path / "m.keras")
    km.save(path)
    model = kerasish.models.load_model(path)
    x = rng.standard_normal((B, T, F)).astype("float32")
    expected = to_numpy(km(x))
    assert_close_f32(to_numpy(model(torch.as_tensor(x))), expected, terms=T * (F + U), depth=4 * T)
    assert isinstance(model.layers[0].cell, StackedRNNCells) and len(model.layers[0].cell.weights) == 6
    back = str(tmp_path / "mine.keras")
    model.save(back)
    assert_close_f32(to_numpy(keras.models.load_model(back)(x)), expected, terms=T * (F + U), depth=4 * T)


def test_embedding_mask_zero_reaches_the_recurrent_layers_parity(keras, rng):
    """Embedding(mask_zero=True) -> LSTM(return_sequences) -> Bidirectional(GRU): the mask flows
    through the model (right-padded and with holes) and the results are Keras's."""
    x = np.array([[3, 4, 0, 0, 0, 0], [1, 0, 2, 5, 0, 1], [0, 0, 0, 0, 0, 0], [1, 2, 3, 4, 5, 1]], "int32")

    def build(lib):
        return [lib.Input((T,), dtype="int32"), lib.layers.Embedding(6, F, mask_zero=True),
                lib.layers.LSTM(U, return_sequences=True), lib.layers.Bidirectional(lib.layers.GRU(3))]

    model = Sequential(build(kerasish))
    km = keras.Sequential(build(keras))
    model.set_weights(_rnn_weights(rng)([w.shape for w in model.get_weights()]))
    km.set_weights(model.get_weights())
    assert_close_f32(to_numpy(model(torch.as_tensor(x))), to_numpy(km(x)), terms=T * (F + U), depth=2 * T)


# ----------------------------------------------------------------------------
# ConvLSTM2D
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [
    {"padding": "same"},
    {"padding": "valid", "strides": 2, "return_sequences": True},
    {"padding": "same", "strides": 2, "go_backwards": True, "return_sequences": True, "return_state": True},
    {"dilation_rate": 2, "use_bias": False, "unit_forget_bias": False},
    {"activation": "relu", "recurrent_activation": "hard_sigmoid", "return_state": True},
])
def test_conv_lstm2d_harness_parity(layer_test, rng, kwargs):
    from kerasish.layers.args import conv_output_length

    b, t, h, w, c, f = 2, 3, 7, 6, 2, 3
    hw = tuple(conv_output_length(n, 3, kwargs.get("strides", 1), kwargs["padding"] if "padding" in kwargs else "valid",
                                  kwargs.get("dilation_rate", 1)) for n in (h, w))
    out = (b, t, *hw, f) if kwargs.get("return_sequences") else (b, *hw, f)
    expected = [out, (b, *hw, f), (b, *hw, f)] if kwargs.get("return_state") else out
    layer_test(ConvLSTM2D, {"filters": f, "kernel_size": 3, **kwargs}, input_shape=(b, t, h, w, c),
               expected_output_shape=expected, expected_num_trainable_weights=2 if kwargs.get("use_bias") is False else 3,
               weights=_rnn_weights(rng), keras_parity=True, terms=t * 9 * (c + f), depth=t)


def test_conv_lstm2d_masks_initial_state_stateful_and_h5(keras, rng, tmp_path):
    shape = (2, 4, 6, 5, 3)
    x = rng.standard_normal(shape).astype("float32")
    m = np.array([[1, 0, 1, 1], [0, 1, 1, 0]], bool)
    kl = ConvLSTM2D(4, 3, padding="same", return_sequences=True, return_state=True)
    kr = keras.layers.ConvLSTM2D(4, 3, padding="same", return_sequences=True, return_state=True)
    _same_weights(rng, kl, kr, shape=(None, *shape[1:]))
    h0 = [rng.standard_normal((2, 6, 5, 4)).astype("float32") for _ in range(2)]
    for kwargs in ({"mask": m}, {"initial_state": h0}, {"mask": m, "initial_state": h0}):
        _assert_outputs_close(kl(x, **kwargs), kr(x, **kwargs), steps=4 * 9)
    with pytest.raises(ValueError, match=r"initial_state\[0\] must have shape \(2, 4, 6, 5\)"):
        kl(x, initial_state=[np.zeros((2, 4), dtype="float32")] * 2)
    with pytest.raises(ValueError, match=r"frames \(batch, time, rows, cols, channels\)"):
        kl(x[0])
    # stateful across calls, as Keras
    sl = ConvLSTM2D(4, 3, stateful=True)
    sr = keras.layers.ConvLSTM2D(4, 3, stateful=True)
    _same_weights(rng, sl, sr, shape=shape)
    for _ in range(2):
        assert_close_f32(to_numpy(sl(x)), to_numpy(sr(x)), terms=8 * 9 * 7, depth=8)
    sl.reset_states()
    assert all(float(s.abs().sum()) == 0 for s in sl.states)
    # in a model, with Keras's weight file
    km = keras.Sequential([keras.Input(shape[1:]), keras.layers.ConvLSTM2D(2, 3), keras.layers.Flatten(),
                           keras.layers.Dense(2)])
    path = str(tmp_path / "convlstm.weights.h5")
    km.save_weights(path)
    model = Sequential([Input(shape[1:]), ConvLSTM2D(2, 3), kerasish.layers.Flatten(), Dense(2)])
    model.load_weights(path)
    assert_close_f32(to_numpy(model(torch.as_tensor(x))), to_numpy(km(x)), terms=4 * 9 * 5, depth=6)
    # dropout in training: per-sequence masks, finite, different from inference, trains
    dl = ConvLSTM2D(4, 3, dropout=0.3, recurrent_dropout=0.3, seed=0)
    y = dl(x, training=True)
    assert torch.isfinite(y).all() and not np.allclose(to_numpy(y), to_numpy(dl(x)))
    y.sum().backward()
    assert all(v.grad is not None for v in dl.trainable_weights)


# --- the CPU GRU kernel (kerasish/layers/rnn/gru_cpu.py) -------------------------------------


def _gru_args(batch=3, steps=6, features=4, units=5, dtype=torch.float64, seed=0):
    g = torch.Generator().manual_seed(seed)

    def mk(*shape):
        return (torch.randn(*shape, generator=g, dtype=dtype) * 0.5).requires_grad_()

    return [mk(batch, steps, features), mk(batch, units), mk(3 * units, features), mk(3 * units, units),
            mk(3 * units), mk(3 * units)]


def test_cpu_gru_kernel_gradients_are_exact():
    from kerasish.layers.rnn import gru_cpu

    args = _gru_args()
    assert torch.autograd.gradcheck(lambda *a: gru_cpu.gru_sequence(*a), args)
    fwd, bwd = _gru_args(seed=1), _gru_args(seed=2)
    h0 = torch.stack([fwd[1], bwd[1]]).detach().requires_grad_()
    assert torch.autograd.gradcheck(lambda x, h, *w: gru_cpu.bidirectional_gru(x, h, w), [fwd[0], h0, *fwd[2:], *bwd[2:]])


def test_cpu_gru_kernel_matches_torch_gru():
    from kerasish.layers.rnn import gru_cpu

    x, h0, *w = _gru_args(dtype=torch.float32, batch=4, steps=9)
    out, last = gru_cpu.gru_sequence(x, h0, *w)
    (out.square().sum() + last.sum()).backward()
    ours = [a.grad.clone() for a in (x, h0, *w)]
    for a in (x, h0, *w):
        a.grad = None
    ref_out, ref_last = torch.gru(x, h0[None], w, True, 1, 0.0, True, False, True)
    (ref_out.square().sum() + ref_last.sum()).backward()
    tol = dict(rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(out, ref_out, **tol)
    torch.testing.assert_close(last, ref_last[0], **tol)
    for got, a in zip(ours, (x, h0, *w)):
        torch.testing.assert_close(got, a.grad, **tol)
    with pytest.raises(RuntimeError):  # its backward is not differentiable again
        g, = torch.autograd.grad(gru_cpu.gru_sequence(x, h0, *w)[1].sum(), x, create_graph=True)
        g.sum().backward()


@pytest.mark.parametrize("merge_mode", ["concat", "sum", None])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_gru_in_one_loop_equals_two_layers(monkeypatch, merge_mode, return_sequences):
    """Bidirectional over two GRUs runs both directions in one loop on a CPU; the
    result and the gradients are those of the two layers run one after the other."""
    from kerasish.layers.rnn import gru_cpu

    x = torch.randn(4, 7, 3)
    layer = Bidirectional(GRU(5, return_sequences=return_sequences, return_state=True), merge_mode=merge_mode)
    layer(x)

    def run():
        layer.zero_grad()
        outs = layer(x, training=True)
        sum(o.square().sum() for o in outs).backward()
        return [o.detach() for o in outs], [p.grad.clone() for p in layer.parameters() if p.grad is not None]

    calls = []
    real = gru_cpu.bidirectional_gru
    monkeypatch.setattr(gru_cpu, "bidirectional_gru", lambda *a, **k: calls.append(1) or real(*a, **k))
    joint_outs, joint_grads = run()
    assert calls, "the one-loop path did not run"
    monkeypatch.setattr(gru_cpu, "use_cpu_kernel", lambda t: False)  # torch.gru, each layer on its own
    outs, grads = run()
    assert len(joint_outs) == len(outs) and len(joint_grads) == len(grads) > 0
    for a, b in zip(joint_outs + joint_grads, outs + grads):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
