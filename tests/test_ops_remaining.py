"""The last keras.ops names: adaptive pooling, fold / unfold, rearrange, vectorize, view, jvp; against keras."""

import numpy as np
import pytest
import torch

from kerasish import ops
from tests.conftest import assert_close_f32, to_numpy
from tests.test_ops import check

R = np.random.default_rng(7)


@pytest.mark.parametrize("name", ["adaptive_average_pool", "adaptive_max_pool"])
@pytest.mark.parametrize("shape,size", [((2, 9, 3), 4), ((2, 7, 10, 3), (3, 4)), ((1, 5, 6, 7, 2), 2)])
def test_adaptive_pools(keras, name, shape, size):
    x = R.normal(size=shape).astype("float32")
    check(keras, name, x, size)
    xt = np.moveaxis(x, -1, 1).copy()
    check(keras, name, xt, size, data_format="channels_first")


def test_adaptive_pool_errors():
    with pytest.raises(ValueError, match=r"adaptive_average_pool.*rank 3, 4 or 5.*\(3, 4\)"):
        ops.adaptive_average_pool(np.ones((3, 4), "float32"), 2)
    with pytest.raises(ValueError, match="adaptive_max_pool.*output_size"):
        ops.adaptive_max_pool(np.ones((1, 4, 4, 1), "float32"), (2, 2, 2))


@pytest.mark.parametrize("kw", [dict(kernel_size=2, stride=2), dict(kernel_size=(3, 2), padding=1, dilation=(1, 2)),
                                dict(kernel_size=3, stride=(2, 1), padding=(1, 0))])
def test_unfold_fold(keras, kw):
    # keras's fold / unfold take tensors only (numpy arrays reach torch as they are)
    x = torch.as_tensor(R.normal(size=(2, 3, 6, 7)).astype("float32"))
    check(keras, "unfold", x, terms=1, **kw)
    blocks = ops.unfold(x, **kw)
    check(keras, "fold", blocks, (6, 7), terms=9, **kw)


def test_fold_errors():
    with pytest.raises(ValueError, match=r"unfold.*4-D.*\(3, 6, 7\)"):
        ops.unfold(np.ones((3, 6, 7), "float32"), 2)
    with pytest.raises(ValueError, match=r"fold.*\(1, 8, 5\).*\(N, C \* 4, 4\)"):
        ops.fold(np.ones((1, 8, 5), "float32"), (4, 4), 2, stride=2)


@pytest.mark.parametrize("pattern,axes", [
    ("b h w c -> b c h w", {}),
    ("b h w c -> (b h) w c", {}),
    ("b h w c -> b (c h w)", {}),
    ("b (h1 h) (w1 w) c -> (b h1 w1) h w c", dict(h1=2, w1=3)),
    ("b (h h1) (w w1) c -> b h w (c h1 w1)", dict(h1=2, w1=2)),
])
def test_rearrange(keras, pattern, axes):
    x = R.normal(size=(2, 4, 6, 3)).astype("float32")
    check(keras, "rearrange", x, pattern, **axes)


def test_rearrange_errors():
    with pytest.raises(ValueError, match="rearrange.*pattern"):
        ops.rearrange(np.ones((2, 3)), "a b")
    with pytest.raises(ValueError, match="rearrange"):
        ops.rearrange(np.ones((2, 3)), "a b c -> c b a")


def test_vectorize_elementwise_and_signature(keras):
    a = R.normal(size=(2, 3)).astype("float32")
    b = R.normal(size=(3,)).astype("float32")
    fn = lambda u, v: u * v + 1  # noqa: E731
    assert_close_f32(to_numpy(ops.vectorize(fn)(a, b)), keras.ops.convert_to_numpy(keras.ops.vectorize(fn)(a, b)))
    m = R.normal(size=(4, 2, 3)).astype("float32")
    got = ops.vectorize(lambda mm, v: ops.matmul(mm, v), signature="(m,n),(n)->(m)")(m, b)
    exp = keras.ops.vectorize(lambda mm, v: keras.ops.matmul(mm, v), signature="(m,n),(n)->(m)")(m, b)
    assert tuple(got.shape) == (4, 2)
    assert_close_f32(to_numpy(got), keras.ops.convert_to_numpy(exp), terms=3)
    # several outputs, and an excluded argument passed through (Keras drops `excluded`: we honour it)
    lo, hi = ops.vectorize(lambda v, scale: (ops.min(v) * scale, ops.max(v) * scale), signature="(n)->(),()",
                           excluded={1})(m, 2.0)
    np.testing.assert_allclose(to_numpy(lo), m.min(-1) * 2, rtol=1e-6)
    np.testing.assert_allclose(to_numpy(hi), m.max(-1) * 2, rtol=1e-6)


def test_vectorize_errors():
    with pytest.raises(ValueError, match="vectorize.*signature"):
        ops.vectorize(lambda a: a, signature="m->n")
    f = ops.vectorize(lambda mm, v: ops.matmul(mm, v), signature="(m,n),(n)->(m)")
    with pytest.raises(ValueError, match="vectorize: core dim 'n' is 3.*4"):
        f(np.ones((2, 3), "float32"), np.ones(4, "float32"))
    with pytest.raises(ValueError, match="vectorize: the batch axes"):
        ops.vectorize(lambda a, b: a + b)(np.ones((2, 3)), np.ones((4,)))
    with pytest.raises(TypeError, match="vectorize.*callable"):
        ops.vectorize(3)


@pytest.mark.parametrize("src,dst", [("float32", "int32"), ("float32", "int16"), ("int16", "int32"), ("float32", None),
                                     ("int32", "uint8")])
def test_view(keras, src, dst):
    x = np.arange(8).astype(src)
    check(keras, "view", x, dst)


def test_view_errors():
    with pytest.raises(ValueError, match="view: cannot view int16 of shape \\(3,\\) as int32"):
        ops.view(np.arange(3).astype("int16"), "int32")


def test_jvp(keras):
    a = R.normal(size=(3,)).astype("float32")
    t = R.normal(size=(3,)).astype("float32")
    out, tan = ops.jvp(ops.sin, (a,), (t,))
    np.testing.assert_allclose(to_numpy(out), np.sin(a), rtol=1e-6)
    np.testing.assert_allclose(to_numpy(tan), np.cos(a) * t, rtol=1e-5)
    k_out, k_tan = keras.ops.jvp(keras.ops.sin, (keras.ops.convert_to_tensor(a),), (keras.ops.convert_to_tensor(t),))
    assert_close_f32(to_numpy(tan), keras.ops.convert_to_numpy(k_tan))
    out, tan, aux = ops.linalg.jvp(lambda x: (x * x, x.sum()), (a,), (t,), has_aux=True)
    np.testing.assert_allclose(to_numpy(tan), 2 * a * t, rtol=1e-5)
    assert float(aux) == pytest.approx(float(a.sum()), rel=1e-5)
    with pytest.raises(ValueError, match=r"jvp: primal 0 has shape \(3,\), its tangent \(2,\)"):
        ops.jvp(ops.sin, (a,), (t[:2],))
    with pytest.raises(TypeError, match="jvp.*tuples or lists"):
        ops.jvp(ops.sin, a, t)


def test_all_keras_ops_names_exist(keras):
    missing = [n for n in dir(keras.ops) if not n.startswith("_") and not hasattr(ops, n)]
    image_missing = [n for n in dir(keras.ops.image) if not n.startswith("_") and not hasattr(ops.image, n)]
    linalg_missing = [n for n in dir(keras.ops.linalg) if not n.startswith("_") and not hasattr(ops.linalg, n)]
    assert not missing and not image_missing and not linalg_missing, (missing, image_missing, linalg_missing)


def test_rearrange_is_a_view_and_compiles():
    x = torch.arange(24.0).reshape(2, 3, 4)
    y = ops.rearrange(x, "a b c -> a c b")
    assert y.data_ptr() == x.data_ptr()
