"""All-or-nothing weight assignment shared by every file format.

A load first matches every stored array to a weight and checks its declared
shape and dtype (an HDF5 dataset's, before any of it is read); only when all
of them fit (or the misfits are skipped on request) are the arrays read, and
only when every read succeeded are the weights written. So a failed load
leaves the model (and optimizer) exactly as it was, and a file declaring a
40000x30000 kernel is refused without reading or allocating it.
"""

from __future__ import annotations

import warnings

import h5py
import numpy as np
import torch


def _declared(value):
    """(shape, numpy dtype) of a stored value without reading an HDF5 dataset."""
    if isinstance(value, h5py.Dataset):
        return tuple(value.shape), value.dtype
    if isinstance(value, torch.Tensor):
        return tuple(value.shape), value.dtype
    array = np.asarray(value)
    return tuple(array.shape), array.dtype


def _castable(dtype) -> bool:
    # Numbers and booleans cast to any weight dtype (as Keras's assign casts);
    # strings, objects, complex and compound records do not.
    if isinstance(dtype, torch.dtype):
        return not dtype.is_complex
    return np.dtype(dtype).kind in "biuf"


def _read(value, filepath, where):
    if isinstance(value, h5py.Dataset):
        try:
            return value[()]
        except (OSError, RuntimeError, ValueError, TypeError) as e:
            raise OSError(f"Cannot read {where} from '{filepath}' (entry '{value.name}'; damaged file?): {e}") from e
    return value


def _entry(value) -> str:
    return f" (entry '{value.name}')" if isinstance(value, h5py.Dataset) else ""


def check_pairs(pairs, filepath, skip_mismatch: bool = False) -> list:
    """Check, read and return ``(variable, array)`` for every pair that fits.

    Nothing is assigned. A pair's declared shape and dtype are checked for
    every pair before any HDF5 dataset is read. Misfits raise, or with
    ``skip_mismatch`` are warned about and left out.

    Args:
        pairs: iterable of ``(variable, value, where)``; ``value`` is an array,
            a tensor or an ``h5py.Dataset`` (read only once every pair fits);
            ``where`` names the layer and weight, e.g.
            ``"layer 'conv2d' weight 'kernel'"``.
        filepath: the file being loaded, named in every message.
        skip_mismatch: warn about (and skip) shape mismatches instead of raising.

    Returns:
        ``(ready, skipped)``: ``[(variable, array)]`` and the ``where`` of each
        skipped pair.

    Raises:
        ValueError: a shape mismatch (naming the file, the layer, the entry and
            both shapes), or a dtype that cannot be cast to a weight.
        OSError: a dataset could not be read.
    """
    checked, skipped = [], []
    for var, value, where in pairs:
        shape, dtype = _declared(value)
        if not _castable(dtype):
            raise ValueError(
                f"Cannot load weights from '{filepath}': {where}{_entry(value)} is stored as {dtype}, "
                f"which cannot be cast to the weight's {var.dtype}."
            )
        if shape != tuple(var.shape):
            message = (
                f"Cannot load weights from '{filepath}': {where}{_entry(value)} has shape {tuple(var.shape)} in the "
                f"model, but the file holds shape {shape}."
            )
            if not skip_mismatch:
                raise ValueError(message)
            warnings.warn(f"Skipping {where} (skip_mismatch=True): {message}", stacklevel=3)
            skipped.append(where)
            continue
        checked.append((var, value, where))
    ready = [(var, _read(value, filepath, where)) for var, value, where in checked]
    return ready, skipped


def commit(ready) -> None:
    """Write arrays that :func:`check_pairs` accepted (shapes and dtypes fit,
    so this cannot fail part-way on them)."""
    for var, array in ready:
        var.assign(array)


def assign_weights(pairs, filepath, skip_mismatch: bool = False) -> list[str]:
    """Assign ``(variable, value, where)`` triples after checking them all.

    See :func:`check_pairs` for the arguments and errors: nothing is assigned
    unless every pair fits (or is skipped with ``skip_mismatch``).

    Returns:
        the ``where`` of each skipped pair.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import Dense
        >>> from kerasish.saving.weight_assign import assign_weights
        >>> layer = Dense(2); layer.build((None, 3))
        >>> kernel, bias = layer.weights
        >>> assign_weights([(kernel, np.ones((3, 2)), "kernel"), (bias, np.array(["a", "b"]), "bias")], "w.h5")
        Traceback (most recent call last):
        ...
        ValueError: Cannot load weights from 'w.h5': bias is stored as <U1, which cannot be cast to the weight's float32.
        >>> float(layer.kernel.numpy().sum()) == 6.0   # untouched by the failed load
        False
    """
    ready, skipped = check_pairs(pairs, filepath, skip_mismatch=skip_mismatch)
    commit(ready)
    return skipped
