"""Weight constraints, as ``keras.constraints``: projections applied to a
weight after each optimizer update.

Pass one to a layer (``Dense(4, kernel_constraint=MaxNorm(2))``, or
``kernel_constraint="max_norm"``) or to ``Layer.add_weight(constraint=...)``.
After every ``optimizer.step()`` (so in ``fit`` after every batch) each
trainable weight that has a constraint is replaced by ``constraint(weight)``,
computed on the weight in Keras layout (a Dense kernel is ``(in, out)``, a
Conv2D kernel ``(kh, kw, in, out)``), so ``axis`` means what it means in Keras:
``MaxNorm(axis=0)`` on a Dense kernel bounds the norm of each output unit's
incoming weights, ``axis=[0, 1, 2]`` on a Conv2D kernel bounds each filter.
The norm constraints use Keras's formula ``w * target_norm / (1e-7 + norm)``.

``get`` / ``serialize`` / ``deserialize`` read and write Keras 3's config form,
``{"module": "keras.constraints", "class_name": "MaxNorm", "config": {...},
"registered_name": None}``, so layer configs and ``.keras`` files move between
Keras and kerasish with their constraints.
"""

from __future__ import annotations

import inspect

from kerasish.constraints.constraints import (
    Constraint,
    MaxNorm,
    MinMaxNorm,
    NonNeg,
    UnitNorm,
    max_norm,
    min_max_norm,
    non_neg,
    unit_norm,
)

__all__ = [
    "Constraint",
    "MaxNorm",
    "MinMaxNorm",
    "NonNeg",
    "UnitNorm",
    "max_norm",
    "min_max_norm",
    "non_neg",
    "unit_norm",
    "get",
    "serialize",
    "deserialize",
    "ALL_CONSTRAINTS",
]

_KERAS_MODULE = "keras.constraints"

#: Names ``get()`` / ``deserialize()`` accept -> class: class names and snake_case, as Keras.
ALL_CONSTRAINTS = {
    "Constraint": Constraint,
    "constraint": Constraint,
    "MaxNorm": MaxNorm,
    "max_norm": MaxNorm,
    "MinMaxNorm": MinMaxNorm,
    "min_max_norm": MinMaxNorm,
    "NonNeg": NonNeg,
    "non_neg": NonNeg,
    "UnitNorm": UnitNorm,
    "unit_norm": UnitNorm,
}


def _unknown(identifier):
    return ValueError(
        f"Could not interpret constraint identifier: {identifier!r}. "
        f"Known: {', '.join(sorted(ALL_CONSTRAINTS))}"
    )


def _lookup(name, custom_objects):
    """``name`` in ``custom_objects``, the active custom-object scopes and
    registry, then among the built-in constraints."""
    if name is None:
        return None
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    from kerasish.saving.object_registration import get_registered_object

    return get_registered_object(name, None, ALL_CONSTRAINTS)


def _registered_name(cls):
    return cls.__dict__.get("_registered_name") or cls.__name__


def serialize(constraint):
    """Keras 3 dict form: ``{"module", "class_name", "config", "registered_name"}`` (None for None).

    Example:
        >>> from kerasish import constraints
        >>> constraints.serialize(constraints.MaxNorm(2))
        {'module': 'keras.constraints', 'class_name': 'MaxNorm', 'config': {'max_value': 2, 'axis': 0}, 'registered_name': None}
    """
    if constraint is None:
        return None
    if isinstance(constraint, Constraint):
        cls = type(constraint)
        builtin = ALL_CONSTRAINTS.get(cls.__name__) is cls
        return {
            "module": _KERAS_MODULE if builtin else cls.__module__,
            "class_name": cls.__name__,
            "config": constraint.get_config(),
            "registered_name": None if builtin else _registered_name(cls),
        }
    if inspect.isfunction(constraint) and constraint.__name__ != "<lambda>":
        return {
            "module": constraint.__module__,
            "class_name": "function",
            "config": constraint.__name__,
            "registered_name": constraint.__dict__.get("_registered_name") or constraint.__name__,
        }
    raise ValueError(
        f"Cannot serialize constraint {constraint!r}: use a `kerasish.constraints.Constraint` "
        "subclass with get_config(), or a named function."
    )


def deserialize(config, custom_objects=None):
    """Build a constraint from a name (``"max_norm"``, ``"NonNeg"``...) or a
    Keras 2 / Keras 3 config dict. Custom classes and functions are found in
    ``custom_objects``, an active ``custom_object_scope`` or the
    ``register_keras_serializable`` registry."""
    if config is None:
        return None
    if isinstance(config, str):
        obj = _lookup(config, custom_objects)
        if obj is None:
            raise _unknown(config)
        return obj() if inspect.isclass(obj) else obj
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Could not interpret constraint config: {config!r}")
    class_name = config["class_name"]
    inner = config.get("config")
    if class_name == "function":
        name = inner if isinstance(inner, str) else config.get("registered_name")
        obj = _lookup(name, custom_objects) or _lookup(config.get("registered_name"), custom_objects)
        if obj is None:
            raise _unknown(name)
        return obj
    obj = _lookup(config.get("registered_name"), custom_objects) or _lookup(class_name, custom_objects)
    if obj is None:
        raise _unknown(class_name)
    if not inspect.isclass(obj):
        return obj
    inner = inner or {}
    return obj.from_config(inner) if hasattr(obj, "from_config") else obj(**inner)


def get(identifier):
    """Resolve a constraint: None, a name, a config dict, a Constraint (instance
    or class) or any callable ``w -> w``.

    Example:
        >>> from kerasish import constraints
        >>> constraints.get("non_neg")
        NonNeg()
        >>> constraints.get({"class_name": "MaxNorm", "config": {"max_value": 3}})
        MaxNorm(max_value=3, axis=0)
    """
    if identifier is None:
        return None
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if inspect.isclass(identifier):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret constraint identifier: {identifier!r}")
