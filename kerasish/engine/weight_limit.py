"""A byte limit on the tensors a layer allocates while it builds, checked
before the allocation.

Loading a model rebuilds it from a config the file's author chose; a Dense of
``units=10**11`` would otherwise reach torch's allocator (or, with memory
overcommit, the OOM killer while its initializer writes it). Built-in layers
create their weights inside torch modules (``nn.Linear``, ``nn.Conv2d``) whose
constructors call torch's factory functions, so the check intercepts those
calls (a ``TorchFunctionMode``) during ``build`` rather than wrapping each
layer. It is active only inside the loaders' scope
(:func:`kerasish.saving.object_registration.loading_weight_limit_scope`).
"""

from __future__ import annotations

import math

import torch
from torch.overrides import TorchFunctionMode

# The factories weights are created with (nn.Linear / nn.Conv* / nn.Embedding
# use torch.empty; add_weight torch.zeros; initializers the random ones).
_FACTORIES = {
    torch.empty,
    torch.zeros,
    torch.ones,
    torch.full,
    torch.rand,
    torch.randn,
    torch.empty_strided,
}


def _size_of(args, kwargs):
    size = kwargs.get("size")
    if size is None and args:
        first = args[0]
        size = first if isinstance(first, (tuple, list, torch.Size)) else [a for a in args if isinstance(a, int)]
    try:
        return [int(d) for d in size or ()]
    except (TypeError, ValueError):
        return None


class WeightLimit(TorchFunctionMode):
    """Refuse any factory call inside this mode that would allocate more than
    ``max_bytes``, naming ``layer_name``.

    Args:
        layer_name: the layer being built, named in the error.
        max_bytes: the limit per tensor.
    """

    def __init__(self, layer_name: str, max_bytes: int):
        super().__init__()
        self.layer_name = layer_name
        self.max_bytes = max_bytes

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in _FACTORIES:
            shape = _size_of(args, kwargs)
            if shape is not None:
                dtype = kwargs.get("dtype") or torch.get_default_dtype()
                nbytes = math.prod(shape) * torch.empty((), dtype=dtype, device="meta").element_size()
                if nbytes > self.max_bytes:
                    raise ValueError(
                        f"Layer '{self.layer_name}' would create a weight of shape {tuple(shape)} "
                        f"({nbytes / 2**30:.1f} GiB), above the limit of {self.max_bytes / 2**30:.1f} GiB for a model "
                        "loaded from a file. If the file is trusted and the weight is real, load it inside "
                        "kerasish.saving.loading_weight_limit_scope(max_bytes=...)."
                    )
        return func(*args, **kwargs)
