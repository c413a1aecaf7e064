"""kerasish.activations against keras.activations (torch backend) as the oracle."""

import os

os.environ["KERAS_BACKEND"] = "torch"

import numpy as np
import pytest
import torch

import keras  # noqa: E402  (the test oracle, in the dev extra)

from kerasish import activations as A  # noqa: E402


def _inputs():
    g = torch.Generator().manual_seed(0)
    special = torch.tensor(
        [0.0, -0.0, 1e-7, -1e-7, 1e-3, -1e-3, 0.5, -0.5, 1.0, -1.0, 2.999, 3.0,
         -3.0, -3.001, 6.0, 6.5, 19.9, 20.1, -20.1, 30.0, -30.0, 50.0, -50.0,
         80.0, -80.0, 100.0, -100.0]
    )
    rnd = torch.randn(4, 257, generator=g) * 4.0
    return torch.cat([special, rnd.flatten()]).reshape(-1)


X = _inputs()


def assert_close(ours, ref, tol=1e-5):
    """max |diff| <= tol, relative to |ref| where |ref| > 1; infs/nans must agree."""
    ours = ours.detach().cpu().double().numpy()
    ref = ref.detach().cpu().double().numpy() if isinstance(ref, torch.Tensor) else np.asarray(ref)
    assert ours.shape == ref.shape
    assert np.array_equal(np.isnan(ours), np.isnan(ref))
    inf = np.isinf(ref)
    assert np.array_equal(ours[inf], ref[inf])
    ok = ~np.isnan(ref) & ~inf
    err = np.abs(ours[ok] - ref[ok]) / np.maximum(1.0, np.abs(ref[ok]))
    assert err.max(initial=0.0) <= tol, f"max rel err {err.max()}"


# (name, kwargs) pairs: every activation, several with non-default arguments.
CASES = [
    ("relu", {}),
    ("relu", {"negative_slope": 0.5}),
    ("relu", {"max_value": 5.0}),
    ("relu", {"max_value": 6}),
    ("relu", {"threshold": 1.5}),
    ("relu", {"threshold": -1.0, "max_value": 3.0}),
    ("relu", {"negative_slope": 0.1, "max_value": 6.0, "threshold": 0.5}),
    ("relu", {"negative_slope": 0.2, "threshold": 2.0}),
    ("relu6", {}),
    ("leaky_relu", {}),
    ("leaky_relu", {"negative_slope": 0.01}),
    ("sigmoid", {}),
    ("hard_sigmoid", {}),
    ("sparse_sigmoid", {}),
    ("log_sigmoid", {}),
    ("tanh", {}),
    ("tanh_shrink", {}),
    ("hard_tanh", {}),
    ("elu", {}),
    ("elu", {"alpha": 0.5}),
    ("selu", {}),
    ("celu", {}),
    ("celu", {"alpha": 2.0}),
    ("gelu", {}),
    ("gelu", {"approximate": True}),
    ("silu", {}),
    ("swish", {}),
    ("hard_silu", {}),
    ("hard_swish", {}),
    ("softplus", {}),
    ("sparse_plus", {}),
    ("squareplus", {}),
    ("squareplus", {"b": 1.0}),
    ("softsign", {}),
    ("soft_shrink", {}),
    ("soft_shrink", {"threshold": 1.0}),
    ("hard_shrink", {}),
    ("hard_shrink", {"threshold": 2.0}),
    ("threshold", {"threshold": 0.5, "default_value": -2.0}),
    ("exponential", {}),
    ("linear", {}),
    ("mish", {}),
    ("softmax", {}),
    ("log_softmax", {}),
    ("glu", {}),
]
# sparsemax is checked separately: keras 3.15's sparsemax is wrong whenever
# more than one logit is in the support (keras-team/keras#23425, fixed
# upstream by #23469); kerasish implements the correct algorithm.


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_matches_keras(name, kwargs):
    ours = getattr(A, name)
    ref = getattr(keras.activations, name)
    x = X[: (X.shape[0] // 6) * 6]
    if name in ("softmax", "log_softmax", "glu"):
        x = x.reshape(-1, 6)
    assert_close(ours(x.clone(), **kwargs), ref(x.clone(), **kwargs))


def test_every_keras_activation_is_covered():
    from keras.src.activations import ALL_OBJECTS_DICT

    assert set(ALL_OBJECTS_DICT) == set(A.ALL_ACTIVATIONS) | set(A.ALIASES)
    assert {n for n, _ in CASES} | {"sparsemax"} == set(ALL_OBJECTS_DICT)


def test_known_values():
    x = torch.tensor([-10.0, -5.0, 0.0, 5.0, 10.0])
    assert A.relu(x).tolist() == [0, 0, 0, 5, 10]
    assert A.relu(x, negative_slope=0.5).tolist() == [-5, -2.5, 0, 5, 10]
    assert A.relu(x, max_value=5.0).tolist() == [0, 0, 0, 5, 5]
    assert A.relu(x, threshold=5.0).tolist() == [0, 0, 0, 0, 10]
    # Keras 3 hard_sigmoid is relu6(x + 3) / 6, not Keras 2's 0.2 * x + 0.5.
    h = A.hard_sigmoid(torch.tensor([-3.0, -1.5, 0.0, 1.5, 3.0]))
    assert torch.allclose(h, torch.tensor([0.0, 0.25, 0.5, 0.75, 1.0]))
    # gelu defaults to the exact erf form.
    g = A.gelu(torch.tensor([1.0]))
    assert abs(g.item() - 0.5 * (1 + torch.erf(torch.tensor(1.0) / 2**0.5)).item()) < 1e-7
    assert abs(A.gelu(torch.tensor([1.0]), approximate=True).item() - g.item()) > 1e-5


@pytest.mark.parametrize("fn_name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("axis", [0, 1, 2, -1, -2, (1, 2), (0, 2), None])
def test_softmax_axis(fn_name, axis):
    x = torch.randn(3, 4, 5, generator=torch.Generator().manual_seed(1)) * 5
    ours = getattr(A, fn_name)(x, axis=axis)
    ref = getattr(keras.activations, fn_name)(x, axis=axis)
    assert_close(ours, ref)
    if fn_name == "softmax":
        dims = tuple(range(3)) if axis is None else axis
        s = ours.sum(dim=dims)
        assert torch.allclose(s, torch.ones_like(s), atol=1e-5)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_glu_axis(axis):
    x = torch.randn(4, 6, 8, generator=torch.Generator().manual_seed(2)) * 3
    assert_close(A.glu(x, axis=axis), keras.activations.glu(x, axis=axis))


def _sparsemax_reference(v):
    """Martins & Astudillo 2016, Algorithm 1, on one 1-D numpy vector."""
    z = np.sort(v)[::-1]
    cs = np.cumsum(z)
    k = np.arange(1, len(v) + 1)
    kz = k[1 + k * z > cs].max()
    tau = (cs[kz - 1] - 1) / kz
    return np.maximum(v - tau, 0)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_sparsemax(axis):
    x = torch.randn(4, 6, 8, generator=torch.Generator().manual_seed(2)) * 0.7
    out = A.sparsemax(x, axis=axis)
    s = out.sum(dim=axis)
    assert torch.allclose(s, torch.ones_like(s), atol=1e-5)
    assert (out >= 0).all()
    xn = np.moveaxis(x.numpy(), axis, -1).reshape(-1, x.shape[axis])
    on = np.moveaxis(out.numpy(), axis, -1).reshape(-1, x.shape[axis])
    for row_in, row_out in zip(xn, on):
        np.testing.assert_allclose(row_out, _sparsemax_reference(row_in), atol=1e-6)
    # More than one element in the support (where keras 3.15 is wrong).
    got = A.sparsemax(torch.tensor([[0.0, 0.5, 1.0]]))
    assert torch.allclose(got, torch.tensor([[0.0, 0.25, 0.75]]))
    # Support of size one: agrees with keras.
    x1 = torch.linspace(1, 12, 12).reshape(2, 6)
    assert_close(A.sparsemax(x1), keras.activations.sparsemax(x1))


def test_axis_dependent_flags():
    flagged = {n for n, f in A.ALL_ACTIVATIONS.items() if getattr(f, "axis_dependent", False)}
    assert flagged == {"softmax", "log_softmax", "glu", "sparsemax"}
    assert A.relu.axis_dependent is False


def test_float16_and_python_inputs():
    x = torch.randn(2, 5).half()
    assert A.softmax(x).dtype == torch.float16
    assert A.log_softmax(x).dtype == torch.float16
    out = A.relu([-1.0, 2.0])
    assert isinstance(out, torch.Tensor) and out.tolist() == [0.0, 2.0]


def test_grad_flows():
    x = torch.randn(7, requires_grad=True)
    for name, fn in A.ALL_ACTIVATIONS.items():
        if name in ("threshold", "glu", "linear"):
            continue
        x.grad = None
        fn(x).sum().backward()
        assert x.grad is not None and torch.isfinite(x.grad).all(), name


# ------------------------------------------------------- get / serialize


def test_get_names_match_keras():
    from keras.src.activations import ALL_OBJECTS_DICT

    for name in ALL_OBJECTS_DICT:
        ours = A.get(name)
        assert ours is getattr(A, name)
        assert A.serialize(ours) == keras.activations.serialize(keras.activations.get(name))


def test_serialize_roundtrip_and_aliases():
    assert A.serialize(A.swish) == "silu"
    assert A.serialize(A.hard_swish) == "hard_silu"
    assert A.serialize(A.relu) == "relu"
    for name, fn in A.ALL_ACTIVATIONS.items():
        assert A.serialize(fn) == name
        assert A.deserialize(A.serialize(fn)) is fn
        assert A.get(A.serialize(fn)) is fn


def test_get_special_identifiers():
    assert A.get(None) is A.linear

    def custom(x):
        return x * 2

    assert A.get(custom) is custom
    assert A.get(torch.nn.functional.relu) is torch.nn.functional.relu
    # Keras 3 dict forms (as written by keras.saving).
    d = keras.saving.serialize_keras_object(keras.activations.relu)
    assert A.get(d) is A.relu
    assert A.get({"class_name": "function", "config": "tanh"}) is A.tanh
    leaky = A.get({"class_name": "leaky_relu", "config": {"negative_slope": 0.5}})
    assert leaky(torch.tensor([-2.0])).item() == -1.0


def test_get_errors():
    with pytest.raises(ValueError, match=r"Unknown activation: 'foo'\. Known: .*relu"):
        A.get("foo")
    # Keras names are case-sensitive.
    with pytest.raises(ValueError, match="Unknown activation: 'ReLU'"):
        A.get("ReLU")
    with pytest.raises(ValueError):
        keras.activations.get("ReLU")
    with pytest.raises(TypeError):
        A.get(3)
    with pytest.raises(ValueError, match="Unknown activation: 'nope'"):
        A.deserialize("nope")
