"""Attention layers and EinsumDense against Keras 3 (torch backend): the layer harness
for EinsumDense / Attention / AdditiveAttention, direct checks for MultiHeadAttention
(its call takes query and value as separate arguments), masks, `.keras` files both ways."""

import numpy as np
import pytest
import torch

import kerasish
from kerasish import layers as L
from kerasish.layers.attention import dot_product

from conftest import assert_close_f32, assert_config_like_keras, to_numpy

RNG = np.random.default_rng(19)


def _x(*shape):
    return RNG.standard_normal(shape).astype("float32")


def _random_weights(shapes):
    rng = np.random.default_rng(7)
    return [rng.standard_normal(s).astype("float32") * 0.5 for s in shapes]


# --- EinsumDense -----------------------------------------------------------

EINSUM_CASES = [
    ("ab,bc->ac", 4, "c", (2, 3)),
    ("abc,cd->abd", (3, 5), "d", (2, 3, 4)),
    ("...b,bc->...c", 5, None, (2, 3, 4)),
    ("abc,cde->abde", (3, 2, 3), "de", (2, 3, 4)),
    ("ab...,bc->ac...", 5, "c", (2, 3, 4)),
    ("abcd,cde->abe", (3, 6), "be", (2, 3, 4, 5)),
]


@pytest.mark.parametrize("eq,out,bias,shape", EINSUM_CASES, ids=[c[0] for c in EINSUM_CASES])
def test_einsum_dense_parity(layer_test, eq, out, bias, shape):
    layer_test(L.EinsumDense, dict(equation=eq, output_shape=out, bias_axes=bias, activation="tanh"),
               input_data=_x(*shape), keras_parity=True, weights=_random_weights,
               expected_num_trainable_weights=1 if bias is None else 2, expected_num_non_trainable_weights=0)


def test_einsum_dense_partial_output_shape_matches_keras(keras):
    # A None in output_shape stays None in compute_output_shape, as in Keras.
    ours = L.EinsumDense("abc,cd->abd", output_shape=(None, 5), bias_axes="d")
    theirs = keras.layers.EinsumDense("abc,cd->abd", output_shape=(None, 5), bias_axes="d")
    assert ours.compute_output_shape((2, 3, 4)) == tuple(theirs.compute_output_shape((2, 3, 4))) == (2, None, 5)
    x = _x(2, 3, 4)
    assert tuple(ours(x).shape) == (2, 3, 5)


def test_einsum_dense_kernel_initializer_uses_einsum_fans():
    # glorot over the kernel's input / output axes (8 and 2*4), not the conv rule.
    layer = L.EinsumDense("abc,cde->abde", output_shape=(None, 2, 4), kernel_initializer="glorot_uniform")
    layer.build((None, 3, 8))
    limit = np.sqrt(6.0 / (8 + 8))
    w = layer.kernel.numpy()
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.6 * limit


@pytest.mark.parametrize("kwargs,shape,msg", [
    (dict(equation="ab->b", output_shape=3), (2, 3), "invalid einsum equation"),
    (dict(equation="ab,bc->ac", output_shape=3, bias_axes="x"), (2, 3), "bias dimension 'x'"),
    (dict(equation="abc,cd->abd", output_shape=(4, 5)), (2, 3, 6), "shared dimension 'b'"),
    (dict(equation="ab,cd->ad", output_shape=3), (2, 3), "weight dimension 'c'"),
])
def test_einsum_dense_bad_input(kwargs, shape, msg):
    with pytest.raises(ValueError, match=msg):
        L.EinsumDense(**kwargs)(np.zeros(shape, "float32"))


# --- Attention / AdditiveAttention ---------------------------------------------

ATTN_CASES = [
    dict(),
    dict(use_scale=True),
    dict(score_mode="concat"),
    dict(use_scale=True, score_mode="concat"),
]


@pytest.mark.parametrize("kw", ATTN_CASES, ids=[str(k) for k in ATTN_CASES])
@pytest.mark.parametrize("with_key", [False, True])
def test_attention_parity(layer_test, kw, with_key):
    data = [_x(2, 3, 4), _x(2, 5, 4)] + ([_x(2, 5, 4)] if with_key else [])
    weights = (lambda shapes: [np.full(s, 0.7, "float32") for s in shapes]) if kw else None
    layer_test(L.Attention, kw, input_data=data, keras_parity=True, weights=weights, supports_masking=True)


@pytest.mark.parametrize("call", [dict(use_causal_mask=True), dict(return_attention_scores=True),
                                  dict(use_causal_mask=True, return_attention_scores=True)])
@pytest.mark.parametrize("cls", ["Attention", "AdditiveAttention"])
def test_attention_call_options_parity(layer_test, call, cls):
    layer_test(getattr(L, cls), {}, input_data=[_x(2, 4, 3), _x(2, 4, 3)], call_kwargs=call, keras_parity=True,
               weights=_random_weights if cls == "AdditiveAttention" else None)


@pytest.mark.parametrize("kw", [dict(), dict(use_scale=False)])
def test_additive_attention_parity(layer_test, kw):
    layer_test(L.AdditiveAttention, kw, input_data=[_x(2, 3, 4), _x(2, 5, 4), _x(2, 5, 4)], keras_parity=True,
               weights=_random_weights, expected_num_trainable_weights=1 if kw.get("use_scale", True) else 0)


@pytest.mark.parametrize("cls", ["Attention", "AdditiveAttention"])
def test_attention_masks_parity(keras, cls):
    q, v = _x(3, 4, 5), _x(3, 6, 5)
    q_mask = np.array([[1, 1, 0, 0], [1, 1, 1, 1], [1, 0, 0, 0]], bool)
    v_mask = np.array([[1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1], [1, 0, 0, 0, 0, 0]], bool)
    ours, theirs = getattr(L, cls)(), getattr(keras.layers, cls)()
    theirs([q, v])
    ours([q, v])
    ours.set_weights([keras.ops.convert_to_numpy(w) for w in theirs.weights])
    for call in (dict(), dict(use_causal_mask=True)):
        got = ours([q, v], mask=[q_mask, v_mask], **call)
        want = theirs([q, v], mask=[q_mask, v_mask], **call)
        assert_close_f32(to_numpy(got), keras.ops.convert_to_numpy(want), terms=30)
    unmasked = to_numpy(ours([q, v]))
    assert not np.allclose(to_numpy(ours([q, v], mask=[None, v_mask])), unmasked)


def test_attention_masks_from_embedding_in_model(keras):
    def build(lib):
        a, b = lib.Input((5,), dtype="int32"), lib.Input((6,), dtype="int32")
        qe = lib.layers.Embedding(12, 4, mask_zero=True)(a)
        ve = lib.layers.Embedding(12, 4, mask_zero=True)(b)
        y = lib.layers.Attention(use_scale=True)([qe, ve])
        return lib.Model([a, b], lib.layers.GlobalAveragePooling1D()(y))

    ours, theirs = build(kerasish), build(keras)
    ours.set_weights(theirs.get_weights())
    x = [RNG.integers(1, 12, (3, 5)), RNG.integers(1, 12, (3, 6))]
    x[0][:, 3:] = 0
    x[1][0, 2:] = 0
    assert_close_f32(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), terms=30)


@pytest.mark.parametrize("bad,msg", [
    (lambda: L.Attention(score_mode="sum"), "score_mode"),
    (lambda: L.Attention()(np.zeros((2, 3, 4), "float32")), "list of inputs"),
    (lambda: L.Attention()([np.zeros((2, 3, 4), "float32")] * 4), "length 2 or 3"),
    (lambda: L.Attention()([np.zeros((2, 3, 4), "float32"), np.zeros((2, 5, 6), "float32")]), "same last axis"),
])
def test_attention_bad_input(bad, msg):
    with pytest.raises(ValueError, match=msg):
        bad()


# --- MultiHeadAttention --------------------------------------------------------

def _mha_pair(keras, kw, args, call):
    ours, theirs = L.MultiHeadAttention(**kw), keras.layers.MultiHeadAttention(**kw)
    theirs(*args, **call)
    ours(*args, **call)
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    assert [w.path.split("/", 1)[1] for w in theirs.weights] == [
        f"{sub}/{w.name}" for sub, lay in (("query", ours.query_dense), ("key", ours.key_dense),
                                           ("value", ours.value_dense), ("attention_output", ours.output_dense))
        for w in lay.weights] if not kw.get("use_gate") else True
    values = [w * 0.5 for w in _random_weights([tuple(w.shape) for w in theirs.weights])]
    theirs.set_weights(values)
    ours.set_weights(values)
    return ours, theirs


MHA_CASES = [
    (dict(num_heads=2, key_dim=4), [(3, 5, 8), (3, 7, 6)], {}),
    (dict(num_heads=2, key_dim=4, value_dim=3, output_shape=5, use_bias=False), [(3, 5, 8), (3, 7, 6), (3, 7, 4)], {}),
    (dict(num_heads=3, key_dim=2), [(3, 5, 8), (3, 7, 6)], dict(return_attention_scores=True)),
    (dict(num_heads=2, key_dim=4), [(3, 5, 8), (3, 5, 6)], dict(use_causal_mask=True)),
    (dict(num_heads=2, key_dim=4), [(3, 5, 8), (3, 6, 6)], dict(use_causal_mask=True, return_attention_scores=True)),
    (dict(num_heads=2, key_dim=4, attention_axes=(1, 2)), [(2, 3, 4, 8), (2, 3, 4, 8)], {}),
    (dict(num_heads=2, key_dim=4, attention_axes=2), [(2, 3, 4, 8), (2, 3, 5, 8)], dict(return_attention_scores=True)),
    (dict(num_heads=2, key_dim=4), [(2, 3, 4, 8), (2, 3, 4, 8)], {}),
    (dict(num_heads=2, key_dim=4, use_gate=True, sliding_window=2), [(3, 5, 8), (3, 5, 6)], {}),
    (dict(num_heads=2, key_dim=4, dropout=0.3), [(3, 5, 8), (3, 5, 6)], {}),
]


@pytest.mark.parametrize("kw,shapes,call", MHA_CASES, ids=[f"{i}" for i in range(len(MHA_CASES))])
def test_mha_parity(keras, kw, shapes, call):
    args = [_x(*s) for s in shapes]
    ours, theirs = _mha_pair(keras, kw, args, call)
    got, want = ours(*args, **call), theirs(*args, **call)
    got = got if isinstance(got, tuple) else (got,)
    want = want if isinstance(want, tuple) else (want,)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert_close_f32(to_numpy(g), keras.ops.convert_to_numpy(w), terms=64, depth=4)
    assert_config_like_keras({k: v for k, v in ours.get_config().items() if k not in ("name", "dtype")},
                             {k: v for k, v in theirs.get_config().items() if k not in ("name", "dtype")})
    assert ours.count_params() == theirs.count_params()
    clone = L.MultiHeadAttention.from_config(ours.get_config())
    clone(*args, **call)
    clone.set_weights(ours.get_weights())
    again = clone(*args, **call)
    again = again if isinstance(again, tuple) else (again,)
    for g, w in zip(again, got):
        assert_close_f32(to_numpy(g), to_numpy(w), terms=64, depth=4)


def test_mha_config_like_keras(keras):
    kw = dict(num_heads=2, key_dim=4, value_dim=3, dropout=0.1, output_shape=(5,), attention_axes=-2,
              kernel_regularizer="l2", sliding_window=3, seed=4)
    ours, theirs = L.MultiHeadAttention(**kw), keras.layers.MultiHeadAttention(**kw)
    for built in (False, True):
        if built:
            args = [_x(2, 5, 8), _x(2, 5, 8)]
            ours(*args)
            theirs(*args)
        mine, their = ours.get_config(), theirs.get_config()
        assert set(mine) == set(their)
        for key in ("num_heads", "key_dim", "value_dim", "dropout", "use_bias", "use_gate", "output_shape",
                    "attention_axes", "sliding_window", "seed"):
            assert mine[key] == their[key], key
        assert mine["kernel_regularizer"]["class_name"] == their["kernel_regularizer"]["class_name"]


def test_mha_sdpa_and_explicit_paths_agree():
    # The fused path (no scores) and the explicit softmax path (scores asked for) give the same output.
    mha = L.MultiHeadAttention(num_heads=4, key_dim=8)
    q, v = _x(2, 9, 16), _x(2, 11, 16)
    mask = RNG.random((2, 9, 11)) > 0.4
    mask[:, :, 0] = True
    for call in (dict(), dict(attention_mask=mask)):
        fused = to_numpy(mha(q, v, **call))
        explicit, scores = mha(q, v, return_attention_scores=True, **call)
        assert_close_f32(fused, to_numpy(explicit), terms=64, depth=4)
        assert tuple(scores.shape) == (2, 4, 9, 11)
    causal_fused = to_numpy(mha(q, q, use_causal_mask=True))
    causal_explicit = to_numpy(mha(q, q, use_causal_mask=True, return_attention_scores=True)[0])
    assert_close_f32(causal_fused, causal_explicit, terms=64, depth=4)


def test_mha_uses_sdpa_when_it_can(monkeypatch):
    calls = []
    real = dot_product.F.scaled_dot_product_attention

    def spy(*a, **k):
        calls.append(k.get("dropout_p"))
        return real(*a, **k)

    monkeypatch.setattr(dot_product.F, "scaled_dot_product_attention", spy)
    mha = L.MultiHeadAttention(num_heads=2, key_dim=4, dropout=0.25)
    q = _x(2, 5, 8)
    mha(q, q)
    mha(q, q, training=True)
    mha(q, q, return_attention_scores=True)
    assert calls == [0.0, 0.25]


def test_mha_dropout_in_training():
    mha = L.MultiHeadAttention(num_heads=2, key_dim=4, dropout=0.5)
    q = _x(2, 6, 8)
    inference = to_numpy(mha(q, q))
    assert np.array_equal(inference, to_numpy(mha(q, q, training=False)))
    assert not np.allclose(to_numpy(mha(q, q, training=True)), inference)


def _masked_model(lib, **call):
    t, s = lib.Input((6,), dtype="int32"), lib.Input((5,), dtype="int32")
    a = lib.layers.Embedding(20, 8, mask_zero=True)(t)
    b = lib.layers.Embedding(20, 8, mask_zero=True)(s)
    y = lib.layers.MultiHeadAttention(2, 4, name="cross")(a, b, **call)
    y = lib.layers.MultiHeadAttention(2, 4, name="self")(y, y, use_causal_mask=True)
    y = lib.layers.LayerNormalization()(y)
    return lib.Model([t, s], lib.layers.GlobalAveragePooling1D()(y))


def _tokens():
    x = [RNG.integers(1, 20, (4, 6)), RNG.integers(1, 20, (4, 5))]
    x[0][:, 4:] = 0
    x[1][1, 2:] = 0
    return x


def test_mha_masks_from_inputs_parity(keras):
    ours, theirs = _masked_model(kerasish), _masked_model(keras)
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    ours.set_weights(theirs.get_weights())
    x = _tokens()
    want = theirs.predict(x, verbose=0)
    assert_close_f32(ours.predict(x, verbose=0), want, terms=64, depth=6)
    # The masks matter: the same weights without them give other values.
    plain = kerasish.Model(ours.inputs, ours.outputs)
    x_full = [np.where(x[0] == 0, 1, x[0]), x[1]]
    assert not np.allclose(plain.predict(x_full, verbose=0), want)
    # The query's mask rides on the output.
    out = ours.get_layer("cross").output
    assert kerasish.engine.masking.get_mask(out) is not None


def test_mha_explicit_masks_parity(keras):
    q, v = _x(3, 5, 8), _x(3, 7, 8)
    q_mask = RNG.random((3, 5)) > 0.3
    v_mask = RNG.random((3, 7)) > 0.3
    v_mask[:, 0] = True
    attn = RNG.random((3, 5, 7)) > 0.2
    attn[:, :, 0] = True
    ours, theirs = _mha_pair(keras, dict(num_heads=2, key_dim=4), [q, v], {})
    for call in (dict(attention_mask=attn), dict(value_mask=v_mask), dict(value_mask=v_mask, attention_mask=attn),
                 dict(value_mask=v_mask, use_causal_mask=True), dict(attention_mask=attn, return_attention_scores=True)):
        got, want = ours(q, v, **call), theirs(q, v, **call)
        for g, w in zip(got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)):
            assert_close_f32(to_numpy(g), keras.ops.convert_to_numpy(w), terms=64, depth=4)
    # A query mask riding on the tensor (Keras reads it from there).
    qt = kerasish.engine.masking.set_mask(torch.as_tensor(q), torch.as_tensor(q_mask))
    kq = keras.ops.convert_to_tensor(q)
    keras.src.backend.set_keras_mask(kq, keras.ops.convert_to_tensor(q_mask))
    assert_close_f32(to_numpy(ours(qt, v)), keras.ops.convert_to_numpy(theirs(kq, v)), terms=64, depth=4)


def test_mha_keras_files_both_ways(keras, tmp_path):
    ours, theirs = _masked_model(kerasish), _masked_model(keras)
    ours.set_weights([w * 0.9 for w in theirs.get_weights()])
    x = _tokens()
    theirs.save(tmp_path / "keras.keras")
    ours.save(tmp_path / "ours.keras")
    loaded = kerasish.models.load_model(tmp_path / "keras.keras")
    assert_close_f32(loaded.predict(x, verbose=0), theirs.predict(x, verbose=0), terms=64, depth=6)
    back = keras.models.load_model(tmp_path / "ours.keras")
    assert_close_f32(keras.ops.convert_to_numpy(back.predict(x, verbose=0)), ours.predict(x, verbose=0), terms=64, depth=6)


def test_mha_symbolic_shapes_and_training():
    q, v = kerasish.Input((5, 8)), kerasish.Input((7, 6))
    mha = L.MultiHeadAttention(2, 4, output_shape=(3,))
    out, scores = mha(q, v, return_attention_scores=True)
    assert out.shape == (None, 5, 3) and scores.shape == (None, 2, 5, 7)
    model = kerasish.Model([q, v], out)
    model.compile("adam", "mse")
    xs = [_x(8, 5, 8), _x(8, 7, 6)]
    before = [w.numpy().copy() for w in model.weights]
    model.fit(xs, np.zeros((8, 5, 3), "float32"), epochs=1, verbose=0)
    assert all(not np.array_equal(b, w.numpy()) for b, w in zip(before, model.weights))
    # query / key / value kernels (dim, 2, 4) + biases (2, 4); output kernel (2, 4, 3) + bias (3,)
    assert mha.count_params() == (8 * 8 + 8) + 2 * (6 * 8 + 8) + (8 * 3 + 3)


@pytest.mark.parametrize("bad,msg", [
    (lambda: L.MultiHeadAttention(0, 4), "num_heads"),
    (lambda: L.MultiHeadAttention(2, 4, attention_axes="x"), "attention_axes"),
    (lambda: L.MultiHeadAttention(2, 4)(np.zeros((2, 3, 4), "float32"), np.zeros((2, 5, 4), "float32"),
                                       np.zeros((2, 6, 4), "float32")), "value_shape"),
    (lambda: L.MultiHeadAttention(2, 4, attention_axes=3)(np.zeros((2, 3, 4), "float32"),
                                                          np.zeros((2, 3, 4), "float32")), "attention_axes"),
    (lambda: L.MultiHeadAttention(2, 4)(np.zeros((2, 3, 4), "float32"), np.zeros((2, 5, 4), "float32"),
                                       attention_mask=np.ones((2, 4, 5), bool)), "does not broadcast"),
    (lambda: L.MultiHeadAttention(2, 4)(np.zeros((2, 3, 4), "float32"), np.zeros((2, 5, 3, 4), "float32")), "same rank"),
])
def test_mha_bad_input(bad, msg):
    with pytest.raises(ValueError, match=msg):
        bad()


# --- ops.dot_product_attention ---------------------------------------------------

OP_CASES = [
    dict(),
    dict(scale=0.3),
    dict(is_causal=True),
    dict(mask="mask"),
    dict(mask="mask", is_causal=True),
    dict(bias="bias"),
]


@pytest.mark.parametrize("kv_heads", [4, 2, 1])
@pytest.mark.parametrize("kw", OP_CASES, ids=[str(k) for k in OP_CASES])
def test_dot_product_attention_op_parity(keras, kw, kv_heads):
    q, k, v = _x(2, 5, 4, 8), _x(2, 6, kv_heads, 8), _x(2, 6, kv_heads, 8)
    mask = RNG.random((2, 1, 5, 6)) > 0.3
    mask[0, 0, 1] = False  # a fully masked row: both average the values
    extra = {}
    if kw.get("mask"):
        extra["mask"] = mask
    if kw.get("bias"):
        extra["bias"] = _x(1, 4, 5, 6)
    args = {**{n: a for n, a in kw.items() if n not in ("mask", "bias")}, **extra}
    got = kerasish.ops.dot_product_attention(q, k, v, **args)
    want = keras.ops.dot_product_attention(q, k, v, **args)
    assert got.dtype == torch.float32 and tuple(got.shape) == (2, 5, 4, 8)
    assert_close_f32(to_numpy(got), keras.ops.convert_to_numpy(want), terms=16, depth=3)


@pytest.mark.parametrize("args,msg", [
    (dict(query=np.ones((2, 5, 8)), key=np.ones((2, 5, 8)), value=np.ones((2, 5, 8))), "4D inputs"),
    (dict(query=np.ones((2, 5, 4, 8)), key=np.ones((2, 6, 4, 8)), value=np.ones((2, 7, 4, 8))), "incompatible shapes"),
    (dict(query=np.ones((2, 5, 4, 8)), key=np.ones((2, 6, 3, 8)), value=np.ones((2, 6, 3, 8))), "incompatible shapes"),
    (dict(query=np.ones((2, 5, 4, 8)), key=np.ones((2, 6, 4, 8)), value=np.ones((2, 6, 4, 8)),
          mask=np.ones((2, 5, 5), bool)), "`mask` of shape"),
    (dict(query=np.ones((2, 5, 4, 8)), key=np.ones((2, 6, 4, 8)), value=np.ones((2, 6, 4, 8)),
          mask=np.ones((5, 6), bool), bias=np.zeros((5, 6))), "only one of"),
])
def test_dot_product_attention_op_bad_input(args, msg):
    with pytest.raises(ValueError, match=msg):
        kerasish.ops.dot_product_attention(**args)


# --- GroupedQueryAttention (keras.layers.GroupQueryAttention) ----------------------

GQA_KW = dict(head_dim=4, num_query_heads=4, num_key_value_heads=2)
GQA_CASES = [
    (GQA_KW, [(3, 5, 8), (3, 7, 8)], {}),
    (GQA_KW, [(3, 5, 8), (3, 7, 8), (3, 7, 6)], dict(return_attention_scores=True)),
    (GQA_KW, [(3, 5, 8), (3, 5, 8)], dict(use_causal_mask=True)),
    (GQA_KW, [(3, 5, 8), (3, 5, 8)], dict(use_causal_mask=True, return_attention_scores=True)),
    (dict(GQA_KW, num_key_value_heads=1, use_gate=True, sliding_window=2, use_bias=False), [(3, 5, 8), (3, 5, 8)], {}),
    (dict(GQA_KW, num_key_value_heads=4, dropout=0.2), [(3, 5, 8), (3, 6, 8)], {}),
]


@pytest.mark.parametrize("kw,shapes,call", GQA_CASES, ids=[f"{i}" for i in range(len(GQA_CASES))])
def test_gqa_parity(keras, kw, shapes, call):
    args = [_x(*s) for s in shapes]
    ours, theirs = L.GroupQueryAttention(**kw), keras.layers.GroupQueryAttention(**kw)
    theirs(*args, **call)
    ours(*args, **call)
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    values = _random_weights([tuple(w.shape) for w in theirs.weights])
    theirs.set_weights(values)
    ours.set_weights(values)
    got, want = ours(*args, **call), theirs(*args, **call)
    for g, w in zip(got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)):
        assert_close_f32(to_numpy(g), keras.ops.convert_to_numpy(w), terms=64, depth=4)
    assert_config_like_keras({k: v for k, v in ours.get_config().items() if k not in ("name", "dtype")},
                             {k: v for k, v in theirs.get_config().items() if k not in ("name", "dtype")})
    clone = L.GroupQueryAttention.from_config(ours.get_config())
    clone(*args, **call)
    clone.set_weights(ours.get_weights())
    again = clone(*args, **call)
    assert_close_f32(to_numpy(again[0] if isinstance(again, tuple) else again),
                     to_numpy(got[0] if isinstance(got, tuple) else got), terms=64, depth=4)


def _gqa_model(lib):
    t = lib.Input((6,), dtype="int32")
    a = lib.layers.Embedding(20, 8, mask_zero=True)(t)
    y = lib.layers.GroupQueryAttention(4, 4, 2, name="gqa")(a, a, use_causal_mask=True)
    return lib.Model(t, lib.layers.GlobalAveragePooling1D()(y))


def test_gqa_masks_and_keras_file(keras, tmp_path):
    ours, theirs = _gqa_model(kerasish), _gqa_model(keras)
    ours.set_weights(theirs.get_weights())
    x = RNG.integers(1, 20, (4, 6))
    x[:, 4:] = 0
    x[1, 1:] = 0
    want = theirs.predict(x, verbose=0)
    assert_close_f32(ours.predict(x, verbose=0), want, terms=64, depth=6)
    theirs.save(tmp_path / "keras.keras")
    loaded = kerasish.models.load_model(tmp_path / "keras.keras")
    assert type(loaded.get_layer("gqa")) is L.GroupedQueryAttention
    assert_close_f32(loaded.predict(x, verbose=0), want, terms=64, depth=6)
    ours.save(tmp_path / "ours.keras")
    assert_close_f32(kerasish.models.load_model(tmp_path / "ours.keras").predict(x, verbose=0), want, terms=64, depth=6)
    # Keras reads kerasish's file: the config says `GroupQueryAttention`, the weights sit under
    # `grouped_query_attention`, as in Keras's own files.
    assert kerasish.saving.serialize_keras_object(ours.get_layer("gqa"))["class_name"] == "GroupQueryAttention"
    in_keras = keras.saving.load_model(tmp_path / "ours.keras")
    assert type(in_keras.get_layer("gqa")).__name__ == "GroupedQueryAttention"
    assert_close_f32(in_keras.predict(x, verbose=0), want, terms=64, depth=6)


def test_gqa_subclass_keeps_its_own_class_name():
    class MyGQA(L.GroupedQueryAttention):
        pass

    assert kerasish.saving.serialize_keras_object(MyGQA(4, 4, 2))["class_name"] == "MyGQA"


@pytest.mark.parametrize("bad,msg", [
    (lambda: L.GroupQueryAttention(4, 4, 3), "divisible"),
    (lambda: L.GroupQueryAttention(0, 4, 2), "head_dim"),
    (lambda: L.GroupQueryAttention(4, 4, 2)(np.zeros((2, 3, 8), "float32"), np.zeros((2, 3, 6), "float32")),
     "last dimension"),
    (lambda: L.GroupQueryAttention(4, 4, 2)(np.zeros((2, 3, 4, 8), "float32"), np.zeros((2, 3, 4, 8), "float32")),
     "batch, sequence, features"),
])
def test_gqa_bad_input(bad, msg):
    with pytest.raises(ValueError, match=msg):
        bad()
