"""kerasish.metrics against keras.metrics (torch backend): values over several
weighted updates and a reset, configs and look-ups, compile-time resolution
of "accuracy", state device handling, and no host sync per update."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest
import torch

from kerasish import metrics as M
from tests.conftest import assert_config_like_keras, to_numpy

RNG = np.random.default_rng(7)
B, C = 7, 4


def _batch(kind, n=B, rank=2):
    lead = (n,) if rank == 2 else (n, 3)
    if kind == "onehot":
        return np.eye(C, dtype="float32")[RNG.integers(0, C, lead)]
    if kind == "sparse":
        return RNG.integers(0, C, lead).astype("int64")
    if kind == "sparse1":
        return RNG.integers(0, C, lead + (1,)).astype("int64")
    if kind == "probs":
        x = RNG.random(lead + (C,)).astype("float32") + 0.01
        return x / x.sum(-1, keepdims=True)
    if kind == "logits":
        return RNG.normal(size=lead + (C,)).astype("float32") * 2
    if kind == "bin1":
        return RNG.integers(0, 2, lead + (1,)).astype("float32")
    if kind == "sig1":
        return np.round(RNG.random(lead + (1,)), 2).astype("float32")  # ties on thresholds
    if kind == "binC":
        return RNG.integers(0, 2, lead + (C,)).astype("float32")
    if kind == "sigC":
        return RNG.random(lead + (C,)).astype("float32")
    if kind == "real":
        return RNG.normal(size=lead + (C,)).astype("float32")
    if kind == "pos":
        return (RNG.random(lead + (C,)) * 3 + 0.1).astype("float32")
    if kind == "pm1":
        return (RNG.integers(0, 2, lead + (C,)) * 2 - 1).astype("float32")
    raise KeyError(kind)


CASES = [
    ("Accuracy", {}, "sparse", "sparse"),
    ("BinaryAccuracy", {}, "bin1", "sig1"),
    ("BinaryAccuracy", {"threshold": 0.3}, "binC", "sigC"),
    ("CategoricalAccuracy", {}, "onehot", "probs"),
    ("SparseCategoricalAccuracy", {}, "sparse", "probs"),
    ("SparseCategoricalAccuracy", {}, "sparse1", "probs"),
    ("TopKCategoricalAccuracy", {"k": 2}, "onehot", "probs"),
    ("SparseTopKCategoricalAccuracy", {"k": 2}, "sparse", "logits"),
    ("SparseTopKCategoricalAccuracy", {"k": 3}, "sparse1", "probs"),
    ("MeanSquaredError", {}, "real", "real"),
    ("MeanAbsoluteError", {}, "real", "real"),
    ("MeanAbsolutePercentageError", {}, "real", "real"),
    ("MeanSquaredLogarithmicError", {}, "pos", "pos"),
    ("RootMeanSquaredError", {}, "real", "real"),
    ("CosineSimilarity", {}, "real", "real"),
    ("LogCoshError", {}, "real", "real"),
    ("KLDivergence", {}, "probs", "probs"),
    ("Poisson", {}, "pos", "pos"),
    ("Hinge", {}, "pm1", "real"),
    ("SquaredHinge", {}, "binC", "real"),
    ("CategoricalHinge", {}, "onehot", "real"),
    ("BinaryCrossentropy", {}, "bin1", "sig1"),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, "binC", "logits"),
    ("CategoricalCrossentropy", {}, "onehot", "probs"),
    ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.2}, "onehot", "logits"),
    ("SparseCategoricalCrossentropy", {}, "sparse", "probs"),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, "sparse", "logits"),
    ("AUC", {}, "bin1", "sig1"),
    ("AUC", {"curve": "PR"}, "bin1", "sig1"),
    ("AUC", {"curve": "PR", "summation_method": "majoring", "num_thresholds": 17}, "binC", "sigC"),
    ("AUC", {"summation_method": "minoring"}, "binC", "sigC"),
    ("AUC", {"curve": "PRGAIN"}, "bin1", "sig1"),
    ("AUC", {"from_logits": True}, "binC", "logits"),
    ("AUC", {"thresholds": [0.1, 0.35, 0.5, 0.8]}, "bin1", "sig1"),
    ("AUC", {"multi_label": True}, "binC", "sigC"),
    ("AUC", {"multi_label": True, "num_labels": C, "label_weights": [0.1, 0.2, 0.3, 0.4]}, "binC", "sigC"),
    ("AUC", {"label_weights": [0.5, 1.0, 2.0, 0.0]}, "binC", "sigC"),
    ("Precision", {}, "bin1", "sig1"),
    ("Precision", {"thresholds": [0.25, 0.5, 0.75]}, "binC", "sigC"),
    ("Precision", {"thresholds": [0.0, 0.25, 0.5, 0.75, 1.0]}, "bin1", "sig1"),
    ("Precision", {"top_k": 2}, "binC", "sigC"),
    ("Precision", {"class_id": 1}, "binC", "sigC"),
    ("Recall", {}, "bin1", "sig1"),
    ("Recall", {"thresholds": 0.3, "class_id": 2}, "binC", "sigC"),
    ("Recall", {"top_k": 1, "class_id": 0}, "binC", "sigC"),
    ("TruePositives", {}, "bin1", "sig1"),
    ("FalsePositives", {"thresholds": [0.2, 0.6]}, "binC", "sigC"),
    ("TrueNegatives", {}, "binC", "sigC"),
    ("FalseNegatives", {}, "bin1", "sig1"),
    ("SensitivityAtSpecificity", {"specificity": 0.5}, "bin1", "sig1"),
    ("SpecificityAtSensitivity", {"sensitivity": 0.4, "num_thresholds": 50}, "binC", "sigC"),
    ("PrecisionAtRecall", {"recall": 0.6}, "bin1", "sig1"),
    ("RecallAtPrecision", {"precision": 0.5, "class_id": 1}, "binC", "sigC"),
]


def _ids(cases):
    return [f"{c[0]}-{'-'.join(f'{k}={v}' for k, v in c[1].items()) or 'default'}-{c[2]}" for c in cases]


def _close(got, expected, rtol=1e-5, atol=1e-6):
    got, expected = to_numpy(got), to_numpy(expected)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol)


def _weights(i, n):
    return [None, RNG.random(n).astype("float32"), RNG.random((n, 1)).astype("float32"), None][i]


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_metric_matches_keras_over_weighted_updates_and_reset(keras, case):
    name, kwargs, tkind, pkind = case
    ours = getattr(M, name)(**kwargs)
    ref = getattr(keras.metrics, name)(**kwargs)
    for step in range(4):
        if step == 3:
            ours.reset_state()
            ref.reset_state()
        n = B + step
        y_true, y_pred = _batch(tkind, n), _batch(pkind, n)
        sw = _weights(step, n)
        ours.update_state(torch.as_tensor(y_true), torch.as_tensor(y_pred), sample_weight=None if sw is None else torch.as_tensor(sw))
        ref.update_state(y_true, y_pred, sample_weight=sw)
        got = ours.result()
        assert isinstance(got, torch.Tensor) and got.dtype == torch.float32
        _close(got, ref.result())
    assert len(ours.variables) == len(ref.variables)
    for v, rv in zip(ours.variables, ref.variables):
        _close(v, rv.value)
    assert not any(v.requires_grad for v in ours.variables)


SEQ_CASES = [c for c in CASES if c[0] in (
    "Accuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy", "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy",
    "MeanSquaredError", "RootMeanSquaredError", "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "BinaryAccuracy",
)]


@pytest.mark.parametrize("case", SEQ_CASES, ids=_ids(SEQ_CASES))
def test_metric_matches_keras_on_rank3_with_per_timestep_weights(keras, case):
    name, kwargs, tkind, pkind = case
    ours, ref = getattr(M, name)(**kwargs), getattr(keras.metrics, name)(**kwargs)
    for sw_shape in (None, (B, 3), (B, 1)):
        y_true, y_pred = _batch(tkind, rank=3), _batch(pkind, rank=3)
        sw = None if sw_shape is None else RNG.random(sw_shape).astype("float32")
        ours.update_state(y_true, y_pred, sample_weight=sw)  # numpy in
        ref.update_state(y_true, y_pred, sample_weight=sw)
        _close(ours.result(), ref.result())


def test_threshold_edges_zero_and_one_predictions(keras):
    y = np.array([[1], [0], [1], [0], [1], [0], [1]], "float32")
    p = np.array([[0.0], [0.0], [1.0], [1.0], [0.5], [0.25], [0.75]], "float32")
    for name, kwargs in (
        ("AUC", {}),
        ("AUC", {"curve": "PR", "num_thresholds": 5}),
        ("Precision", {"thresholds": [0.0, 0.25, 0.5, 0.75, 1.0]}),
        ("Recall", {"thresholds": [0.0, 0.5, 1.0]}),
        ("TruePositives", {"thresholds": [0.0, 0.5]}),
        ("SpecificityAtSensitivity", {"sensitivity": 0.7, "num_thresholds": 5}),
    ):
        ours, ref = getattr(M, name)(**kwargs), getattr(keras.metrics, name)(**kwargs)
        ours.update_state(y, p)
        ref.update_state(y, p)
        for v, rv in zip(ours.variables, ref.variables):
            _close(v, rv.value)
        _close(ours.result(), ref.result())


def test_mean_sum_and_wrapper_match_keras(keras):
    for name in ("Mean", "Sum"):
        ours, ref = getattr(M, name)(), getattr(keras.metrics, name)()
        for values, sw in (
            ([1.0, 3.0, 5.0, 7.0], None),
            (RNG.random((3, 4)).astype("float32"), RNG.random(3).astype("float32")),
            (RNG.random((3, 4, 2)).astype("float32"), RNG.random((3, 4)).astype("float32")),
            (2.5, None),
            (RNG.random(5).astype("float32"), 0.5),
        ):
            ours.update_state(values, sample_weight=sw)
            ref.update_state(values, sample_weight=sw)
            _close(ours.result(), ref.result())
        assert_config_like_keras(ours, ref)
    ours = M.MeanMetricWrapper(M.binary_accuracy, name="ba", threshold=0.7)
    ref = keras.metrics.MeanMetricWrapper(keras.metrics.binary_accuracy, name="ba", threshold=0.7)
    y, p = _batch("binC"), _batch("sigC")
    _close(ours(y, p), ref(y, p))
    assert ours.get_config() == ref.get_config()
    back = M.MeanMetricWrapper.from_config(ours.get_config())
    assert back._fn is M.binary_accuracy and back._fn_kwargs == {"threshold": 0.7}
    assert M.MeanMetricWrapper(M.mse).name.startswith("mean_metric_wrapper")


FUNCTIONS = [
    ("accuracy", {}, "sparse", "sparse"),
    ("binary_accuracy", {"threshold": 0.4}, "bin1", "sig1"),
    ("categorical_accuracy", {}, "onehot", "probs"),
    ("sparse_categorical_accuracy", {}, "sparse1", "probs"),
    ("top_k_categorical_accuracy", {"k": 2}, "onehot", "probs"),
    ("sparse_top_k_categorical_accuracy", {"k": 2}, "sparse", "probs"),
]


@pytest.mark.parametrize("case", FUNCTIONS, ids=_ids(FUNCTIONS))
def test_metric_functions_match_keras(keras, case):
    name, kwargs, tk, pk = case
    for rank in (2, 3):
        y, p = _batch(tk, rank=rank), _batch(pk, rank=rank)
        keras_fn = getattr(keras.metrics, name, None)
        if keras_fn is None:
            from keras.src.metrics import accuracy_metrics

            keras_fn = getattr(accuracy_metrics, name)
        _close(getattr(M, name)(y, p, **kwargs), keras_fn(y, p, **kwargs))
    # ties: Keras counts a true class tied with the k-th score as in
    p = np.array([[0.5, 0.5, 0.1, 0.1]], "float32")
    assert float(M.sparse_top_k_categorical_accuracy(np.array([1]), p, k=1)[0]) == 1.0


def test_sorted_ids_top_k(keras):
    ids = np.array([[2, 0, 1, 3], [1, 3, 0, 2]], "float32")
    y = np.array([0, 2])
    ours = M.SparseTopKCategoricalAccuracy(k=2, from_sorted_ids=True)
    ref = keras.metrics.SparseTopKCategoricalAccuracy(k=2, from_sorted_ids=True)
    _close(ours(y, ids), ref(y, ids))
    assert ours.get_config() == ref.get_config()


# -- configs, look-ups, errors ------------------------------------------------

CONFIG_CASES = [c for i, c in enumerate(CASES) if i == 0 or c[:2] != CASES[i - 1][:2]]


@pytest.mark.parametrize("case", CONFIG_CASES, ids=_ids(CONFIG_CASES))
def test_config_matches_keras_and_round_trips(keras, case):
    name, kwargs = case[0], case[1]
    ours, ref = getattr(M, name)(**kwargs), getattr(keras.metrics, name)(**kwargs)
    cfg, rcfg = ours.get_config(), ref.get_config()
    if "label_weights" in rcfg and rcfg["label_weights"] is not None:  # Keras keeps a tensor there
        assert cfg["label_weights"] == pytest.approx(to_numpy(rcfg["label_weights"]).tolist())
        cfg, rcfg = {**cfg, "label_weights": None}, {**rcfg, "label_weights": None}
    assert cfg["dtype"] == "float32"
    assert_config_like_keras(cfg, rcfg)
    if "name" not in kwargs and not ref.name.startswith(("precision", "recall", "auc", "true_", "false_", "sensitivity", "specificity")):
        assert ours.name == ref.name
    again = type(ours).from_config(ours.get_config())
    assert again.get_config() == ours.get_config()
    s, rs = M.serialize(ours), keras.metrics.serialize(ref)
    assert (s["module"], s["class_name"], s["registered_name"]) == (rs["module"], rs["class_name"], rs["registered_name"])
    assert M.deserialize(s).get_config() == ours.get_config()


def test_auto_names_are_unique_like_keras(keras):
    from kerasish.engine.naming import clear_session

    clear_session()
    keras.backend.clear_session()
    ours = [M.Precision().name, M.Precision().name, M.AUC().name, M.AUC(name="x").name, M.Mean().name]
    ref = [keras.metrics.Precision().name, keras.metrics.Precision().name, keras.metrics.AUC().name, "x", keras.metrics.Mean().name]
    assert ours == ref


GET_NAMES = [
    "accuracy", "acc", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy", "top_k_categorical_accuracy",
    "sparse_top_k_categorical_accuracy", "mse", "MSE", "mae", "mape", "msle", "mean_squared_error", "root_mean_squared_error",
    "auc", "AUC", "precision", "recall", "Precision", "binary_crossentropy", "bce", "categorical_crossentropy",
    "sparse_categorical_crossentropy", "kl_divergence", "poisson", "hinge", "squared_hinge", "categorical_hinge",
    "cosine_similarity", "log_cosh_error", "true_positives", "mean", "sum", "TopKCategoricalAccuracy",
]


def test_get_matches_keras(keras):
    for name in GET_NAMES:
        try:
            ref = keras.metrics.get(name)
        except ValueError:
            with pytest.raises(ValueError, match=f"Unknown metric: '{name}'"):
                M.get(name)
            continue
        ours = M.get(name)
        assert type(ours).__name__ == type(ref).__name__, name
        assert_config_like_keras(ours, ref)
    assert M.get(None) is None
    assert M.get(M.mse) is M.mse
    inst = M.AUC()
    assert M.get(inst) is inst and isinstance(M.get(M.Recall), M.Recall)
    assert M.get({"class_name": "Precision", "config": {"thresholds": 0.7}}).thresholds == [0.7]
    assert M.get(keras.metrics.serialize(keras.metrics.AUC(curve="PR"))).curve == "PR"


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match=r"Unknown metric: 'foo'.*precision"):
        M.get("foo")
    with pytest.raises(ValueError, match=r"Unknown metric: 'foo'.*'accuracy'"):
        M.resolve_metric("foo", np.zeros(3), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="Expected metric, received `None`"):
        M.resolve_metric(None, np.zeros(3), np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"Threshold values must be in \[0, 1\]. Received: \[1.5\]"):
        M.Precision(thresholds=[0.5, 1.5])
    with pytest.raises(ValueError, match="Invalid AUC curve value"):
        M.AUC(curve="XY")
    with pytest.raises(ValueError, match="summation method"):
        M.AUC(summation_method="avg")
    with pytest.raises(ValueError, match="num_thresholds"):
        M.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match="num_labels"):
        M.AUC(num_labels=3)
    with pytest.raises(ValueError, match="specificity"):
        M.SensitivityAtSpecificity(1.5)
    with pytest.raises(ValueError, match="class_id"):
        M.Precision(class_id=0).update_state(np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match="aggregation"):
        M.Mean().add_variable((), aggregation="max")
    with pytest.raises(TypeError, match="fn"):
        M.MeanMetricWrapper("mse")


# -- compile-time resolution ------------------------------------------------------

RESOLVE_CASES = [
    ("accuracy", (8,), (8, 3)),
    ("accuracy", (8, 1), (8, 3)),
    ("accuracy", (8, 3), (8, 3)),
    ("accuracy", (8, 1), (8, 1)),
    ("accuracy", (8,), (8, 1)),
    ("acc", (8, 5), (8, 5, 3)),
    ("acc", (8, 5, 3), (8, 5, 3)),
    ("Accuracy", (8, 1), (8, 4)),
    ("ACC", (8, 4), (8, 4)),
    ("mse", (8, 3), (8, 3)),
    ("mae", (8, 3), (8, 3)),
    ("auc", (8, 1), (8, 1)),
    ("AUC", (8, 1), (8, 1)),
    ("precision", (8, 1), (8, 1)),
    ("recall", (8, 1), (8, 1)),
    ("top_k_categorical_accuracy", (8, 3), (8, 3)),
    ("sparse_top_k_categorical_accuracy", (8,), (8, 3)),
    ("binary_crossentropy", (8, 1), (8, 1)),
    ("sparse_categorical_crossentropy", (8,), (8, 3)),
    ("categorical_accuracy", (8, 3), (8, 3)),
    ("root_mean_squared_error", (8, 3), (8, 3)),
]


@pytest.mark.parametrize("ident,t_shape,p_shape", RESOLVE_CASES)
def test_resolve_metric_picks_what_keras_picks(keras, ident, t_shape, p_shape):
    from keras.src.trainers.compile_utils import get_metric

    y_true = np.zeros(t_shape, "float32")
    y_pred = np.full(p_shape, 0.5, "float32")
    ref = get_metric(ident, keras.ops.convert_to_tensor(y_true), keras.ops.convert_to_tensor(y_pred))
    ours = M.resolve_metric(ident, torch.as_tensor(y_true), torch.as_tensor(y_pred))
    assert (type(ours).__name__, ours.name) == (type(ref).__name__, ref.name)
    shapes = M.resolve_metric(ident, t_shape, p_shape)  # shapes are enough
    assert (type(shapes).__name__, shapes.name) == (type(ref).__name__, ref.name)


def test_resolve_metric_functions_instances_and_extensions(keras):
    from keras.src.trainers.compile_utils import get_metric

    y, p = np.zeros((4, 3), "float32"), np.full((4, 3), 1 / 3, "float32")
    for ours_id, ref_id in ((M.mse, keras.metrics.mean_squared_error), (M.categorical_accuracy, keras.metrics.categorical_accuracy)):
        ref = get_metric(ref_id, y, p)
        ours = M.resolve_metric(ours_id, y, p)
        assert type(ours) is M.MeanMetricWrapper and ours.name == ref.name
        _close(ours(y, p), ref(y, p))
    inst = M.AUC(name="my_auc")
    assert M.resolve_metric(inst, y, p) is inst and inst.name == "my_auc"
    # kerasish extensions: "crossentropy" / "ce" follow the shape rule; the loss helps when shapes are unknown
    ce = M.resolve_metric("ce", np.zeros(4), p, loss=M.SparseCategoricalCrossentropy(from_logits=True))
    assert type(ce) is M.SparseCategoricalCrossentropy and ce.name == "ce" and ce.from_logits
    assert type(M.resolve_metric("crossentropy", (4, 1), (4, 1))) is M.BinaryCrossentropy
    assert type(M.resolve_metric("accuracy", None, None, loss="sparse_categorical_crossentropy")) is M.SparseCategoricalAccuracy
    assert type(M.resolve_metric("accuracy", None, (None, 1), loss="mse")) is M.BinaryAccuracy
    assert type(M.resolve_metric("huber", y, p)) is M.MeanMetricWrapper


def test_resolve_metric_agrees_with_a_compiled_keras_model(keras):
    x = RNG.random((16, 4)).astype("float32")
    for units, act, loss, y in (
        (3, "softmax", "sparse_categorical_crossentropy", RNG.integers(0, 3, 16)),
        (3, "softmax", "categorical_crossentropy", np.eye(3, dtype="float32")[RNG.integers(0, 3, 16)]),
        (1, "sigmoid", "binary_crossentropy", RNG.integers(0, 2, (16, 1)).astype("float32")),
    ):
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(units, activation=act)])
        model.compile(loss=loss, metrics=["accuracy", "acc"])
        logs = model.evaluate(x, y, return_dict=True, verbose=0, batch_size=16)
        ref = [m for ml in model._compile_metrics._flat_metrics if ml is not None for m in ml.metrics]
        y_pred = to_numpy(model(x))
        ours = [M.resolve_metric(i, torch.as_tensor(y), torch.as_tensor(y_pred), loss=loss) for i in ("accuracy", "acc")]
        assert [(type(m).__name__, m.name) for m in ours] == [(type(m).__name__, m.name) for m in ref]
        for m in ours:
            m.update_state(torch.as_tensor(y), torch.as_tensor(y_pred))
            assert float(m.result()) == pytest.approx(logs[m.name], rel=1e-5)


# -- device, no sync, no grad, custom metrics ---------------------------------------

class _NoSync:
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


def _tensor_cases():
    out = []
    for name, kwargs, tk, pk in CASES:
        out.append((getattr(M, name)(**kwargs), torch.as_tensor(_batch(tk)), torch.as_tensor(_batch(pk))))
    return out


def test_update_state_and_result_never_sync(monkeypatch):
    cases = _tensor_cases()
    sw = torch.rand(B)
    with _NoSync(monkeypatch):
        for m, y, p in cases:
            m.update_state(y, p, sample_weight=sw)
            m.update_state(y, p)
            m.result()
            m.reset_state()


def test_state_follows_the_data_device():
    # The meta device stands in for an accelerator: tensors there have shapes, no data.
    for m, y, p in _tensor_cases():
        assert all(v.device.type == "cpu" for v in m.variables)
        m.update_state(y.to("meta"), p.to("meta"), sample_weight=torch.ones(B, device="meta"))
        assert m.device.type == "meta" and all(v.device.type == "meta" for v in m.variables), m
        assert m.result().device.type == "meta"
        m.reset_state()
        assert m.variables[0].device.type == "meta"
        fresh = type(m).from_config(m.get_config()).to("meta")  # moved before any data
        assert all(v.device.type == "meta" for v in fresh.variables)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_state_on_cuda_matches_cpu():
    for m, y, p in _tensor_cases():
        cpu = type(m).from_config(m.get_config())
        m.update_state(y.cuda(), p.cuda())
        cpu.update_state(y, p)
        assert all(v.is_cuda for v in m.variables)
        _close(m.result(), cpu.result())


def test_no_autograd_graph_in_state():
    p = torch.softmax(torch.randn(B, C, requires_grad=True), -1)
    y = torch.as_tensor(_batch("sparse"))
    for m in (M.SparseCategoricalCrossentropy(), M.Mean(), M.AUC(multi_label=True)):
        if type(m) is M.Mean:
            m.update_state(p.sum(-1))
        elif isinstance(m, M.AUC):
            m.update_state(torch.nn.functional.one_hot(y, C), p)
        else:
            m.update_state(y, p)
        assert not m.result().requires_grad and all(not v.requires_grad for v in m.variables)


def test_custom_metric_like_keras():
    class CountAbove(M.Metric):
        def __init__(self, threshold=0.5, name="count_above", **kwargs):
            super().__init__(name=name, **kwargs)
            self.threshold = threshold
            self.count = self.add_variable((), initializer="zeros", name="count")
            self.seen = self.add_variable((2,), initializer="ones", name="seen")
            self.inner = M.Mean(name="inner")

        def update_state(self, y_true, y_pred, sample_weight=None):
            self.count = self.count + (y_pred > self.threshold).sum()  # re-assignment is tracked
            self.seen.add_(1.0)
            self.inner.update_state(y_pred)

        def result(self):
            return self.count + self.inner.result()

        def get_config(self):
            return {**super().get_config(), "threshold": self.threshold}

    m = CountAbove()
    assert [tuple(v.shape) for v in m.variables] == [(), (2,), (), ()]
    assert m.variable_names == ["count", "seen", "total", "count"]
    assert float(m.seen[0]) == 1.0
    p = torch.tensor([0.2, 0.7, 0.9], requires_grad=True)
    value = m(None, p)
    assert float(value) == pytest.approx(2 + 0.6) and not value.requires_grad
    assert m.variables[0] is m.count and float(m.variables[0]) == 2.0
    m.reset_state()
    m.update_state(None, p.detach().to("meta"))
    assert all(v.device.type == "meta" for v in m.variables) and m.inner.device.type == "meta"
    assert m.variables[0] is m.count and m.variables[1] is m.seen
    m = CountAbove()
    m.update_state(None, p)
    m.reset_state()
    assert all(float(v.sum()) == 0.0 for v in m.variables)
    assert CountAbove.from_config(m.get_config()).threshold == 0.5
    assert M.serialize(m)["registered_name"] == "CountAbove"

    class Forgot(M.Metric):
        def __init__(self):
            pass

        def update_state(self, y_true, y_pred, sample_weight=None):
            pass

    with pytest.raises(RuntimeError, match="super"):
        Forgot().add_variable(())
    with pytest.raises(RuntimeError, match="super"):
        Forgot().update_state(torch.ones(1), torch.ones(1))
