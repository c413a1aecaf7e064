"""RMSprop (Keras 3's ``keras.optimizers.RMSprop``), with Keras's formula.

Keras puts epsilon inside the square root (``lr * g / sqrt(v + eps)``) and
calls the decay ``rho``; torch's RMSprop adds epsilon outside. The update runs
with foreach ops in :class:`~kerasish.optimizers.torch_optimizers.KerasRMSprop`.

Example::

    opt = kerasish.optimizers.RMSprop(learning_rate=1e-3, rho=0.9, momentum=0.5, centered=True)
"""

from __future__ import annotations

from ._common import ForeachOptimizer
from .base_optimizer import _check_number, _check_unit_interval
from .torch_optimizers import KerasRMSprop

__all__ = ["RMSprop"]


class RMSprop(ForeachOptimizer):
    """Root-mean-square propagation.

    Args:
        learning_rate: float or schedule, default 0.001.
        rho: decay of the squared-gradient average, in [0, 1), default 0.9.
        momentum: float >= 0, default 0.0.
        epsilon: default 1e-7.
        centered: divide by the gradient's estimated variance instead of its
            second moment, default False.
        **kwargs: the base optimizer's arguments.

    Example: ``RMSprop(1e-3, rho=0.95)``.
    """

    _torch_class = KerasRMSprop
    _hyper = ("rho", "momentum", "epsilon", "centered")

    def __init__(
        self,
        learning_rate=0.001,
        rho=0.9,
        momentum=0.0,
        epsilon=1e-7,
        centered=False,
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
        _check_number("momentum", momentum, allow_none=False, minimum=0.0)
        _check_number("epsilon", epsilon, allow_none=False, minimum=0.0)
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = bool(centered)

    def _slot_layout(self):
        layout = [("velocity",)]
        if self.momentum > 0:
            layout.append(("momentum",))
        if self.centered:
            layout.append(("average_gradient",))
        return layout
