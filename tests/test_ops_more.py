"""Issue 19's extra kerasish.ops / ops.linalg / random names against keras (torch backend)."""

import warnings

import numpy as np
import pytest
import torch

from kerasish import ops, random as krandom
from tests.conftest import assert_close_f32, to_numpy
from tests.test_ops import check

R = np.random.default_rng(1)
A = R.normal(size=(3, 4)).astype("float32")
C = R.normal(size=(3, 4)).astype("float32")
P = np.abs(R.normal(size=(2, 3, 4)).astype("float32")) + 0.1
U = R.uniform(-0.9, 0.9, size=(3, 4)).astype("float32")
I = np.array([[1, 2, 3], [4, 5, 6]], dtype="int32")
SPD = (lambda m: m @ m.T + 4 * np.eye(4, dtype="float32"))(R.normal(size=(4, 4)).astype("float32"))

UNARY_FLOAT = ["sinh", "cosh", "arctan", "arcsinh", "log2", "log10", "exp2", "rsqrt", "reciprocal", "deg2rad", "rad2deg", "cbrt", "trunc"]


@pytest.mark.parametrize("name", UNARY_FLOAT)
def test_unary_float(keras, name):
    x = P if name in ("log2", "log10", "rsqrt", "reciprocal") else A
    check(keras, name, x)
    if name != "trunc":
        check(keras, name, I)  # ints give float32


@pytest.mark.parametrize("name", ["arcsin", "arccos", "arctanh", "erfinv"])
def test_unit_interval(keras, name):
    check(keras, name, U)


def test_arccosh_and_binary_float(keras):
    check(keras, "arccosh", P + 1)
    for name in ("arctan2", "hypot", "logaddexp", "true_divide", "divide_no_nan"):
        check(keras, name, A, C)
        check(keras, name, A[:, :1], C)
    check(keras, "divide_no_nan", A, np.where(C > 0, C, 0).astype("float32"))
    with pytest.raises(ValueError, match=r"arctan2.*\(3, 4\).*\(2, 3\)"):
        ops.arctan2(A, I)


def test_predicates(keras):
    x = np.array([0.0, np.nan, np.inf, -np.inf, 1.5], "float32")
    for name in ("isnan", "isinf", "isfinite"):
        check(keras, name, x)
    check(keras, "nan_to_num", x)
    check(keras, "nan_to_num", x, nan=1.0, posinf=9.0, neginf=-9.0)
    check(keras, "isclose", A, A + 1e-6)
    check(keras, "isclose", A, C, rtol=1.0, atol=0.5)
    assert bool(ops.allclose(A, A + 1e-7)) and not bool(ops.allclose(A, C))


def test_creation(keras):
    check(keras, "full", (2, 3), 1.5)
    check(keras, "full", (2, 3), 7)
    check(keras, "full", (2,), 2, dtype="float32")
    check(keras, "full_like", I, 3)
    check(keras, "full_like", A, 2, dtype="int32")
    for name in ("zeros_like", "ones_like"):
        check(keras, name, A)
        check(keras, name, I, dtype="float32")
    check(keras, "identity", 3)
    check(keras, "identity", 2, dtype="int32")
    check(keras, "tri", 3, 4, k=1)
    check(keras, "linspace", 0.0, 1.0, 5)
    check(keras, "linspace", 2, 10, 4, endpoint=False)
    lo, hi = np.array([0.0, 1.0], "float32"), np.array([1.0, 3.0], "float32")
    check(keras, "linspace", lo, hi, 3)
    # keras's torch backend has no `axis`: NumPy is the oracle
    np.testing.assert_allclose(to_numpy(ops.linspace(lo, hi, 3, axis=1)), np.linspace(lo, hi, 3, axis=1), rtol=1e-6)
    vals, step = ops.linspace(0.0, 1.0, 5, retstep=True)
    assert float(step) == 0.25 and vals.shape == (5,)
    check(keras, "meshgrid", np.arange(3, dtype="float32"), np.arange(2, dtype="float32"))
    check(keras, "meshgrid", np.arange(3, dtype="float32"), np.arange(2, dtype="float32"), indexing="ij")
    check(keras, "array", [1.0, 2.0])
    check(keras, "copy", I)
    assert ops.size(P) == 24 and ops.ndim(P) == 3
    assert ops.dtype(I) == keras.ops.dtype(I) == "int32"


def test_shapes(keras):
    check(keras, "broadcast_to", A[:1], (2, 3, 4))
    check(keras, "swapaxes", P, 0, 2)
    check(keras, "moveaxis", P, 0, -1)
    check(keras, "moveaxis", P, (0, 1), (2, 0))
    for axis in (None, 1, (0, 2)):
        check(keras, "flip", P, axis=axis)
    check(keras, "fliplr", A)
    check(keras, "flipud", A)
    check(keras, "rot90", A)
    check(keras, "rot90", P, k=3, axes=(1, 2))
    check(keras, "roll", P, 2)
    check(keras, "roll", P, -1, axis=1)
    for name in ("tril", "triu"):
        check(keras, name, A)
        check(keras, name, P, k=-1)
    check(keras, "diagonal", P, offset=1, axis1=1, axis2=2)
    check(keras, "diag", A, k=1)
    check(keras, "diag", A[0])
    check(keras, "trace", A)
    check(keras, "trace", P, offset=1, axis1=1, axis2=2)
    check(keras, "trace", I)
    check(keras, "hstack", [A, C])
    check(keras, "vstack", [A, C])
    check(keras, "hstack", [A[0], C[0]])
    check(keras, "unstack", torch.as_tensor(P), axis=1)  # keras's torch backend needs a tensor here
    check(keras, "cumprod", P)
    check(keras, "cumprod", I, axis=1)
    check(keras, "diff", P)
    check(keras, "diff", P, n=2, axis=1)
    with pytest.raises(ValueError, match=r"broadcast_to.*\(3, 4\).*\(5, 4\)"):
        ops.broadcast_to(A, (5, 4))
    with pytest.raises(ValueError, match="hstack"):
        ops.hstack([A, P])


def test_products(keras):
    check(keras, "tensordot", P, np.ones((3, 4, 2), "float32"))
    check(keras, "tensordot", A, C, axes=([1], [1]))
    check(keras, "tensordot", A, C.T, axes=1)
    check(keras, "outer", A[0], C[1])
    check(keras, "inner", A, C)
    check(keras, "vdot", A[0], C[0])
    np.testing.assert_allclose(to_numpy(ops.vdot(A, C)), np.vdot(A, C), rtol=1e-5)  # keras's torch vdot rejects 2-D
    check(keras, "kron", A[:2, :2], I)
    v = R.normal(size=(5, 3)).astype("float32")
    check(keras, "cross", v, v[::-1].copy())
    x1, x2 = R.normal(size=7).astype("float32"), R.normal(size=3).astype("float32")
    for mode in ("valid", "same", "full"):
        check(keras, "correlate", x1, x2, mode=mode)
        np.testing.assert_allclose(to_numpy(ops.correlate(x2, x1, mode=mode)), np.correlate(x2, x1, mode=mode), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="tensordot"):
        ops.tensordot(A, C, axes=1)
    with pytest.raises(ValueError, match="cross"):
        ops.cross(A, C)


def test_sorting_counting(keras):
    check(keras, "sort", P)
    check(keras, "sort", P, axis=0)
    check(keras, "argsort", P, axis=1)
    check(keras, "searchsorted", np.array([1.0, 2.0, 4.0], "float32"), A)
    check(keras, "searchsorted", np.array([1.0, 2.0, 4.0], "float32"), np.array([2.0, 3.0], "float32"), side="right")
    check(keras, "digitize", A, np.array([-1.0, 0.0, 1.0], "float32"))
    check(keras, "count_nonzero", I - 3)
    check(keras, "count_nonzero", I - 3, axis=1)
    check(keras, "bincount", np.array([0, 1, 1, 4], "int32"))
    check(keras, "bincount", np.array([0, 1, 1, 4], "int32"), weights=np.array([0.5, 1, 2, 3], "float32"), minlength=6)
    got = ops.nonzero(I > 2)
    exp = keras.ops.nonzero(I > 2)
    for g, e in zip(got, exp):
        np.testing.assert_array_equal(to_numpy(g), keras.ops.convert_to_numpy(e))
    x = np.array([3, 1, 3, 2, 1, 3], "int32")
    vals, idx, inv, counts = ops.unique(x, return_index=True, return_inverse=True, return_counts=True)
    ev, ei, einv, ec = np.unique(x, return_index=True, return_inverse=True, return_counts=True)
    for g, e in ((vals, ev), (idx, ei), (inv, einv), (counts, ec)):
        np.testing.assert_array_equal(to_numpy(g), e)
    np.testing.assert_array_equal(to_numpy(ops.unique(x, size=5, fill_value=-1)), [1, 2, 3, -1, -1])


def test_statistics(keras):
    for name in ("amax", "amin", "ptp", "median", "logsumexp"):
        check(keras, name, P)
        check(keras, name, P, axis=1, keepdims=True)
    check(keras, "median", P, axis=(0, 2))
    check(keras, "quantile", P, 0.3)
    check(keras, "quantile", P, np.array([0.1, 0.9], "float32"), axis=1)
    for method in ("lower", "higher", "midpoint", "nearest"):
        check(keras, "quantile", P, 0.35, axis=-1, method=method)
    check(keras, "percentile", P, 40.0, axis=0, keepdims=True)
    check(keras, "average", P)
    check(keras, "average", P, axis=1)
    # weights along an axis: NumPy is the oracle (keras's torch backend fails to broadcast them)
    w = np.array([1.0, 2.0, 3.0], "float32")
    np.testing.assert_allclose(to_numpy(ops.average(P, axis=1, weights=w)), np.average(P, axis=1, weights=w), rtol=1e-5)
    wf = np.abs(R.normal(size=P.shape)).astype("float32")
    np.testing.assert_allclose(to_numpy(ops.average(P, axis=2, weights=wf)), np.average(P, axis=2, weights=wf), rtol=1e-5)
    got = ops.average(A, weights=np.abs(C))  # keras's torch backend keeps an axis here; NumPy gives a scalar
    assert got.shape == () and abs(float(got) - np.average(A, weights=np.abs(C))) < 1e-5
    with pytest.raises(ValueError, match="quantile.*q"):
        ops.quantile(P, 1.5)
    with pytest.raises(ValueError, match="average.*weights"):
        ops.average(P, axis=1, weights=np.ones(4, "float32"))


ACTIVATIONS = [
    "softplus", "softsign", "selu", "relu6", "hard_sigmoid", "hard_silu", "hard_swish", "log_sigmoid", "hard_tanh",
    "tanh_shrink", "sparse_plus", "sparse_sigmoid", "elu", "celu", "leaky_relu", "hard_shrink", "soft_shrink",
    "squareplus", "glu", "sparsemax",
]


INT_KEEPING = ("relu6", "hard_tanh")  # keras keeps int dtypes for these; its torch kernels reject ints for most others


@pytest.mark.parametrize("name", [n for n in ACTIVATIONS if n != "sparsemax"])
def test_activations(keras, name):
    x = (A * 3).astype("float32")
    check(keras, name, x)
    if name in INT_KEEPING:
        check(keras, name, I)
    elif name != "glu":
        # integer inputs compute in float32 (as Keras on JAX/TF)
        got = getattr(ops, name)(I)
        assert got.dtype == torch.float32
        assert_close_f32(to_numpy(got), to_numpy(getattr(ops, name)(I.astype("float32"))))


def _sparsemax_ref(z):
    zs = -np.sort(-z, axis=-1)
    k = np.arange(1, z.shape[-1] + 1)
    cums = zs.cumsum(-1)
    kz = ((1 + k * zs) > cums).sum(-1, keepdims=True)
    tau = (np.take_along_axis(cums, kz - 1, -1) - 1) / kz
    return np.maximum(z - tau, 0)


def test_sparsemax():
    # keras's torch sparsemax sums every cumulative sum in the support for tau (rows then do not
    # sum to 1); the definition (Martins & Astudillo 2016) is the oracle here
    for x, axis in ((A * 3, -1), (P, 1), (np.array([[-1.0, 0.0, 1.0]], "float32"), -1)):
        got = to_numpy(ops.sparsemax(x, axis=axis))
        exp = np.moveaxis(_sparsemax_ref(np.moveaxis(x, axis, -1)), -1, axis)
        np.testing.assert_allclose(got, exp, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(got.sum(axis), 1.0, rtol=1e-5)
    np.testing.assert_allclose(to_numpy(ops.sparsemax([-1.0, 0.0, 1.0])), [0.0, 0.0, 1.0])


def test_activation_arguments(keras):
    x = (A * 3).astype("float32")
    check(keras, "elu", x, alpha=0.5)
    check(keras, "celu", x, alpha=2.0)
    check(keras, "leaky_relu", x, negative_slope=0.05)
    check(keras, "hard_shrink", x, threshold=1.0)
    check(keras, "soft_shrink", x, threshold=1.0)
    check(keras, "squareplus", x, b=1)
    check(keras, "threshold", x, 0.5, -1.0)
    check(keras, "glu", P, axis=1 - 2)
    with pytest.raises(ValueError, match=r"glu.*\(2, 3, 4\)"):
        ops.glu(P, axis=1)


def test_normalize_multi_hot_top_k(keras):
    check(keras, "normalize", A)
    check(keras, "normalize", P, axis=1, order=1)
    check(keras, "normalize", np.zeros((2, 3), "float32"))
    check(keras, "multi_hot", np.array([[0, 2], [1, 1]], "int32"), 4)
    check(keras, "multi_hot", np.array([0, 3], "int32"), num_classes=5, dtype="int32")
    vals, idx = ops.top_k(A, 2)
    ev, ei = keras.ops.top_k(A, 2)
    assert_close_f32(to_numpy(vals), keras.ops.convert_to_numpy(ev))
    np.testing.assert_array_equal(to_numpy(idx), keras.ops.convert_to_numpy(ei))
    assert idx.dtype == torch.int32
    t = np.array([0, 3, 1], "int32")
    for k in (1, 2, 4):
        check(keras, "in_top_k", t, A, k)
    with pytest.raises(ValueError, match="normalize.*order"):
        ops.normalize(A, order=0)
    with pytest.raises(ValueError, match="top_k"):
        ops.top_k(A, 9)


def test_control_flow(keras):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = ops.stop_gradient(x * 2)
    assert not y.requires_grad
    assert ops.cond(True, lambda: 1, lambda: 2) == 1 and ops.cond(torch.tensor(False), lambda: 1, lambda: 2) == 2
    branches = [lambda a: a + 1, lambda a: a * 10]
    assert ops.switch(1, branches, 3) == keras.ops.switch(1, branches, 3) == 30
    assert ops.switch(7, branches, 3) == 30  # clamped, as Keras
    assert ops.fori_loop(0, 5, lambda i, s: s + i, 0) == keras.ops.fori_loop(0, 5, lambda i, s: s + i, 0) == 10
    got = ops.while_loop(lambda i, s: i < 4, lambda i, s: (i + 1, s * 2), (0, 1))
    exp = keras.ops.while_loop(lambda i, s: i < 4, lambda i, s: (i + 1, s * 2), (0, 1))
    assert [int(v) for v in got] == [int(v) for v in exp] == [4, 16]
    assert int(ops.while_loop(lambda i: i < 10, lambda i: i + 3, 0, maximum_iterations=2)) == 6

    def step(c, xi):
        return c + xi, c * xi

    for rev in (False, True):
        gc, gy = ops.scan(step, np.zeros(4, "float32"), P[0], reverse=rev)
        ec, ey = keras.ops.scan(step, np.zeros(4, "float32"), P[0], reverse=rev)
        assert_close_f32(to_numpy(gc), keras.ops.convert_to_numpy(ec), terms=4)
        assert_close_f32(to_numpy(gy), keras.ops.convert_to_numpy(ey), terms=4)
    carry, ys = ops.scan(lambda c, _: (c + 1, c), 0, length=3)
    assert carry == 3 and to_numpy(ys).tolist() == [0, 1, 2]
    check(keras, "map", lambda v: v.sum(), P, ours=lambda f, xs: ops.map(f, xs))
    out = ops.map(lambda d: d["a"] + d["b"], {"a": A, "b": C})
    assert_close_f32(to_numpy(out), A + C)
    assert_close_f32(to_numpy(ops.vectorized_map(lambda r: r * 2, A)), A * 2)
    with pytest.raises(ValueError, match="scan.*length"):
        ops.scan(step, 0.0)


def test_indexing(keras):
    check(keras, "slice", P, (0, 1, 1), (2, 2, 3))
    check(keras, "slice_update", P, (1, 0, 2), np.ones((1, 2, 2), "float32"))
    check(keras, "scatter", np.array([[0, 1], [2, 3], [0, 1]]), np.array([1.0, 2.0, 3.0], "float32"), (3, 4))
    check(keras, "scatter", np.array([[1]]), np.ones((1, 4), "float32"), (3, 4))
    idx = np.array([[0, 1], [2, 3]])
    for red in (None, "add", "max", "min", "mul"):
        check(keras, "scatter_update", A, idx, np.array([5.0, -5.0], "float32"), reduction=red)
    check(keras, "scatter_update", A, np.array([[1]]), np.zeros((1, 4), "float32"))
    data = R.normal(size=(5, 3)).astype("float32")
    ids = np.array([0, 0, 2, 2, 1], "int32")
    for name in ("segment_sum", "segment_max"):
        check(keras, name, data, ids)
        check(keras, name, data, ids, num_segments=4)
        check(keras, name, I[:, :1].repeat(3, 0).reshape(6)[:5], ids)
    with pytest.raises(ValueError, match=r"slice.*\(2, 3, 4\)"):
        ops.slice(P, (1, 0, 0), (2, 3, 4))
    with pytest.raises(ValueError, match="slice_update"):
        ops.slice_update(A, (2, 0), np.ones((2, 4), "float32"))
    with pytest.raises(ValueError, match="scatter_update.*reduction"):
        ops.scatter_update(A, idx, np.ones(2, "float32"), reduction="avg")
    with pytest.raises(ValueError, match="segment_sum"):
        ops.segment_sum(data, ids[:3])


def test_saturate_cast(keras):
    x = np.array([-300.0, -1.5, 0.0, 100.7, 300.0, 7e4], "float32")
    for dt in ("uint8", "int8", "int32", "float16"):
        check(keras, "saturate_cast", x, dt)
    # float32 -> int32 beyond the range saturates (keras's torch backend wraps 7e9 to the minimum)
    assert to_numpy(ops.saturate_cast(np.array([7e9, -7e9], "float32"), "int32")).tolist() == [2**31 - 1, -(2**31)]
    check(keras, "saturate_cast", np.array([-5, 70000], "int32"), "int16")


def test_linalg(keras):
    L = keras.ops.linalg
    sq = A[:, :3] + 3 * np.eye(3, dtype="float32")
    for name, args in [
        ("cholesky", (SPD,)), ("det", (sq,)), ("inv", (sq,)), ("solve", (sq, A)), ("solve", (sq, A[:, 0])),
        ("solve_triangular", (np.triu(sq), A)), ("pinv", (A,)), ("eigh", (SPD,)),
        ("matrix_rank", (A,)), ("lu_factor", (sq,)), ("norm", (A,)),
    ]:
        got, exp = getattr(ops.linalg, name)(*args), getattr(L, name)(*args)
        got = got if isinstance(got, tuple) else (got,)
        exp = exp if isinstance(exp, (tuple, list)) else (exp,)
        assert len(got) == len(exp), name
        for g, e in zip(got, exp):
            g, e = to_numpy(g), keras.ops.convert_to_numpy(e)
            assert g.shape == e.shape and g.dtype == e.dtype, (name, g.shape, e.shape, g.dtype, e.dtype)
            np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-5, err_msg=name)
    check(keras, "slogdet", sq, terms=64)
    check(keras, "logdet", SPD, terms=64)
    check(keras, "cholesky", SPD, upper=True, terms=64, ours=ops.linalg.cholesky)
    check(keras, "solve_triangular", np.tril(sq), A, lower=True, terms=64, ours=ops.linalg.solve_triangular)
    # factorisations: compare reconstructions (signs of q/u/v are not unique)
    q, r = ops.linalg.qr(A.T)
    assert_close_f32(to_numpy(q @ r), A.T, terms=64)
    assert tuple(q.shape) == tuple(keras.ops.linalg.qr(A.T)[0].shape)
    assert tuple(ops.qr(A.T, mode="complete")[0].shape) == (4, 4)
    u, s, vh = ops.linalg.svd(A, full_matrices=False)
    assert_close_f32(to_numpy((u * s[None]) @ vh), A, terms=64)
    check(keras, "svd", A, compute_uv=False, terms=64, ours=ops.linalg.svd)
    w, v = ops.linalg.eig(sq)
    np.testing.assert_allclose(to_numpy(v @ torch.diag_embed(w) @ torch.linalg.inv(v)).real, sq, rtol=1e-4, atol=1e-4)
    check(keras, "cholesky_inverse", np.linalg.cholesky(SPD).astype("float32"), terms=64, ours=ops.linalg.cholesky_inverse)
    got = ops.linalg.lstsq(A.T, C.T[:, 0])
    np.testing.assert_allclose(to_numpy(got), np.linalg.lstsq(A.T, C.T[:, 0], rcond=None)[0], rtol=1e-4, atol=1e-5)
    assert ops.linalg.det is ops.det and ops.linalg.norm is ops.norm
    with pytest.raises(ValueError, match=r"det.*\(3, 4\)"):
        ops.linalg.det(A)
    with pytest.raises(ValueError, match="cholesky.*positive definite"):
        ops.linalg.cholesky(-SPD)
    with pytest.raises(ValueError, match="solve.*b"):
        ops.linalg.solve(sq, A.T)
    with pytest.raises(ValueError, match="qr.*mode"):
        ops.linalg.qr(A, mode="r")


# -- random ------------------------------------------------------------------
N = 20000


def test_gamma_beta_binomial_moments():
    g = to_numpy(krandom.gamma((N,), alpha=3.0, seed=1))
    assert g.dtype == np.float32 and (g > 0).all()
    np.testing.assert_allclose([g.mean(), g.var()], [3.0, 3.0], rtol=0.06)
    b = to_numpy(krandom.beta((N,), alpha=2.0, beta=5.0, seed=2))
    assert ((b >= 0) & (b <= 1)).all()
    np.testing.assert_allclose([b.mean(), b.var()], [2 / 7, 10 / (49 * 8)], rtol=0.06)
    n = to_numpy(krandom.binomial((N,), counts=10, probabilities=0.3, seed=3))
    assert n.dtype == np.float32 and set(np.unique(n)) <= set(range(11))
    np.testing.assert_allclose([n.mean(), n.var()], [3.0, 2.1], rtol=0.06)
    # array parameters broadcast to shape
    gg = to_numpy(krandom.gamma((N, 2), alpha=np.array([1.0, 9.0]), seed=4))
    np.testing.assert_allclose(gg.mean(0), [1.0, 9.0], rtol=0.06)


def test_categorical_frequencies():
    logits = np.log(np.array([[0.1, 0.6, 0.3], [0.98, 0.01, 0.01]], "float32"))
    s = to_numpy(krandom.categorical(logits, N, seed=5))
    assert s.shape == (2, N) and s.dtype == np.int32
    np.testing.assert_allclose(np.bincount(s[0], minlength=3) / N, [0.1, 0.6, 0.3], atol=0.015)
    np.testing.assert_allclose(np.bincount(s[1], minlength=3) / N, [0.98, 0.01, 0.01], atol=0.01)


@pytest.mark.parametrize("fn", [
    lambda seed: krandom.gamma((5,), 2.0, seed=seed), lambda seed: krandom.beta((5,), 2.0, 3.0, seed=seed),
    lambda seed: krandom.binomial((5,), 20, 0.5, seed=seed), lambda seed: krandom.categorical(np.zeros((1, 50), "float32"), 5, seed=seed),
])
def test_new_random_seeding(fn):
    from kerasish.utils import set_random_seed

    np.testing.assert_array_equal(to_numpy(fn(7)), to_numpy(fn(7)))
    gen = krandom.SeedGenerator(3)
    a, b = to_numpy(fn(gen)), to_numpy(fn(gen))
    assert not np.array_equal(a, b)
    gen2 = krandom.SeedGenerator(3)
    np.testing.assert_array_equal(to_numpy(fn(gen2)), a)
    set_random_seed(11)
    c = to_numpy(fn(None))
    set_random_seed(11)
    np.testing.assert_array_equal(to_numpy(fn(None)), c)


def test_random_errors():
    with pytest.raises(ValueError, match="gamma.*alpha"):
        krandom.gamma((2,), alpha=-1.0)
    with pytest.raises(ValueError, match="binomial.*probabilities"):
        krandom.binomial((2,), 5, 1.5)
    with pytest.raises(ValueError, match="categorical.*2-D"):
        krandom.categorical(np.zeros(3, "float32"), 2)
    with pytest.raises(ValueError, match="beta.*broadcast"):
        krandom.beta((2,), np.ones(3), 1.0)


# -- image -------------------------------------------------------------------
IMGS = R.uniform(0, 1, size=(2, 9, 7, 3)).astype("float32")


def check_image(keras, name, *args, **kwargs):
    """``ops.image.name`` against ``keras.ops.image.name``: shape, dtype and values."""
    got = getattr(ops.image, name)(*args, **kwargs)
    exp = getattr(keras.ops.image, name)(*args, **kwargs)
    g, e = to_numpy(got), keras.ops.convert_to_numpy(exp)
    assert g.shape == e.shape and g.dtype == e.dtype, (name, g.shape, e.shape, g.dtype, e.dtype)
    assert_close_f32(g, e, terms=64, err_msg=name)


@pytest.mark.parametrize("kwargs", [
    {}, {"interpolation": "nearest"}, {"interpolation": "bicubic"}, {"antialias": True},
    {"interpolation": "bicubic", "antialias": True}, {"crop_to_aspect_ratio": True},
])
@pytest.mark.parametrize("size", [(4, 5), (12, 6)])
def test_image_resize(keras, size, kwargs):
    check_image(keras, "resize", IMGS, size, **kwargs)


def test_image_resize_variants(keras):
    check_image(keras, "resize", IMGS[0], (4, 4))  # one image
    check_image(keras, "resize", np.moveaxis(IMGS, -1, 1).copy(), (5, 4), data_format="channels_first")
    u8 = (IMGS * 255).astype("uint8")
    check_image(keras, "resize", u8, (5, 4))
    check_image(keras, "resize", u8, (14, 10), interpolation="bicubic")
    # pad_to_aspect_ratio: centred fill_value bands around the image
    got = to_numpy(ops.image.resize(np.ones((1, 4, 8, 1), "float32"), (8, 8), pad_to_aspect_ratio=True, fill_value=-1.0, interpolation="nearest"))
    assert got.shape == (1, 8, 8, 1) and (got[0, :2] == -1).all() and (got[0, 2:6] == 1).all() and (got[0, 6:] == -1).all()
    with pytest.raises(ValueError, match="resize.*interpolation"):
        ops.image.resize(IMGS, (4, 4), interpolation="cubic")
    with pytest.raises(ValueError, match="resize.*rank"):
        ops.image.resize(IMGS[0, 0], (4, 4))


@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
@pytest.mark.parametrize("fill_mode", ["constant", "nearest", "wrap", "reflect"])
def test_image_affine_transform(keras, interpolation, fill_mode):
    t = np.array([[1.1, 0.2, -1.5, -0.1, 0.9, 2.0, 0, 0], [0.8, -0.3, 2.5, 0.25, 1.2, -1.0, 0, 0]], "float32")
    check_image(keras, "affine_transform", IMGS, t, interpolation=interpolation, fill_mode=fill_mode, fill_value=0.5)
    check_image(keras, "affine_transform", IMGS[0], t[0], interpolation=interpolation, fill_mode=fill_mode)


def test_image_affine_errors():
    with pytest.raises(ValueError, match="affine_transform.*transform"):
        ops.image.affine_transform(IMGS, np.zeros((2, 6), "float32"))
    with pytest.raises(ValueError, match="affine_transform.*projective"):
        ops.image.affine_transform(IMGS, np.array([1, 0, 0, 0, 1, 0, 0.1, 0], "float32"))


def test_image_patches_crop_pad(keras):
    check_image(keras, "extract_patches", IMGS, 3)
    check_image(keras, "extract_patches", IMGS, (2, 3), strides=(1, 2), padding="same")
    check_image(keras, "extract_patches", IMGS[0], (3, 2), dilation_rate=2)
    check_image(keras, "crop_images", IMGS, 1, 2, target_height=5, target_width=3)
    check_image(keras, "crop_images", IMGS[0], top_cropping=2, bottom_cropping=1, left_cropping=0, right_cropping=3)
    check_image(keras, "pad_images", IMGS, 1, 2, target_height=12, target_width=10)
    check_image(keras, "pad_images", IMGS[0], top_padding=0, bottom_padding=3, left_padding=2, right_padding=1)
    with pytest.raises(ValueError, match="crop_images.*two of"):
        ops.image.crop_images(IMGS, 1, 1, bottom_cropping=1, target_height=3, target_width=2)
    with pytest.raises(ValueError, match="pad_images.*target_height"):
        ops.image.pad_images(IMGS, 1, 1, target_height=5, target_width=12)


def test_image_colour_filters(keras):
    for name in ("rgb_to_grayscale", "rgb_to_hsv", "hsv_to_rgb", "sobel_edges"):
        check_image(keras, name, IMGS)
        if name != "sobel_edges":  # keras's torch sobel_edges needs a batch
            check_image(keras, name, IMGS[0])
    np.testing.assert_allclose(to_numpy(ops.image.hsv_to_rgb(ops.image.rgb_to_hsv(IMGS))), IMGS, atol=1e-5)
    check_image(keras, "rgb_to_grayscale", IMGS[..., :1])
    # keras's torch gaussian_blur reads data_format=None as channels_first: pass it explicitly
    check_image(keras, "gaussian_blur", IMGS, data_format="channels_last")
    check_image(keras, "gaussian_blur", IMGS, kernel_size=(5, 5), sigma=(2.0, 0.7), data_format="channels_last")
    check_image(keras, "gaussian_blur", IMGS[0], kernel_size=(5, 5), sigma=(1.5, 1.5), data_format="channels_last")
    assert_close_f32(to_numpy(ops.image.gaussian_blur(IMGS, 5, 1.5)), to_numpy(ops.image.gaussian_blur(IMGS, (5, 5), (1.5, 1.5))))
    assert_close_f32(to_numpy(ops.image.gaussian_blur(IMGS)), to_numpy(ops.image.gaussian_blur(IMGS, data_format="channels_last")))
    cf = np.moveaxis(IMGS, -1, 1).copy()
    check_image(keras, "rgb_to_hsv", cf, data_format="channels_first")
    check_image(keras, "sobel_edges", cf, data_format="channels_first")
    with pytest.raises(ValueError, match="rgb_to_hsv.*float"):
        ops.image.rgb_to_hsv((IMGS * 255).astype("uint8"))
    with pytest.raises(ValueError, match="rgb_to_grayscale.*channels"):
        ops.image.rgb_to_grayscale(IMGS[..., :2])


# -- remaining numpy names -------------------------------------------------------
J = np.array([[12, -7, 5], [3, 0, -9]], dtype="int32")
NANS = np.array([[1.0, np.nan, 3.0, -2.0], [np.nan, np.nan, np.nan, np.nan], [0.5, 4.0, np.nan, 1.0]], "float32")


def test_bitwise(keras):
    for name in ("bitwise_and", "bitwise_or", "bitwise_xor", "gcd", "lcm"):
        check(keras, name, J, I + 1)
        check(keras, name, J, 6)
    for name in ("bitwise_left_shift", "bitwise_right_shift", "left_shift", "right_shift"):
        check(keras, name, J, np.array([1, 2, 3], "int32"))
    check(keras, "bitwise_invert", J)
    check(keras, "bitwise_not", J > 0)
    with pytest.raises(ValueError, match="bitwise_and.*float32"):
        ops.bitwise_and(A, A)


def test_float_helpers(keras):
    for name in ("erfc", "fabs", "signbit", "sinc", "i0", "isneginf", "isposinf", "isreal"):
        check(keras, name, A)
    check(keras, "fabs", J)
    x = np.array([1.0, np.nan, -np.inf, np.inf, -0.0], "float32")
    for name in ("isneginf", "isposinf", "signbit"):
        check(keras, name, x)
    y = np.array([np.nan, np.nan, 2.0, -1.0, 1.0], "float32")
    for name in ("fmax", "fmin", "fmod"):
        check(keras, name, x, y)
        check(keras, name, A, C)
    check(keras, "fmod", J, np.array([5, -4, 3], "int32"))
    check(keras, "heaviside", A, 0.5)
    check(keras, "heaviside", np.array([-1.0, 0.0, 2.0], "float32"), np.array([0.3, 0.3, 0.3], "float32"))
    check(keras, "ldexp", A, np.array([1, -2, 3, 0], "int32"))
    check(keras, "logaddexp2", A, C)
    check(keras, "isin", J, np.array([5, 3, -9, 100], "int32"))
    check(keras, "isin", J, np.array([5, 3], "int32"), invert=True)
    with pytest.raises(ValueError, match="ldexp"):
        ops.ldexp(A, A)


@pytest.mark.parametrize("name", ["nansum", "nanmean", "nanmax", "nanmin", "nanprod", "nanstd", "nanvar", "nanmedian"])
def test_nan_reductions(keras, name):
    x = NANS[[0, 2]]  # rows with some non-NaN values
    check(keras, name, x)
    check(keras, name, x, axis=1)
    check(keras, name, x, axis=0, keepdims=True)
    check(keras, name, P, axis=(0, 2))
    if name in ("nansum", "nanmax", "nanmin", "nanprod"):
        check(keras, name, I, axis=1)
    # an all-NaN row: NaN for mean/max/min (0 for sum, 1 for prod), as NumPy
    got = to_numpy(getattr(ops, name)(NANS, axis=1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NumPy warns about the all-NaN slice
        exp = getattr(np, name)(NANS, axis=1)
    np.testing.assert_allclose(got, exp, rtol=1e-5, equal_nan=True)


def test_nan_other(keras):
    for name in ("nanargmax", "nanargmin"):
        check(keras, name, NANS[[0, 2]], axis=1)
        check(keras, name, NANS[[0, 2]])
    for name in ("nancumsum", "nancumprod"):
        check(keras, name, NANS)
        check(keras, name, NANS, axis=1)
        check(keras, name, I, axis=0)
    check(keras, "nanquantile", NANS[[0, 2]], 0.3, axis=1)
    check(keras, "nanpercentile", NANS[[0, 2]], np.array([10.0, 80.0], "float32"), axis=1, keepdims=True)
    check(keras, "nanquantile", P, 0.7, axis=(1, 2))
    check(keras, "nanmedian", P, axis=1)


def test_splits_joins_misc(keras):
    x = np.arange(24, dtype="float32").reshape(2, 3, 4)
    check(keras, "array_split", np.arange(7, dtype="float32"), 3)
    check(keras, "array_split", x, 3, axis=2)
    for g, e in zip(ops.array_split(x, [1, 3], axis=2), np.array_split(x, [1, 3], axis=2)):  # keras takes ints only
        np.testing.assert_array_equal(to_numpy(g), e)
    check(keras, "hsplit", x, 3)
    check(keras, "vsplit", x, 2)
    check(keras, "dsplit", x, [1])
    check(keras, "dstack", [A, C])
    check(keras, "append", A, C)
    check(keras, "append", A, C, axis=0)
    check(keras, "append", I, A[:2, :3], axis=1)
    # empty_like's values are unspecified (keras returns uninitialised memory): shape and dtype only
    e = keras.ops.convert_to_numpy(keras.ops.empty_like(A))
    assert ops.empty_like(A).shape == e.shape and to_numpy(ops.empty_like(A)).dtype == e.dtype
    assert ops.empty_like(I, dtype="float32").shape == (2, 3) and ops.empty_like(I, dtype="float32").dtype == torch.float32
    check(keras, "diagflat", I)
    check(keras, "diagflat", A[0], k=-1)
    check(keras, "select", [A > 0.5, A < -0.5], [A, C], default=0.0)
    check(keras, "select", [I > 4, I < 2], [I, I * 10], default=-1)
    got = ops.unravel_index(np.array([5, 11, 0], "int32"), (3, 4))
    exp = keras.ops.unravel_index(np.array([5, 11, 0], "int32"), (3, 4))
    for g, e in zip(got, exp):
        np.testing.assert_array_equal(to_numpy(g), keras.ops.convert_to_numpy(e))
    check(keras, "vander", A[0])
    check(keras, "vander", A[0], N=3, increasing=True)
    check(keras, "trapezoid", P)
    check(keras, "trapezoid", P, dx=0.5, axis=1)
    check(keras, "trapezoid", P, x=np.array([0.0, 0.5, 2.0, 3.0], "float32"))
    check(keras, "logspace", 0.0, 2.0, 5)
    check(keras, "logspace", 0.0, 3.0, 4, base=2, endpoint=False)
    check(keras, "geomspace", 1.0, 1000.0, 4)
    check(keras, "geomspace", 2.0, 32.0, 3, endpoint=False)
    for name in ("bartlett", "blackman", "hamming", "hanning"):
        for n in (1, 5, 8):
            check(keras, name, n)
    check(keras, "kaiser", 7, 5.0)
    with pytest.raises(ValueError, match="select.*length"):
        ops.select([A > 0], [A, C])
    with pytest.raises(ValueError, match="dstack"):
        ops.dstack([A, P])
    with pytest.raises(ValueError, match="vsplit"):
        ops.vsplit(A[0], 2)


def test_nn_normalisation_and_blocks(keras):
    check(keras, "rms_normalization", P)
    check(keras, "rms_normalization", P, scale=np.arange(1, 5, dtype="float32"), epsilon=1e-3)
    check(keras, "rms_normalization", P, axis=(1, 2))
    check(keras, "layer_normalization", P)
    g, b = R.normal(size=4).astype("float32"), R.normal(size=4).astype("float32")
    check(keras, "layer_normalization", P, gamma=g, beta=b, epsilon=1e-3)
    check(keras, "layer_normalization", P, gamma=R.normal(size=(3, 4)).astype("float32"), axis=(1, 2))
    check(keras, "layer_normalization", P, gamma=g, rms_scaling=True)
    check(keras, "psnr", A, C, 1.0)
    check(keras, "polar", P[0], A)
    x = R.normal(size=(2, 4, 6, 8)).astype("float32")
    check(keras, "depth_to_space", x, 2)
    check(keras, "space_to_depth", x, 2)
    check(keras, "depth_to_space", np.moveaxis(x, -1, 1).copy(), 2, data_format="channels_first")
    check(keras, "space_to_depth", np.moveaxis(x, -1, 1).copy(), 2, data_format="channels_first")
    np.testing.assert_array_equal(to_numpy(ops.depth_to_space(ops.space_to_depth(x, 2), 2)), x)
    img = R.normal(size=(2, 7, 6, 3)).astype("float32")
    dw, pw = R.normal(size=(3, 3, 3, 2)).astype("float32"), R.normal(size=(1, 1, 6, 5)).astype("float32")
    check(keras, "separable_conv", img, dw, pw)
    check(keras, "separable_conv", img, dw, pw, strides=2, padding="same", terms=64)
    with pytest.raises(ValueError, match="psnr.*shapes"):
        ops.psnr(A, P, 1.0)
    with pytest.raises(ValueError, match=r"depth_to_space.*channels \(6\)"):
        ops.depth_to_space(np.ones((1, 2, 2, 6), "float32"), 2)
    with pytest.raises(ValueError, match="layer_normalization.*gamma"):
        ops.layer_normalization(P, gamma=np.ones(3, "float32"))


def test_fft_and_distances(keras):
    re, im = R.normal(size=(3, 8)).astype("float32"), R.normal(size=(3, 8)).astype("float32")
    for name in ("fft", "fft2", "ifft2"):
        check(keras, name, (re, im), terms=64)
    check(keras, "rfft", re, terms=64)
    check(keras, "rfft", re, fft_length=6, terms=64)
    spec = keras.ops.rfft(re)
    spec = tuple(keras.ops.convert_to_numpy(s) for s in spec)
    check(keras, "irfft", spec, terms=64)
    check(keras, "irfft", spec, fft_length=8, terms=64)
    assert_close_f32(to_numpy(ops.irfft(ops.rfft(re), 8)), re, terms=64)
    check(keras, "cdist", A, C[:2])
    check(keras, "cdist", P, P[:, :2])
    with pytest.raises(ValueError, match="fft.*real, imag"):
        ops.fft(re)
    with pytest.raises(ValueError, match="cdist"):
        ops.cdist(A, P[0, :, :3])


def test_more_numpy_misc(keras):
    check(keras, "corrcoef", A)
    check(keras, "angle", A)
    check(keras, "nextafter", A, C)
    counts, edges = ops.histogram(A.ravel(), bins=5)
    ec, ee = keras.ops.histogram(A.ravel(), bins=5)
    assert_close_f32(to_numpy(counts), keras.ops.convert_to_numpy(ec))
    assert_close_f32(to_numpy(edges), keras.ops.convert_to_numpy(ee))
    counts, edges = ops.histogram(A.ravel(), bins=4, range=(-1.0, 1.0))
    nc, ne = np.histogram(A.ravel(), bins=4, range=(-1.0, 1.0))
    np.testing.assert_array_equal(to_numpy(counts), nc)
    np.testing.assert_allclose(to_numpy(edges), ne, rtol=1e-6)
    # argpartition: any valid partition (numpy's and keras's differ in order); check the property
    x = R.normal(size=(4, 9)).astype("float32")
    for kth in (0, 3, 8):
        idx = to_numpy(ops.argpartition(x, kth))
        assert idx.dtype == np.int32
        part = np.take_along_axis(x, idx.astype("int64"), -1)
        np.testing.assert_array_equal(part[:, kth], np.sort(x, -1)[:, kth])
        assert (part[:, :kth] <= part[:, kth:kth + 1]).all() and (part[:, kth + 1:] >= part[:, kth:kth + 1]).all()
    with pytest.raises(ValueError, match="histogram.*1-D"):
        ops.histogram(A)
    with pytest.raises(ValueError, match="argpartition.*kth"):
        ops.argpartition(x, 9)


def test_core_extras(keras):
    for key in (1, (slice(None), 2), (Ellipsis, None, slice(1, 3)), (np.array([0, 2]),), A[:, 0] > 0):
        check(keras, "get_item", A, key)
    with pytest.raises(ValueError, match=r"get_item.*\(3, 4\)"):
        ops.get_item(A, 5)
    z = R.normal(size=(3, 2)).astype("float32")
    check(keras, "view_as_complex", z)
    np.testing.assert_array_equal(to_numpy(ops.view_as_real(ops.view_as_complex(z))), z)
    check(keras, "associative_scan", lambda a, b: a + b, P, axis=1)
    check(keras, "associative_scan", lambda a, b: torch.maximum(a, b), A, reverse=True)
    got = ops.associative_scan(lambda a, b: {"s": a["s"] + b["s"], "p": a["p"] * b["p"]}, {"s": A, "p": C})
    assert_close_f32(to_numpy(got["s"]), np.cumsum(A, 0))
    assert_close_f32(to_numpy(got["p"]), np.cumprod(C, 0))

    @ops.custom_gradient
    def log1pexp(x):
        e = ops.exp(x)

        def grad(upstream):
            return upstream * (1.0 - 1.0 / (1 + e))

        return ops.log(1 + e), grad

    x = torch.tensor([0.0, 100.0], requires_grad=True)
    y = log1pexp(x)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.5, 1.0], rtol=1e-6)  # finite where autograd gives nan
    assert_close_f32(to_numpy(log1pexp(torch.tensor([0.5]))), np.log1p(np.exp([0.5])))

    @ops.custom_gradient
    def mul(a, b):
        return a * b, lambda g: (g * 10, g * 20)

    a, b = torch.tensor(2.0, requires_grad=True), torch.tensor(3.0, requires_grad=True)
    mul(a, b).backward()
    assert (float(a.grad), float(b.grad)) == (10.0, 20.0)


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("strides,dilation,output_padding", [(1, 1, None), (2, 1, None), ((2, 3), 1, None), (1, 2, None), (3, 1, 1), (2, 1, (1, 0))])
def test_conv_transpose(keras, padding, strides, dilation, output_padding):
    x = R.normal(size=(2, 5, 4, 3)).astype("float32")
    k = R.normal(size=(3, 2, 6, 3)).astype("float32")  # (kh, kw, filters, in)
    check(keras, "conv_transpose", x, k, strides=strides, padding=padding, output_padding=output_padding, dilation_rate=dilation, terms=64)


def test_conv_transpose_1d_3d_and_errors(keras):
    check(keras, "conv_transpose", R.normal(size=(2, 7, 3)).astype("float32"), R.normal(size=(4, 5, 3)).astype("float32"), strides=2, padding="same", terms=64)
    check(keras, "conv_transpose", R.normal(size=(1, 3, 4, 2, 2)).astype("float32"), R.normal(size=(2, 3, 2, 4, 2)).astype("float32"), strides=2, terms=64)
    xcf = R.normal(size=(2, 3, 5, 4)).astype("float32")
    check(keras, "conv_transpose", xcf, R.normal(size=(3, 3, 2, 3)).astype("float32"), strides=2, padding="same", data_format="channels_first", terms=64)
    with pytest.raises(ValueError, match=r"conv_transpose.*expects 4 input channels"):
        ops.conv_transpose(np.ones((1, 4, 4, 3), "float32"), np.ones((3, 3, 2, 4), "float32"))
    with pytest.raises(ValueError, match="conv_transpose.*padding"):
        ops.conv_transpose(np.ones((1, 4, 4, 3), "float32"), np.ones((3, 3, 2, 3), "float32"), padding="full")
