"""Nadam (Keras 3's ``keras.optimizers.Nadam``), with Keras's momentum schedule.

Keras's momentum schedule is ``u_t = beta_1 * (1 - 0.5 * 0.96^t)`` with the
running product ``u_product`` kept as one optimizer variable (saved last, after
the slots, as Keras does). The update runs with foreach ops in
:class:`~kerasish.optimizers.torch_optimizers.KerasNadam`.

Example::

    opt = kerasish.optimizers.Nadam(learning_rate=2e-3)
"""

from __future__ import annotations

import numpy as np

from ._common import ForeachOptimizer
from .base_optimizer import _check_number, _check_unit_interval, _StateView
from .torch_optimizers import KerasNadam

__all__ = ["Nadam"]


class Nadam(ForeachOptimizer):
    """Adam with Nesterov momentum.

    Args:
        learning_rate: float or schedule, default 0.001.
        beta_1: in [0, 1), default 0.9.
        beta_2: in [0, 1), default 0.999.
        epsilon: default 1e-7.
        **kwargs: the base optimizer's arguments.

    Example: ``Nadam(0.002)``.
    """

    _torch_class = KerasNadam
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
        return [("momentum", "velocity")]

    def _u_product(self) -> float:
        return float(self._torch_optimizer.param_groups[0]["u_product"])

    def _set_u_product(self, value):
        for group in self._torch_optimizer.param_groups:
            group["u_product"] = float(value)

    def _extra_state(self):
        return self._u_product()

    def _set_extra_state(self, state):
        self._set_u_product(state)

    def _extra_variables(self):
        dtype = str(self._params[0].dtype).replace("torch.", "") if self._params else "float32"
        return [
            _StateView(
                "u_product",
                "variable",
                (),
                dtype,
                lambda: np.asarray(self._u_product(), dtype="float32" if dtype == "bfloat16" else dtype),
                lambda a: self._set_u_product(float(a)),
            )
        ]
