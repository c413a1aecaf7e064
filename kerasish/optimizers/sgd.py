"""SGD (Keras 3's ``keras.optimizers.SGD``), with Keras's momentum formula.

Keras keeps ``m = momentum * m - lr * g`` and adds it to the weight (Nesterov:
``momentum * m - lr * g``); the learning rate is inside the momentum slot, so
a schedule changing the rate behaves as in Keras (torch's SGD keeps the rate
outside). The update runs with foreach ops in
:class:`~kerasish.optimizers.torch_optimizers.KerasSGD`.

Example::

    opt = kerasish.optimizers.SGD(learning_rate=0.1, momentum=0.9, nesterov=True)
"""

from __future__ import annotations

from ._common import ForeachOptimizer
from .base_optimizer import _check_number
from .torch_optimizers import KerasSGD

__all__ = ["SGD"]


class SGD(ForeachOptimizer):
    """Gradient descent with optional (Nesterov) momentum.

    Args:
        learning_rate: float or schedule, default 0.01.
        momentum: float in [0, 1], default 0.0 (no momentum slot is kept at 0).
        nesterov: bool, default False.
        **kwargs: the base optimizer's arguments (``weight_decay``, ``clipnorm``...).

    Example: ``SGD(0.01, momentum=0.9)``.
    """

    _torch_class = KerasSGD
    _hyper = ("momentum", "nesterov")

    def __init__(
        self,
        learning_rate=0.01,
        momentum=0.0,
        nesterov=False,
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
        try:
            _check_number("momentum", momentum, allow_none=False, minimum=0.0, maximum=1.0)
        except ValueError:
            raise ValueError(f"`momentum` must be a float between [0, 1]. Received: momentum={momentum!r}") from None
        self.momentum = momentum
        self.nesterov = bool(nesterov)

    def _slot_layout(self):
        return [("momentum",)] if self.momentum != 0 else []
