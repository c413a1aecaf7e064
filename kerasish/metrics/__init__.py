"""``kerasish.metrics``: Keras 3's metrics with state kept as torch tensors.

Every metric has ``update_state(y_true, y_pred, sample_weight=None)``,
``result()`` (a tensor on the data's device; no host sync),
``reset_state()``, ``variables`` and ``get_config()`` / ``from_config()``
with Keras's names, arguments and config keys. State starts on the CPU and
follows the data to its device on the first update (or ``metric.to(device)``).

Looking metrics up:

- :func:`get` behaves as ``keras.metrics.get``: a name (``"auc"``,
  ``"AUC"``, ``"mse"``, ``"accuracy"`` -> ``Accuracy``...) gives an
  instance; a function stays a function.
- :func:`resolve_metric` is what ``compile(metrics=[...])`` does in Keras
  for one output: ``"accuracy"`` / ``"acc"`` become ``BinaryAccuracy``,
  ``SparseCategoricalAccuracy`` or ``CategoricalAccuracy`` from the shapes
  of ``y_true`` / ``y_pred`` (the name stays what the user wrote), a
  function is wrapped in ``MeanMetricWrapper``, and a string names the
  metric.

Example::

    import kerasish as keras
    m = keras.metrics.resolve_metric("accuracy", y_true, y_pred)   # SparseCategoricalAccuracy named "accuracy"
    m.update_state(y_true, y_pred)
    float(m.result())
"""

from __future__ import annotations

import inspect

from kerasish import losses as _losses
from kerasish.engine.naming import to_snake_case
from kerasish.saving import serialization_lib
from kerasish.losses import is_binary_or_sparse_categorical, loss_kind
from kerasish.losses.losses import (
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
    hinge,
    huber,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)
from kerasish.metrics.accuracy_metrics import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from kerasish.metrics.confusion_metrics import (
    AUC,
    FalseNegatives,
    FalsePositives,
    Precision,
    PrecisionAtRecall,
    Recall,
    RecallAtPrecision,
    SensitivityAtSpecificity,
    SpecificityAtSensitivity,
    TrueNegatives,
    TruePositives,
)
from kerasish.metrics.correlation_metrics import (
    ConcordanceCorrelation,
    PearsonCorrelation,
    R2Score,
    concordance_correlation,
    pearson_correlation,
)
from kerasish.metrics.f_score_metrics import F1Score, FBetaScore
from kerasish.metrics.iou_metrics import BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU
from kerasish.metrics.metric import Metric
from kerasish.metrics.probabilistic_metrics import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    CategoricalHinge,
    Hinge,
    KLDivergence,
    Poisson,
    SparseCategoricalCrossentropy,
    SquaredHinge,
)
from kerasish.metrics.reduction_metrics import Mean, MeanMetricWrapper, Sum
from kerasish.metrics.regression_metrics import (
    CosineSimilarity,
    LogCoshError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    RootMeanSquaredError,
)

# Keras 2 short names of the metric functions (``keras.metrics.mse`` etc.).
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kl_divergence
logcosh = log_cosh

_KERAS_MODULE = "keras.metrics"

_CLASSES = [
    Metric,
    Mean,
    Sum,
    MeanMetricWrapper,
    MeanSquaredError,
    RootMeanSquaredError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError,
    CosineSimilarity,
    LogCoshError,
    AUC,
    FalseNegatives,
    FalsePositives,
    Precision,
    PrecisionAtRecall,
    Recall,
    RecallAtPrecision,
    SensitivityAtSpecificity,
    SpecificityAtSensitivity,
    TrueNegatives,
    TruePositives,
    Hinge,
    SquaredHinge,
    CategoricalHinge,
    KLDivergence,
    Poisson,
    BinaryCrossentropy,
    CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    TopKCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    R2Score,
    ConcordanceCorrelation,
    PearsonCorrelation,
    F1Score,
    FBetaScore,
    IoU,
    BinaryIoU,
    MeanIoU,
    OneHotIoU,
    OneHotMeanIoU,
]

#: Names :func:`get` accepts -> class (Keras 3's table: class names, their snake case, short aliases).
ALL_OBJECTS_DICT = {cls.__name__: cls for cls in _CLASSES}
ALL_OBJECTS_DICT.update({to_snake_case(cls.__name__): cls for cls in _CLASSES})
ALL_OBJECTS_DICT.update(
    {
        "bce": BinaryCrossentropy,
        "BCE": BinaryCrossentropy,
        "mse": MeanSquaredError,
        "MSE": MeanSquaredError,
        "mae": MeanAbsoluteError,
        "MAE": MeanAbsoluteError,
        "mape": MeanAbsolutePercentageError,
        "MAPE": MeanAbsolutePercentageError,
        "msle": MeanSquaredLogarithmicError,
        "MSLE": MeanSquaredLogarithmicError,
    }
)

#: Metric functions by name (for ``MeanMetricWrapper`` configs and function lookups).
METRIC_FUNCTIONS = {
    f.__name__: f
    for f in (
        accuracy,
        binary_accuracy,
        categorical_accuracy,
        sparse_categorical_accuracy,
        top_k_categorical_accuracy,
        sparse_top_k_categorical_accuracy,
        mean_squared_error,
        mean_absolute_error,
        mean_absolute_percentage_error,
        mean_squared_logarithmic_error,
        log_cosh,
        huber,
        kl_divergence,
        poisson,
        hinge,
        squared_hinge,
        categorical_hinge,
        binary_crossentropy,
        categorical_crossentropy,
        sparse_categorical_crossentropy,
        binary_focal_crossentropy,
        categorical_focal_crossentropy,
        pearson_correlation,
        concordance_correlation,
    )
}

_KNOWN = (
    ", ".join(sorted(k for k in ALL_OBJECTS_DICT if k not in ("Metric", "metric", "MeanMetricWrapper", "mean_metric_wrapper")))
    + " (and, in compile, 'accuracy'/'acc' and 'crossentropy'/'ce', chosen from the output's shape)"
)
# Names a metric config or string may give: classes first, then metric functions.
_BY_NAME = {**METRIC_FUNCTIONS, **ALL_OBJECTS_DICT}
serialization_lib.register_builtins("metrics", _KERAS_MODULE, _BY_NAME)


def _unknown(identifier):
    return serialization_lib.unknown_object_error(identifier, "metric", known=_KNOWN)


def _lookup(name, custom_objects=None):
    return serialization_lib.lookup(name, custom_objects, ALL_OBJECTS_DICT)


def _deserialize_function(config, custom_objects=None):
    """A metric/loss function from its name or its ``class_name="function"`` dict."""
    table = {**_losses.ALL_OBJECTS_DICT, **METRIC_FUNCTIONS}
    if isinstance(config, str):
        config = {"class_name": "function", "config": config, "registered_name": "function"}
    fn = serialization_lib.resolve(config, custom_objects, table)
    if fn is None or inspect.isclass(fn):
        name = config.get("config") if isinstance(config.get("config"), str) else config.get("registered_name")
        raise serialization_lib.unknown_object_error(name, "metric function", function=True, known=sorted(METRIC_FUNCTIONS))
    return fn


def serialize(metric):
    """A metric (instance or function) in Keras 3's dict form.

    ``{"module": "keras.metrics", "class_name", "config", "registered_name": None}``
    for built-ins; custom classes carry their module and registered name.
    """
    if metric is None:
        return None
    if isinstance(metric, Metric):
        return serialization_lib.serialize_class_instance(metric)
    if callable(metric) and not inspect.isclass(metric):
        return _losses.serialize_function(metric)
    raise ValueError(f"Cannot serialize metric {metric!r}: expected a Metric instance or a function.")


def deserialize(config, custom_objects=None):
    """Make a metric from a name or a (Keras 2 or 3) config dict.

    Custom classes are found in ``custom_objects``, custom object scopes and
    ``register_keras_serializable``'s registry.
    """
    if isinstance(config, dict) and config.get("class_name") == "function":
        return _deserialize_function(config, custom_objects)
    return serialization_lib.deserialize_object_of(config, custom_objects, _BY_NAME, "metric", known=_KNOWN)


def get(identifier):
    """Resolve a metric as ``keras.metrics.get`` does.

    Args:
        identifier: None; a name (``"auc"``, ``"AUC"``, ``"mse"``,
            ``"accuracy"``...); a config dict; a :class:`Metric` class or
            instance; a function.

    Returns None, a :class:`Metric` instance, or the function given.
    Raises ValueError naming an unknown identifier and listing known ones.
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = _lookup(identifier)
        if obj is None:
            raise _unknown(identifier)
    else:
        obj = identifier
    if inspect.isclass(obj):
        return obj()
    if callable(obj) or isinstance(obj, Metric):
        return obj
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}")


def _object_name(obj):
    if hasattr(obj, "name"):
        return obj.name
    if hasattr(obj, "__name__"):
        return to_snake_case(obj.__name__)
    return to_snake_case(type(obj).__name__)


def _pick_by_shape(y_true, y_pred, loss):
    """(is_binary, is_sparse): from the shapes as Keras does; from the loss when ``y_true`` is unknown."""
    if y_true is not None and y_pred is not None:
        return is_binary_or_sparse_categorical(y_true, y_pred)
    kind = loss_kind(loss) if loss is not None else None
    p_last = None
    if y_pred is not None:
        shape = tuple(y_pred.shape) if hasattr(y_pred, "shape") else tuple(y_pred)
        p_last = shape[-1] if shape else None
    if kind == "binary" or p_last == 1:
        return True, False
    if kind == "sparse":
        return False, True
    if kind is None and y_pred is None:
        raise ValueError("resolve_metric('accuracy') needs y_true and y_pred (or their shapes), or a loss to go by.")
    return False, False


def resolve_metric(identifier, y_true=None, y_pred=None, loss=None):
    """What Keras's ``compile(metrics=[identifier])`` makes for one output.

    Args:
        identifier: a metric name, function, class, instance or config dict.
        y_true, y_pred: the output's labels and predictions (tensors) or just
            their shapes; used for ``"accuracy"`` / ``"acc"`` and
            ``"crossentropy"`` / ``"ce"``.
        loss: the output's loss. Keras 3 does NOT look at it; it is used here
            only when ``y_true`` / ``y_pred`` are not given, and to carry the
            loss's ``from_logits`` into a ``"crossentropy"`` metric.

    Returns a :class:`Metric` named as Keras names it: the string given
    (``"acc"`` stays ``"acc"``, ``"mse"`` stays ``"mse"``), or the object's
    name. ``"accuracy"`` becomes ``BinaryAccuracy`` when the output's last
    axis is 1, ``SparseCategoricalAccuracy`` when ``y_true`` has fewer axes
    than ``y_pred`` (or a last axis of 1 against several classes), else
    ``CategoricalAccuracy``. ``"crossentropy"`` / ``"ce"`` (a kerasish
    extension: Keras's metrics do not know it) follows the same rule.

    Raises ValueError for None or an unknown name (listing the known ones).
    """
    if identifier is None:
        raise ValueError("Expected metric, received `None`")
    key = str(identifier).lower() if isinstance(identifier, str) else None
    if key in ("accuracy", "acc"):
        is_binary, is_sparse = _pick_by_shape(y_true, y_pred, loss)
        if is_binary:
            metric = BinaryAccuracy(name=identifier)
        elif is_sparse:
            metric = SparseCategoricalAccuracy(name=identifier)
        else:
            metric = CategoricalAccuracy(name=identifier)
    elif key in ("crossentropy", "ce"):
        is_binary, is_sparse = _pick_by_shape(y_true, y_pred, loss)
        from_logits = bool(getattr(loss, "from_logits", False) or getattr(loss, "_fn_kwargs", {}).get("from_logits", False))
        if is_binary:
            metric = BinaryCrossentropy(name=identifier, from_logits=from_logits)
        elif is_sparse:
            metric = SparseCategoricalCrossentropy(name=identifier, from_logits=from_logits)
        else:
            metric = CategoricalCrossentropy(name=identifier, from_logits=from_logits)
    else:
        if isinstance(identifier, str):
            obj = _lookup(identifier)
            if obj is None:
                obj = METRIC_FUNCTIONS.get(identifier)
            if obj is None:
                raise _unknown(identifier)
            metric = obj() if inspect.isclass(obj) else obj
        else:
            metric = get(identifier)
    name = identifier if isinstance(identifier, str) else _object_name(metric)
    if not isinstance(metric, Metric):
        metric = MeanMetricWrapper(metric)
    metric.name = name
    return metric


__all__ = sorted(
    {cls.__name__ for cls in _CLASSES}
    | set(METRIC_FUNCTIONS)
    | {
        "ALL_OBJECTS_DICT",
        "METRIC_FUNCTIONS",
        "deserialize",
        "get",
        "resolve_metric",
        "serialize",
        "mse",
        "mae",
        "mape",
        "msle",
        "kld",
        "logcosh",
        "MSE",
        "MAE",
        "MAPE",
        "MSLE",
        "KLD",
    }
)
