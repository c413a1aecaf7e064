"""ReversibleEmbedding against Keras 3 (torch backend): the harness both ways
(ids -> vectors, vectors -> logits), tied and untied weights, soft cap,
reverse_dtype, masks, configs, `.keras` files both ways, bad input."""

import json

import numpy as np
import pytest
import torch

import kerasish
from kerasish import layers as L
from kerasish.testing import float32_tol

from conftest import assert_close_f32, to_numpy

RNG = np.random.default_rng(19)


def _ids(shape, high=10):
    return RNG.integers(0, high, size=shape).astype("int32")


def _vectors(shape):
    return RNG.standard_normal(shape).astype("float32")


def _random_weights(shapes):
    rng = np.random.default_rng(7)
    return [rng.standard_normal(s).astype("float32") * 0.5 for s in shapes]


@pytest.mark.parametrize("tie", [True, False])
def test_forward_harness_parity(layer_test, tie):
    layer_test(L.ReversibleEmbedding, dict(input_dim=10, output_dim=4, tie_weights=tie), input_data=_ids((3, 5)),
               expected_output_shape=(3, 5, 4), expected_num_trainable_weights=1 if tie else 2,
               expected_num_non_trainable_weights=0, weights=_random_weights, keras_parity=True,
               run_training_check=tie)  # untied, one direction leaves the other matrix without a gradient


@pytest.mark.parametrize("kw", [
    dict(tie_weights=True),
    dict(tie_weights=False),
    dict(tie_weights=True, logit_soft_cap=0.7),
    dict(tie_weights=False, logit_soft_cap=2),
], ids=["tied", "untied", "tied-softcap", "untied-softcap"])
@pytest.mark.parametrize("shape", [(3, 4), (3, 5, 4), (2, 3, 2, 4)], ids=["rank2", "rank3", "rank4"])
def test_reverse_harness_parity(layer_test, kw, shape):
    layer_test(L.ReversibleEmbedding, dict(input_dim=10, output_dim=4, **kw), input_data=_vectors(shape),
               call_kwargs=dict(reverse=True), expected_output_shape=shape[:-1] + (10,),
               expected_num_trainable_weights=1 if kw["tie_weights"] else 2, weights=_random_weights,
               keras_parity=True, run_training_check=kw["tie_weights"],
               # the harness asks compute_output_shape(shape) without the call's `reverse`: checked below
               run_symbolic_check=False)


@pytest.mark.parametrize("shape", [(4,), (5, 4), (None, 4), (3, 2, 4)])
def test_reverse_symbolic_call_and_output_shape(keras, shape):
    ours, theirs = L.ReversibleEmbedding(10, 4), keras.layers.ReversibleEmbedding(10, 4)
    got = ours(kerasish.Input(shape), reverse=True)
    assert tuple(got.shape) == tuple(theirs(keras.Input(shape), reverse=True).shape) == (None,) + shape[:-1] + (10,)
    for full in ((2,) + shape, (None,) + shape):
        assert tuple(ours.compute_output_shape(full, reverse=True)) == tuple(theirs.compute_output_shape(full,
                                                                                                         reverse=True))
    assert tuple(ours.compute_output_shape((2, 7))) == tuple(theirs.compute_output_shape((2, 7))) == (2, 7, 4)


def test_round_trip_values_and_weights_match_keras(keras):
    """Forward then reverse on the same layer, Keras's weights set on ours: same values, same weight layout."""
    kw = dict(input_dim=12, output_dim=6, tie_weights=False, logit_soft_cap=3.0)
    ours, theirs = L.ReversibleEmbedding(**kw), keras.layers.ReversibleEmbedding(**kw)
    ids = _ids((4, 7), 12)
    theirs(ids)
    ours(ids)
    assert [w.path for w in ours.weights] == [w.path.replace(theirs.name, ours.name) for w in theirs.weights]
    assert [tuple(w.shape) for w in ours.weights] == [(12, 6), (6, 12)]
    ours.set_weights([keras.ops.convert_to_numpy(w) for w in theirs.weights])
    want = keras.ops.convert_to_numpy(theirs(theirs(ids), reverse=True))
    got = to_numpy(ours(ours(ids), True))  # `reverse` positional, as Keras's call allows
    assert_close_f32(got, want, terms=6, depth=2)
    assert np.abs(got).max() < 3.0  # the soft cap bounds the logits


def test_tied_reverse_is_the_transposed_embeddings():
    layer = L.ReversibleEmbedding(7, 3)
    h = _vectors((2, 3))
    got = to_numpy(layer(h, reverse=True))
    want = h @ layer.get_weights()[0].T
    np.testing.assert_allclose(got, want, rtol=float32_tol(3), atol=float32_tol(3))


def test_reverse_dtype(keras):
    kw = dict(input_dim=8, output_dim=4, reverse_dtype="float16")
    ours, theirs = L.ReversibleEmbedding(**kw), keras.layers.ReversibleEmbedding(**kw)
    h = _vectors((2, 3, 4))
    theirs.build()
    ours.build()
    ours.set_weights([keras.ops.convert_to_numpy(w) for w in theirs.weights])
    got, want = ours(h, reverse=True), theirs(h, reverse=True)
    assert got.dtype == torch.float16 and want.dtype == torch.float16
    np.testing.assert_allclose(to_numpy(got).astype("float32"), keras.ops.convert_to_numpy(want).astype("float32"),
                               rtol=2e-3, atol=2e-3)


def test_masks_follow_keras(keras):
    ids = np.array([[3, 1, 0, 0], [2, 0, 0, 0]], "int32")
    layer = L.ReversibleEmbedding(5, 3, mask_zero=True)
    h = layer(ids)
    assert h._keras_mask.tolist() == (ids != 0).tolist()
    assert getattr(layer(h, reverse=True), "_keras_mask", None) is None
    # In a model: the forward output's mask reaches the pooling (as at run time in Keras);
    # the reverse output has none.
    for lib in (kerasish, keras):
        inp = lib.Input((4,), dtype="int32")
        emb = lib.layers.ReversibleEmbedding(5, 3, mask_zero=True, name="emb")
        hidden = emb(inp)
        pooled = lib.layers.GlobalAveragePooling1D()(hidden)
        logits = emb(hidden, reverse=True)
        model = lib.Model(inp, [pooled, logits])
        if lib is kerasish:
            ours = model
            assert getattr(logits, "_keras_mask", None) is None
            assert hidden._keras_mask is not None
        else:
            theirs = model
    ours.set_weights(theirs.get_weights())
    for got, want in zip(ours.predict(ids, verbose=0), theirs.predict(ids, verbose=0)):
        assert_close_f32(got, want, terms=4, depth=2)


def _lm(lib):
    inp = lib.Input((5,), dtype="int32")
    emb = lib.layers.ReversibleEmbedding(11, 4, tie_weights=False, logit_soft_cap=4.0, name="emb")
    x = lib.layers.Dense(4, activation="tanh", name="mix")(emb(inp))
    return lib.Model(inp, emb(x, reverse=True))


def test_keras_files_both_ways(keras, tmp_path):
    ours, theirs = _lm(kerasish), _lm(keras)
    ours.set_weights(theirs.get_weights())
    ids = _ids((3, 5), 11)
    want = theirs.predict(ids, verbose=0)
    assert_close_f32(ours.predict(ids, verbose=0), want, terms=8, depth=4)
    theirs.save(tmp_path / "keras.keras")
    loaded = kerasish.models.load_model(tmp_path / "keras.keras")
    assert type(loaded.get_layer("emb")) is L.ReversibleEmbedding
    assert_close_f32(loaded.predict(ids, verbose=0), want, terms=8, depth=4)
    ours.save(tmp_path / "ours.keras")
    in_keras = keras.saving.load_model(tmp_path / "ours.keras")
    assert_close_f32(in_keras.predict(ids, verbose=0), want, terms=8, depth=4)


def test_training_updates_both_matrices():
    model = _lm(kerasish)
    model.compile(optimizer="adam", loss=kerasish.losses.SparseCategoricalCrossentropy(from_logits=True))
    before = [w.copy() for w in model.get_weights()]
    ids = _ids((8, 5), 11)
    model.fit(ids, ids, epochs=1, verbose=0)
    after = model.get_weights()
    assert all(not np.allclose(b, a) for b, a in zip(before, after))


def test_config_matches_keras(keras):
    kw = dict(input_dim=9, output_dim=2, tie_weights=False, mask_zero=True, reverse_dtype="float32",
              logit_soft_cap=30)
    cfg, keras_cfg = L.ReversibleEmbedding(**kw).get_config(), keras.layers.ReversibleEmbedding(**kw).get_config()
    for key in ("tie_weights", "reverse_dtype", "logit_soft_cap", "input_dim", "output_dim", "mask_zero"):
        assert cfg[key] == keras_cfg[key], key
    assert set(cfg) == set(keras_cfg)
    clone = L.ReversibleEmbedding.from_config(json.loads(json.dumps(keras_cfg)))
    assert (clone.tie_weights, clone.reverse_dtype, clone.logit_soft_cap) == (False, "float32", 30)


def test_initial_weights_argument():
    emb = np.arange(12, dtype="float32").reshape(4, 3)
    assert np.array_equal(L.ReversibleEmbedding(4, 3, weights=emb).get_weights()[0], emb)
    both = [emb, np.ones((3, 4), "float32")]
    layer = L.ReversibleEmbedding(4, 3, tie_weights=False, weights=both)
    assert all(np.array_equal(a, b) for a, b in zip(layer.get_weights(), both))


@pytest.mark.parametrize("bad,msg", [
    (lambda: L.ReversibleEmbedding(5, 3, logit_soft_cap=0), "logit_soft_cap"),
    (lambda: L.ReversibleEmbedding(5, 3, logit_soft_cap="big"), "logit_soft_cap"),
    (lambda: L.ReversibleEmbedding(5, 3, reverse_dtype="int32"), "reverse_dtype"),
    (lambda: L.ReversibleEmbedding(5, 3, reverse_dtype="nonsense"), "reverse_dtype"),
    (lambda: L.ReversibleEmbedding(0, 3), "input_dim"),
    (lambda: L.ReversibleEmbedding(5, 3)(np.zeros((2, 4), "float32"), reverse=True), "output_dim=3"),
    (lambda: L.ReversibleEmbedding(5, 3)(kerasish.Input((6, 4)), reverse=True), "output_dim=3"),
    (lambda: L.ReversibleEmbedding(5, 3)(np.array([[1, 5]])), "outside"),
])
def test_bad_input(bad, msg):
    with pytest.raises(ValueError, match=msg):
        bad()
