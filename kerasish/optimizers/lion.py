"""Lion (Keras 3's ``keras.optimizers.Lion``): sign of an interpolated momentum.

The update runs with foreach ops in :class:`~kerasish.optimizers.torch_optimizers.KerasLion`.

Example::

    opt = kerasish.optimizers.Lion(learning_rate=1e-4, weight_decay=0.01)
"""

from __future__ import annotations

from ._common import ForeachOptimizer
from .base_optimizer import _check_number
from .torch_optimizers import KerasLion

__all__ = ["Lion"]


class Lion(ForeachOptimizer):
    """Lion (EvoLved Sign Momentum).

    Args:
        learning_rate: float or schedule, default 0.001.
        beta_1: in (0, 1], default 0.9 (interpolation for the update's sign).
        beta_2: in [0, 1], default 0.99 (decay of the momentum).
        **kwargs: the base optimizer's arguments.

    Example: ``Lion(1e-4)``.
    """

    _torch_class = KerasLion
    _hyper = ("beta_1", "beta_2")

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.99,
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
        _check_number("beta_1", beta_1, allow_none=False)
        if beta_1 <= 0 or beta_1 > 1:
            raise ValueError(
                "Argument `beta_1` must be in the [0, 1] range. Otherwise, the optimizer degenerates to SignSGD. "
                f"Received: beta_1={beta_1}."
            )
        _check_number("beta_2", beta_2, allow_none=False, minimum=0.0, maximum=1.0)
        self.beta_1 = beta_1
        self.beta_2 = beta_2

    def _slot_layout(self):
        return [("momentum",)]
