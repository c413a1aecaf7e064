"""All-or-nothing weight assignment shared by every file format.

A load first matches every stored array to a weight and checks its shape;
only when all of them fit (or the misfits are skipped on request) are the
weights written. So a failed load leaves the model exactly as it was.
"""

from __future__ import annotations

import warnings

import numpy as np


def assign_weights(pairs, filepath, skip_mismatch: bool = False) -> list[str]:
    """Assign ``(variable, array, where)`` triples after checking them all.

    Args:
        pairs: iterable of ``(Variable, array-like, where)``; ``where`` names the
            layer (and weight) for messages, e.g. ``"layer 'conv2d' weight 'kernel'"``.
        filepath: the file being loaded, named in every message.
        skip_mismatch: warn about (and skip) shape mismatches instead of raising.

    Returns:
        the ``where`` of each skipped pair.

    Raises:
        ValueError: a shape mismatch (naming the file, the layer and both
            shapes) when ``skip_mismatch`` is False. Nothing is assigned then.
    """
    ready, skipped = [], []
    for var, value, where in pairs:
        array = np.asarray(value)
        if tuple(array.shape) != tuple(var.shape):
            message = (
                f"Cannot load weights from '{filepath}': {where} has shape {tuple(var.shape)} in the model, "
                f"but the file holds shape {tuple(array.shape)}."
            )
            if not skip_mismatch:
                raise ValueError(message)
            warnings.warn(f"Skipping {where} (skip_mismatch=True): {message}", stacklevel=3)
            skipped.append(where)
            continue
        ready.append((var, array))
    for var, array in ready:
        var.assign(array)
    return skipped
