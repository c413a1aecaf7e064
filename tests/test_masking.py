"""Masks: Keras 3's rules (engine/masking.py) in eager calls, declared graphs, the
program, the losses and metrics; each compared with Keras 3 on the same weights."""


import numpy as np
import pytest
import torch

import kerasish as ks
from kerasish import layers as L
from kerasish import ops
from kerasish.models import program as program_lib
from kerasish.testing import float32_tol


def _ids(batch=4, steps=7, vocab=20, seed=0):
    """Post-padded token ids: row i keeps its first steps - i tokens."""
    rng = np.random.default_rng(seed)
    x = rng.integers(1, vocab, size=(batch, steps)).astype("int32")
    for i in range(batch):
        x[i, steps - i:] = 0
    return x


def _close(a, b, what, terms=64):
    a = np.asarray(a.detach().cpu() if isinstance(a, torch.Tensor) else a)
    b = np.asarray(b.detach().cpu() if isinstance(b, torch.Tensor) else b)
    assert a.shape == b.shape, what
    if b.dtype == bool:
        assert a.tolist() == b.tolist(), what
        return
    tol = float32_tol(terms)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol * max(1.0, float(np.abs(b).max(initial=0))), err_msg=what)


def _copy_weights(ours, theirs):
    """Keras's weights into ours, layer by layer name (in a masked graph with branches Keras
    orders ``model.layers`` by depths its symbolic mask ops change; see docs/differences.md)."""
    for layer in theirs.layers:
        if layer.weights:
            ours.get_layer(layer.name).set_weights([np.asarray(w) for w in layer.get_weights()])


# --- layers that make masks ------------------------------------------------------


def test_embedding_and_masking_layer_masks_match_keras(keras):
    x = _ids()
    ours = L.Embedding(20, 3, mask_zero=True)(x)._keras_mask
    theirs = keras.layers.Embedding(20, 3, mask_zero=True)(x)._keras_mask
    _close(ours, theirs, "Embedding mask")
    seq = np.random.default_rng(1).normal(size=(3, 5, 2)).astype("float32")
    seq[0, 3:] = 0.5
    seq[2, 1] = 0.5
    out = L.Masking(mask_value=0.5)(seq)
    ref = keras.layers.Masking(mask_value=0.5)(seq)
    _close(out._keras_mask, ref._keras_mask, "Masking mask")
    _close(out, ref, "Masking output (masked steps zeroed)")


def test_masking_layer_harness(layer_test):
    seq = np.random.default_rng(2).normal(size=(2, 4, 3)).astype("float32")
    seq[1, 2:] = 0.0
    layer_test(L.Masking, {"mask_value": 0.0}, input_data=seq, expected_output_shape=(2, 4, 3),
               supports_masking=True, keras_parity=True, run_training_check=False)


def test_masking_refuses_bad_arguments():
    with pytest.raises(ValueError, match="mask_value"):
        L.Masking(mask_value="zero")
    with pytest.raises(ValueError, match="masking.*rank"):
        L.Masking(name="masking")(np.zeros((3,), "float32"))


# --- the guide's custom layers (keras.io "Understanding masking & padding") -----------------


class TemporalSplit(L.Layer):
    def call(self, inputs):
        return ops.split(inputs, 2, axis=1)

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        return ops.split(mask, 2, axis=1)


class MyActivation(L.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs):
        return ops.relu(inputs)


class TemporalSoftmax(L.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        assert mask is not None
        m = ops.expand_dims(ops.cast(mask, "float32"), -1)
        e = ops.exp(inputs) * m
        return e / ops.sum(e * m, axis=-1, keepdims=True)


def test_supports_masking_defaults_follow_keras():
    assert TemporalSplit().supports_masking  # overrides compute_mask
    assert not L.Layer().supports_masking
    assert MyActivation().supports_masking
    assert L.Dense(2).supports_masking and L.Dropout(0.1).supports_masking and L.Activation("relu").supports_masking
    assert not L.Conv1D(2, 3).supports_masking and not L.Flatten().supports_masking
    layer = L.Layer()
    layer.supports_masking = True
    assert layer.supports_masking


def test_custom_mask_layers_eager_and_symbolic():
    seq = np.ones((2, 6, 3), "float32")
    seq[0, 4:] = 0
    masked = L.Masking()(seq)
    first, second = TemporalSplit()(masked)
    assert first._keras_mask.tolist() == [[True] * 3, [True] * 3]
    assert second._keras_mask.tolist() == [[True, False, False], [True] * 3]
    inputs = ks.Input((6, 3))
    a, b = TemporalSplit()(L.Masking()(inputs))
    assert a._keras_mask.shape == (None, 3) and a._keras_mask.dtype == "bool"
    model = ks.Model(inputs, [a, b])
    ya, yb = model(seq)
    assert yb._keras_mask.tolist() == [[True, False, False], [True] * 3]


def test_mask_propagates_through_supporting_layers_and_is_dropped_with_a_warning():
    inputs = ks.Input((None,), dtype="int32")
    x = L.Embedding(50, 4, mask_zero=True)(inputs)
    x = MyActivation()(x)
    assert x._keras_mask.shape == (None, None)
    y = L.Dense(3)(L.Dropout(0.1)(x))
    assert y._keras_mask is x._keras_mask  # passed on unchanged, as in Keras
    with pytest.warns(UserWarning, match="does not support masking"):
        z = L.Conv1D(2, 1)(y)
    assert getattr(z, "_keras_mask", None) is None


def test_masks_only_on_steps_that_need_them():
    inputs = ks.Input((None,), dtype="int32")
    x = L.Embedding(50, 4)(inputs)  # no mask_zero: no mask anywhere
    model = ks.Model(inputs, L.Dense(2)(x))
    assert all(s.masking is None for s in program_lib.plan(model).steps)
    x = L.Embedding(50, 4, mask_zero=True)(inputs)
    model = ks.Model(inputs, L.GlobalAveragePooling1D()(L.Dense(2)(x)))
    kinds = {s.layer.name.split("_")[0]: s.masking for s in program_lib.plan(model).steps}
    assert kinds["embedding"].compute and not kinds["embedding"].pass_mask
    assert kinds["dense"].compute and not kinds["dense"].pass_mask
    assert kinds["global"].pass_mask


def test_temporal_softmax_model_matches_keras(keras):
    x = _ids(batch=3, steps=6, vocab=10)

    def build(K, softmax_cls):
        inputs = K.Input(shape=(None,), dtype="int32")
        h = K.layers.Embedding(input_dim=10, output_dim=8, mask_zero=True, name="emb")(inputs)
        h = K.layers.Dense(1, name="dense")(h)
        return K.Model(inputs, softmax_cls()(h))

    class KTemporalSoftmax(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.supports_masking = True

        def call(self, inputs, mask=None):
            m = keras.ops.expand_dims(keras.ops.cast(mask, "float32"), -1)
            e = keras.ops.exp(inputs) * m
            return e / keras.ops.sum(e * m, axis=-1, keepdims=True)

    theirs = build(keras, KTemporalSoftmax)
    ours = build(ks, TemporalSoftmax)
    _copy_weights(ours, theirs)
    ref = theirs(x)
    out = ours(x)
    _close(out, ref, "TemporalSoftmax output")
    _close(out._keras_mask, ref._keras_mask, "output mask")


def test_global_average_pooling_and_merges_take_the_mask_like_keras(keras):
    x = _ids(batch=4, steps=6, vocab=30)

    def build(K):
        inputs = K.Input(shape=(6,), dtype="int32")
        a = K.layers.Embedding(30, 5, mask_zero=True, name="ea")(inputs)
        b = K.layers.Dense(5, name="db")(K.layers.Embedding(30, 5, name="eb")(inputs))  # no mask
        added = K.layers.Add()([a, K.layers.Dense(5, name="da")(a)])
        cat = K.layers.Concatenate(axis=1)([a, b])
        pooled = K.layers.GlobalAveragePooling1D()(added)
        pooled_cat = K.layers.GlobalAveragePooling1D()(cat)
        return K.Model(inputs, [pooled, pooled_cat, cat])

    theirs, ours = build(keras), build(ks)
    _copy_weights(ours, theirs)
    for o, r, what in zip(ours(x), theirs(x), ("GAP1D after Add", "GAP1D after Concatenate", "Concatenate")):
        _close(o, r, what)
    _close(ours(x)[2]._keras_mask, theirs(x)[2]._keras_mask, "Concatenate mask")


def test_softmax_layer_takes_the_mask_riding_on_its_input(keras):
    x = np.random.default_rng(7).normal(size=(2, 4)).astype("float32")
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 0]], bool)
    ours_in, theirs_in = torch.as_tensor(x), torch.as_tensor(x)
    ours_in._keras_mask = torch.as_tensor(mask)
    keras.src.backend.set_keras_mask(theirs_in, torch.as_tensor(mask))
    out, ref = L.Softmax()(ours_in), keras.layers.Softmax()(theirs_in)
    _close(out, ref, "Softmax with the input's mask")
    assert float(out[0, 2:].abs().sum()) == 0.0


# --- losses and metrics weighted by the output mask ---------------------------------------


def _seq_tagger(K, vocab=12, classes=3):
    inputs = K.Input(shape=(None,), dtype="int32")
    h = K.layers.Embedding(vocab, 6, mask_zero=True, name="emb")(inputs)
    return K.Model(inputs, K.layers.Dense(classes, activation="softmax", name="tags")(h))


def test_masked_loss_and_metric_match_keras(keras):
    x = _ids(batch=6, steps=5, vocab=12, seed=3)
    y = np.random.default_rng(4).integers(0, 3, size=(6, 5))
    theirs, ours = _seq_tagger(keras), _seq_tagger(ks)
    _copy_weights(ours, theirs)
    for m in (theirs, ours):
        m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["sparse_categorical_accuracy"])
    ref = theirs.evaluate(x, y, verbose=0, return_dict=True)
    got = ours.evaluate(x, y, verbose=0, return_dict=True)
    for k in ("loss", "sparse_categorical_accuracy"):
        assert got[k] == pytest.approx(ref[k], rel=1e-5), k
    # The same outputs without their mask (a copy carries none): the padding counts, and the loss differs.
    loss_fn = ks.losses.SparseCategoricalCrossentropy()
    pred = ours(x)
    assert pred._keras_mask.tolist() == (x != 0).tolist()
    unmasked = float(loss_fn(torch.as_tensor(y), pred.detach().clone()))
    assert unmasked != pytest.approx(got["loss"], rel=1e-4)
    masked = float(loss_fn(torch.as_tensor(y), pred))
    assert masked == pytest.approx(got["loss"], rel=1e-5)


def test_masked_training_step_matches_keras(keras):
    x = _ids(batch=6, steps=5, vocab=12, seed=5)
    y = np.random.default_rng(6).integers(0, 3, size=(6, 5))
    theirs, ours = _seq_tagger(keras), _seq_tagger(ks)
    _copy_weights(ours, theirs)
    for m in (theirs, ours):
        m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    ref = theirs.fit(x, y, batch_size=6, epochs=2, shuffle=False, verbose=0).history["loss"]
    got = ours.fit(x, y, batch_size=6, epochs=2, shuffle=False, verbose=0).history["loss"]
    np.testing.assert_allclose(got, ref, rtol=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        _close(a, np.asarray(b), "weights after masked training")


def test_masks_survive_saving(tmp_path):
    x = _ids(vocab=12)
    model = _seq_tagger(ks)
    path = tmp_path / "tagger.keras"
    model.save(path)
    loaded = ks.models.load_model(path)
    _close(loaded(x)._keras_mask, x != 0, "mask after load")


def test_masks_under_torch_compile():
    x = torch.as_tensor(_ids())
    inputs = ks.Input((None,), dtype="int32")
    h = L.Embedding(20, 4, mask_zero=True)(inputs)
    model = ks.Model(inputs, L.GlobalAveragePooling1D()(L.Dense(3)(h)))
    eager = model(x)
    compiled = torch.compile(model)(x)
    _close(compiled, eager, "compiled masked model")


def test_bad_mask_shape_is_a_clear_error():
    with pytest.raises(ValueError, match="mask.*shape"):
        L.GlobalAveragePooling1D(name="gap")(np.ones((2, 4, 3), "float32"), mask=np.ones((2, 3), bool))


def test_a_nested_model_passes_out_the_masks_its_graph_makes():
    x = _ids(vocab=12)
    inner = _seq_tagger(ks)
    inputs = ks.Input((None,), dtype="int32")
    y = inner(inputs)
    assert y._keras_mask.shape == (None, None)
    outer = ks.Model(inputs, L.GlobalAveragePooling1D()(y))
    ref = inner(x)
    valid = torch.as_tensor(x != 0).unsqueeze(-1).float()
    _close(outer(x), (ref * valid).sum(1) / valid.sum(1), "GAP1D over a nested model's masked output")


def test_a_masked_model_keras_saved_loads_and_predicts_the_same(keras, tmp_path):
    """Keras 3 writes a .keras of Masking -> LSTM(return_sequences) -> TimeDistributed(Dense)
    -> GlobalAveragePooling1D; kerasish loads it and gives Keras's predictions (masks included)."""
    seq = np.random.default_rng(8).normal(size=(4, 6, 3)).astype("float32")
    for i in range(4):
        seq[i, 6 - i:] = 0.0  # post-padding
    seq[3, 1] = 0.0  # and a hole inside a sequence
    inputs = keras.Input((6, 3))
    h = keras.layers.Masking()(inputs)
    h = keras.layers.LSTM(5, return_sequences=True)(h)
    h = keras.layers.TimeDistributed(keras.layers.Dense(2))(h)
    theirs = keras.Model(inputs, keras.layers.GlobalAveragePooling1D()(h))
    path = tmp_path / "masked.keras"
    theirs.save(path)
    ours = ks.models.load_model(path)
    _close(ours(seq), theirs(seq), "masked model loaded from Keras's file")


def test_keras_saved_embedding_bidirectional_model_loads_with_its_masks(keras, tmp_path):
    x = _ids(batch=4, steps=6, vocab=15, seed=9)
    inputs = keras.Input((None,), dtype="int32")
    h = keras.layers.Embedding(15, 4, mask_zero=True)(inputs)
    h = keras.layers.Bidirectional(keras.layers.GRU(3, return_sequences=True))(h)
    h = keras.layers.Bidirectional(keras.layers.LSTM(3))(h)
    theirs = keras.Model(inputs, keras.layers.Dense(2)(h))
    theirs.save(tmp_path / "m.keras")
    ours = ks.models.load_model(tmp_path / "m.keras")
    _close(ours(x), theirs(x), "Embedding(mask_zero) -> Bidirectional GRU / LSTM from Keras's file")
