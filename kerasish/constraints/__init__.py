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

from kerasish.saving import serialization_lib
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


serialization_lib.register_builtins("constraints", _KERAS_MODULE, ALL_CONSTRAINTS)


def serialize(constraint):
    """Keras 3 dict form: ``{"module", "class_name", "config", "registered_name"}`` (None for None).

    Example:
        >>> from kerasish import constraints
        >>> constraints.serialize(constraints.MaxNorm(2))
        {'module': 'keras.constraints', 'class_name': 'MaxNorm', 'config': {'max_value': 2, 'axis': 0}, 'registered_name': None}
    """
    return serialization_lib.serialize_object_of(constraint, Constraint, "constraint")


def deserialize(config, custom_objects=None):
    """Build a constraint from a name (``"max_norm"``, ``"NonNeg"``...) or a
    Keras 2 / Keras 3 config dict. Custom classes and functions are found in
    ``custom_objects``, an active ``custom_object_scope`` or the
    ``register_keras_serializable`` registry."""
    return serialization_lib.deserialize_object_of(config, custom_objects, ALL_CONSTRAINTS, "constraint")


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
    return serialization_lib.get_object(identifier, deserialize, "constraint")
