"""Shared machinery of the image preprocessing and augmentation layers.

* :class:`BaseImageLayer`: the ``data_format`` argument, rank 3 (one image) or
  rank 4 (a batch) inputs, and the switch to an NCHW batch the layers compute
  on (inside a model a channels_last image batch already *is* NCHW, so this is
  a free view).
* :class:`SeededRandom`: reproducible draws for a layer given a ``seed``.
* :func:`affine_transform`: Keras's ``ops.image.affine_transform`` (TF
  convention: the matrix maps output pixel coordinates to input ones) with
  one matrix per image, vectorized over the batch, and Keras's fill modes
  (``reflect``, ``wrap``, ``constant``, ``nearest``) and interpolations
  (``bilinear``, ``nearest``), computed exactly as Keras does.
* argument checks shared by the layers, raising ``ValueError`` that names the
  argument and the value.
"""

from __future__ import annotations

import math
import numbers

import torch

from kerasish.engine import layout
from kerasish.engine.layer import Layer, torch_dtype
from kerasish.layers import args as A

FILL_MODES = ("reflect", "wrap", "constant", "nearest")
INTERPOLATIONS = ("nearest", "bilinear")


# ----------------------------------------------------------------------
# Argument checks
# ----------------------------------------------------------------------
def check_choice(value, allowed, arg, layer):
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{layer}: unknown `{arg}` {value!r}. Expected one of {tuple(allowed)}. Received: {arg}={value!r}")
    return value


def check_seed(seed, layer):
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"{layer}: `seed` must be a non-negative int or None. Received: seed={seed!r}")
    return int(seed)


def check_number(value, arg, layer):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{layer}: `{arg}` must be a number. Received: {arg}={value!r}")
    return value


def base_factor(factor, bounds, layer, arg="factor"):
    """Keras's ``BaseImagePreprocessingLayer._set_factor``: a number ``f``
    gives ``(max(-|f|, low), |f|)``, a pair is sorted. Returns ``(lower, upper)``."""
    low, high = bounds
    msg = (
        f"{layer}: the `{arg}` argument should be a number (or a list of two numbers) in the range "
        f"[{low}, {high}]. Received: {arg}={factor!r}"
    )
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or any(isinstance(f, bool) or not isinstance(f, numbers.Real) for f in factor):
            raise ValueError(msg)
        if factor[0] > high or factor[1] < low:
            raise ValueError(msg)
        lower, upper = sorted(factor)
    elif isinstance(factor, numbers.Real) and not isinstance(factor, bool):
        if factor < low or factor > high:
            raise ValueError(msg)
        factor = abs(factor)
        lower, upper = max(-factor, low), factor
    else:
        raise ValueError(msg)
    return lower, upper


def range_factor(factor, arg, layer, open_low):
    """The height / width factors of RandomZoom (range ``(-1, 1]``) and
    RandomTranslation (``[-1, 1]``). Returns ``(lower, upper)``."""
    rng = "(-1.0, 1.0]" if open_low else "[-1.0, 1.0]"
    msg = f"{layer}: the `{arg}` argument should be a number (or a list of two numbers) in the range {rng}. Received: {arg}={factor!r}"

    def check(v):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or v > 1.0 or v < -1.0 or (open_low and v <= -1.0):
            raise ValueError(msg)

    if isinstance(factor, (tuple, list)):
        if len(factor) != 2:
            raise ValueError(msg)
        check(factor[0])
        check(factor[1])
        lower, upper = sorted(factor)
    else:
        check(factor)
        lower, upper = -abs(factor), abs(factor)
    return float(lower), float(upper)


def value_range_arg(value_range, layer):
    if not isinstance(value_range, (tuple, list)) or len(value_range) != 2 or any(
        isinstance(v, bool) or not isinstance(v, numbers.Real) for v in value_range
    ):
        raise ValueError(f"{layer}: the `value_range` argument should be a list of two numbers. Received: value_range={value_range!r}")
    return value_range


# ----------------------------------------------------------------------
# Random numbers
# ----------------------------------------------------------------------
class SeededRandom:
    """Uniform draws on the input's device. With a ``seed``: one torch
    generator per device, seeded once, so the layer draws the same sequence
    run after run (not Keras's numbers). Without: torch's global generator."""

    def __init__(self, seed):
        self.seed = seed
        self.generators = {}

    def _generator(self, device):
        if self.seed is None or torch.compiler.is_compiling():
            return None
        g = self.generators.get(device)
        if g is None:
            g = torch.Generator(device=device)
            g.manual_seed(self.seed)
            self.generators[device] = g
        return g

    def uniform(self, shape, low, high, like):
        """``shape`` floats uniform in ``[low, high)`` (float32, ``like``'s device)."""
        u = torch.rand(shape, generator=self._generator(like.device), device=like.device, dtype=torch.float32)
        return u * (high - low) + low

    def __getstate__(self):
        return {"seed": self.seed, "generators": {}}


# ----------------------------------------------------------------------
# Layout
# ----------------------------------------------------------------------
class BaseImageLayer(Layer):
    """An image layer: takes ``(batch, height, width, channels)`` or one image
    ``(height, width, channels)`` (channels_first: channels before height),
    and computes on an NCHW float batch in :meth:`transform`."""

    _native_layout = True

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = A.normalize_data_format(data_format, type(self).__name__)
        self._torch_dtype = torch_dtype(self._dtype)

    def _check_input(self, input_shape):
        if not isinstance(input_shape, tuple) or len(input_shape) not in (3, 4):
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}) expects images of rank 3 (height, width, channels) "
                f"or 4 (batch, height, width, channels); got input shape {input_shape}."
            )

    def _hw_axes(self, rank):
        """Keras-layout axes of height and width."""
        if self.data_format == "channels_last":
            return (rank - 3, rank - 2)
        return (rank - 2, rank - 1)

    def _to_nchw(self, inputs):
        """Internal-layout input -> (NCHW float batch, function back)."""
        x = inputs if inputs.is_floating_point() and inputs.dtype == self._torch_dtype else inputs.to(self._torch_dtype)
        cl = self.data_format == "channels_last"
        if x.dim() == 4:
            if cl:  # internal layout of an NHWC batch is NCHW already
                return x, lambda y: y
            # channels_first: the Keras-layout tensor is the NCHW one
            return layout.to_keras(x), layout.to_internal
        if x.dim() == 3:  # rank 3 keeps Keras's order internally
            if cl:
                return x.permute(2, 0, 1).unsqueeze(0), lambda y: y.squeeze(0).permute(1, 2, 0)
            return x.unsqueeze(0), lambda y: y.squeeze(0)
        raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) expects images of rank 3 or 4, got shape {tuple(inputs.shape)}.")

    def native_call(self, inputs, training=False):
        x, back = self._to_nchw(inputs)
        return back(self.transform(x, bool(training)))

    def transform(self, images, training):
        """Compute on an NCHW float batch; subclasses override."""
        raise NotImplementedError

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class BaseRandomLayer(BaseImageLayer):
    """A random augmentation layer with a ``seed``.

    Called directly with no ``training`` argument it augments, as Keras's
    data layers do (their ``call`` defaults to ``training=True``); models pass
    the flag explicitly (``fit``: True, ``predict`` / ``evaluate``: False).
    """

    def __init__(self, seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.seed = check_seed(seed, type(self).__name__)
        self._random = SeededRandom(self.seed)

    def _eager_call(self, inputs, *args, **kwargs):
        if kwargs.get("training") is None:
            kwargs["training"] = True
        return super()._eager_call(inputs, *args, **kwargs)

    def transform(self, images, training):
        """Training: ``self.apply(images, *self.draw(images))`` (a subclass defines both);
        inference: the images unchanged."""
        if not training:
            return images
        return self.apply(images, *self.draw(images))


def draw_applied(u_prob, u_coin, factor):
    """Which images an augmentation applied with a random probability touches: ``(N,)`` bool.

    The probability of each image is drawn in ``[factor[0], factor[1]]`` from
    the uniforms ``u_prob`` (``(N,)``), then compared with ``u_coin``, as Keras draws it.
    """
    return u_coin < u_prob * (factor[1] - factor[0]) + factor[0]


def where_applied(applied, augmented, images):
    """``augmented`` for the images where ``applied`` (``(N,)`` bool), ``images`` elsewhere (NCHW)."""
    return torch.where(applied.view(-1, 1, 1, 1), augmented, images)


# ----------------------------------------------------------------------
# Affine sampling (Keras's affine_transform / map_coordinates)
# ----------------------------------------------------------------------
def _mirror(index, size):
    s = size - 1
    return torch.abs(torch.remainder(index + s, 2 * s) - s)


def _fix(index, size, fill_mode):
    if fill_mode in ("constant", "nearest"):
        return index.clamp(0, size - 1)
    if fill_mode == "wrap":
        return torch.remainder(index, size)
    # reflect: (d c b a | a b c d | d c b a)
    return torch.div(_mirror(2 * index + 1, 2 * size + 1) - 1, 2, rounding_mode="floor")


# Keras's per-node fill rules, as grid_sample's padding of the reflected / clipped coordinate:
# the same reads for bilinear sampling (see _grid_affine); "wrap" has no grid_sample twin.
_GRID_PADDING = {"reflect": "reflection", "nearest": "border", "constant": "zeros"}
_GRID_DTYPES = (torch.float32, torch.float64)


def _grid_affine(images, m, fill_mode, fill_value):
    """Bilinear resampling of ``images`` through the pixel-space maps ``m`` (N, 6)
    with one ``grid_sample`` (rather than four gathers of int64 indices; the figures
    are in docs/performance.md, "Data pipelines"). Keras's ``reflect`` (half-sample symmetric,
    ``d c b a | a b c d``) is grid_sample's ``reflection`` with
    ``align_corners=False``; ``nearest`` its ``border``; ``constant`` its ``zeros``
    on the image less ``fill_value``."""
    n, c, h, w = images.shape
    # The map in grid_sample's [-1, 1] coordinates (align_corners=False): x = sx u + ox.
    sx, sy, ox, oy = w / 2.0, h / 2.0, (w - 1) / 2.0, (h - 1) / 2.0
    a0, a1, a2, b0, b1, b2 = m.unbind(1)
    rows = ((a0, a1 * (sy / sx), (a0 * ox + a1 * oy + a2 - ox) / sx),
            (b0 * (sx / sy), b1, (b0 * ox + b1 * oy + b2 - oy) / sy))
    # The grid written in place, one broadcast add per coordinate: cheaper than
    # affine_grid's batched matmul over a base grid.
    u = (2 * torch.arange(w, device=images.device, dtype=images.dtype) + 1) / w - 1
    v = (2 * torch.arange(h, device=images.device, dtype=images.dtype) + 1) / h - 1
    grid = torch.empty((n, h, w, 2), device=images.device, dtype=images.dtype)
    for k, (cu, cv, c0) in enumerate(rows):
        cu, cv, c0 = (t.to(images.dtype).view(n, 1) for t in (cu, cv, c0))
        torch.add((cu * u).view(n, 1, w), (cv * v + c0).view(n, h, 1), out=grid[..., k])
    shift = fill_mode == "constant" and float(fill_value) != 0.0
    x = images - float(fill_value) if shift else images
    out = torch.nn.functional.grid_sample(x, grid, mode="bilinear", padding_mode=_GRID_PADDING[fill_mode],
                                          align_corners=False)
    return out + float(fill_value) if shift else out


def affine_transform(images, matrix, interpolation="bilinear", fill_mode="reflect", fill_value=0.0):
    """Resample ``images`` (N, C, H, W) with one affine map per image.

    ``matrix`` is (N, 6): ``[a0, a1, a2, b0, b1, b2]``; the output pixel at
    column ``x``, row ``y`` reads the input at ``(a0 x + a1 y + a2,
    b0 x + b1 y + b2)``. Out-of-image reads follow ``fill_mode`` as in
    Keras (``constant`` reads ``fill_value``).
    """
    n, c, h, w = images.shape
    m = matrix.to(device=images.device, dtype=torch.float32)
    if interpolation == "bilinear" and fill_mode in _GRID_PADDING and (images.dtype in _GRID_DTYPES or images.is_cuda):
        return _grid_affine(images, m, fill_mode, fill_value)
    ys = torch.arange(h, device=images.device, dtype=torch.float32).view(1, h, 1)
    xs = torch.arange(w, device=images.device, dtype=torch.float32).view(1, 1, w)
    a0, a1, a2, b0, b1, b2 = (m[:, i].view(n, 1, 1) for i in range(6))
    x_in = a0 * xs + a1 * ys + a2  # (N, H, W)
    y_in = b0 * xs + b1 * ys + b2
    if interpolation == "nearest":
        ys_nodes = [(torch.round(y_in).long(), None)]
        xs_nodes = [(torch.round(x_in).long(), None)]
    else:
        y0 = torch.floor(y_in)
        x0 = torch.floor(x_in)
        wy1, wx1 = y_in - y0, x_in - x0
        y0, x0 = y0.long(), x0.long()
        ys_nodes = [(y0, 1 - wy1), (y0 + 1, wy1)]
        xs_nodes = [(x0, 1 - wx1), (x0 + 1, wx1)]
    flat = images.reshape(n, c, h * w)
    constant = fill_mode == "constant"
    out = None
    for yi, wy in ys_nodes:
        fy = _fix(yi, h, fill_mode)
        vy = (yi >= 0) & (yi < h) if constant else None
        for xi, wx in xs_nodes:
            fx = _fix(xi, w, fill_mode)
            idx = (fy * w + fx).view(n, 1, h * w).expand(n, c, h * w)
            val = flat.gather(2, idx).view(n, c, h, w)
            if constant:
                valid = (vy & (xi >= 0) & (xi < w)).unsqueeze(1)
                val = torch.where(valid, val, torch.as_tensor(fill_value, dtype=val.dtype, device=val.device))
            if wy is not None:
                val = (wy * wx).unsqueeze(1) * val
            out = val if out is None else out + val
    return out


def rotation_matrix(angle_deg, h, w):
    """Keras's rotation about the image centre (angle in degrees, (N,)) as (N, 6)."""
    angle = angle_deg * (math.pi / 180.0)
    cx, cy = 0.5 * (w - 1), 0.5 * (h - 1)
    cos, sin = torch.cos(angle), torch.sin(angle)
    a0, a1 = cos, -sin
    b0, b1 = sin, cos
    a2 = cx - cx * a0 - cy * a1
    b2 = cy - cx * b0 - cy * b1
    return torch.stack([a0, a1, a2, b0, b1, b2], dim=1)


def crop_to_aspect_box(height, width, target_h, target_w):
    """Keras's centred crop box with the target's aspect ratio: (top, left, h, w)."""
    crop_h = max(min(height, int(float(width * target_h) / target_w)), 1)
    crop_w = max(min(width, int(float(height * target_w) / target_h)), 1)
    return int(float(height - crop_h) / 2), int(float(width - crop_w) / 2), crop_h, crop_w
