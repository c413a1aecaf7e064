"""kerasish.regularizers against keras.regularizers (torch backend)."""

import math
import os

os.environ["KERAS_BACKEND"] = "torch"

import pytest
import torch

import keras  # noqa: E402  (the test oracle, in the dev extra)

from kerasish import regularizers as R  # noqa: E402

W = torch.randn(37, 23, generator=torch.Generator().manual_seed(0)) * 3.0

CASES = [
    ("L1", {}),
    ("L1", {"l1": 0.3}),
    ("L2", {}),
    ("L2", {"l2": 1e-4}),
    ("L1L2", {}),
    ("L1L2", {"l1": 0.01}),
    ("L1L2", {"l2": 0.02}),
    ("L1L2", {"l1": 0.5, "l2": 0.25}),
    ("OrthogonalRegularizer", {}),
    ("OrthogonalRegularizer", {"factor": 0.5, "mode": "columns"}),
    ("OrthogonalRegularizer", {"factor": 2, "mode": "rows"}),
]


def _same_config(ours, ref):
    """Equal configs; floats compared at float32 precision because keras keeps
    L1.l1 and OrthogonalRegularizer.factor as float32 tensors (0.01 comes back
    as 0.009999999776482582), while kerasish keeps the Python float."""
    assert ours.keys() == ref.keys()
    for k in ours:
        if isinstance(ref[k], float):
            assert isinstance(ours[k], float)
            assert math.isclose(ours[k], ref[k], rel_tol=1e-7), (k, ours[k], ref[k])
        else:
            assert ours[k] == ref[k], k


def _close(a, b, rel=1e-5):
    a, b = float(a), float(b)
    assert abs(a - b) <= rel * max(1.0, abs(b)), (a, b)


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_value_and_config_match_keras(name, kwargs):
    ours = getattr(R, name)(**kwargs)
    ref = getattr(keras.regularizers, name)(**kwargs)
    for w in (W, W[:5], W.T.contiguous()):
        val = ours(w)
        assert isinstance(val, torch.Tensor) and val.dim() == 0 and val.dtype == w.dtype
        _close(val, ref(w))
    _same_config(ours.get_config(), ref.get_config())
    s_ours, s_ref = R.serialize(ours), keras.regularizers.serialize(ref)
    _same_config(s_ours.pop("config"), s_ref.pop("config"))
    assert s_ours == s_ref
    again = type(ours).from_config(ours.get_config())
    _close(again(W), ours(W))
    got = R.get(keras.regularizers.serialize(ref))
    assert type(got) is type(ours)
    _same_config(got.get_config(), ours.get_config())


def test_formulas():
    x = torch.tensor([[1.0, -2.0], [3.0, -4.0]])
    assert R.L1(0.1)(x).item() == pytest.approx(1.0)
    assert R.L2(0.1)(x).item() == pytest.approx(3.0)
    assert R.L1L2(0.1, 0.1)(x).item() == pytest.approx(4.0)
    assert R.L1L2()(x).item() == 0.0
    assert R.L1()(x).item() == pytest.approx(0.1)  # default 0.01
    # Conv-shaped weights work the same (layout independent).
    k = torch.randn(3, 3, 4, 8)
    _close(R.L2(0.5)(k), 0.5 * (k**2).sum())
    # Penalty = factor * mean |cos| over row pairs: 0 if orthogonal, factor if parallel.
    assert R.OrthogonalRegularizer(1.0)(torch.eye(4)).item() == pytest.approx(0.0, abs=1e-7)
    same = torch.ones(3, 5)
    assert R.OrthogonalRegularizer(0.7)(same).item() == pytest.approx(0.7, rel=1e-5)


def test_gradient_flows():
    w = W.clone().requires_grad_(True)
    (R.L1L2(0.1, 0.2)(w) + R.OrthogonalRegularizer()(w)).backward()
    assert w.grad is not None and torch.isfinite(w.grad).all()
    expected_l1l2 = 0.1 * torch.sign(W) + 0.2 * 2 * W
    assert not torch.allclose(w.grad, torch.zeros_like(w.grad))
    w2 = W.clone().requires_grad_(True)
    R.L1L2(0.1, 0.2)(w2).backward()
    assert torch.allclose(w2.grad, expected_l1l2, atol=1e-5)


def test_aliases_and_defaults():
    assert R.l1 is R.L1 and R.l2 is R.L2 and R.l1_l2 is R.L1L2
    # Keras 3: l1_l2 IS L1L2, so its defaults are 0.0 (Keras 2's were 0.01).
    assert R.l1_l2().get_config() == keras.regularizers.l1_l2().get_config() == {"l1": 0.0, "l2": 0.0}
    assert R.L1(None).l1 == 0.01 and R.L2(None).l2 == 0.01
    assert R.L1L2(None, None).get_config() == {"l1": 0.0, "l2": 0.0}


def test_get_names_match_keras():
    from keras.src.regularizers import ALL_OBJECTS_DICT

    for name in ALL_OBJECTS_DICT:
        if name.lower() == "regularizer":
            assert isinstance(R.get(name), R.Regularizer)
            continue
        ours, ref = R.get(name), keras.regularizers.get(name)
        assert type(ours).__name__ == type(ref).__name__
        _same_config(ours.get_config(), ref.get_config())
    assert isinstance(R.get("l1_l2"), R.L1L2)  # accepted here too


def test_get_other_identifiers():
    assert R.get(None) is None
    inst = R.L2(0.3)
    assert R.get(inst) is inst
    assert isinstance(R.get(R.L1), R.L1)
    got = R.get({"class_name": "L1L2", "config": {"l1": 0.1, "l2": 0.2}})
    assert got.get_config() == {"l1": 0.1, "l2": 0.2}

    def fn(x):
        return x.sum()

    assert R.get(fn) is fn
    assert R.serialize(R.L2(0.1)) == {
        "module": "keras.regularizers",
        "class_name": "L2",
        "config": {"l2": 0.1},
        "registered_name": None,
    }


def test_get_errors():
    with pytest.raises(ValueError, match="Unknown regularizer: 'l3'"):
        R.get("l3")
    with pytest.raises(ValueError, match="Unknown regularizer: 'Foo'"):
        R.get({"class_name": "Foo", "config": {}})
    with pytest.raises(ValueError):
        R.get(42)


@pytest.mark.parametrize(
    "ctor,arg",
    [
        (lambda v: R.L1(v), "l1"),
        (lambda v: R.L2(v), "l2"),
        (lambda v: R.L1L2(l1=v), "l1"),
        (lambda v: R.L1L2(l2=v), "l2"),
        (lambda v: R.OrthogonalRegularizer(factor=v), "factor"),
    ],
)
@pytest.mark.parametrize("bad", [-0.1, "0.1", math.inf, math.nan, [0.1]])
def test_bad_args(ctor, arg, bad):
    with pytest.raises(ValueError, match=f"argument {arg}"):
        ctor(bad)


def test_orthogonal_errors():
    with pytest.raises(ValueError, match="mode"):
        R.OrthogonalRegularizer(mode="diagonal")
    with pytest.raises(ValueError, match="rank 2"):
        R.OrthogonalRegularizer()(torch.ones(2, 2, 2))


def test_base_regularizer():
    assert R.Regularizer()(W) == 0.0
    with pytest.raises(NotImplementedError):
        R.Regularizer().get_config()
