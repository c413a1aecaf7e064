"""``to_categorical`` and ``normalize`` as in ``keras.utils`` (NumPy in, NumPy out;
torch tensors in, torch tensors out)."""

from __future__ import annotations

import numpy as np
import torch


def to_categorical(x, num_classes=None):
    """Converts a class vector (integers) to a one-hot class matrix.

    Args:
        x: array-like of class indices in ``[0, num_classes)``. A trailing axis
            of size 1 is dropped first, as in Keras.
        num_classes: number of classes; ``None`` infers ``max(x) + 1``.

    Returns:
        A float64 NumPy array of shape ``x.shape + (num_classes,)`` (a float32
        torch tensor when ``x`` is a torch tensor).

    Example:
        >>> to_categorical([0, 2], num_classes=3)
        array([[1., 0., 0.],
               [0., 0., 1.]])
    """
    if isinstance(x, torch.Tensor):
        if x.dim() > 1 and x.shape[-1] == 1:
            x = x.reshape(x.shape[:-1])
        n = int(x.max().item()) + 1 if not num_classes else int(num_classes)
        return torch.nn.functional.one_hot(x.long(), n).float()
    try:
        x = np.array(x, dtype="int64")
    except (TypeError, ValueError) as e:
        raise ValueError(f"`x` must hold integer class indices, got {x!r}") from e
    input_shape = x.shape
    if input_shape and input_shape[-1] == 1 and len(input_shape) > 1:
        input_shape = tuple(input_shape[:-1])
    x = x.reshape(-1)
    if not num_classes:
        num_classes = int(np.max(x)) + 1 if x.size else 0
    if x.size and (x.min() < 0 or x.max() >= num_classes):
        raise ValueError(f"`x` holds class indices outside [0, {num_classes}) (min {x.min()}, max {x.max()}); check `num_classes={num_classes}`.")
    categorical = np.zeros((x.shape[0], num_classes))
    categorical[np.arange(x.shape[0]), x] = 1
    return categorical.reshape(tuple(input_shape) + (num_classes,))


def normalize(x, axis=-1, order=2):
    """Normalizes an array to unit ``order``-norm along ``axis``.

    Zero-norm slices are left unchanged (their norm is taken as 1), as in Keras.

    Args:
        x: NumPy array (or torch tensor).
        axis: axis along which to normalize.
        order: norm order (``2`` for L2, ``1`` for L1...).

    Returns:
        A normalized copy of ``x`` of the same type and shape.

    Example:
        >>> normalize(np.array([[3.0, 4.0]]))
        array([[0.6, 0.8]])
    """
    if isinstance(x, torch.Tensor):
        norm = torch.linalg.vector_norm(x, ord=order, dim=axis, keepdim=True)
        return x / torch.where(norm == 0, torch.ones_like(norm), norm)
    x = np.asarray(x)
    norm = np.linalg.norm(x, order, axis, keepdims=True)
    norm = np.where(norm == 0, 1, norm)
    # Keras writes ``axis = axis or -1`` here, which breaks ``axis=0`` on rank>1
    # input (a broadcast error); we keep the axis that was normalized.
    return x / norm
