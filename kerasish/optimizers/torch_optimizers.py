"""``torch.optim.Optimizer`` classes that apply Keras 3's update rules.

Torch's SGD, RMSprop, Adagrad, Adamax and NAdam differ from Keras's in small
ways (where epsilon goes, how momentum includes the learning rate, the
accumulator's start value, Nadam's momentum schedule), so these classes apply
Keras's formulas with ``torch._foreach_*`` ops: one fused pass over all
parameters of a group, hyperparameters as Python floats, no host-device sync.
They are ordinary torch optimizers (param groups, ``state``, ``state_dict``,
``zero_grad``, ``torch.amp.GradScaler`` and torch LR schedulers all work) and
can be used on their own::

    opt = KerasRMSprop(model.parameters(), lr=1e-3, rho=0.9)
    loss.backward(); opt.step(); opt.zero_grad()

Each group holds ``lr``, ``weight_decay`` (Keras's decoupled decay,
``p -= lr * weight_decay * p`` before the update) and ``step`` (updates made
so far; Keras's ``iterations``). Per-parameter state uses Keras's slot names
(``momentum``, ``velocity``...), with Keras's meaning, in torch layout.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = [
    "KerasTorchOptimizer",
    "KerasSGD",
    "KerasRMSprop",
    "KerasAdagrad",
    "KerasAdadelta",
    "KerasAdamax",
    "KerasNadam",
    "KerasLion",
]


class KerasTorchOptimizer(torch.optim.Optimizer):
    """Base: collects parameters with gradients, applies decoupled weight decay,
    then :meth:`_update` (a subclass's Keras rule) per param group.

    Args:
        params: parameters or param-group dicts.
        lr: learning rate.
        weight_decay: Keras's decoupled weight decay (0 for none).
        **hyper: the rule's hyperparameters (stored in each group).
    """

    def __init__(self, params, lr=1e-3, weight_decay=0.0, **hyper):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        defaults = dict(lr=lr, weight_decay=weight_decay, step=0, **hyper)
        super().__init__(params, defaults)

    # slot name -> initial value, for a group
    def _slots(self, group) -> dict:
        return {}

    def init_state(self):
        """Create every parameter's slots now (Keras creates them when it builds)."""
        for group in self.param_groups:
            slots = self._slots(group)
            for p in group["params"]:
                state = self.state[p]
                for name, init in slots.items():
                    if name not in state:
                        state[name] = torch.full_like(p, init, memory_format=torch.preserve_format)

    def _update(self, group, params, grads, states):
        raise NotImplementedError

    def _group_step(self, group):
        """Optimizer-wide bookkeeping done once per step (even for a group without gradients)."""

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            self._group_step(group)
            params, grads = [], []
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    raise RuntimeError(f"{type(self).__name__} does not support sparse gradients.")
                params.append(p)
                grads.append(p.grad)
            if params:
                slots = self._slots(group)
                states = []
                for p in params:
                    state = self.state[p]
                    if len(state) < len(slots):
                        for name, init in slots.items():
                            if name not in state:
                                state[name] = torch.full_like(p, init, memory_format=torch.preserve_format)
                    states.append(state)
                wd = group["weight_decay"]
                if wd:
                    torch._foreach_mul_(params, 1.0 - wd * group["lr"])
                self._update(group, params, grads, states)
            group["step"] += 1
        return loss


def _slot_list(states, name):
    return [s[name] for s in states]


def _scalar_type(params):
    """Keras computes step-dependent factors in the variable's dtype: float64
    for float64 weights, float32 otherwise (mirrored here with numpy scalars)."""
    return np.float64 if params and params[0].dtype == torch.float64 else np.float32


class KerasSGD(KerasTorchOptimizer):
    """Keras's SGD: ``m = momentum * m - lr * g``; ``p += m`` (Nesterov:
    ``p += momentum * m - lr * g``). The momentum slot includes the learning
    rate, as in Keras (torch's ``momentum_buffer`` does not)."""

    def __init__(self, params, lr=0.01, momentum=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(params, lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov)

    def _slots(self, group):
        return {"momentum": 0.0} if group["momentum"] != 0 else {}

    def _update(self, group, params, grads, states):
        lr, momentum = group["lr"], group["momentum"]
        if momentum != 0:
            bufs = _slot_list(states, "momentum")
            torch._foreach_mul_(bufs, momentum)
            torch._foreach_add_(bufs, grads, alpha=-lr)
            if group["nesterov"]:
                torch._foreach_add_(params, grads, alpha=-lr)
                torch._foreach_add_(params, bufs, alpha=momentum)
            else:
                torch._foreach_add_(params, bufs)
        else:
            torch._foreach_add_(params, grads, alpha=-lr)


class KerasRMSprop(KerasTorchOptimizer):
    """Keras's RMSprop: ``v = rho v + (1 - rho) g^2``; ``inc = lr g / sqrt(v + eps)``
    (centered: ``v - a^2 + eps``); with momentum ``m = momentum m + inc; p -= m``."""

    def __init__(self, params, lr=1e-3, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, weight_decay=0.0):
        super().__init__(params, lr=lr, weight_decay=weight_decay, rho=rho, momentum=momentum, epsilon=epsilon, centered=centered)

    def _slots(self, group):
        slots = {"velocity": 0.0}
        if group["momentum"] > 0:
            slots["momentum"] = 0.0
        if group["centered"]:
            slots["average_gradient"] = 0.0
        return slots

    def _update(self, group, params, grads, states):
        lr, rho, eps = group["lr"], group["rho"], group["epsilon"]
        velocities = _slot_list(states, "velocity")
        torch._foreach_mul_(velocities, rho)
        torch._foreach_add_(velocities, torch._foreach_mul(grads, grads), alpha=1 - rho)
        denominators = torch._foreach_add(velocities, eps)
        if group["centered"]:
            averages = _slot_list(states, "average_gradient")
            torch._foreach_mul_(averages, rho)
            torch._foreach_add_(averages, grads, alpha=1 - rho)
            torch._foreach_add_(denominators, torch._foreach_mul(averages, averages), alpha=-1)
        torch._foreach_sqrt_(denominators)
        increments = torch._foreach_div(torch._foreach_mul(grads, lr), denominators)
        if group["momentum"] > 0:
            momentums = _slot_list(states, "momentum")
            torch._foreach_mul_(momentums, group["momentum"])
            torch._foreach_add_(momentums, increments)
            torch._foreach_add_(params, momentums, alpha=-1)
        else:
            torch._foreach_add_(params, increments, alpha=-1)


class KerasAdagrad(KerasTorchOptimizer):
    """Keras's Adagrad: ``acc += g^2`` (from ``initial_accumulator_value``);
    ``p -= lr g / sqrt(acc + eps)``."""

    def __init__(self, params, lr=1e-3, initial_accumulator_value=0.1, epsilon=1e-7, weight_decay=0.0):
        super().__init__(params, lr=lr, weight_decay=weight_decay, initial_accumulator_value=initial_accumulator_value, epsilon=epsilon)

    def _slots(self, group):
        return {"accumulator": group["initial_accumulator_value"]}

    def _update(self, group, params, grads, states):
        accumulators = _slot_list(states, "accumulator")
        torch._foreach_add_(accumulators, torch._foreach_mul(grads, grads))
        denominators = torch._foreach_add(accumulators, group["epsilon"])
        torch._foreach_sqrt_(denominators)
        torch._foreach_add_(params, torch._foreach_div(torch._foreach_mul(grads, group["lr"]), denominators), alpha=-1)


class KerasAdadelta(KerasTorchOptimizer):
    """Keras's Adadelta: ``ag = rho ag + (1 - rho) g^2``;
    ``d = -sqrt(ad + eps) g / sqrt(ag + eps)``; ``ad = rho ad + (1 - rho) d^2``; ``p += lr d``."""

    def __init__(self, params, lr=1e-3, rho=0.95, epsilon=1e-7, weight_decay=0.0):
        super().__init__(params, lr=lr, weight_decay=weight_decay, rho=rho, epsilon=epsilon)

    def _slots(self, group):
        return {"accumulated_grad": 0.0, "accumulated_delta_var": 0.0}

    def _update(self, group, params, grads, states):
        rho, eps = group["rho"], group["epsilon"]
        acc_grads = _slot_list(states, "accumulated_grad")
        acc_deltas = _slot_list(states, "accumulated_delta_var")
        torch._foreach_mul_(acc_grads, rho)
        torch._foreach_add_(acc_grads, torch._foreach_mul(grads, grads), alpha=1 - rho)

        def rms(xs):
            return torch._foreach_sqrt(torch._foreach_add(xs, eps))

        deltas = torch._foreach_div(torch._foreach_mul(rms(acc_deltas), grads), rms(acc_grads))
        torch._foreach_neg_(deltas)
        torch._foreach_mul_(acc_deltas, rho)
        torch._foreach_add_(acc_deltas, torch._foreach_mul(deltas, deltas), alpha=1 - rho)
        torch._foreach_add_(params, deltas, alpha=group["lr"])


class KerasAdamax(KerasTorchOptimizer):
    """Keras's Adamax: ``m = b1 m + (1 - b1) g``; ``u = max(b2 u, |g|)``;
    ``p -= lr m / ((1 - b1^t) (u + eps))``."""

    def __init__(self, params, lr=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=0.0):
        super().__init__(params, lr=lr, weight_decay=weight_decay, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon)

    def _slots(self, group):
        return {"momentum": 0.0, "norm": 0.0}

    def _update(self, group, params, grads, states):
        b1, b2 = group["beta_1"], group["beta_2"]
        f = _scalar_type(params)
        correction = float(f(1) - f(b1) ** f(group["step"] + 1))
        ms, us = _slot_list(states, "momentum"), _slot_list(states, "norm")
        torch._foreach_mul_(ms, b1)
        torch._foreach_add_(ms, grads, alpha=1 - b1)
        torch._foreach_mul_(us, b2)
        torch._foreach_maximum_(us, torch._foreach_abs(grads))
        denominators = torch._foreach_add(us, group["epsilon"])
        torch._foreach_mul_(denominators, correction)
        torch._foreach_add_(params, torch._foreach_div(torch._foreach_mul(ms, group["lr"]), denominators), alpha=-1)


class KerasNadam(KerasTorchOptimizer):
    """Keras's Nadam: momentum schedule ``u_t = b1 (1 - 0.5 * 0.96^t)``, the
    running product ``u_product`` kept in each group (a float), then
    ``p -= lr m_hat / (sqrt(v_hat) + eps)``."""

    def __init__(self, params, lr=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=0.0):
        super().__init__(params, lr=lr, weight_decay=weight_decay, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, u_product=1.0)

    def _slots(self, group):
        return {"momentum": 0.0, "velocity": 0.0}

    def _group_step(self, group):
        # Keras's arithmetic, in the weights' precision.
        f = _scalar_type(group["params"])
        t = f(group["step"] + 1)
        b1, decay = f(group["beta_1"]), f(0.96)
        u_t = b1 * (f(1) - f(0.5) * decay**t)
        u_t_1 = b1 * (f(1) - f(0.5) * decay ** (t + f(1)))
        u_product_t = f(group["u_product"]) * u_t
        beta_2_power = f(group["beta_2"]) ** t
        group["_nadam"] = (u_t, u_t_1, u_product_t, u_product_t * u_t_1, beta_2_power)
        group["u_product"] = float(u_product_t)

    def _update(self, group, params, grads, states):
        b1, b2, lr = group["beta_1"], group["beta_2"], group["lr"]
        u_t, u_t_1, u_product_t, u_product_t_1, beta_2_power = group.pop("_nadam")
        ms, vs = _slot_list(states, "momentum"), _slot_list(states, "velocity")
        torch._foreach_mul_(ms, b1)
        torch._foreach_add_(ms, grads, alpha=1 - b1)
        torch._foreach_mul_(vs, b2)
        torch._foreach_add_(vs, torch._foreach_mul(grads, grads), alpha=1 - b2)
        m_hat = torch._foreach_div(torch._foreach_mul(ms, float(u_t_1)), float(1 - u_product_t_1))
        torch._foreach_add_(m_hat, torch._foreach_div(torch._foreach_mul(grads, float(1 - u_t)), float(1 - u_product_t)))
        denominators = torch._foreach_div(vs, float(1 - beta_2_power))
        torch._foreach_sqrt_(denominators)
        torch._foreach_add_(denominators, group["epsilon"])
        torch._foreach_mul_(m_hat, lr)
        torch._foreach_add_(params, torch._foreach_div(m_hat, denominators), alpha=-1)

    @torch.no_grad()
    def step(self, closure=None):
        loss = super().step(closure)
        for group in self.param_groups:
            group.pop("_nadam", None)
        return loss


class KerasLion(KerasTorchOptimizer):
    """Keras's Lion: ``p -= lr sign(b1 m + (1 - b1) g)``; ``m = b2 m + (1 - b2) g``."""

    def __init__(self, params, lr=1e-3, beta_1=0.9, beta_2=0.99, weight_decay=0.0):
        super().__init__(params, lr=lr, weight_decay=weight_decay, beta_1=beta_1, beta_2=beta_2)

    def _slots(self, group):
        return {"momentum": 0.0}

    def _update(self, group, params, grads, states):
        b1, b2 = group["beta_1"], group["beta_2"]
        ms = _slot_list(states, "momentum")
        c = torch._foreach_mul(ms, b1)
        torch._foreach_add_(c, grads, alpha=1 - b1)
        torch._foreach_sign_(c)
        torch._foreach_add_(params, c, alpha=-group["lr"])
        torch._foreach_mul_(ms, b2)
        torch._foreach_add_(ms, grads, alpha=1 - b2)
