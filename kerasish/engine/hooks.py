"""Whether a user has hooked a layer's torch module.

Some layers take a faster route than calling their torch module (a pooling
kernel of their own) or rectify the module's output in place. A user who
registered a forward hook (or pre-hook) on the module, or a global one,
expects it to fire and to see the module's own output, so those routes step
aside when ``has_forward_hooks`` says so.
"""

from __future__ import annotations

from torch import nn
from torch.nn.modules import module as _module_globals


def has_forward_hooks(module: nn.Module) -> bool:
    """Any forward hook or pre-hook on ``module``, its submodules, or globally."""
    if _module_globals._global_forward_hooks or _module_globals._global_forward_pre_hooks:
        return True
    if module._forward_hooks or module._forward_pre_hooks:
        return True
    # a leaf module (most layers' nn.Conv2d, nn.MaxPool2d) needs no walk: this runs per batch
    return bool(module._modules) and any(m._forward_hooks or m._forward_pre_hooks for m in module.modules())
