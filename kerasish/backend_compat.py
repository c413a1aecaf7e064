"""Every private (or version-dependent) torch API kerasish uses, behind one gate each.

kerasish runs on torch's public API except on a few hot paths, where a
private entry point saves measurable time. Each such use is gated here, in
one place: a check of the attribute's presence (and of torch's version where
the behaviour changed), the private path, and a public fallback that gives
the same result, slower. The fallbacks always err on the safe side: where
kerasish cannot tell whether a user hooked a module or an optimizer, it
assumes a hook is there and calls the module / ``step()``.

``tests/test_torch_compat.py`` runs each fast path against its fallback, and
``docs/design.md`` ("Private torch APIs") lists them with their reasons.

The oldest torch this module is written for is ``pyproject.toml``'s floor
(2.3: ``torch.compiler.is_compiling``, ``torch.amp.GradScaler`` and
``torch.uint16``, used elsewhere in kerasish, are 2.3's).
"""

from __future__ import annotations

import re

import torch
from torch.nn.modules import module as _torch_module_globals
from torch.optim import optimizer as _torch_optim_globals

__all__ = [
    "TORCH_VERSION",
    "HAS_CUSTOM_OP",
    "HAS_FUSED_ADAMW",
    "disabled_torch_function",
    "fused_adamw_",
    "fused_kernel_devices",
    "HAS_TORCH_GRU",
    "gru_sequence",
    "refresh_rnn_flat_weights",
    "is_exporting",
    "module_has_forward_hooks",
    "optimizer_has_step_hooks",
]


def _version(text: str) -> tuple[int, int]:
    match = re.match(r"(\d+)\.(\d+)", text)
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


#: torch's (major, minor) version.
TORCH_VERSION = _version(torch.__version__)


# --- torch.library.custom_op (public, new in torch 2.4) ----------------------
# The opaque max-pool op of layers/pooling/max_pool_kernels.py is defined only
# where it exists; elsewhere MaxPooling2D runs F.max_pool2d, which inductor
# compiles itself (correct, slower on a CPU).
HAS_CUSTOM_OP = hasattr(torch.library, "custom_op")


def is_exporting() -> bool:
    """``torch.compiler.is_exporting()``; where it is missing (torch < 2.6,
    added by pytorch/pytorch#142425), "compiling" counts as "exporting", so
    export-sensitive shortcuts step aside under any compilation."""
    fn = getattr(torch.compiler, "is_exporting", None)
    return fn() if fn is not None else torch.compiler.is_compiling()


# --- the fused AdamW kernel ---------------------------------------------------
# Private: torch._fused_adamw_ (the kernel torch.optim.AdamW(fused=True).step()
# runs, torch/optim/adamw.py `_fused_adamw`), called directly by Adam's
# `_step_directly` to skip the wrapper's ~40 us of Python a step. Its keyword
# signature (lr as a float, grad_scale / found_inf) is the one torch >= 2.3
# has. Fallback: `torch.optim.AdamW.step()`, the same kernel through the wrapper.
HAS_FUSED_ADAMW = TORCH_VERSION >= (2, 3) and callable(getattr(torch, "_fused_adamw_", None))


def fused_adamw_(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, *, amsgrad, lr, beta1, beta2,
                 weight_decay, eps):
    """``torch._fused_adamw_`` on lists of tensors (one device and dtype), no grad scaling.

    Only where ``HAS_FUSED_ADAMW``; callers check it and otherwise call the
    optimizer's ``step()``.
    """
    torch._fused_adamw_(
        params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, amsgrad=amsgrad, lr=lr, beta1=beta1,
        beta2=beta2, weight_decay=weight_decay, eps=eps, maximize=False, grad_scale=None, found_inf=None,
    )


def fused_kernel_devices() -> frozenset:
    """Device types with torch's fused optimizer kernels.

    Private: ``torch.utils._foreach_utils._get_fused_kernels_supported_devices``
    (what torch.optim itself checks ``fused=True`` against). Fallback where it
    is missing: ``{"cuda"}``, where the fused AdamW kernel has been since
    torch 2.0 (the CPU's came in 2.4); other devices get the foreach kernel,
    the same update.
    """
    try:
        from torch.utils._foreach_utils import _get_fused_kernels_supported_devices  # private: see above
    except ImportError:
        return frozenset({"cuda"})
    return frozenset(_get_fused_kernels_supported_devices())


# --- optimizer step hooks ------------------------------------------------------
# Private: torch/optim/optimizer.py's `_global_optimizer_pre_hooks` /
# `_global_optimizer_post_hooks` (filled by the public
# register_optimizer_step_pre/post_hook) and each optimizer's
# `_optimizer_step_pre_hooks` / `_optimizer_step_post_hooks` (filled by
# Optimizer.register_step_pre/post_hook). torch has no public query for them
# (pytorch/pytorch has no issue asking for one; the dicts are read by
# torch.optim.Optimizer's own step wrapper). Fallback where a dict is missing:
# assume a hook is registered, so `step()` runs and fires it.
_GLOBAL_OPTIMIZER_HOOKS = ("_global_optimizer_pre_hooks", "_global_optimizer_post_hooks")
_OPTIMIZER_HOOKS = ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks")
OPTIMIZER_HOOKS_READABLE = all(isinstance(getattr(_torch_optim_globals, n, None), dict) for n in _GLOBAL_OPTIMIZER_HOOKS)


def optimizer_has_step_hooks(optimizer: torch.optim.Optimizer) -> bool:
    """Whether ``optimizer.step()`` would run a step hook (its own or a global one).

    Args:
        optimizer: a ``torch.optim.Optimizer``.

    True where torch's hook state cannot be read (the safe answer).
    """
    if not OPTIMIZER_HOOKS_READABLE:
        return True
    if any(getattr(_torch_optim_globals, n) for n in _GLOBAL_OPTIMIZER_HOOKS):
        return True
    for name in _OPTIMIZER_HOOKS:
        hooks = getattr(optimizer, name, None)
        if hooks is None or hooks:
            return True
    return False


# --- module forward hooks -----------------------------------------------------
# Private: torch/nn/modules/module.py's `_global_forward_hooks` /
# `_global_forward_pre_hooks` (filled by the public
# register_module_forward_hook / _pre_hook) and each module's `_forward_hooks` /
# `_forward_pre_hooks` (filled by Module.register_forward_hook / _pre_hook).
# No public query exists; nn.Module.__call__ reads the same dicts to choose its
# fast path. Fallback where they are missing: assume a hook, so the layer calls
# its module (the hook fires and sees the module's own output).
_GLOBAL_FORWARD_HOOKS = ("_global_forward_hooks", "_global_forward_pre_hooks")
FORWARD_HOOKS_READABLE = all(isinstance(getattr(_torch_module_globals, n, None), dict) for n in _GLOBAL_FORWARD_HOOKS)


def _hooked(module: torch.nn.Module) -> bool:
    # a module without the dicts (never a real nn.Module): assume a hook
    return bool(getattr(module, "_forward_hooks", True)) or bool(getattr(module, "_forward_pre_hooks", True))


def module_has_forward_hooks(module: torch.nn.Module) -> bool:
    """Any forward hook or pre-hook on ``module``, its submodules, or globally.

    Args:
        module: a ``torch.nn.Module``.

    True where torch's hook state cannot be read (the safe answer).
    """
    if not FORWARD_HOOKS_READABLE:
        return True
    if _torch_module_globals._global_forward_hooks or _torch_module_globals._global_forward_pre_hooks:
        return True
    if _hooked(module):
        return True
    # a leaf module (most layers' nn.Conv2d, nn.MaxPool2d) needs no walk: this runs per batch
    return bool(module._modules) and any(_hooked(m) for m in module.modules())


# --- Tensor subclasses that do not propagate -------------------------------------
def _plain(value, keep):
    if isinstance(value, torch.Tensor):
        if type(value) is torch.Tensor or any(value is k for k in keep):
            return value
        return value.as_subclass(torch.Tensor)
    if isinstance(value, list):
        return [_plain(v, keep) for v in value]
    if isinstance(value, tuple):
        items = [_plain(v, keep) for v in value]
        return type(value)(items) if type(value) is not tuple else tuple(items)
    return value


def _plain_torch_function(cls, func, types, args=(), kwargs=None):
    # torch.Tensor's own (public) __torch_function__ runs `func` and wraps the
    # results in `cls`; turn them back into plain tensors (an in-place op's
    # `self` is returned as it is).
    out = torch.Tensor.__torch_function__.__func__(cls, func, types, args, kwargs)
    return _plain(out, [a for a in args if isinstance(a, cls)])


#: What a ``torch.Tensor`` subclass assigns to ``__torch_function__`` to keep
#: operations on it from returning the subclass. Private:
#: ``torch._C._disabled_torch_function_impl``, which torch's own "Extending
#: torch" notes (docs/source/notes/extending.rst) recommend for this, and
#: torch.nn.Parameter uses. Fallback: torch.Tensor's public
#: ``__torch_function__`` with its results unwrapped (the same values, one
#: ``as_subclass`` alias more per result).
disabled_torch_function = getattr(torch._C, "_disabled_torch_function_impl", None) or classmethod(_plain_torch_function)


# --- the fused GRU kernel ---------------------------------------------------------
# Private: torch.gru (the aten op nn.GRU.forward calls; not in torch's documented
# API) and nn.RNNBase._init_flat_weights. Keras's GRU has one (2, 3*units) bias
# where nn.GRU has two parameters; layers/rnn/gru.py keeps Keras's one parameter
# and calls the kernel on its two rows, then refreshes the module's list of flat
# weights (which cuDNN's packed-weights path reads) after replacing its biases.
# Fallback: the same formula step by step in public ops (slower, same values);
# without _init_flat_weights the module's stale list is left alone (the GRU's
# forward never reads it).
HAS_TORCH_GRU = TORCH_VERSION >= (2, 3) and callable(getattr(torch, "gru", None))


def gru_sequence(x, h0, w_ih, w_hh, b_ih, b_hh, training=False, *, fused=None):
    """torch's GRU over ``x (batch, time, features)`` from ``h0 (1, batch, units)``:
    ``(outputs (batch, time, units), h (1, batch, units))``. Gates r, z, n as
    ``nn.GRU``. ``fused=False`` forces the public fallback (tests compare the two).
    """
    if (HAS_TORCH_GRU if fused is None else fused):
        return torch.gru(x, h0, [w_ih, w_hh, b_ih, b_hh], True, 1, 0.0, training, False, True)
    xp = torch.nn.functional.linear(x, w_ih, b_ih)
    h = h0[0]
    outs = []
    for xt in xp.unbind(1):
        x_r, x_z, x_n = xt.chunk(3, dim=-1)
        h_r, h_z, h_n = torch.nn.functional.linear(h, w_hh, b_hh).chunk(3, dim=-1)
        r = torch.sigmoid(x_r + h_r)
        z = torch.sigmoid(x_z + h_z)
        n = torch.tanh(x_n + r * h_n)
        h = (1 - z) * n + z * h
        outs.append(h)
    return torch.stack(outs, 1), h.unsqueeze(0)


def refresh_rnn_flat_weights(module: torch.nn.Module) -> None:
    """Rebuild an ``nn.RNNBase``'s flat weight list after its parameters changed
    (private ``_init_flat_weights``; a no-op where it is missing)."""
    fn = getattr(module, "_init_flat_weights", None)
    if callable(fn):
        fn()
