"""Reading images at fractional positions: the interpolation and fill-mode core
shared by ``kerasish.ops.image`` (``map_coordinates``, ``perspective_transform``,
``elastic_transform``) and the augmentation layers that warp (RandomPerspective,
RandomElasticTransform).

It sits under the layers because the ops re-export layers' image code, not the
other way round (the same place as :func:`base_augmentation.affine_transform`).
Fill modes: ``constant``, ``nearest``, ``wrap``, ``mirror`` (``c d c b | a b c d``),
``reflect`` (``d c b a | a b c d``); order 0 (nearest) or 1 (multilinear).
"""

from __future__ import annotations

import itertools

import torch

INT_DTYPES = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)


def _mirror_index(index, size):
    """``(c d c b | a b c d | c b a b)``: a triangle wave of period ``2 (size - 1)``."""
    if size == 1:  # the period is 0: every index reads the one pixel
        return torch.zeros_like(index)
    s = size - 1
    return torch.abs(torch.remainder(index + s, 2 * s) - s)


def _fix_index(index, size, fill_mode):
    """In-range indices for ``fill_mode`` (constant reads are masked by the caller)."""
    if fill_mode in ("constant", "nearest"):
        return index.clamp(0, size - 1)
    if fill_mode == "wrap":
        return torch.remainder(index, size)
    if fill_mode == "mirror":
        return _mirror_index(index, size)
    # reflect, (d c b a | a b c d | d c b a): mirror on the half-pixel grid
    return torch.div(_mirror_index(2 * index + 1, 2 * size + 1) - 1, 2, rounding_mode="floor")


def _nodes(coord, order):
    """``[(index, weight or None), ...]`` along one axis. Integer coordinates
    are exact (one node, as linear weights of 1 and 0 would give)."""
    if not coord.is_floating_point():
        return [(coord.long(), None)]
    if order == 0:
        return [(torch.round(coord).long(), None)]
    lower = torch.floor(coord)
    upper_w = coord - lower
    lower = lower.long()
    return [(lower, 1 - upper_w), (lower + 1, upper_w)]


def map_values(x, coords, order, fill_mode, fill_value):
    """Read ``x`` (any rank) at ``coords`` (one broadcastable tensor per axis)
    with nearest (order 0) or multilinear (order 1) interpolation. The result
    has the coordinates' broadcast shape and ``x``'s dtype (integers rounded)."""
    flat = x.reshape(-1)
    fill = torch.as_tensor(fill_value, dtype=x.dtype, device=x.device)
    constant = fill_mode == "constant"
    axes, stride = [], 1
    for coord, size in reversed(list(zip(coords, x.shape))):
        nodes = []
        for index, weight in _nodes(coord.to(x.device), order):
            valid = ((index >= 0) & (index < size)) if constant else None
            nodes.append((_fix_index(index, size, fill_mode) * stride, valid, weight))
        axes.append(nodes)
        stride *= size
    out = None
    for combo in itertools.product(*axes):
        lin, valid, weight = combo[0]
        for i, v, w in combo[1:]:
            lin = lin + i
            valid = v if valid is None else valid & v
            weight = w if weight is None else (weight if w is None else weight * w)
        val = flat[lin]
        if valid is not None:
            val = torch.where(valid, val, fill)
        if weight is not None:
            val = weight * val
        out = val if out is None else out + val
    if x.dtype in INT_DTYPES and out.is_floating_point():
        out = torch.round(out)
    return out.to(x.dtype)


def sample_images(x, y_in, x_in, order, fill_mode, fill_value):
    """Read NCHW ``x`` at per-image float positions ``y_in``/``x_in`` (N, H', W')
    in every channel: (N, C, H', W')."""
    n, c = x.shape[:2]
    bi = torch.arange(n, device=x.device).view(n, 1, 1, 1)
    ci = torch.arange(c, device=x.device).view(1, c, 1, 1)
    return map_values(x, [bi, ci, y_in.unsqueeze(1), x_in.unsqueeze(1)], order, fill_mode, fill_value)


def homography(start, end, fn):
    """(B, 8) ``[a0..a7]`` mapping output (end) points to input (start) points:
    ``x_in = (a0 x + a1 y + a2) / (a6 x + a7 y + 1)``, ``y_in`` with ``a3..a5``."""
    sx, sy, ex, ey = start[..., 0], start[..., 1], end[..., 0], end[..., 1]  # (B, 4)
    one, zero = torch.ones_like(ex), torch.zeros_like(ex)
    rows_x = torch.stack([ex, ey, one, zero, zero, zero, -sx * ex, -sx * ey], dim=-1)
    rows_y = torch.stack([zero, zero, zero, ex, ey, one, -sy * ex, -sy * ey], dim=-1)
    a = torch.stack([rows_x, rows_y], dim=2).reshape(-1, 8, 8)  # rows x1, y1, x2, y2, ...
    b = torch.stack([sx, sy], dim=-1).reshape(-1, 8, 1)
    try:
        return torch.linalg.solve(a, b).reshape(-1, 8)
    except RuntimeError as e:  # singular system: collinear or repeated points
        raise ValueError(f"{fn}: no perspective transform maps `end_points` to `start_points` ({e})") from None


def warp_perspective(x, start, end, order, fill_value, fn):
    """Warp the NCHW float batch ``x`` so that the ``(B, 4, 2)`` ``start`` points land on
    ``end`` (B = 1 or N), reading outside as ``fill_value``."""
    n, _, h, w = x.shape
    # torch.linalg.solve needs float32 or wider
    hom = homography(start.to(torch.promote_types(start.dtype, torch.float32)),
                     end.to(torch.promote_types(end.dtype, torch.float32)), fn).to(x.dtype)
    a0, a1, a2, a3, a4, a5, a6, a7 = (hom[:, i].view(-1, 1, 1) for i in range(8))
    ys = torch.arange(h, dtype=x.dtype, device=x.device).view(1, h, 1)
    xs = torch.arange(w, dtype=x.dtype, device=x.device).view(1, 1, w)
    denom = a6 * xs + a7 * ys + 1.0
    x_in = ((a0 * xs + a1 * ys + a2) / denom).expand(n, h, w)
    y_in = ((a3 * xs + a4 * ys + a5) / denom).expand(n, h, w)
    return sample_images(x, y_in, x_in, order, "constant", fill_value)
