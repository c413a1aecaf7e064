"""Adagrad (Keras 3's ``keras.optimizers.Adagrad``), with Keras's formula.

Keras starts the accumulator at ``initial_accumulator_value`` and divides by
``sqrt(acc + eps)`` (torch adds epsilon outside the root). The update runs with
foreach ops in :class:`~kerasish.optimizers.torch_optimizers.KerasAdagrad`.

Example::

    opt = kerasish.optimizers.Adagrad(learning_rate=0.01)
"""

from __future__ import annotations

from ._common import ForeachOptimizer
from .base_optimizer import _check_number
from .torch_optimizers import KerasAdagrad

__all__ = ["Adagrad"]


class Adagrad(ForeachOptimizer):
    """Adaptive gradient: per-element rates from the sum of squared gradients.

    Args:
        learning_rate: float or schedule, default 0.001.
        initial_accumulator_value: float >= 0, default 0.1.
        epsilon: default 1e-7.
        **kwargs: the base optimizer's arguments.

    Example: ``Adagrad(0.01, initial_accumulator_value=0.0)``.
    """

    _torch_class = KerasAdagrad
    _hyper = ("initial_accumulator_value", "epsilon")

    def __init__(
        self,
        learning_rate=0.001,
        initial_accumulator_value=0.1,
        epsilon=1e-7,
        weight_decay=None,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        loss_scale_factor=None,
        gradient_accumulation_steps=None,
        name=None,
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate,
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            use_ema=use_ema,
            ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps,
            name=name,
            **kwargs,
        )
        _check_number("initial_accumulator_value", initial_accumulator_value, allow_none=False, minimum=0.0)
        _check_number("epsilon", epsilon, allow_none=False, minimum=0.0)
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon

    def _slot_layout(self):
        return [("accumulator",)]
