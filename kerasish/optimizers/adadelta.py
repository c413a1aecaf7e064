"""Adadelta (Keras 3's ``keras.optimizers.Adadelta``).

The update runs with foreach ops in
:class:`~kerasish.optimizers.torch_optimizers.KerasAdadelta` (the same formula
as torch's Adadelta; the class adds Keras's decoupled weight decay and slot names).

Example::

    opt = kerasish.optimizers.Adadelta(learning_rate=1.0, rho=0.95)
"""

from __future__ import annotations

from ._common import ForeachOptimizer
from .base_optimizer import _check_number, _check_unit_interval
from .torch_optimizers import KerasAdadelta

__all__ = ["Adadelta"]


class Adadelta(ForeachOptimizer):
    """Adadelta: rates from running averages of squared gradients and updates.

    Args:
        learning_rate: float or schedule, default 0.001 (Keras's default).
        rho: decay rate in [0, 1), default 0.95.
        epsilon: default 1e-7.
        **kwargs: the base optimizer's arguments.

    Example: ``Adadelta(1.0)``.
    """

    _torch_class = KerasAdadelta
    _hyper = ("rho", "epsilon")

    def __init__(
        self,
        learning_rate=0.001,
        rho=0.95,
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
        _check_unit_interval("rho", rho)
        _check_number("epsilon", epsilon, allow_none=False, minimum=0.0)
        self.rho = rho
        self.epsilon = epsilon

    def _slot_layout(self):
        return [("accumulated_grad", "accumulated_delta_var")]
