"""Probabilistic and hinge metrics (Keras 3): running means of the loss functions.

``BinaryCrossentropy``, ``CategoricalCrossentropy``,
``SparseCategoricalCrossentropy``, ``KLDivergence``, ``Poisson``, ``Hinge``,
``SquaredHinge``, ``CategoricalHinge``. Their per-sample values are those of
:mod:`kerasish.losses`; the average is weighted by ``sample_weight`` like
every ``MeanMetricWrapper``.

Example::

    m = kerasish.metrics.SparseCategoricalCrossentropy(from_logits=True)
    m.update_state(labels, logits)
"""

from __future__ import annotations

from kerasish.losses.losses import (
    binary_crossentropy,
    categorical_crossentropy,
    categorical_hinge,
    hinge,
    kl_divergence,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)
from kerasish.metrics.reduction_metrics import MeanMetricWrapper

__all__ = [
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy",
    "KLDivergence",
    "Poisson",
    "Hinge",
    "SquaredHinge",
    "CategoricalHinge",
]


class _Simple(MeanMetricWrapper):
    _fn_default = None
    _direction_default = "down"

    def __init__(self, name=None, dtype=None):
        super().__init__(fn=type(self)._fn_default, name=name, dtype=dtype)
        self._direction = self._direction_default

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class KLDivergence(_Simple):
    """Running mean Kullback-Leibler divergence. Args: name (``"kl_divergence"``), dtype."""

    _fn_default = staticmethod(kl_divergence)

    def __init__(self, name="kl_divergence", dtype=None):
        super().__init__(name=name, dtype=dtype)


class Poisson(_Simple):
    """Running mean Poisson loss. Args: name (``"poisson"``), dtype."""

    _fn_default = staticmethod(poisson)

    def __init__(self, name="poisson", dtype=None):
        super().__init__(name=name, dtype=dtype)


class Hinge(_Simple):
    """Running mean hinge loss. Args: name (``"hinge"``), dtype."""

    _fn_default = staticmethod(hinge)

    def __init__(self, name="hinge", dtype=None):
        super().__init__(name=name, dtype=dtype)


class SquaredHinge(_Simple):
    """Running mean squared hinge loss. Args: name (``"squared_hinge"``), dtype."""

    _fn_default = staticmethod(squared_hinge)

    def __init__(self, name="squared_hinge", dtype=None):
        super().__init__(name=name, dtype=dtype)


class CategoricalHinge(_Simple):
    """Running mean categorical hinge loss. Args: name (``"categorical_hinge"``), dtype."""

    _fn_default = staticmethod(categorical_hinge)

    def __init__(self, name="categorical_hinge", dtype=None):
        super().__init__(name=name, dtype=dtype)


class BinaryCrossentropy(MeanMetricWrapper):
    """Running mean binary cross-entropy.

    Args: name (``"binary_crossentropy"``), dtype, from_logits (False),
    label_smoothing (0).
    """

    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False, label_smoothing=0):
        super().__init__(binary_crossentropy, name, dtype=dtype, from_logits=from_logits, label_smoothing=label_smoothing)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self._direction = "down"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "from_logits": self.from_logits, "label_smoothing": self.label_smoothing}


class CategoricalCrossentropy(MeanMetricWrapper):
    """Running mean categorical cross-entropy.

    Args: name (``"categorical_crossentropy"``), dtype, from_logits (False),
    label_smoothing (0), axis (-1).
    """

    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False, label_smoothing=0, axis=-1):
        super().__init__(
            categorical_crossentropy, name, dtype=dtype, from_logits=from_logits, label_smoothing=label_smoothing, axis=axis
        )
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis
        self._direction = "down"

    def get_config(self):
        return {
            "name": self.name,
            "dtype": self.dtype,
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
            "axis": self.axis,
        }


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """Running mean sparse categorical cross-entropy.

    Args: name (``"sparse_categorical_crossentropy"``), dtype, from_logits
    (False), ignore_class (None), axis (-1).
    """

    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False, ignore_class=None, axis=-1):
        super().__init__(
            sparse_categorical_crossentropy, name=name, dtype=dtype, from_logits=from_logits, ignore_class=ignore_class, axis=axis
        )
        self.from_logits = from_logits
        self.ignore_class = ignore_class
        self.axis = axis
        self._direction = "down"

    def get_config(self):
        return {
            "name": self.name,
            "dtype": self.dtype,
            "from_logits": self.from_logits,
            "ignore_class": self.ignore_class,
            "axis": self.axis,
        }
