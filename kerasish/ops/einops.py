"""``keras.ops.rearrange``: einops-style axis rearrangement, on the einops library.

Keras 3 parses the pattern itself; einops is the reference implementation of
that notation, small and maintained, and understands everything Keras's parser
does (and ``...``), so we call it rather than keep a copy.

Example:
    >>> from kerasish import ops
    >>> ops.rearrange(ops.ones((2, 4, 6, 3)), "b h w c -> b c h w").shape
    torch.Size([2, 3, 4, 6])
"""

from __future__ import annotations

import einops

from kerasish.ops.numpy import _tt


def rearrange(tensor, pattern, **axes_lengths):
    """Reorders, merges and splits axes as ``pattern`` says (einops notation).

    Args:
        tensor: tensor-like.
        pattern: ``"<input axes> -> <output axes>"``; ``(a b)`` merges or splits axes.
        **axes_lengths: the lengths of split axes that cannot be inferred.

    Returns:
        The rearranged tensor (a view where torch can make one).

    Example:
        >>> from kerasish import ops
        >>> ops.rearrange(ops.ones((2, 4, 6, 3)), "b (h1 h) (w1 w) c -> (b h1 w1) h w c", h1=2, w1=2).shape
        torch.Size([8, 2, 3, 3])
    """
    if not isinstance(pattern, str) or "->" not in pattern:
        raise ValueError(f"rearrange: `pattern` must be a string 'input axes -> output axes', got {pattern!r}")
    t = _tt(tensor)
    try:
        return einops.rearrange(t, pattern, **axes_lengths)
    except einops.EinopsError as e:
        # einops's message names the pattern and the shape; keep it, as a ValueError.
        raise ValueError(f"rearrange: {e}".replace("\n", " ")) from None
