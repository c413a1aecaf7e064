"""kerasish.losses against keras.losses (torch backend) on the same inputs:
per-sample functions, loss classes with every reduction and sample weights,
configs and serialization, look-ups, target checks, and no host sync."""

import os
import warnings

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest
import torch

from kerasish import losses as L
from tests.conftest import assert_config_like_keras, to_numpy

RNG = np.random.default_rng(1234)
N, T, C = 6, 4, 5


def _probs(shape):
    x = RNG.random(shape).astype("float32") + 0.05
    return x / x.sum(-1, keepdims=True)


def _onehot(shape):
    idx = RNG.integers(0, shape[-1], shape[:-1])
    return np.eye(shape[-1], dtype="float32")[idx]


def _data(rank):
    """Inputs for every loss kind at rank 2 ``(N, C)`` or rank 3 ``(N, T, C)``."""
    lead = (N,) if rank == 2 else (N, T)
    shape = lead + (C,)
    return {
        "onehot": _onehot(shape),
        "probs": _probs(shape),
        "logits": (RNG.normal(size=shape) * 3).astype("float32"),
        "sparse": RNG.integers(0, C, lead).astype("int64"),
        "binary": RNG.integers(0, 2, shape).astype("float32"),
        "sigmoid": RNG.random(shape).astype("float32"),
        "real_t": RNG.normal(size=shape).astype("float32"),
        "real_p": RNG.normal(size=shape).astype("float32"),
        "pos_t": RNG.random(shape).astype("float32") * 3,
        "pos_p": RNG.random(shape).astype("float32") * 3 + 0.1,
        "pm1": (RNG.integers(0, 2, shape) * 2 - 1).astype("float32"),
        "sw": RNG.random(lead[:1]).astype("float32"),
        "sw_n1": RNG.random((N, 1)).astype("float32"),
        "sw_full": RNG.random(lead).astype("float32"),
    }


# (kerasish / keras class name, kwargs, y_true key, y_pred key)
CLASS_CASES = [
    ("CategoricalCrossentropy", {}, "onehot", "probs"),
    ("CategoricalCrossentropy", {"from_logits": True}, "onehot", "logits"),
    ("CategoricalCrossentropy", {"label_smoothing": 0.1}, "onehot", "probs"),
    ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.2}, "onehot", "logits"),
    ("SparseCategoricalCrossentropy", {}, "sparse", "probs"),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, "sparse", "logits"),
    ("SparseCategoricalCrossentropy", {"from_logits": True, "ignore_class": 2}, "sparse", "logits"),
    ("SparseCategoricalCrossentropy", {"ignore_class": 0}, "sparse", "probs"),
    ("BinaryCrossentropy", {}, "binary", "sigmoid"),
    ("BinaryCrossentropy", {"from_logits": True}, "binary", "logits"),
    ("BinaryCrossentropy", {"label_smoothing": 0.1}, "binary", "sigmoid"),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.3}, "binary", "logits"),
    ("BinaryFocalCrossentropy", {"gamma": 1.5}, "binary", "sigmoid"),
    ("BinaryFocalCrossentropy", {"from_logits": True, "apply_class_balancing": True, "label_smoothing": 0.1}, "binary", "logits"),
    ("CategoricalFocalCrossentropy", {}, "onehot", "probs"),
    ("CategoricalFocalCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, "onehot", "logits"),
    ("MeanSquaredError", {}, "real_t", "real_p"),
    ("MeanAbsoluteError", {}, "real_t", "real_p"),
    ("MeanAbsolutePercentageError", {}, "real_t", "real_p"),
    ("MeanSquaredLogarithmicError", {}, "pos_t", "pos_p"),
    ("Huber", {}, "real_t", "real_p"),
    ("Huber", {"delta": 0.3}, "real_t", "real_p"),
    ("LogCosh", {}, "real_t", "real_p"),
    ("KLDivergence", {}, "probs", "probs"),
    ("Poisson", {}, "pos_t", "pos_p"),
    ("CosineSimilarity", {}, "real_t", "real_p"),
    ("Hinge", {}, "binary", "real_p"),
    ("Hinge", {}, "pm1", "real_p"),
    ("SquaredHinge", {}, "binary", "real_p"),
    ("CategoricalHinge", {}, "onehot", "real_p"),
    ("Dice", {}, "binary", "sigmoid"),
    ("Tversky", {"alpha": 0.3, "beta": 0.7}, "binary", "sigmoid"),
]
REDUCTIONS = ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None]


def _ids(cases):
    return [f"{c[0]}-{'-'.join(f'{k}={v}' for k, v in c[1].items()) or 'default'}-{c[2]}" for c in cases]


def _close(got, expected, rtol=1e-5, atol=1e-6):
    got, expected = to_numpy(got), to_numpy(expected)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol)


@pytest.fixture(scope="module")
def data():
    return {2: _data(2), 3: _data(3)}


@pytest.mark.parametrize("case", CLASS_CASES, ids=_ids(CLASS_CASES))
def test_loss_classes_match_keras_every_reduction(keras, data, case):
    name, kwargs, tkey, pkey = case
    for rank in (2, 3):
        if name in ("Dice", "Tversky") and rank == 3:
            continue
        d = data[rank]
        y_true, y_pred = d[tkey], d[pkey]
        weights = [None, d["sw"]] if rank == 2 else [None, d["sw_n1"], d["sw_full"]]
        for reduction in REDUCTIONS:
            ours = getattr(L, name)(reduction=reduction, **kwargs)
            ref = getattr(keras.losses, name)(reduction=reduction, **kwargs)
            for sw in weights:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    try:
                        expected = ref(y_true, y_pred, sample_weight=sw)
                    except RuntimeError:
                        # Keras multiplies an (N, 1) weight into an (N, T) mask in
                        # place and fails; the intended result is the broadcast weight.
                        assert "ignore_class" in kwargs and rank == 3
                        expected = ref(y_true, y_pred, sample_weight=np.broadcast_to(sw, y_pred.shape[:-1]))
                got = ours(torch.as_tensor(y_true), torch.as_tensor(y_pred), sample_weight=None if sw is None else torch.as_tensor(sw))
                assert isinstance(got, torch.Tensor) and got.dtype == torch.float32
                _close(got, expected)
        if rank == 3:  # (N,) weights on per-timestep losses: one weight per sample (Keras needs (N, 1))
            got = getattr(L, name)(**kwargs)(y_true, y_pred, sample_weight=d["sw_n1"][:, 0])
            full = np.broadcast_to(d["sw_n1"], y_pred.shape[:-1])
            _close(got, getattr(keras.losses, name)(**kwargs)(y_true, y_pred, sample_weight=full))
        # numpy in, the loss's own default reduction
        _close(getattr(L, name)(**kwargs)(y_true, y_pred), getattr(keras.losses, name)(**kwargs)(y_true, y_pred))


FN_CASES = [
    ("categorical_crossentropy", {}, "onehot", "probs"),
    ("categorical_crossentropy", {"from_logits": True, "label_smoothing": 0.1}, "onehot", "logits"),
    ("sparse_categorical_crossentropy", {}, "sparse", "probs"),
    ("sparse_categorical_crossentropy", {"from_logits": True}, "sparse", "logits"),
    ("sparse_categorical_crossentropy", {"from_logits": True, "ignore_class": 1}, "sparse", "logits"),
    ("binary_crossentropy", {}, "binary", "sigmoid"),
    ("binary_crossentropy", {"from_logits": True, "label_smoothing": 0.2}, "binary", "logits"),
    ("binary_focal_crossentropy", {"from_logits": True}, "binary", "logits"),
    ("categorical_focal_crossentropy", {}, "onehot", "probs"),
    ("mean_squared_error", {}, "real_t", "real_p"),
    ("mse", {}, "real_t", "real_p"),
    ("mean_absolute_error", {}, "real_t", "real_p"),
    ("mae", {}, "real_t", "real_p"),
    ("mape", {}, "real_t", "real_p"),
    ("msle", {}, "pos_t", "pos_p"),
    ("huber", {"delta": 0.5}, "real_t", "real_p"),
    ("log_cosh", {}, "real_t", "real_p"),
    ("kl_divergence", {}, "probs", "probs"),
    ("kld", {}, "probs", "probs"),
    ("poisson", {}, "pos_t", "pos_p"),
    ("cosine_similarity", {}, "real_t", "real_p"),
    ("hinge", {}, "binary", "real_p"),
    ("squared_hinge", {}, "pm1", "real_p"),
    ("categorical_hinge", {}, "onehot", "real_p"),
    ("dice", {"axis": -1}, "binary", "sigmoid"),
    ("tversky", {"axis": -1}, "binary", "sigmoid"),
]


@pytest.mark.parametrize("case", FN_CASES, ids=_ids(FN_CASES))
def test_functions_are_per_sample_and_match_keras(keras, data, case):
    name, kwargs, tkey, pkey = case
    ref_fn = getattr(keras.losses, name, None) or keras.losses.get(name)
    for rank in (2, 3):
        d = data[rank]
        got = getattr(L, name)(torch.as_tensor(d[tkey]), torch.as_tensor(d[pkey]), **kwargs)
        _close(got, ref_fn(d[tkey], d[pkey], **kwargs))
        assert tuple(got.shape) == d[pkey].shape[:-1]


def test_probabilities_are_clipped_and_logits_never_take_log_of_zero(keras):
    y = np.eye(3, dtype="float32")[[0, 1, 2, 0]]
    p = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 1], [1, 0, 0]], dtype="float32")
    _close(L.categorical_crossentropy(y, p), keras.losses.categorical_crossentropy(y, p))
    assert np.isfinite(to_numpy(L.binary_crossentropy(y, p))).all()
    _close(L.binary_crossentropy(y, p), keras.losses.binary_crossentropy(y, p))
    logits = torch.tensor([[1000.0, -1000.0, 0.0]] * 4, requires_grad=True)
    for fn, target in ((L.categorical_crossentropy, torch.as_tensor(y)), (L.sparse_categorical_crossentropy, torch.tensor([0, 1, 2, 0])), (L.binary_crossentropy, torch.as_tensor(y))):
        loss = fn(target, logits, from_logits=True).mean()
        loss.backward()
        assert torch.isfinite(loss) and torch.isfinite(logits.grad).all()
        logits.grad = None


def test_ignore_class_gives_zero_loss_finite_grads_and_masked_mean(keras):
    y = torch.tensor([[0, 3, 1], [3, 3, 2]])
    logits = torch.randn(2, 3, 4, requires_grad=True)
    probs = torch.softmax(torch.randn(2, 3, 4), -1).requires_grad_(True)
    for pred, fl in ((logits, True), (probs, False)):
        loss = L.SparseCategoricalCrossentropy(from_logits=fl, ignore_class=3)
        value = loss(y, pred)
        value.backward()
        assert torch.isfinite(pred.grad).all()
        assert float(pred.grad[0, 1].abs().sum()) == 0.0
        ref = keras.losses.SparseCategoricalCrossentropy(from_logits=fl, ignore_class=3)(to_numpy(y), to_numpy(pred))
        _close(value, ref)
        per = L.sparse_categorical_crossentropy(y, pred, from_logits=fl, ignore_class=3)
        assert float(per[0, 1].detach()) == 0.0 and per._keras_mask.tolist() == [[True, False, True], [False, False, True]]


def test_sparse_labels_of_shape_n1_and_class_axis_1(keras, data):
    d = data[2]
    y = d["sparse"][:, None]
    _close(L.SparseCategoricalCrossentropy()(y, d["probs"]), keras.losses.SparseCategoricalCrossentropy()(y, d["probs"]))
    x = d["logits"][:, :, None].repeat(2, axis=2)  # (N, C, 2), classes on axis 1
    yy = np.stack([d["sparse"], d["sparse"][::-1]], -1)
    got = L.sparse_categorical_crossentropy(yy, x, from_logits=True, axis=1)
    _close(got, keras.losses.sparse_categorical_crossentropy(yy, x, from_logits=True, axis=1))
    got = L.categorical_crossentropy(np.moveaxis(_onehot((N, 2, C)), -1, 1), x, from_logits=True, axis=1)
    assert tuple(got.shape) == (N, 2)


def test_binary_labels_of_rank_one_against_one_unit_output(keras):
    y = np.array([0, 1, 1, 0], dtype="float32")
    p = np.array([[0.2], [0.7], [0.9], [0.4]], dtype="float32")
    _close(L.BinaryCrossentropy()(y, p), keras.losses.BinaryCrossentropy()(y, p))
    _close(L.MeanSquaredError(reduction="none")(y, p), keras.losses.MeanSquaredError(reduction="none")(y, p))


def test_sample_weight_of_shape_n1_and_scalar(keras, data):
    d = data[2]
    sw = d["sw"][:, None]
    for name in ("MeanSquaredError", "CategoricalCrossentropy"):
        y, p = (d["real_t"], d["real_p"]) if name == "MeanSquaredError" else (d["onehot"], d["probs"])
        for w in (sw, 2.0):
            _close(getattr(L, name)()(y, p, sample_weight=w), getattr(keras.losses, name)()(y, p, sample_weight=w))


def test_loss_casts_to_its_dtype_and_keeps_grad():
    p = torch.softmax(torch.randn(4, 3), -1).to(torch.bfloat16).requires_grad_(True)
    y = torch.nn.functional.one_hot(torch.tensor([0, 1, 2, 1]), 3)
    value = L.CategoricalCrossentropy()(y, p)
    assert value.dtype == torch.float32
    value.backward()
    assert p.grad is not None and p.grad.dtype == torch.bfloat16
    assert L.MeanSquaredError(dtype="float64")(torch.zeros(2, 2), torch.ones(2, 2)).dtype == torch.float64


class _NoSync:
    """Make every host-reading tensor method raise while active."""

    NAMES = ("item", "tolist", "numpy", "cpu", "__bool__", "__float__", "__int__", "__index__")

    def __init__(self, monkeypatch):
        self.mp = monkeypatch

    def __enter__(self):
        def boom(*a, **k):
            raise AssertionError("host sync in a per-step code path")

        for n in self.NAMES:
            self.mp.setattr(torch.Tensor, n, boom)

    def __exit__(self, *exc):
        self.mp.undo()


def test_no_host_sync_in_loss_calls(monkeypatch, data):
    d = {k: torch.as_tensor(v) for k, v in data[3].items()}
    objs = [
        (L.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1), "onehot", "logits"),
        (L.SparseCategoricalCrossentropy(from_logits=True, ignore_class=1), "sparse", "logits"),
        (L.SparseCategoricalCrossentropy(), "sparse", "probs"),
        (L.BinaryCrossentropy(), "binary", "sigmoid"),
        (L.Hinge(), "binary", "real_p"),
        (L.Huber(reduction="mean_with_sample_weight"), "real_t", "real_p"),
        (L.get_loss_object("mse"), "real_t", "real_p"),
    ]
    with _NoSync(monkeypatch):
        for loss, t, p in objs:
            loss(d[t], d[p], sample_weight=d["sw"])


# -- configs and serialization ---------------------------------------------

@pytest.mark.parametrize("case", CLASS_CASES, ids=_ids(CLASS_CASES))
def test_config_keys_and_round_trip_match_keras(keras, case):
    name, kwargs = case[0], case[1]
    ours = getattr(L, name)(reduction="sum", **kwargs)
    ref = getattr(keras.losses, name)(reduction="sum", **kwargs)
    assert ours.name == ref.name
    assert_config_like_keras(ours, ref)
    again = type(ours).from_config(ours.get_config())
    assert again.get_config() == ours.get_config()
    s, sr = L.serialize(ours), keras.losses.serialize(ref)
    assert {k: s[k] for k in ("module", "class_name", "registered_name")} == {k: sr[k] for k in ("module", "class_name", "registered_name")}
    back = L.deserialize(s)
    assert type(back) is type(ours) and back.get_config() == ours.get_config()
    # Keras reads our serialized form
    assert type(keras.losses.deserialize(s)).__name__ == name


def test_trainer_can_make_a_logits_version(keras, data):
    d = data[2]
    for loss in (L.CategoricalCrossentropy(label_smoothing=0.1, reduction="sum"), L.get_loss_object("categorical_crossentropy")):
        logit_loss = type(loss).from_config({**loss.get_config(), "from_logits": True})
        got = logit_loss(d["onehot"], d["logits"])
        ls = loss.get_config().get("label_smoothing", 0.0)
        red = loss.get_config()["reduction"]
        ref = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=ls, reduction=red)(d["onehot"], d["logits"])
        _close(got, ref)
        assert logit_loss.name == loss.name
    wrapper = L.LossFunctionWrapper(L.sparse_categorical_crossentropy, name="scce", from_logits=True)
    cfg = wrapper.get_config()
    from keras.src.losses.losses import LossFunctionWrapper as KerasWrapper

    kcfg = KerasWrapper(keras.losses.sparse_categorical_crossentropy, name="scce", from_logits=True).get_config()
    assert cfg == kcfg
    assert L.LossFunctionWrapper.from_config(cfg).get_config() == cfg


def test_serialize_functions_like_keras(keras):
    for name in ("mse", "categorical_crossentropy", "huber", "kld"):
        assert L.serialize(L.get(name)) == keras.losses.serialize(keras.losses.get(name))
        assert L.deserialize(L.serialize(L.get(name))) is L.get(name)
    with pytest.raises(ValueError, match="lambda"):
        L.serialize(lambda a, b: a)


def test_custom_loss_registration_round_trip():
    from kerasish.saving import register_keras_serializable

    @register_keras_serializable(package="test_losses")
    class Scaled(L.Loss):
        def __init__(self, scale=2.0, **kwargs):
            super().__init__(**kwargs)
            self.scale = scale

        def call(self, y_true, y_pred):
            return self.scale * torch.mean(torch.abs(y_true - y_pred), dim=-1)

        def get_config(self):
            return {**super().get_config(), "scale": self.scale}

    s = L.serialize(Scaled(scale=3.0, name="sc"))
    assert s["registered_name"] == "test_losses>Scaled" and s["config"]["scale"] == 3.0
    back = L.deserialize(s)
    assert isinstance(back, Scaled) and back.scale == 3.0 and back.name == "sc"
    assert float(back(torch.zeros(2, 2), torch.ones(2, 2))) == pytest.approx(3.0)
    assert L.get("test_losses>Scaled").scale == 2.0


# -- look-ups ----------------------------------------------------------------

GET_NAMES = [
    "categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy", "mse", "MSE", "mae",
    "mean_squared_error", "huber", "kld", "KLD", "kl_divergence", "hinge", "squared_hinge", "categorical_hinge",
    "mape", "msle", "log_cosh", "poisson", "cosine_similarity", "bce", "CategoricalCrossentropy", "Huber",
    "MeanSquaredError", "KLDivergence", "BinaryFocalCrossentropy", "Dice",
]


def test_get_returns_what_keras_returns(keras):
    for name in GET_NAMES:
        ours, ref = L.get(name), keras.losses.get(name)
        if isinstance(ref, keras.losses.Loss):
            assert type(ours).__name__ == type(ref).__name__ and ours.get_config() == ref.get_config(), name
        else:
            assert callable(ours) and not isinstance(ours, L.Loss) and ours.__name__ == ref.__name__, name
    assert L.get(None) is None
    inst = L.Huber(delta=2.0)
    assert L.get(inst) is inst
    assert isinstance(L.get(L.Hinge), L.Hinge)
    cfg = {"class_name": "CategoricalCrossentropy", "config": {"from_logits": True}}
    assert L.get(cfg).from_logits is True
    assert L.get(keras.losses.serialize(keras.losses.BinaryCrossentropy(label_smoothing=0.2))).label_smoothing == 0.2
    assert L.kullback_leibler_divergence is L.kl_divergence and L.get("kullback_leibler_divergence") is L.kl_divergence


def test_unknown_identifiers_raise():
    with pytest.raises(ValueError, match="Unknown loss: 'foo'.*mean_squared_error"):
        L.get("foo")
    with pytest.raises(ValueError, match="Unknown loss"):
        L.deserialize({"class_name": "Nope", "config": {}})
    with pytest.raises(ValueError, match="Could not interpret loss identifier"):
        L.get(42)
    with pytest.raises(ValueError, match="reduction"):
        L.MeanSquaredError(reduction="avg")
    with pytest.raises(ValueError, match="axis"):
        L.categorical_crossentropy(np.ones((2, 2)), np.ones((2, 2)) / 2, axis=True)
    with pytest.raises(TypeError, match="fn"):
        L.LossFunctionWrapper("mse")


def test_shape_errors_like_keras():
    with pytest.raises(ValueError, match="same shape"):
        L.categorical_crossentropy(np.ones((4, 3)), np.ones((4, 5)) / 5)
    with pytest.raises(ValueError, match="same shape up until the last dimension"):
        L.sparse_categorical_crossentropy(np.zeros((5,), "int64"), np.ones((4, 5)) / 5)
    with pytest.raises(ValueError, match="same shape"):
        L.binary_crossentropy(np.ones((4, 3)), np.ones((4, 2)) / 2)
    with pytest.warns(SyntaxWarning, match="binary_crossentropy"):
        L.categorical_crossentropy(np.ones((4, 1)), np.ones((4, 1)))


def test_get_loss_object_and_resolve_loss_name_like_keras_compile(keras):
    from keras.src.trainers.compile_utils import get_loss

    y_sparse, y_onehot, y_bin = np.zeros((4,), "int64"), np.eye(3, dtype="float32")[[0, 1, 2, 0]], np.zeros((4, 1), "float32")
    p3, p1 = np.full((4, 3), 1 / 3, "float32"), np.full((4, 1), 0.5, "float32")
    cases = [
        ("mse", y_onehot, p3), ("categorical_crossentropy", y_onehot, p3), ("CategoricalCrossentropy", y_onehot, p3),
        ("crossentropy", y_sparse, p3), ("ce", y_onehot, p3), ("CE", y_bin, p1), ("crossentropy", y_onehot[:, :1], p3),
        (keras.losses.mean_absolute_error, y_onehot, p3),
    ]
    for ident, y, p in cases:
        ref = get_loss(ident, keras.ops.convert_to_tensor(y), keras.ops.convert_to_tensor(p))
        ours_ident = getattr(L, ident.__name__) if callable(ident) else ident
        ours = L.resolve_loss(ours_ident, y, p)
        assert isinstance(ours, L.Loss) and ours.name == ref.name, (ident, ours.name, ref.name)
        if hasattr(ref, "fn") and type(ref).__name__ == "LossFunctionWrapper":
            assert ours.fn.__name__ == ref.fn.__name__
        _close(ours(y, p), ref(y, p))
    assert L.get_loss_object("mse").name == "mse" and L.get_loss_object(L.mse).name == "mean_squared_error"
    assert L.get_loss_object(None) is None
    with pytest.raises(ValueError, match="needs y_true"):
        L.resolve_loss("crossentropy")


# -- check_targets -------------------------------------------------------------

def test_check_targets_accepts_good_labels():
    L.check_targets("categorical_crossentropy", torch.eye(10)[torch.arange(8) % 10], (None, 10))
    L.check_targets(L.SparseCategoricalCrossentropy(), torch.arange(8) % 10, (32, 10))
    L.check_targets("sparse_categorical_crossentropy", (torch.arange(8) % 10)[:, None].float(), (8, 10))
    L.check_targets("sparse_categorical_crossentropy", np.zeros((8, 7), "int64"), (None, 7, 10))
    L.check_targets("binary_crossentropy", np.array([0, 1, 1.0]), (None, 1))
    L.check_targets("binary_crossentropy", np.array([[0.2, 1.0]]), (None, 2))
    L.check_targets("mse", np.zeros((100, 3)), (None, 3))
    L.check_targets("mse", np.zeros((100,)), (None, 1))
    L.check_targets(L.SparseCategoricalCrossentropy(ignore_class=-1), np.array([0, 4, -1]), (None, 5))
    L.check_targets(lambda a, b: a, np.zeros(3), (None, 7))  # custom: not checked


def test_check_targets_messages():
    with pytest.raises(ValueError, match=r"categorical_crossentropy.*expected y_true.shape=\(None, 10\) \(5-class one-hot labels for a 10-class output\).*y_true.shape=\(8, 5\)"):
        L.check_targets("categorical_crossentropy", torch.eye(5)[torch.arange(8) % 5], (None, 10))
    with pytest.raises(ValueError, match=r"looks like integer class indices.*sparse_categorical_crossentropy"):
        L.check_targets(L.CategoricalCrossentropy(), torch.arange(8) % 10, (None, 10))
    with pytest.raises(ValueError, match=r"looks like integer class indices"):
        L.check_targets("categorical_crossentropy", (torch.arange(8) % 10)[:, None], (None, 10))
    with pytest.raises(ValueError, match=r"as one-hot labels do.*categorical_crossentropy"):
        L.check_targets("sparse_categorical_crossentropy", torch.eye(10)[torch.arange(8)], (None, 10))
    with pytest.raises(ValueError, match=r"must be in \[0, 10\).*min 0 and max 12"):
        L.check_targets("sparse_categorical_crossentropy", torch.tensor([0, 3, 12]), (None, 10))
    with pytest.raises(ValueError, match=r"min -1 and max 3"):
        L.check_targets("sparse_categorical_crossentropy", torch.tensor([-1, 3]), (None, 10))
    with pytest.raises(ValueError, match=r"min 0 and max 7"):
        L.check_targets(L.SparseCategoricalCrossentropy(ignore_class=-1), np.array([0, 7, -1]), (None, 5))
    with pytest.raises(ValueError, match=r"single unit.*binary_crossentropy"):
        L.check_targets("sparse_categorical_crossentropy", torch.tensor([0, 1]), (None, 1))
    with pytest.raises(ValueError, match="non-integer"):
        L.check_targets("sparse_categorical_crossentropy", torch.tensor([0.5, 1.0]), (None, 3))
    with pytest.raises(ValueError, match=r"labels in \[0, 1\].*min 0 and max 4.*sparse_categorical_crossentropy"):
        L.check_targets("binary_crossentropy", torch.tensor([[0.0], [4.0]]), (None, 1))
    with pytest.raises(ValueError, match=r"binary_crossentropy.*output's shape \(None, 1\)"):
        L.check_targets("binary_crossentropy", torch.zeros(4, 3), (None, 1))
    with pytest.raises(ValueError, match=r"mean_squared_error.*shape \(100,\) does not match the output's shape \(None, 3\)"):
        L.check_targets(L.MeanSquaredError(), np.zeros((100,)), (None, 3))
    with pytest.raises(ValueError, match=r"Loss .kld.: y_true and y_pred must have the same shape"):
        L.check_targets("kld", np.zeros((4, 3)), (None, 4))


def test_fused_logits_path_equals_general_path(data):
    """Unweighted "mean"/"sum" with logits take one F.cross_entropy call; the
    value and gradient must equal the per-sample path (forced by a weight of 1)."""
    for rank in (2, 3):
        d = data[rank]
        for loss, y in (
            (L.SparseCategoricalCrossentropy(from_logits=True), d["sparse"]),
            (L.SparseCategoricalCrossentropy(from_logits=True, reduction="sum"), d["sparse"]),
            (L.CategoricalCrossentropy(from_logits=True, label_smoothing=0.15), d["onehot"]),
            (L.LossFunctionWrapper(L.categorical_crossentropy, from_logits=True, reduction="sum"), d["onehot"]),
            (L.LossFunctionWrapper(L.sparse_categorical_crossentropy, from_logits=True), d["sparse"]),
        ):
            assert loss._fused_impl is not None
            y = torch.as_tensor(y)
            grads = []
            for sw in (None, torch.ones(y.shape[0])):
                logits = torch.as_tensor(d["logits"]).clone().requires_grad_(True)
                value = loss(y, logits, sample_weight=sw)
                value.backward()
                grads.append((value.detach(), logits.grad))
            _close(grads[0][0], grads[1][0])
            _close(grads[0][1], grads[1][1])
    assert L.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)._fused_impl is None
    assert L.CategoricalCrossentropy()._fused_impl is None
