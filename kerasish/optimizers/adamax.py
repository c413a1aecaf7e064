"""Adamax (Keras 3's ``keras.optimizers.Adamax``), with Keras's formula.

Keras adds epsilon to the infinity norm after the max
(``lr * m / ((1 - b1^t) * (u + eps))``); torch puts it inside the max. The
update runs with foreach ops in :class:`~kerasish.optimizers.torch_optimizers.KerasAdamax`.

Example::

    opt = kerasish.optimizers.Adamax(learning_rate=2e-3)
"""

from __future__ import annotations

from ._common import ForeachOptimizer
from .base_optimizer import _check_number, _check_unit_interval
from .torch_optimizers import KerasAdamax

__all__ = ["Adamax"]


class Adamax(ForeachOptimizer):
    """Adam with the infinity norm.

    Args:
        learning_rate: float or schedule, default 0.001.
        beta_1: in [0, 1), default 0.9.
        beta_2: in [0, 1), default 0.999.
        epsilon: default 1e-7.
        **kwargs: the base optimizer's arguments.

    Example: ``Adamax(0.002, beta_1=0.8)``.
    """

    _torch_class = KerasAdamax
    _hyper = ("beta_1", "beta_2", "epsilon")

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
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
        _check_unit_interval("beta_1", beta_1)
        _check_unit_interval("beta_2", beta_2)
        _check_number("epsilon", epsilon, allow_none=False, minimum=0.0)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def _slot_layout(self):
        return [("momentum", "norm")]
