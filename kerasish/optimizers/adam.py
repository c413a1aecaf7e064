"""Adam and AdamW (Keras 3's ``keras.optimizers.Adam`` / ``AdamW``) on ``torch.optim.AdamW``.

Keras's Adam adds epsilon to ``sqrt(v)`` before the bias correction,
``p -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)``; torch adds it
after (``sqrt(v) / sqrt(1 - b2^t) + eps'``). The two agree exactly for
``eps' = eps / sqrt(1 - b2^t)`` and a rescaled ``lr'``, so each step sets the
torch group's ``lr``/``eps``/``weight_decay`` from the step count (Python
numbers: no device sync; Keras's float32 arithmetic for the bias corrections is
reproduced) and torch's fused (CUDA, MPS, CPU...) or foreach kernel does the
update. Keras's decoupled weight decay ``p -= lr * wd * p`` is torch AdamW's,
so it runs inside the kernel too. (So ``torch_optimizer.param_groups[i]["lr"]``
holds the rescaled rate; read ``optimizer.learning_rate`` for Keras's.) Slots map ``momentum`` -> ``exp_avg``, ``velocity`` ->
``exp_avg_sq``, ``velocity_hat`` -> ``max_exp_avg_sq``.

Example::

    opt = kerasish.optimizers.Adam(learning_rate=1e-3)
    opt = kerasish.optimizers.AdamW(learning_rate=1e-3, weight_decay=0.004)
"""

from __future__ import annotations

import math

import numpy as np
import torch

from kerasish import backend_compat

from .base_optimizer import Optimizer, _check_number, _check_unit_interval

__all__ = ["Adam", "AdamW"]


def _use_fused(params) -> bool:
    if not params:
        return False
    devices = backend_compat.fused_kernel_devices()  # a private query, gated there
    return all(
        type(p) in (torch.Tensor, torch.nn.Parameter) and p.device.type in devices and p.is_floating_point()
        and p.dtype in (torch.float64, torch.float32, torch.float16, torch.bfloat16)
        for p in params
    )


class Adam(Optimizer):
    """Adam with Keras 3's arguments, defaults and update.

    Args:
        learning_rate: float or schedule, default 0.001.
        beta_1: decay of the first moment, in [0, 1), default 0.9.
        beta_2: decay of the second moment, in [0, 1), default 0.999.
        epsilon: default 1e-7 (added to ``sqrt(v)`` as in Keras).
        amsgrad: keep the running maximum of ``v`` (AMSGrad), default False.
        **kwargs: the base optimizer's arguments (``weight_decay``, ``clipnorm``...).

    Example: ``Adam(learning_rate=3e-4, beta_2=0.98, global_clipnorm=1.0)``.
    """

    _slot_keys = {"momentum": "exp_avg", "velocity": "exp_avg_sq", "velocity_hat": "max_exp_avg_sq"}

    #: "fused", "foreach" or None (fused where every parameter's device has the kernel).
    implementation = None

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        amsgrad=False,
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
        self.amsgrad = bool(amsgrad)

    def _slot_layout(self):
        layout = [("momentum", "velocity")]
        if self.amsgrad:
            layout.append(("velocity_hat",))
        return layout

    def _make_torch_optimizer(self, param_groups, lr):
        params = [p for g in param_groups for p in g["params"]]
        if self.implementation == "fused":
            fused = True
        elif self.implementation == "foreach":
            fused = False
        else:
            fused = _use_fused(params)
        self._match_grad_strides = fused
        return torch.optim.AdamW(
            param_groups,
            lr=lr,
            betas=(float(self.beta_1), float(self.beta_2)),
            eps=self._torch_eps(),
            weight_decay=0.0,
            amsgrad=self.amsgrad,
            foreach=None if fused else True,
            fused=True if fused else None,
        )

    def _torch_eps(self) -> float:
        return float(self.epsilon)

    def _init_state(self):
        opt = self._torch_optimizer
        self._torch_steps_at = None  # state (re)made: resynchronise before the next step
        self._step_tensors = []
        for group in opt.param_groups:
            fused = bool(group.get("fused"))
            for p in group["params"]:
                state = opt.state[p]
                step_dtype = torch.float32 if fused or torch.get_default_dtype() != torch.float64 else torch.float64
                step_device = p.device if fused or group.get("capturable") else torch.device("cpu")
                step = state.get("step")
                if step is None:
                    state["step"] = torch.tensor(float(self._iterations), dtype=step_dtype, device=step_device)
                else:
                    state["step"] = step.to(device=step_device, dtype=step_dtype)
                for key in ("exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if self.amsgrad else ()):
                    if key not in state:
                        state[key] = torch.zeros_like(p, memory_format=torch.preserve_format)
                self._step_tensors.append(state["step"])

    def _sync_torch_step(self):
        # torch counts steps per parameter; Keras counts them once. Keep torch's
        # counters at `iterations` (they move on skipped or gradient-less steps).
        steps = getattr(self, "_step_tensors", None)
        if getattr(self, "_torch_steps_at", None) == self._iterations:
            return  # torch's counters moved with every step since the last sync
        if steps:
            with torch.no_grad():
                torch._foreach_zero_(steps)
                torch._foreach_add_(steps, float(self._iterations))
            self._torch_steps_at = self._iterations

    def _prepare_step(self, lr):
        # Keras: p -= alpha * m / (sqrt(v) + eps), alpha = lr * sqrt(1 - b2^t) / (1 - b1^t)
        # computed in the weights' precision. torch: p -= (lr' / c1) * m / (sqrt(v) / c2 + eps')
        # with float64 c1 = 1 - b1^t, c2 = sqrt(1 - b2^t). Equal for lr' = alpha * c1 / c2, eps' = eps / c2;
        # torch's decoupled decay p *= 1 - lr' * wd' then needs wd' = wd * lr / lr'.
        self._sync_torch_step()
        t = self._iterations + 1
        f = np.float64 if self._params and self._params[0].dtype == torch.float64 else np.float32
        b1, b2 = float(self.beta_1), float(self.beta_2)
        alpha = f(lr) * np.sqrt(f(1) - f(b2) ** f(t)) / (f(1) - f(b1) ** f(t))
        c1 = 1.0 - b1**t
        c2 = math.sqrt(1.0 - b2**t)
        torch_lr = float(alpha) * c1 / c2
        torch_eps = float(self.epsilon) / c2
        for group in self._torch_optimizer.param_groups:
            group["lr"] = torch_lr
            group["eps"] = torch_eps
            wd = group.get("keras_weight_decay", 0.0)
            group["weight_decay"] = wd * lr / torch_lr if wd and torch_lr else 0.0

    def _step_directly(self) -> bool:
        """``torch.optim.AdamW.step()``'s fused update, called without the
        wrapper: the same two kernels on the same tensors (the step counters'
        ``_foreach_add_``, then ``torch._fused_adamw_``), so the same values
        bit for bit, without the wrapper's profiler range, grad-mode switch,
        state walk and grouping by device and dtype (about 40 us of Python a
        step: 3% of an MNIST-network step on a CPU). Only where that is all
        ``step()`` would do: the fused kernel, one device and dtype, float
        hyperparameters, no step hooks and no learning-rate scheduler of
        torch's wrapping ``step``.

        ``torch._fused_adamw_`` and torch's step-hook dicts are private: both
        are gated in ``kerasish/backend_compat.py``, and where this torch lacks
        either, ``step()`` runs (the same kernel, through the wrapper)."""
        opt = self._torch_optimizer
        if not backend_compat.HAS_FUSED_ADAMW or not self._match_grad_strides or "step" in opt.__dict__:
            return False
        if backend_compat.optimizer_has_step_hooks(opt):
            return False
        first = self._params[0]
        if any(p.device != first.device or p.dtype != first.dtype for p in self._params):
            return False
        groups = [g for g in opt.param_groups if g["params"]]
        if not all(isinstance(g["lr"], float) and g["fused"] and not g["maximize"] and not g["differentiable"] for g in groups):
            return False
        state = opt.state
        with torch.no_grad():
            for group in groups:
                params = group["params"]
                slots = [state[p] for p in params]
                steps = [s["step"] for s in slots]
                torch._foreach_add_(steps, 1)
                beta1, beta2 = group["betas"]
                backend_compat.fused_adamw_(
                    params, [p.grad for p in params], [s["exp_avg"] for s in slots], [s["exp_avg_sq"] for s in slots],
                    [s["max_exp_avg_sq"] for s in slots] if group["amsgrad"] else [], steps,
                    amsgrad=group["amsgrad"], lr=group["lr"], beta1=beta1, beta2=beta2, weight_decay=group["weight_decay"],
                    eps=group["eps"],
                )
        return True

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon, "amsgrad": self.amsgrad})
        return config


class AdamW(Adam):
    """Adam with decoupled weight decay (Keras 3's ``AdamW``; ``weight_decay`` must be set).

    Args:
        learning_rate: default 0.001.
        weight_decay: float, default 0.004: ``p -= lr * weight_decay * p`` each step.
        beta_1, beta_2, epsilon, amsgrad: as :class:`Adam`.

    Example: ``AdamW(1e-3, weight_decay=0.01).exclude_from_weight_decay(var_names=["bias"])``.
    """

    def __init__(
        self,
        learning_rate=0.001,
        weight_decay=0.004,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        amsgrad=False,
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
        if weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: weight_decay=None")
        super().__init__(
            learning_rate=learning_rate,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            amsgrad=amsgrad,
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
