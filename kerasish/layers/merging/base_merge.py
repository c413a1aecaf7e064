"""What the merging layers share: a list of inputs, Keras's broadcasting rules
for their shapes, and clear errors naming the layer and every input shape."""

from __future__ import annotations

import torch

from kerasish.engine import layout
from kerasish.engine.layer import Layer, _is_shape_tuple, _to_tensor


def broadcast_shapes(shape1, shape2):
    """Keras's rule for two per-sample shapes: right-aligned, each pair of
    sizes equal, one of them 1, or unknown. Returns None on a mismatch."""
    if len(shape1) < len(shape2):
        shape1, shape2 = shape2, shape1
    if not shape2:
        return tuple(shape1)
    out = list(shape1[: len(shape1) - len(shape2)])
    for i, j in zip(shape1[len(shape1) - len(shape2):], shape2):
        if i is None or j is None:
            out.append(None)
        elif i == 1:
            out.append(j)
        elif j == 1 or i == j:
            out.append(i)
        else:
            return None
    return tuple(out)


class Merge(Layer):
    """Base of the element-wise merging layers (Add, Subtract, Multiply,
    Average, Maximum, Minimum): called on a list of tensors whose shapes are
    equal or broadcast (Keras's rule: per-sample shapes right-aligned)."""

    _native_layout = True
    _min_inputs = 1
    _max_inputs = None

    def _shapes_or_raise(self, input_shape):
        cls = type(self).__name__
        if not isinstance(input_shape, list) or not all(_is_shape_tuple(s) for s in input_shape):
            raise ValueError(
                f"Layer '{self.name}' ({cls}): a merge layer should be called on a list of tensors. Received: input_shape={input_shape}"
            )
        n = len(input_shape)
        if n < self._min_inputs or (self._max_inputs is not None and n > self._max_inputs):
            if self._max_inputs == self._min_inputs:
                want = f"exactly {self._min_inputs}"
            else:
                want = f"at least {self._min_inputs}"
            raise ValueError(
                f"Layer '{self.name}' ({cls}) should be called on {want} inputs. Received {n} inputs with shapes {input_shape}"
            )
        if any(len(s) < 1 for s in input_shape):
            raise ValueError(f"Layer '{self.name}' ({cls}): inputs need a batch axis. Received input shapes {input_shape}")
        return input_shape

    def _check_input(self, input_shape):
        shapes = self._shapes_or_raise(input_shape)
        self._output_shape(shapes)

    def _output_shape(self, shapes):
        cls = type(self).__name__
        batch = {s[0] for s in shapes} - {None}
        if len(batch) > 1:
            raise ValueError(f"Layer '{self.name}' ({cls}) cannot merge tensors with different batch sizes. Received input shapes {shapes}")
        out = tuple(shapes[0][1:])
        for s in shapes[1:]:
            merged = broadcast_shapes(out, tuple(s[1:]))
            if merged is None:
                raise ValueError(
                    f"Layer '{self.name}' ({cls}): inputs have incompatible shapes; they must be equal or broadcastable. "
                    f"Received input shapes {shapes}"
                )
            out = merged
        return (batch.pop() if batch else None,) + out

    def compute_output_shape(self, input_shape):
        return self._output_shape(self._shapes_or_raise(input_shape))

    def call(self, inputs, training=None, **kwargs):
        # Eager calls: the engine converts only torch tensors inside a list,
        # so arrays and numbers given in the list are converted here.
        if isinstance(inputs, (list, tuple)):
            inputs = [x if isinstance(x, torch.Tensor) else _to_tensor(x) for x in inputs]
        return super().call(inputs, training=training, **kwargs)

    def compute_mask(self, inputs, mask=None):
        """Keras's rule for the element-wise merges: a step counts where it counts
        in any input (logical OR); no mask when some input has none."""
        if mask is None:
            return None
        self._check_mask_list(inputs, mask)
        if any(m is None for m in mask):
            return None
        out = mask[0]
        for m in mask[1:]:
            out = torch.logical_or(out, m)
        return out

    def _check_mask_list(self, inputs, mask):
        if not isinstance(mask, (list, tuple)) or not isinstance(inputs, (list, tuple)) or len(mask) != len(inputs):
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}): `inputs` and `mask` should be lists of the same length; "
                f"got {len(inputs) if isinstance(inputs, (list, tuple)) else 'one'} input(s) and mask={mask!r}."
            )

    def native_call(self, inputs, training=False):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}): a merge layer should be called on a list of inputs.")
        ranks = {x.dim() for x in inputs}
        if len(ranks) == 1:
            return self._merge(list(inputs))
        # Different ranks: as Keras, add axes after the batch one until the
        # ranks agree (in Keras layout, so images line up on their channels).
        r = max(ranks)
        xs = []
        for x in inputs:
            x = layout.to_keras(x)
            if x.dim() < r:
                x = x.reshape(x.shape[:1] + (1,) * (r - x.dim()) + x.shape[1:])
            xs.append(x)
        return layout.to_internal(self._merge(xs))

    def _merge(self, inputs):
        raise NotImplementedError


class Add(Merge):
    """Element-wise sum of a list of tensors (same or broadcastable shapes).

    Input shape: a list of tensors. Output shape: the broadcast shape.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import Add
        >>> Add()([np.ones((2, 3)), np.ones((2, 3))]).tolist()
        [[2.0, 2.0, 2.0], [2.0, 2.0, 2.0]]
    """

    def _merge(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out


class Subtract(Merge):
    """``inputs[0] - inputs[1]``: exactly two tensors (same or broadcastable shapes).

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import Subtract
        >>> Subtract()([np.full((1, 2), 3.0), np.ones((1, 2))]).tolist()
        [[2.0, 2.0]]
    """

    _min_inputs = 2
    _max_inputs = 2

    def _merge(self, inputs):
        return inputs[0] - inputs[1]


class Multiply(Merge):
    """Element-wise product of a list of tensors (same or broadcastable shapes).

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import Multiply
        >>> Multiply()([np.full((1, 2), 3.0), np.full((1, 2), 2.0)]).tolist()
        [[6.0, 6.0]]
    """

    def _merge(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = out * x
        return out


class Average(Merge):
    """Element-wise mean of a list of tensors (same or broadcastable shapes).

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import Average
        >>> Average()([np.zeros((1, 2)), np.full((1, 2), 2.0)]).tolist()
        [[1.0, 1.0]]
    """

    def _merge(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out / len(inputs)


class Maximum(Merge):
    """Element-wise maximum of a list of tensors (same or broadcastable shapes).

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import Maximum
        >>> Maximum()([np.array([[1.0, 5.0]]), np.array([[3.0, 2.0]])]).tolist()
        [[3.0, 5.0]]
    """

    def _merge(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = torch.maximum(out, x)
        return out


class Minimum(Merge):
    """Element-wise minimum of a list of tensors (same or broadcastable shapes).

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import Minimum
        >>> Minimum()([np.array([[1.0, 5.0]]), np.array([[3.0, 2.0]])]).tolist()
        [[1.0, 2.0]]
    """

    def _merge(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = torch.minimum(out, x)
        return out
