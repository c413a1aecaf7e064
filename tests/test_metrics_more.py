"""kerasish.metrics' F-scores, IoUs, R2 and correlations against keras.metrics
(torch backend): values and state over several weighted updates and a reset,
configs and look-ups, bad arguments, and compile / fit / evaluate with them."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest
import torch

import kerasish
from kerasish import metrics as M
from kerasish.testing import float32_tol
from tests.conftest import assert_config_like_keras, to_numpy

RNG = np.random.default_rng(19)
B, C = 9, 4
TOL = float32_tol(terms=64, depth=2)


def _batch(kind, n):
    if kind == "binC":
        return RNG.integers(0, 2, (n, C)).astype("float32")
    if kind == "sigC":
        return np.round(RNG.random((n, C)), 2).astype("float32")  # ties with thresholds / row maxima
    if kind == "real":
        return RNG.normal(size=(n, C)).astype("float32")
    if kind == "real1":
        return RNG.normal(size=(n, 1)).astype("float32")
    if kind == "ids":  # class ids with some out of range (-1, C) and the ignored class 2
        return RNG.integers(-1, C + 1, (n, 3)).astype("int64")
    if kind == "ids_ok":
        return RNG.integers(0, C, (n, 3)).astype("int64")
    if kind == "onehot":
        return np.eye(C, dtype="float32")[RNG.integers(0, C, n)]
    if kind == "probs":
        x = RNG.random((n, C)).astype("float32") + 0.01
        return x / x.sum(-1, keepdims=True)
    if kind == "bin_ids":
        return RNG.integers(0, 2, (n, 3)).astype("float32")
    if kind == "sig_ids":
        return np.round(RNG.random((n, 3)), 1).astype("float32")
    raise KeyError(kind)


def _weights(kind, step, n):
    """None, then weights of the kind each metric takes, then None again (after the reset)."""
    if step in (0, 3) or kind is None:
        return None
    if kind == "row":
        return RNG.random(n).astype("float32")
    if kind == "row_int":
        return RNG.integers(0, 3, n).astype("int32")
    if kind == "full_int":
        return RNG.integers(0, 3, (n, 3)).astype("int32")
    if kind == "full":
        return RNG.random((n, C)).astype("float32")
    raise KeyError(kind)


# (class name, kwargs, y_true kind, y_pred kind, sample_weight kind)
CASES = [
    ("F1Score", {}, "binC", "sigC", "row"),
    ("F1Score", {"average": "micro", "threshold": 0.5}, "binC", "sigC", "row"),
    ("F1Score", {"average": "macro"}, "binC", "sigC", "row"),
    ("F1Score", {"average": "weighted", "threshold": 0.3}, "binC", "sigC", "row"),
    ("FBetaScore", {"beta": 2.0}, "binC", "sigC", "row"),
    ("FBetaScore", {"beta": 0.5, "average": "macro", "threshold": 0.6}, "binC", "sigC", "row"),
    ("FBetaScore", {"beta": 2.0, "average": "weighted"}, "binC", "sigC", None),
    ("R2Score", {}, "real", "real", "row"),
    ("R2Score", {"class_aggregation": "variance_weighted_average"}, "real", "real", "full"),
    ("R2Score", {"class_aggregation": None}, "real", "real", "row"),
    ("R2Score", {"num_regressors": 2}, "real1", "real1", "row"),
    ("PearsonCorrelation", {}, "real", "real", "row"),
    ("ConcordanceCorrelation", {}, "real", "real", "row"),
    ("PearsonCorrelation", {"axis": 0}, "real", "real", None),
    ("IoU", {"num_classes": C, "target_class_ids": [0, 2]}, "ids", "ids", "full_int"),
    ("IoU", {"num_classes": C, "target_class_ids": [1], "ignore_class": 2}, "ids", "ids", "full_int"),
    ("IoU", {"num_classes": C, "target_class_ids": [0, 3], "dtype": "float32"}, "ids_ok", "ids_ok", "full_int"),
    ("MeanIoU", {"num_classes": C}, "ids", "ids", "full_int"),
    ("MeanIoU", {"num_classes": C, "ignore_class": 0, "sparse_y_pred": False}, "ids_ok", "probs3", None),
    ("BinaryIoU", {}, "bin_ids", "sig_ids", "full_int"),
    ("BinaryIoU", {"target_class_ids": [1], "threshold": 0.3}, "bin_ids", "sig_ids", None),
    ("OneHotIoU", {"num_classes": C, "target_class_ids": [0, 1, 3]}, "onehot", "probs", "row_int"),
    ("OneHotMeanIoU", {"num_classes": C}, "onehot", "probs", "row_int"),
    ("OneHotMeanIoU", {"num_classes": C, "sparse_y_pred": True}, "onehot", "ids_row", None),
]


def _make(kind, n):
    if kind == "probs3":  # scores for (n, 3) ids
        return RNG.random((n, 3, C)).astype("float32")
    if kind == "ids_row":
        return RNG.integers(0, C, n).astype("int64")
    return _batch(kind, n)


def _ids(cases):
    return [f"{c[0]}-{'-'.join(f'{k}={v}' for k, v in c[1].items()) or 'default'}" for c in cases]


def _close(got, expected, rtol=TOL, atol=1e-6):
    got, expected = to_numpy(got), to_numpy(expected)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol)


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_metric_matches_keras_over_weighted_updates_and_reset(keras, case):
    name, kwargs, tkind, pkind, wkind = case
    ours = getattr(M, name)(**kwargs)
    ref = getattr(keras.metrics, name)(**kwargs)
    for step in range(5):
        if step == 3:
            ours.reset_state()
            ref.reset_state()
        n = B + step
        y_true, y_pred = _make(tkind, n), _make(pkind, n)
        sw = _weights(wkind, step, n)
        ours.update_state(torch.as_tensor(y_true), torch.as_tensor(y_pred), sample_weight=None if sw is None else torch.as_tensor(sw))
        ref.update_state(y_true, y_pred, sample_weight=sw)
        got = ours.result()
        assert isinstance(got, torch.Tensor) and got.dtype == torch.float32
        _close(got, ref.result())
    assert ours.variable_names == [v.name for v in ref.variables]
    for v, rv in zip(ours.variables, ref.variables):
        _close(v, rv.value)
        assert str(v.dtype).replace("torch.", "") == str(rv.dtype)
    assert not any(v.requires_grad for v in ours.variables)
    assert_config_like_keras(ours, ref)
    assert ours.get_config()["dtype"] == ref.get_config()["dtype"]
    back = type(ours).from_config(ours.get_config())
    assert back.get_config() == ours.get_config()


def test_numpy_and_list_inputs_and_a_fresh_result(keras):
    y, p = [[1, 0, 1], [0, 1, 0]], [[0.9, 0.2, 0.4], [0.1, 0.7, 0.8]]
    ours, ref = M.F1Score(average="macro", threshold=0.5), keras.metrics.F1Score(average="macro", threshold=0.5)
    ours.update_state(y, p)
    ref.update_state(np.array(y), np.array(p, "float32"))
    _close(ours.result(), ref.result())
    assert float(M.R2Score().result()) == 0.0 and float(M.F1Score().result()) == 0.0  # no update yet (Keras fails here)
    m = M.MeanIoU(2)
    m.update_state([0, 0, 1, 1], [0, 1, 0, 1])
    assert float(m.result()) == pytest.approx(1 / 3, rel=1e-6)


def test_iou_takes_one_weight_per_sample_for_multi_axis_ids():
    y, p = _batch("ids", 5), _batch("ids", 5)
    w = RNG.integers(0, 3, 5).astype("int32")
    per_sample, per_entry = M.MeanIoU(C), M.MeanIoU(C)
    per_sample.update_state(y, p, sample_weight=w)
    per_entry.update_state(y, p, sample_weight=np.repeat(w[:, None], 3, axis=1))
    assert torch.equal(per_sample.total_cm, per_entry.total_cm)
    with pytest.raises(ValueError, match="does not broadcast"):
        M.MeanIoU(C).update_state(y, p, sample_weight=np.ones(4, "int32"))


def test_correlation_functions_and_focal_functions_match_keras(keras):
    y, p = _batch("real", 6), _batch("real", 6)
    for fn in ("pearson_correlation", "concordance_correlation"):
        _close(getattr(M, fn)(y, p), getattr(keras.metrics, fn)(y, p))
        _close(getattr(M, fn)(y, p, axis=0), getattr(keras.metrics, fn)(y, p, axis=0))
    yb, pb = _batch("binC", 6), np.clip(_batch("sigC", 6), 0.05, 0.95)
    _close(M.binary_focal_crossentropy(yb, pb), keras.metrics.binary_focal_crossentropy(yb, pb))
    yc, pc = _batch("onehot", 6), _batch("probs", 6)
    _close(M.categorical_focal_crossentropy(yc, pc), keras.metrics.categorical_focal_crossentropy(yc, pc))


def test_float_weights_on_integer_iou_state_warn_and_truncate_as_keras(keras):
    y, p = np.array([0, 1, 1, 0]), np.array([0, 1, 0, 0])
    w = np.array([0.5, 1.7, 2.2, 1.0], "float32")
    ours, ref = M.MeanIoU(2), keras.metrics.MeanIoU(2)
    with pytest.warns(UserWarning, match="weight as `float`"):
        ours.update_state(torch.as_tensor(y), torch.as_tensor(p), sample_weight=torch.as_tensor(w))
    ref.update_state(y, p, sample_weight=w)
    _close(ours.total_cm, ref.total_cm.value)
    _close(ours.result(), ref.result())


@pytest.mark.parametrize(
    "name",
    ["f1_score", "F1Score", "f_beta_score", "FBetaScore", "r2_score", "R2Score", "pearson_correlation", "PearsonCorrelation",
     "concordance_correlation", "ConcordanceCorrelation", "binary_io_u", "BinaryIoU"],
)
def test_lookup_by_name_as_keras(keras, name):
    ours, ref = M.get(name), keras.metrics.get(name)
    assert type(ours).__name__ == type(ref).__name__
    assert_config_like_keras(ours, ref)


def test_serialize_deserialize_and_keras_configs(keras):
    for ours in (
        M.FBetaScore(average="weighted", beta=0.5, threshold=0.4),
        M.IoU(3, [1, 2], ignore_class=0, sparse_y_pred=False),
        M.OneHotMeanIoU(5, axis=1),
        M.R2Score(class_aggregation=None, num_regressors=3),
        M.ConcordanceCorrelation(axis=0),
    ):
        cfg = M.serialize(ours)
        assert cfg["module"] == "keras.metrics" and cfg["class_name"] == type(ours).__name__
        back = M.deserialize(cfg)
        assert type(back) is type(ours) and back.get_config() == ours.get_config()
        # and from a config Keras wrote
        kcfg = keras.metrics.serialize(getattr(keras.metrics, type(ours).__name__).from_config(ours.get_config()))
        assert M.deserialize(kcfg).get_config() == ours.get_config()
    assert M.deserialize({"class_name": "function", "config": "pearson_correlation", "module": "builtins"}) is M.pearson_correlation


def test_bad_arguments_raise_naming_them():
    with pytest.raises(ValueError, match="average"):
        M.F1Score(average="samples")
    with pytest.raises(ValueError, match="beta"):
        M.FBetaScore(beta=0.0)
    with pytest.raises(ValueError, match="threshold"):
        M.F1Score(threshold=1.5)
    with pytest.raises(ValueError, match="2D inputs"):
        M.F1Score().update_state(np.ones((2, 3, 4)), np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match="class_aggregation"):
        M.R2Score(class_aggregation="median")
    with pytest.raises(ValueError, match="num_regressors"):
        M.R2Score(num_regressors=-1)
    with pytest.raises(ValueError, match="out of range"):
        M.IoU(num_classes=2, target_class_ids=[2])
    with pytest.raises(ValueError, match="num_classes"):
        M.MeanIoU(num_classes=0)
    with pytest.raises(ValueError, match="same number of class ids"):
        M.MeanIoU(3).update_state([0, 1, 2], [0, 1])


def test_adjusted_r2_falls_back_with_a_warning_as_keras(keras):
    y, p = _batch("real1", 3), _batch("real1", 3)
    ours, ref = M.R2Score(num_regressors=5), keras.metrics.R2Score(num_regressors=5)
    ours.update_state(y, p)
    ref.update_state(y, p)
    with pytest.warns(UserWarning, match="More independent predictors"):
        got = ours.result()
    _close(got, ref.result())


def test_compile_fit_and_evaluate_with_the_new_metrics_match_keras(keras):
    x = RNG.random((24, 5)).astype("float32")
    y = RNG.integers(0, 2, (24, 3)).astype("float32")

    def build(lib):
        model = lib.Sequential([lib.Input((5,)), lib.layers.Dense(3, activation="sigmoid")])
        model.compile(
            optimizer="sgd",
            loss="binary_crossentropy",
            metrics=[
                "f1_score",
                lib.metrics.F1Score(average="micro", threshold=0.5, name="f1_micro"),
                lib.metrics.FBetaScore(beta=2.0, average="macro", name="f2"),
                "r2_score",
                "pearson_correlation",
                lib.metrics.BinaryIoU(name="biou"),
                lib.metrics.ConcordanceCorrelation(name="ccc"),
            ],
        )
        return model

    km, om = build(keras), build(kerasish)
    om.set_weights(km.get_weights())
    k = km.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    o = om.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    assert set(o) == set(k)
    for key in k:
        _close(np.asarray(o[key], "float32"), np.asarray(k[key], "float32"), rtol=1e-5, atol=1e-6)
    history = om.fit(x, y, batch_size=8, epochs=2, verbose=0).history
    assert {"f1_micro", "f2", "r2_score", "biou", "ccc"} <= set(history)
    assert all(np.all(np.isfinite(np.asarray(history[k], "float32"))) for k in ("f1_micro", "f2", "r2_score", "ccc"))


# -- no host sync, state on the data's device ------------------------------------------

_SYNC_NAMES = ("item", "tolist", "numpy", "cpu", "__bool__", "__float__", "__int__", "__index__")


def _tensor_cases():
    out = []
    for name, kwargs, tkind, pkind, wkind in CASES:
        if kwargs.get("num_regressors"):  # the adjusted R2 reads the sample count to pick its fall-back
            continue
        sw = None if wkind is None else _weights(wkind, 1, B)
        out.append((getattr(M, name)(**kwargs), torch.as_tensor(_make(tkind, B)), torch.as_tensor(_make(pkind, B)), sw))
    return out


def test_update_state_and_result_never_sync(monkeypatch):
    cases = _tensor_cases()

    def boom(*a, **k):
        raise AssertionError("host sync in a per-step code path")

    for n in _SYNC_NAMES:
        monkeypatch.setattr(torch.Tensor, n, boom)
    for m, y, p, sw in cases:
        m.update_state(y, p, sample_weight=None if sw is None else torch.as_tensor(sw))
        m.update_state(y, p)
        m.result()
        m.reset_state()
    monkeypatch.undo()


def test_state_follows_the_data_device():
    # The meta device stands in for an accelerator: tensors there have shapes, no data.
    for m, y, p, _ in _tensor_cases():
        m.update_state(y.to("meta"), p.to("meta"))
        assert m.device.type == "meta" and all(v.device.type == "meta" for v in m.variables), m
        assert m.result().device.type == "meta"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_state_on_cuda_matches_cpu():
    for m, y, p, sw in _tensor_cases():
        cpu = type(m).from_config(m.get_config())
        w = None if sw is None else torch.as_tensor(sw)
        m.update_state(y.cuda(), p.cuda(), sample_weight=None if w is None else w.cuda())
        cpu.update_state(y, p, sample_weight=w)
        assert all(v.is_cuda for v in m.variables)
        _close(m.result(), cpu.result())
