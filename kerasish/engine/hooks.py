"""Whether a user has hooked a layer's torch module.

Some layers take a faster route than calling their torch module (a pooling
kernel of their own) or rectify the module's output in place. A user who
registered a forward hook (or pre-hook) on the module, or a global one,
expects it to fire and to see the module's own output, so those routes step
aside when ``has_forward_hooks`` says so.
"""

from __future__ import annotations

from torch import nn

from kerasish import backend_compat


def has_forward_hooks(module: nn.Module) -> bool:
    """Any forward hook or pre-hook on ``module``, its submodules, or globally.

    Args:
        module: the layer's ``torch.nn.Module``.

    Reads torch's private hook dicts (see ``kerasish/backend_compat.py``); True
    where this torch does not have them, so the layer calls its module.
    """
    return backend_compat.module_has_forward_hooks(module)
