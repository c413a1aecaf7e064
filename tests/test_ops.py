"""kerasish.ops and kerasish.random against keras.ops / keras.random (torch backend)."""

import numpy as np
import pytest
import torch

from kerasish import ops, random as krandom
from tests.conftest import assert_close_f32, to_numpy

R = np.random.default_rng(0)
A = R.normal(size=(3, 4)).astype("float32")
B = R.normal(size=(4, 5)).astype("float32")
C = R.normal(size=(3, 4)).astype("float32")
P = np.abs(R.normal(size=(2, 3, 4)).astype("float32")) + 0.1
I = np.array([[1, 2, 3], [4, 5, 6]], dtype="int32")
IMG = R.normal(size=(2, 7, 6, 3)).astype("float32")


def check(keras, name, *args, terms=None, ours=None, **kwargs):
    """``ops.name`` against ``keras.ops.name``: same type, shape, dtype and values.

    ``terms`` (see conftest.float32_tol) defaults to the largest argument's
    size, an upper bound on how many values one output accumulates.
    """
    if terms is None:
        terms = max([np.size(a) for a in args if isinstance(a, np.ndarray)] or [1])
    got = (ours or getattr(ops, name))(*args, **kwargs)
    exp = getattr(keras.ops, name)(*args, **kwargs)
    if isinstance(exp, (list, tuple)):
        assert len(got) == len(exp)
        pairs = list(zip(got, exp))
    else:
        pairs = [(got, exp)]
    for g, e in pairs:
        assert isinstance(g, torch.Tensor), type(g)
        e = keras.ops.convert_to_numpy(e)
        g = to_numpy(g)
        assert g.shape == e.shape, (name, g.shape, e.shape)
        assert g.dtype == e.dtype, (name, g.dtype, e.dtype)
        assert_close_f32(g, e, terms=terms, err_msg=name)


BINARY = ["add", "subtract", "multiply", "divide", "maximum", "minimum", "power"]


@pytest.mark.parametrize("name", BINARY)
def test_binary(keras, name):
    check(keras, name, A, C)
    check(keras, name, I, I)
    check(keras, name, A, 2.0)
    check(keras, name, I, 2)
    check(keras, name, A[:, :1], C)  # broadcasting
    if name != "power":
        check(keras, name, I, 1.5)


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "square", "abs", "relu", "sigmoid", "silu", "gelu", "softmax", "log_softmax"])
def test_unary(keras, name):
    check(keras, name, P)
    check(keras, name, A if name not in ("log", "sqrt") else P + 1)
    if name in ("exp", "sqrt", "square", "abs", "sigmoid"):
        check(keras, name, I)


def test_activation_variants(keras):
    check(keras, "gelu", A, approximate=False)
    check(keras, "softmax", P, axis=1)
    check(keras, "log_softmax", P, axis=0)
    check(keras, "softmax", P, axis=(1, 2))


def test_products(keras):
    check(keras, "matmul", A, B)
    check(keras, "matmul", P, np.ones((4, 2), "float32"))
    check(keras, "dot", A, B)
    check(keras, "dot", A[0], A[1])
    check(keras, "dot", P, np.ones((4, 2), "float32"))
    check(keras, "einsum", "ij,jk->ik", A, B)
    check(keras, "einsum", "bij->bji", P)
    with pytest.raises(ValueError, match=r"matmul.*\(3, 4\).*\(3, 4\)"):
        ops.matmul(A, C)
    with pytest.raises(ValueError, match="dot"):
        ops.dot(A, C)
    with pytest.raises(ValueError, match="einsum"):
        ops.einsum("ij,jk->ik", A, C)


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "std", "var", "argmax", "argmin"])
def test_reductions(keras, name):
    check(keras, name, P)
    check(keras, name, P, axis=1)
    check(keras, name, I, axis=0)
    check(keras, name, I)
    if name not in ("argmax", "argmin"):
        check(keras, name, P, axis=(0, 2), keepdims=True)
        # axis=None with keepdims: NumPy keeps rank (keras's torch backend drops it for sum/max/min)
        got = getattr(ops, name)(P, keepdims=True)
        assert got.shape == (1, 1, 1)
        np.testing.assert_allclose(to_numpy(got), getattr(np, name)(P, keepdims=True), rtol=1e-5)
    else:
        check(keras, name, P, axis=-1, keepdims=True)


def test_misc_math(keras):
    check(keras, "cumsum", P)
    check(keras, "cumsum", P, axis=1)
    check(keras, "cumsum", I, axis=1)
    check(keras, "clip", A, -0.5, 0.5)
    check(keras, "clip", I, 2, 4)
    check(keras, "where", A > 0, A, C)
    check(keras, "where", A > 0, A, 0.0)
    # keras's torch backend stacks the indices; NumPy/JAX (and kerasish) give a tuple
    got = ops.where(I > 2)
    assert isinstance(got, tuple) and len(got) == 2
    np.testing.assert_array_equal(np.stack([to_numpy(g) for g in got]), keras.ops.convert_to_numpy(keras.ops.where(I > 2)))
    check(keras, "norm", A)
    check(keras, "norm", P, axis=-1)
    check(keras, "norm", P, ord=1, axis=1, keepdims=True)
    check(keras, "norm", A, ord="fro", axis=(0, 1))
    check(keras, "norm", A, ord="nuc", axis=(0, 1))
    check(keras, "norm", P, ord=np.inf, axis=(1, 2))


def test_shapes(keras):
    check(keras, "reshape", P, (4, -1))
    check(keras, "transpose", P)
    check(keras, "transpose", P, (1, 0, 2))
    check(keras, "expand_dims", A, 1)
    check(keras, "expand_dims", A, (0, -1))
    check(keras, "squeeze", P[:, :1])
    check(keras, "squeeze", P[:1, :1], axis=1)
    check(keras, "concatenate", [A, C], axis=1)
    check(keras, "concatenate", [A, C])
    check(keras, "stack", [A, C], axis=-1)
    check(keras, "split", P, 2)
    check(keras, "split", P, [1, 3], axis=2)
    check(keras, "tile", A, (2, 1))
    check(keras, "tile", A, 3)
    check(keras, "repeat", A, 2)
    check(keras, "repeat", A, 2, axis=0)
    check(keras, "repeat", I, np.array([1, 2]), axis=0)
    assert ops.repeat(I, [1, 2], axis=0).shape == (3, 3)
    check(keras, "ravel", P)
    assert ops.flatten(P).shape == (24,)
    for mode in ("constant", "reflect"):
        check(keras, "pad", A, ((1, 2), (2, 1)), mode=mode)
    # keras's torch backend pads 'symmetric' like 'edge' and lacks 'edge'/'wrap': NumPy is the oracle
    for mode in ("symmetric", "edge", "wrap", "reflect"):
        for pw in (((1, 2), (2, 1)), ((0, 0), (6, 9))):
            np.testing.assert_array_equal(to_numpy(ops.pad(A, pw, mode=mode)), np.pad(A, pw, mode=mode), err_msg=mode)
    check(keras, "pad", I, ((1, 1), (2, 0)), constant_values=7)
    np.testing.assert_array_equal(to_numpy(ops.pad(I, 1, constant_values=7)), np.pad(I, 1, constant_values=7))
    assert ops.shape(P) == keras.ops.shape(P) == (2, 3, 4)
    with pytest.raises(ValueError, match=r"reshape.*\(3, 4\)"):
        ops.reshape(A, (5, 5))
    with pytest.raises(ValueError, match="pad.*mode"):
        ops.pad(A, 1, mode="wrap-around")
    with pytest.raises(ValueError, match="squeeze"):
        ops.squeeze(A, axis=0)
    with pytest.raises(ValueError, match="concatenate"):
        ops.concatenate([A, B], axis=0)


def test_creation_and_conversion(keras):
    for args, kw in [((5,), {}), ((2, 10, 3), {}), ((0.0, 1.0, 0.25), {}), ((4,), {"dtype": "float32"})]:
        check(keras, "arange", *args, **kw)
    check(keras, "zeros", (2, 3))
    check(keras, "ones", (2, 3), dtype="int32")
    check(keras, "eye", 3)
    check(keras, "eye", 3, 4, k=1)
    check(keras, "eye", 4, 3, k=-1, dtype="int32")
    check(keras, "one_hot", np.array([0, 2, 1]), 3)
    # out-of-range classes give all-zero rows (as Keras on JAX/TF; its torch backend raises)
    np.testing.assert_array_equal(to_numpy(ops.one_hot(np.array([1, -1, 3]), 3)), [[0, 1, 0], [0, 0, 0], [0, 0, 0]])
    check(keras, "one_hot", I - 1, 6, axis=0)
    check(keras, "cast", A, "int32")
    check(keras, "cast", I, "float32")
    for v in (3, 2.5, [1, 2], [1.0, 2.0], True, A, I):
        check(keras, "convert_to_tensor", v)
    check(keras, "convert_to_tensor", I, dtype="float32")
    t = torch.ones(2, 2)
    assert isinstance(ops.convert_to_numpy(t), np.ndarray)
    np.testing.assert_array_equal(ops.convert_to_numpy(t), np.ones((2, 2)))
    with pytest.raises(ValueError, match="dtype"):
        ops.zeros((2,), dtype="float99")


def test_variables_are_accepted():
    from kerasish.layers import Dense

    layer = Dense(3)
    layer(np.ones((1, 4), "float32"))
    kernel = layer.weights[0]
    out = ops.matmul(np.ones((1, 4), "float32"), kernel)
    np.testing.assert_allclose(to_numpy(out), to_numpy(kernel.value).sum(0, keepdims=True), rtol=1e-6)
    assert ops.shape(kernel) == (4, 3)


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("strides,dilation", [(1, 1), (2, 1), ((2, 1), 1), (1, 2)])
def test_conv(keras, padding, strides, dilation):
    kernel = R.normal(size=(3, 2, 3, 4)).astype("float32")
    check(keras, "conv", IMG, kernel, strides=strides, padding=padding, dilation_rate=dilation)
    dw = R.normal(size=(3, 3, 3, 2)).astype("float32")
    check(keras, "depthwise_conv", IMG, dw, strides=strides, padding=padding, dilation_rate=dilation)


def test_conv_1d_3d_and_channels_first(keras):
    x1 = R.normal(size=(2, 9, 3)).astype("float32")
    check(keras, "conv", x1, R.normal(size=(4, 3, 5)).astype("float32"), strides=2, padding="same")
    x3 = R.normal(size=(1, 4, 5, 6, 2)).astype("float32")
    check(keras, "conv", x3, R.normal(size=(2, 2, 3, 2, 3)).astype("float32"), padding="same")
    xcf = np.moveaxis(IMG, -1, 1).copy()
    check(keras, "conv", xcf, R.normal(size=(3, 3, 3, 2)).astype("float32"), padding="same", strides=2, data_format="channels_first")


def test_conv_errors():
    with pytest.raises(ValueError, match="conv.*padding.*'full'"):
        ops.conv(IMG, np.ones((3, 3, 3, 2), "float32"), padding="full")
    with pytest.raises(ValueError, match=r"conv.*\(3, 3, 5, 2\).*3"):
        ops.conv(IMG, np.ones((3, 3, 5, 2), "float32"))
    with pytest.raises(ValueError, match="conv.*strides"):
        ops.conv(IMG, np.ones((3, 3, 3, 2), "float32"), strides=0)
    with pytest.raises(ValueError, match="max_pool.*shape"):
        ops.max_pool(np.ones((2, 3), "float32"), 2)


@pytest.mark.parametrize("name", ["max_pool", "average_pool"])
@pytest.mark.parametrize("pool,strides,padding", [(2, None, "valid"), (3, 2, "valid"), (3, 1, "same"), (2, 2, "same"), (3, 2, "same")])
def test_pooling(keras, name, pool, strides, padding):
    x = IMG[:, :, :5]  # (2, 7, 5, 3): with (3, 2) 'same' the padding is even; with (2, 2) uneven
    if name == "average_pool" and padding == "same" and (pool, strides) == (2, 2):
        # Keras's torch backend pads uneven windows by edge replication; Keras
        # (TF/JAX) and kerasish average over the real pixels only.
        got = to_numpy(ops.average_pool(x, pool, strides, padding))
        xp = np.pad(x, ((0, 0), (0, 1), (0, 1), (0, 0)))
        cnt = np.pad(np.ones_like(x), ((0, 0), (0, 1), (0, 1), (0, 0)))
        exp = xp.reshape(2, 4, 2, 3, 2, 3).sum((2, 4)) / cnt.reshape(2, 4, 2, 3, 2, 3).sum((2, 4))
        np.testing.assert_allclose(got, exp, atol=1e-6)
        return
    check(keras, name, x, pool, strides=strides, padding=padding)
    check(keras, name, x[:, :, 0], pool, strides=strides, padding=padding)  # 1-D


def test_batch_norm_and_moments(keras):
    mean, var = P.mean((0, 1)), P.var((0, 1))
    off, sc = np.arange(4, dtype="float32"), np.linspace(0.5, 2, 4).astype("float32")
    check(keras, "batch_normalization", P, mean, var, axis=-1, offset=off, scale=sc)
    check(keras, "batch_normalization", P, mean[:3] * 0, var[:3] + 1, axis=1, epsilon=1e-5)
    check(keras, "moments", P, axes=(0, 1))
    check(keras, "moments", P, axes=[2], keepdims=True)
    with pytest.raises(ValueError, match="batch_normalization"):
        ops.batch_normalization(P, mean[:2], var[:2], axis=-1)


def test_losses(keras):
    logits = R.normal(size=(5, 4)).astype("float32")
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    labels = np.array([0, 3, 1, 2, 3])
    onehot = np.eye(4, dtype="float32")[labels]
    check(keras, "categorical_crossentropy", onehot, probs)
    check(keras, "categorical_crossentropy", onehot, logits, from_logits=True)
    check(keras, "categorical_crossentropy", onehot.T.copy(), logits.T.copy(), from_logits=True, axis=0)
    check(keras, "sparse_categorical_crossentropy", labels, probs)
    check(keras, "sparse_categorical_crossentropy", labels, logits, from_logits=True)
    t = (R.random((5, 4)) > 0.5).astype("float32")
    check(keras, "binary_crossentropy", t, probs)
    check(keras, "binary_crossentropy", t, logits, from_logits=True)
    with pytest.raises(ValueError, match=r"categorical_crossentropy.*\(5, 3\).*\(5, 4\)"):
        ops.categorical_crossentropy(onehot[:, :3], probs)


# -- random -----------------------------------------------------------------
def test_random_shapes_dtypes_and_moments():
    x = krandom.normal((200, 500), mean=2.0, stddev=3.0, seed=1)
    assert x.shape == (200, 500) and x.dtype == torch.float32
    assert abs(x.mean().item() - 2.0) < 0.05 and abs(x.std().item() - 3.0) < 0.05
    u = krandom.uniform((100000,), minval=-1.0, maxval=3.0, dtype="float64", seed=2)
    assert u.dtype == torch.float64 and u.min() >= -1 and u.max() < 3
    assert abs(u.mean().item() - 1.0) < 0.03 and abs(u.var().item() - 16 / 12) < 0.03
    t = krandom.truncated_normal((100000,), stddev=2.0, seed=3)
    assert t.abs().max() <= 4.0 and abs(t.std().item() - 2 * 0.8796) < 0.03
    r = krandom.randint((10000,), 3, 7, seed=4)
    assert r.dtype == torch.int32 and set(r.tolist()) == {3, 4, 5, 6}
    s = krandom.shuffle(np.arange(50), seed=5)
    assert sorted(s.tolist()) == list(range(50)) and s.tolist() != list(range(50))
    with pytest.raises(ValueError, match="normal.*dtype"):
        krandom.normal((2,), dtype="int32")
    with pytest.raises(ValueError, match="uniform.*seed"):
        krandom.uniform((2,), seed="abc")


def test_random_seeding_semantics(keras):
    # an int seed repeats; a SeedGenerator advances but repeats as a sequence
    for fn in (krandom.normal, krandom.uniform, krandom.truncated_normal):
        assert torch.equal(fn((4, 3), seed=7), fn((4, 3), seed=7))
        assert not torch.equal(fn((4, 3), seed=7), fn((4, 3), seed=8))
    g1, g2 = krandom.SeedGenerator(42), krandom.SeedGenerator(42)
    a1, b1 = krandom.normal((5,), seed=g1), krandom.normal((5,), seed=g1)
    a2, b2 = krandom.normal((5,), seed=g2), krandom.normal((5,), seed=g2)
    assert not torch.equal(a1, b1)
    assert torch.equal(a1, a2) and torch.equal(b1, b2)
    assert not torch.equal(a1, krandom.normal((5,), seed=krandom.SeedGenerator(43)))
    # keras has the same contract (its values differ: a different generator)
    kg = keras.random.SeedGenerator(42)
    ka, kb = keras.random.normal((5,), seed=kg), keras.random.normal((5,), seed=kg)
    assert not np.array_equal(keras.ops.convert_to_numpy(ka), keras.ops.convert_to_numpy(kb))
    # unseeded draws follow the global seed
    from kerasish.utils import set_random_seed

    set_random_seed(3)
    x = krandom.normal((4,))
    set_random_seed(3)
    assert torch.equal(x, krandom.normal((4,)))


def test_dropout():
    x = torch.ones(400, 500)
    y = krandom.dropout(x, 0.25, seed=1)
    kept = y != 0
    assert abs(kept.float().mean().item() - 0.75) < 0.01
    np.testing.assert_allclose(to_numpy(y[kept]), 1 / 0.75, rtol=1e-6)
    assert abs(y.mean().item() - 1.0) < 0.02
    assert torch.equal(y, krandom.dropout(x, 0.25, seed=1))
    z = krandom.dropout(np.ones((8, 6, 3), "float32"), 0.5, noise_shape=(None, 1, 3), seed=2)
    assert z.shape == (8, 6, 3)
    assert torch.equal(z, z[:, :1].expand(8, 6, 3))  # one mask shared along axis 1
    assert torch.equal(krandom.dropout(x, 0.0), x)
    with pytest.raises(ValueError, match="dropout.*rate"):
        krandom.dropout(x, 1.0)
    with pytest.raises(ValueError, match="dropout.*noise_shape"):
        krandom.dropout(x, 0.5, noise_shape=(3, 500))


@pytest.mark.parametrize("name", ["equal", "not_equal", "greater", "greater_equal", "less", "less_equal", "logical_and", "logical_or",
                                  "logical_xor", "mod", "floor_divide"])
def test_binary_elementwise_against_keras(keras, name):
    import kerasish.ops as O

    a = np.array([[0.0, 1.5, -2.0], [3.0, 0.0, 4.0]], "float32")
    b = np.array([1.0, 1.5, -3.0], "float32")
    got = O.__dict__[name](a, b)
    expected = keras.ops.convert_to_numpy(getattr(keras.ops, name)(a, b))
    np.testing.assert_allclose(got.numpy().astype("float32"), expected.astype("float32"), rtol=1e-6)


@pytest.mark.parametrize("name", ["floor", "ceil", "round", "sign", "negative", "sin", "cos", "tan", "tanh", "log1p", "expm1", "erf", "logical_not"])
def test_unary_elementwise_against_keras(keras, name):
    import kerasish.ops as O

    a = np.array([[0.2, 1.5, -2.7], [0.5, 0.0, 4.4]], "float32")
    got = O.__dict__[name](a)
    expected = keras.ops.convert_to_numpy(getattr(keras.ops, name)(a))
    np.testing.assert_allclose(got.numpy().astype("float32"), expected.astype("float32"), rtol=1e-5, atol=1e-6)


def test_reductions_any_all_prod_against_keras(keras):
    import kerasish.ops as O

    a = np.array([[0.0, 1.5, -2.0], [3.0, 1.0, 4.0]], "float32")
    for name in ("any", "all", "prod"):
        for axis in (None, 0, 1):
            got = O.__dict__[name](a, axis=axis)
            expected = keras.ops.convert_to_numpy(getattr(keras.ops, name)(a, axis=axis))
            np.testing.assert_allclose(np.asarray(got.numpy(), "float32"), np.asarray(expected, "float32"), rtol=1e-6)
