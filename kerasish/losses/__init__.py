"""``kerasish.losses``: Keras 3's losses on torch tensors.

Functions (``categorical_crossentropy``, ``mse``, ...) return per-sample
losses; classes (``CategoricalCrossentropy``, ``MeanSquaredError``, ...) add
``sample_weight`` and a ``reduction``. Names, arguments, defaults and
configs are Keras 3's.

Looking losses up:

- :func:`get` behaves as ``keras.losses.get``: a string gives the FUNCTION
  (``get("mse")`` is ``mean_squared_error``) or, for a class name, an
  instance; a config dict, class or instance gives an instance.
- :func:`get_loss_object` always gives a :class:`Loss` instance (a function
  is wrapped in :class:`LossFunctionWrapper` named as Keras's trainer names
  it), ready to be called with ``sample_weight``.
- :func:`resolve_loss` is what ``compile(loss=...)`` does in Keras: as
  :func:`get_loss_object`, plus ``"crossentropy"`` / ``"ce"`` picking binary,
  sparse or categorical cross-entropy from the shapes.

Example::

    import kerasish as keras
    loss = keras.losses.get_loss_object("sparse_categorical_crossentropy")
    value = loss(labels, probs, sample_weight=w)
"""

from __future__ import annotations

import inspect
import types

from kerasish.engine.naming import to_snake_case
from kerasish.saving import serialization_lib
from kerasish.losses.loss import (
    REDUCTIONS,
    Loss,
    reduce_values,
    reduce_weighted_values,
    squeeze_or_expand_to_same_rank,
    standardize_reduction,
)
from kerasish.losses.losses import (
    BinaryCrossentropy,
    BinaryFocalCrossentropy,
    CategoricalCrossentropy,
    CategoricalFocalCrossentropy,
    CategoricalHinge,
    CosineSimilarity,
    Dice,
    Hinge,
    Huber,
    KLDivergence,
    LogCosh,
    LossFunctionWrapper,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    Poisson,
    SparseCategoricalCrossentropy,
    SquaredHinge,
    Tversky,
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
    cosine_similarity,
    dice,
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
    tversky,
)
from kerasish.losses.extra_losses import (
    CTC,
    CategoricalGeneralizedCrossEntropy,
    Circle,
    categorical_generalized_cross_entropy,
    circle,
    ctc,
)
from kerasish.losses.validation import check_targets, loss_kind

# Keras 3 (and legacy Keras 2) short names: these ARE the functions.
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh
bce = BCE = binary_crossentropy

_KERAS_MODULE = "keras.losses"

_CLASSES = [
    Loss,
    LossFunctionWrapper,
    KLDivergence,
    Poisson,
    BinaryCrossentropy,
    BinaryFocalCrossentropy,
    CategoricalCrossentropy,
    CategoricalFocalCrossentropy,
    SparseCategoricalCrossentropy,
    MeanSquaredError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError,
    CosineSimilarity,
    LogCosh,
    Huber,
    Hinge,
    SquaredHinge,
    CategoricalHinge,
    Dice,
    Tversky,
    Circle,
    CTC,
    # Exported by Keras but missing from its look-up table; kept here so its
    # configs deserialize.
    CategoricalGeneralizedCrossEntropy,
]
_FUNCTIONS = [
    kl_divergence,
    poisson,
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    sparse_categorical_crossentropy,
    mean_squared_error,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_logarithmic_error,
    cosine_similarity,
    log_cosh,
    huber,
    hinge,
    squared_hinge,
    categorical_hinge,
    dice,
    tversky,
    circle,
    ctc,
    categorical_generalized_cross_entropy,
]

#: Every name :func:`get` accepts -> class or function (Keras's table plus legacy aliases).
ALL_OBJECTS_DICT = {obj.__name__: obj for obj in _CLASSES + _FUNCTIONS}
ALL_OBJECTS_DICT.update(
    {
        "bce": binary_crossentropy,
        "BCE": binary_crossentropy,
        "kld": kl_divergence,
        "KLD": kl_divergence,
        "kullback_leibler_divergence": kl_divergence,
        "mae": mean_absolute_error,
        "MAE": mean_absolute_error,
        "mse": mean_squared_error,
        "MSE": mean_squared_error,
        "mape": mean_absolute_percentage_error,
        "MAPE": mean_absolute_percentage_error,
        "msle": mean_squared_logarithmic_error,
        "MSLE": mean_squared_logarithmic_error,
        "logcosh": log_cosh,
    }
)


_KNOWN = sorted(k for k in ALL_OBJECTS_DICT if k not in ("Loss", "LossFunctionWrapper"))
serialization_lib.register_builtins("losses", _KERAS_MODULE, ALL_OBJECTS_DICT)


def _unknown(identifier):
    return serialization_lib.unknown_object_error(identifier, "loss", known=_KNOWN)


def _lookup(name, custom_objects=None):
    return serialization_lib.lookup(name, custom_objects, ALL_OBJECTS_DICT)


def serialize_function(fn):
    """A function in Keras 3's form: ``{"module": "builtins", "class_name": "function", "config": NAME, "registered_name": "function"}``."""
    if isinstance(fn, types.FunctionType) and fn.__name__ == "<lambda>":
        raise ValueError("Cannot serialize a lambda loss: use a named function (registered with register_keras_serializable).")
    if getattr(fn, "__name__", None) is None:
        raise ValueError(f"Cannot serialize loss function {fn!r}.")
    return serialization_lib.serialize_function(fn)


def serialize(loss):
    """A loss (instance or function) in Keras 3's dict form.

    ``{"module", "class_name", "config", "registered_name"}``: built-in classes
    have module ``"keras.losses"`` and ``registered_name`` None; custom classes
    their module and registered name; functions ``class_name="function"``.
    """
    if loss is None:
        return None
    if isinstance(loss, Loss):
        return serialization_lib.serialize_class_instance(loss)
    if callable(loss) and not inspect.isclass(loss):
        return serialize_function(loss)
    raise ValueError(f"Cannot serialize loss {loss!r}: expected a Loss instance or a function.")


def deserialize(config, custom_objects=None):
    """Make a loss from a name or a (Keras 2 or 3) config dict.

    A name gives what :func:`get` gives (function or instance); a dict with
    ``class_name="function"`` the function; any other dict an instance.
    Custom classes are found in ``custom_objects``, custom object scopes and
    ``register_keras_serializable``'s registry.
    """
    if isinstance(config, dict) and config.get("class_name") == "function":
        obj = serialization_lib.resolve(config, custom_objects, ALL_OBJECTS_DICT)
        if obj is None or inspect.isclass(obj):
            name = config.get("config") if isinstance(config.get("config"), str) else config.get("registered_name")
            raise serialization_lib.unknown_object_error(name, "loss", function=True, known=_KNOWN)
        return obj
    return serialization_lib.deserialize_object_of(config, custom_objects, ALL_OBJECTS_DICT, "loss", known=_KNOWN)


def get(identifier):
    """Resolve a loss as ``keras.losses.get`` does.

    Args:
        identifier: None; a name (``"mse"``, ``"categorical_crossentropy"``,
            ``"Huber"``...); a config dict; a :class:`Loss` class or instance;
            a function.

    Returns None, a function (for function names and functions) or a
    :class:`Loss` instance. Raises ValueError naming an unknown identifier.
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
    if callable(obj):
        return obj
    raise ValueError(f"Could not interpret loss identifier: {identifier!r}")


def _object_name(obj):
    if hasattr(obj, "name"):
        return obj.name
    if hasattr(obj, "__name__"):
        return to_snake_case(obj.__name__)
    return to_snake_case(type(obj).__name__)


def get_loss_object(identifier):
    """Like :func:`get`, but always a :class:`Loss` instance (or None).

    A function is wrapped in :class:`LossFunctionWrapper` named as Keras's
    ``compile`` names it: the string the user gave (``"mse"``) or the
    function's snake-case name.

    Example::

        get_loss_object("mse").name          # "mse"
        get_loss_object("mse")(y, p, sample_weight=w)
    """
    if identifier is None:
        return None
    obj = get(identifier)
    if isinstance(obj, Loss):
        return obj
    name = identifier if isinstance(identifier, str) else _object_name(obj)
    return LossFunctionWrapper(obj, name=name)


def _shape(x):
    if x is None:
        return None
    if hasattr(x, "shape"):
        return tuple(x.shape)
    return tuple(x)


def is_binary_or_sparse_categorical(y_true, y_pred):
    """Keras's shape rule: ``(is_binary, is_sparse_categorical)``.

    Binary when the output's last axis is 1; sparse when ``y_true`` has fewer
    axes than ``y_pred`` or a last axis of 1 against more than one class.
    ``y_true`` / ``y_pred`` may be tensors or shapes.
    """
    t, p = _shape(y_true), _shape(y_pred)
    is_binary = p[-1] == 1
    is_sparse = len(t) < len(p) or (t[-1] == 1 and p[-1] is not None and p[-1] > 1)
    return is_binary, is_sparse


def resolve_loss(identifier, y_true=None, y_pred=None):
    """What Keras's ``compile(loss=identifier)`` makes for one output.

    As :func:`get_loss_object`, and ``"crossentropy"`` / ``"ce"`` (any case)
    become binary, sparse categorical or categorical cross-entropy by
    :func:`is_binary_or_sparse_categorical` on ``y_true`` / ``y_pred``
    (tensors or shapes), wrapped and named as the user wrote it.
    """
    if identifier is None:
        return None
    if isinstance(identifier, str) and identifier.lower() in ("crossentropy", "ce"):
        if y_true is None or y_pred is None:
            raise ValueError(f"loss={identifier!r} needs y_true and y_pred (or their shapes) to pick a cross-entropy.")
        is_binary, is_sparse = is_binary_or_sparse_categorical(y_true, y_pred)
        if is_binary:
            fn = binary_crossentropy
        elif is_sparse:
            fn = sparse_categorical_crossentropy
        else:
            fn = categorical_crossentropy
        return LossFunctionWrapper(fn, name=identifier)
    return get_loss_object(identifier)


__all__ = sorted(
    set(ALL_OBJECTS_DICT)
    | {
        "ALL_OBJECTS_DICT",
        "REDUCTIONS",
        "check_targets",
        "deserialize",
        "get",
        "get_loss_object",
        "is_binary_or_sparse_categorical",
        "loss_kind",
        "reduce_values",
        "reduce_weighted_values",
        "resolve_loss",
        "serialize",
        "serialize_function",
        "squeeze_or_expand_to_same_rank",
        "standardize_reduction",
    }
)
