"""Keras's masks: where they ride and how a layer call passes them on.

A mask is a boolean tensor, True where a timestep counts (``(batch, timesteps)``
for sequences). As in Keras on torch, it rides on the tensor it belongs to, as
the attribute ``_keras_mask``: on torch tensors at run time, on KerasTensors
while a model is declared. The rules are Keras 3's ``Layer.__call__``:

1. A layer whose ``call`` has a ``mask`` parameter, called without one, gets
   the masks of its first argument (a structure like it, None where a tensor
   has no mask).
2. After the call, a layer that ``supports_masking`` sets
   ``compute_mask(inputs, previous_mask)`` on each output that has no mask yet;
   ``previous_mask`` is the mask given to the call, else the first argument's.
3. A layer that does not support masking drops the mask, with a warning.

Inside a model the same rules run from the program
(:mod:`kerasish.models.program`), for the steps the declared graph says carry
masks; layers called eagerly follow them in ``Layer.__call__``.

Example:
    >>> import numpy as np
    >>> from kerasish.layers import Embedding
    >>> out = Embedding(10, 2, mask_zero=True)(np.array([[3, 1, 0]]))
    >>> out._keras_mask.tolist()
    [[True, True, False]]
"""

from __future__ import annotations

import warnings

import torch

from kerasish import tree

from . import layout
from .keras_tensor import KerasTensor

MASK_ATTR = "_keras_mask"


def get_mask(x):
    """The mask riding on ``x`` (a torch tensor or KerasTensor), or None."""
    return getattr(x, MASK_ATTR, None)


def set_mask(x, mask):
    """Attach ``mask`` to tensor ``x`` (``x._keras_mask``); returns ``x``."""
    setattr(x, MASK_ATTR, mask)
    return x


def masks_of(struct):
    """The masks of the tensors in ``struct``: the same structure, None where a tensor has none."""
    if isinstance(struct, (list, tuple)):
        return type(struct)(masks_of(s) for s in struct)
    if isinstance(struct, dict):
        return {k: masks_of(v) for k, v in struct.items()}
    return get_mask(struct)


def any_mask(masks) -> bool:
    """Whether a structure from :func:`masks_of` holds any mask."""
    if isinstance(masks, (list, tuple)):
        return any(any_mask(m) for m in masks)
    if isinstance(masks, dict):
        return any(any_mask(m) for m in masks.values())
    return masks is not None


def _flat(struct):
    if isinstance(struct, (list, tuple)):
        return [x for s in struct for x in _flat(s)]
    if isinstance(struct, dict):
        return [x for k in sorted(struct) for x in _flat(struct[k])]
    return [struct]


def set_output_masks(outputs, output_masks) -> None:
    """Put ``output_masks`` (flattened) on the flat ``outputs`` that have no mask yet (Keras's rule)."""
    if output_masks is None:
        return
    for tensor, mask in zip(_flat(outputs), _flat(output_masks)):
        if mask is None or get_mask(tensor) is not None:
            continue
        if isinstance(tensor, KerasTensor) and isinstance(mask, KerasTensor) or (
                isinstance(tensor, torch.Tensor) and isinstance(mask, torch.Tensor)):
            set_mask(tensor, mask)


def previous_mask(layer, args, kwargs):
    """What ``compute_mask`` gets: the ``mask=`` of the call, else the first argument's masks."""
    given = kwargs.get("mask")
    if given is not None:
        return given
    return masks_of(args[0]) if args else None


def warn_dropped(layer, masks) -> None:
    """Keras's warning when a layer without mask support receives a mask."""
    if any_mask(masks):
        warnings.warn(
            f"Layer '{layer.name}' (of type {type(layer).__name__}) was passed an input with a mask attached to it. "
            "However, this layer does not support masking and will therefore destroy the mask information. "
            "Downstream layers will not see the mask.",
            stacklevel=4,
        )


def compute_masks(layer, inputs, prev, internal: bool):
    """``layer.compute_mask`` on run-time ``inputs``; ``internal``: the inputs are in internal layout."""
    if not type(layer)._overrides_compute_mask:
        return prev  # the default passes the mask on; no call needed
    if internal:
        inputs = layout.map_structure(layout.to_keras, inputs)
    return layer.compute_mask(inputs, prev)


# Unknown sizes are tried at two values (as for output shapes); a mask size that follows them is unknown.
_PROBES = (83, 89)


def symbolic_masks(layer, args, kwargs, prev):
    """The output masks of a declared (symbolic) call, as KerasTensors (or None).

    The default ``compute_mask`` passes ``prev`` on as it is. An overridden one
    runs on meta placeholders (no memory, no compute; on small CPU zeros where
    meta cannot run it), at two sizes for each unknown axis.
    """
    spec = getattr(layer, "_output_masks_spec", None)
    if spec is not None:  # a nested model: the masks its own graph makes
        return spec(args, kwargs, prev)
    if not type(layer)._overrides_compute_mask:
        return prev
    results = []
    for probe in _PROBES:
        for on_meta in (True, False):
            def fill(struct, dtype=None):
                if isinstance(struct, KerasTensor):
                    size = tuple(probe if d is None else d for d in struct.shape)
                    dt = dtype or _torch_dtype(struct.dtype)
                    return torch.empty(size, device="meta", dtype=dt) if on_meta else torch.zeros(size, dtype=dt)
                return struct

            try:
                with torch.no_grad():
                    out = layer.compute_mask(tree.map_structure(fill, args[0]),
                                             tree.map_structure(lambda m: fill(m, torch.bool), prev))
                break
            except Exception as e:  # a compute_mask meta tensors cannot run: try CPU zeros, then give up
                if not on_meta:
                    raise ValueError(
                        f"Layer '{layer.name}' ({type(layer).__name__}): compute_mask() could not run on placeholder "
                        f"tensors to find the mask's shape ({type(e).__name__}: {e})."
                    ) from e
        results.append(out)

    def to_symbolic(a, b):
        if a is None:
            return None
        if isinstance(a, torch.Tensor):
            shape = tuple(da if da == db else None for da, db in zip(a.shape, b.shape))
            return KerasTensor(shape, dtype=str(a.dtype).replace("torch.", ""))
        if isinstance(a, (list, tuple)):
            return type(a)(to_symbolic(x, y) for x, y in zip(a, b))
        if isinstance(a, dict):
            return {k: to_symbolic(a[k], b[k]) for k in a}
        return None

    return to_symbolic(*results)


def _torch_dtype(name) -> torch.dtype:
    return getattr(torch, str(name))
