"""Shared plumbing for the optimizers whose update runs in :mod:`.torch_optimizers`."""

from __future__ import annotations

from .base_optimizer import Optimizer

class ForeachOptimizer(Optimizer):
    """An optimizer whose torch side is a :class:`~.torch_optimizers.KerasTorchOptimizer`.

    Subclasses set ``_torch_class`` and ``_hyper`` (the names of the
    hyperparameters passed to it and written to the config).
    """

    _torch_class = None
    _hyper: tuple = ()

    def _make_torch_optimizer(self, param_groups, lr):
        return self._torch_class(param_groups, lr=lr, **{k: getattr(self, k) for k in self._hyper})

    def get_config(self):
        config = super().get_config()
        config.update({k: getattr(self, k) for k in self._hyper})
        return config
