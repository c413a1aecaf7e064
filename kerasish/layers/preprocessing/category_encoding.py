"""CategoryEncoding: integer ids to one-hot, multi-hot or count vectors.

Also the encoding the other categorical layers share (Hashing,
HashedCrossing, Discretization): :func:`encode_categorical` and the shape it
gives, :func:`encoded_shape`, as Keras 3 encodes on its torch backend.
"""

from __future__ import annotations

import numbers

import numpy as np
import torch
import torch.nn.functional as F

from kerasish.engine.layer import Layer, torch_dtype

OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count")


def check_output_mode(output_mode, allowed, layer):
    """``output_mode`` if it is one of ``allowed``, else ValueError naming ``layer``."""
    if not isinstance(output_mode, str) or output_mode not in allowed:
        raise ValueError(f"{layer}: unknown `output_mode` {output_mode!r}. Expected one of {tuple(allowed)}. Received: output_mode={output_mode!r}")
    return output_mode


def check_positive_int(value, arg, layer):
    """``value`` as an int >= 1, else ValueError naming ``layer`` and ``arg``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{layer}: `{arg}` must be an int >= 1. Received: {arg}={value!r}")
    return int(value)


def encoded_shape(shape, output_mode, depth):
    """The shape :func:`encode_categorical` gives for ids of ``shape``.

    ``one_hot`` drops a last axis of size 1 (rank > 1) and appends ``depth``;
    ``multi_hot`` / ``count`` reduce axis 1 (axis 0 of a vector) into
    ``depth``, as Keras's torch backend does.

    >>> encoded_shape((None, 3), "multi_hot", 5)
    (None, 5)
    """
    shape = tuple(shape)
    if output_mode == "int":
        return shape
    if len(shape) == 0:
        shape = (1,)
    if output_mode == "one_hot":
        if len(shape) > 1 and shape[-1] == 1:
            shape = shape[:-1]
        return shape + (depth,)
    if len(shape) == 1:
        return (depth,)
    return (shape[0],) + shape[2:] + (depth,)


def encode_categorical(ids, output_mode, depth, dtype=torch.float32, count_weights=None):
    """Encode integer ids in ``[0, depth)`` as Keras's ``encode_categorical_inputs``.

    Args:
        ids: integer (or integral float) tensor of any rank; ids must be in range.
        output_mode: ``"int"`` (cast to ``dtype``), ``"one_hot"``, ``"multi_hot"``
            or ``"count"``.
        depth: the size of the encoded axis.
        dtype: the output's torch dtype.
        count_weights: optional tensor of ``ids``'s shape, summed instead of
            ones in ``"count"`` mode.

    Returns:
        A tensor of shape ``encoded_shape(ids.shape, output_mode, depth)``.

    >>> encode_categorical(torch.tensor([[0, 2, 2]]), "count", 3).tolist()
    [[1.0, 0.0, 2.0]]
    """
    if output_mode == "int":
        return ids.to(dtype)
    ids = ids.long()
    if ids.dim() == 0:
        ids = ids.reshape(1)
        if count_weights is not None:
            count_weights = count_weights.reshape(1)
    if output_mode == "one_hot":
        if ids.dim() > 1 and ids.shape[-1] == 1:
            ids = ids.squeeze(-1)
        return F.one_hot(ids, depth).to(dtype)
    out_shape = encoded_shape(tuple(ids.shape), output_mode, depth)
    # Reduce axis 1 (Keras's torch backend) with one scatter over a 2-D view:
    # (batch, samples, rest...) -> (batch * rest, samples), no one-hot tensor in between.
    rows = ids.reshape(1, -1) if ids.dim() == 1 else ids.movedim(1, -1).reshape(-1, ids.shape[1])
    if count_weights is not None:
        dtype = count_weights.dtype
    out = torch.zeros(rows.shape[0], depth, dtype=dtype, device=ids.device)
    if output_mode == "multi_hot":
        out.scatter_(1, rows, 1)
    elif count_weights is None:
        out.scatter_add_(1, rows, torch.ones_like(rows, dtype=dtype))
    else:
        w = count_weights.reshape(1, -1) if ids.dim() == 1 else count_weights.movedim(1, -1).reshape(-1, ids.shape[1])
        out.scatter_add_(1, rows, w.to(dtype))
    return out.reshape(out_shape)


class CategoryEncoding(Layer):
    """Encodes integer features as one-hot, multi-hot or count vectors.

    Every input value must be an integer id in ``[0, num_tokens)``; other
    values raise ``ValueError``. For ids whose range is not known in advance
    use an integer lookup instead.

    Args:
        num_tokens: the number of ids (the size of the encoded axis), >= 1.
        output_mode: ``"multi_hot"`` (default; a 1 for each id present in a
            sample), ``"one_hot"`` (each value becomes a vector; a last axis
            of size 1 is replaced) or ``"count"`` (how often each id occurs,
            or the sum of its ``count_weights``). ``"binary"`` is read as
            ``"multi_hot"``, as in Keras.
        sparse: must be False (kerasish returns dense tensors).

    Call arguments:
        inputs: integer ids, shape ``(batch,)``, ``(batch, samples)`` or more.
        count_weights: optional weights of the shape of ``inputs``, only in
            ``"count"`` mode.

    Input shape: ``(batch, samples)`` (or a vector of ids). Output shape:
    ``(batch, num_tokens)`` for multi_hot / count (the samples axis is
    reduced), ``(batch, samples, num_tokens)`` for one_hot.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers.preprocessing.category_encoding import CategoryEncoding
        >>> layer = CategoryEncoding(num_tokens=4, output_mode="count")
        >>> layer(np.array([[0, 1, 1], [3, 3, 2]])).tolist()
        [[1.0, 2.0, 0.0, 0.0], [0.0, 0.0, 1.0, 2.0]]
    """

    _outputs_own_dtype = True

    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs):
        super().__init__(**kwargs)
        if output_mode == "binary":  # Keras's deprecated name
            output_mode = "multi_hot"
        self.output_mode = check_output_mode(output_mode, ("count", "one_hot", "multi_hot"), "CategoryEncoding")
        if num_tokens is None:
            raise ValueError(
                "CategoryEncoding: `num_tokens` must be set. If the number of tokens is not known beforehand, "
                "use an integer lookup layer instead."
            )
        self.num_tokens = check_positive_int(num_tokens, "num_tokens", "CategoryEncoding")
        if sparse:
            raise ValueError("CategoryEncoding: `sparse=True` is not supported (kerasish layers return dense torch tensors). Received: sparse=True")
        self.sparse = False
        self._out_dtype = torch_dtype(self._dtype)

    def call(self, inputs, count_weights=None):
        ids = inputs if isinstance(inputs, torch.Tensor) else torch.as_tensor(np.asarray(inputs))
        if ids.dtype == torch.bool or ids.is_complex():
            raise TypeError(f"Layer '{self.name}' (CategoryEncoding): inputs must be integer ids, got dtype {ids.dtype}.")
        ids = ids.long()  # float ids are truncated, as Keras does
        if ids.numel() and not torch.compiler.is_compiling():
            # One host sync, so a bad id is a ValueError naming it (torch's one_hot would raise an opaque error or, for negatives, Keras gives zeros).
            lo, hi = torch.stack([ids.min(), ids.max()]).tolist()
            if lo < 0 or hi >= self.num_tokens:
                bad = lo if lo < 0 else hi
                raise ValueError(
                    f"Layer '{self.name}' (CategoryEncoding): input ids must be in [0, num_tokens={self.num_tokens}); "
                    f"got the value {bad} (inputs of shape {tuple(ids.shape)})."
                )
        if count_weights is not None:
            if self.output_mode != "count":
                raise ValueError(
                    f"Layer '{self.name}' (CategoryEncoding): `count_weights` is only used when `output_mode` is 'count'; "
                    f"output_mode={self.output_mode!r}."
                )
            count_weights = torch.as_tensor(count_weights, device=ids.device).to(self._out_dtype)
            if tuple(count_weights.shape) != tuple(ids.shape):
                raise ValueError(
                    f"Layer '{self.name}' (CategoryEncoding): `count_weights` must have the shape of the inputs {tuple(ids.shape)}; "
                    f"got {tuple(count_weights.shape)}."
                )
        return encode_categorical(ids, self.output_mode, self.num_tokens, self._out_dtype, count_weights)

    def compute_output_shape(self, input_shape):
        return encoded_shape(input_shape, self.output_mode, self.num_tokens)

    def get_config(self):
        return {**super().get_config(), "num_tokens": self.num_tokens, "output_mode": self.output_mode}
