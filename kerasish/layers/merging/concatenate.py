"""Concatenate and Dot: the merging layers that are not element-wise."""

from __future__ import annotations

import torch

from kerasish.engine import layout
from kerasish.layers.merging.base_merge import Merge


class Concatenate(Merge):
    """Concatenates a list of tensors along ``axis``; all other sizes must match.

    Args:
        axis: the Keras axis to join along (default -1: the channels of an
            image; inside a model that is internal dim 1 of the NCHW tensors).

    Input shape: a list of tensors of one rank. Output shape: the common shape
    with the ``axis`` sizes summed (``None`` if one is unknown).

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import Concatenate
        >>> Concatenate()([np.zeros((2, 4, 4, 3)), np.ones((2, 4, 4, 5))]).shape
        torch.Size([2, 4, 4, 8])
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise ValueError(f"Concatenate: `axis` must be an int, got {axis!r}")
        self.axis = axis

    def compute_mask(self, inputs, mask=None):
        """Keras's rule: each input's mask (all True where an input has none)
        concatenated along ``axis``; a step counts where any of its entries does."""
        if mask is None:
            return None
        self._check_mask_list(inputs, mask)
        if all(m is None for m in mask):
            return None
        masks = []
        for x, m in zip(inputs, mask):
            if m is None:
                masks.append(torch.ones_like(x, dtype=torch.bool))
            elif m.dim() < x.dim():
                masks.append(m.unsqueeze(-1).expand(x.shape))
            else:
                masks.append(m.to(torch.bool))
        return torch.cat(masks, dim=self.axis).any(dim=-1)

    def _output_shape(self, shapes):
        cls = "Concatenate"
        ranks = {len(s) for s in shapes}
        if len(ranks) != 1:
            raise ValueError(
                f"Layer '{self.name}' ({cls}) requires inputs of one rank, with matching shapes except for the concatenation axis. "
                f"Received input shapes {shapes}"
            )
        rank = ranks.pop()
        if not -rank <= self.axis < rank:
            raise ValueError(f"Layer '{self.name}' ({cls}): axis {self.axis} is out of bounds for input shapes {shapes}.")
        axis = self.axis % rank
        out = list(shapes[0])
        for s in shapes[1:]:
            for i, (a, b) in enumerate(zip(out, s)):
                if i == axis:
                    out[i] = None if a is None or b is None else a + b
                elif a is None:
                    out[i] = b
                elif b is not None and a != b:
                    raise ValueError(
                        f"Layer '{self.name}' ({cls}) requires inputs with matching shapes except for the concatenation axis "
                        f"(axis={self.axis}). Received input shapes {shapes}"
                    )
        return tuple(out)

    def compute_output_shape(self, input_shape):
        shapes = self._shapes_or_raise(input_shape)
        self._output_shape(shapes)
        # Keras's rule for the result: the first shape, the axis sizes summed.
        out = list(shapes[0])
        axis = self.axis % len(out)
        for s in shapes[1:]:
            if out[axis] is None or s[axis] is None:
                out[axis] = None
                break
            out[axis] += s[axis]
        return tuple(out)

    def native_call(self, inputs, training=False):
        return torch.cat(inputs, dim=layout.internal_axis(self.axis, inputs[0].dim()))

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


def _batch_dot(x, y, a0, a1):
    """Keras's batch_dot on Keras-layout tensors, contracting x's axis ``a0``
    with y's axis ``a1`` (both > 0), batch axis shared."""
    x = x.movedim(a0, -1)  # (B, *xm, K)
    y = y.movedim(a1, 1)  # (B, K, *ym)
    xm, ym = x.shape[1:-1], y.shape[2:]
    b, k = x.shape[0], x.shape[-1]
    out = torch.bmm(x.reshape(b, -1, k), y.reshape(b, k, -1))
    out = out.reshape((b,) + tuple(xm) + tuple(ym))
    if out.dim() == 1:
        out = out.reshape(b, 1)
    return out


class Dot(Merge):
    """Dot product of the samples of two tensors along the given axes.

    Args:
        axes: int, or a pair ``(axis_of_x, axis_of_y)`` (Keras axes, never 0).
        normalize: whether to L2-normalize along the axes first (the result
            is then the cosine similarity).

    Input shape: a list of two tensors ``x``, ``y`` with ``x.shape[ax] == y.shape[ay]``.
    Output shape: ``x``'s shape without ``ax``, then ``y``'s without the batch
    axis and ``ay``; ``(batch, 1)`` if nothing is left.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import Dot
        >>> Dot(axes=(1, 2))([np.ones((1, 5, 2)), np.ones((1, 2, 5))]).shape
        torch.Size([1, 2, 2])
    """

    _min_inputs = 2
    _max_inputs = 2

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axes, bool) or not isinstance(axes, (int, list, tuple)):
            raise TypeError(f"Dot: invalid type for argument `axes`: it should be a list or an int. Received: axes={axes!r}")
        if isinstance(axes, (list, tuple)):
            if len(axes) != 2:
                raise ValueError(f"Dot: invalid format for argument `axes`: it should contain two elements. Received: axes={axes!r}")
            if any(isinstance(a, bool) or not isinstance(a, int) for a in axes):
                raise ValueError(f"Dot: invalid format for argument `axes`: list elements should be integers. Received: axes={axes!r}")
        self.axes = axes
        self.normalize = bool(normalize)

    def _pair(self, r1, r2):
        if isinstance(self.axes, int):
            return [self.axes % r1, self.axes % r2] if self.axes < 0 else [self.axes, self.axes]
        return [a % r if a < 0 else a for a, r in zip(self.axes, (r1, r2))]

    def _output_shape(self, shapes):
        s1, s2 = shapes
        if len(s1) < 2 or len(s2) < 2:
            raise ValueError(f"Layer '{self.name}' (Dot) needs inputs of rank >= 2. Received input shapes {shapes}")
        a0, a1 = self._pair(len(s1), len(s2))
        if not (0 < a0 < len(s1) and 0 < a1 < len(s2)):
            raise ValueError(f"Layer '{self.name}' (Dot): axes {self.axes} are out of range or the batch axis for input shapes {shapes}")
        if s1[0] is not None and s2[0] is not None and s1[0] != s2[0]:
            raise ValueError(f"Layer '{self.name}' (Dot) cannot merge tensors with different batch sizes. Received input shapes {shapes}")
        d1, d2 = s1[a0], s2[a1]
        if d1 is not None and d2 is not None and d1 != d2:
            raise ValueError(
                f"Layer '{self.name}' (Dot): incompatible input shapes: axis values {d1} (at axis {a0}) != {d2} (at axis {a1}). "
                f"Received input shapes {shapes}"
            )
        out = [s1[i] for i in range(len(s1)) if i != a0] + [s2[i] for i in range(1, len(s2)) if i != a1]
        if len(out) == 1:
            out.append(1)
        return tuple(out)

    def compute_mask(self, inputs, mask=None):
        # the contracted axes are gone: no mask goes further (as Keras)
        return None

    def native_call(self, inputs, training=False):
        x, y = (layout.to_keras(t) for t in inputs)
        a0, a1 = self._pair(x.dim(), y.dim())
        if self.normalize:
            x = x * torch.clamp(torch.rsqrt(torch.sum(x * x, dim=a0, keepdim=True)), max=1e7)
            y = y * torch.clamp(torch.rsqrt(torch.sum(y * y, dim=a1, keepdim=True)), max=1e7)
        return layout.to_internal(_batch_dot(x, y, a0, a1))

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}
