"""More ``keras.ops`` neural-network ops: activations (``elu``, ``selu``,
``softplus``, ``hard_sigmoid``...), ``normalize``, ``multi_hot``, ``top_k``
and ``in_top_k``, on torch tensors.

Activations compute in float (integer inputs give float32), as Keras.

Example:
    >>> from kerasish import ops
    >>> ops.relu6([-1.0, 3.0, 9.0]).tolist()
    [0.0, 3.0, 6.0]
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from kerasish import backend as _backend
from kerasish.layers.convolutional.conv2d_transpose import transpose_crops
from kerasish.ops.nn import conv, depthwise_conv
from kerasish.ops.numpy import _floatify, _tt, one_hot


def _act(name, fn, doc):
    def op(x):
        return fn(_floatify(_tt(x)))

    op.__name__ = name
    op.__doc__ = f"{doc}\n\nArgs:\n    x: tensor-like (integer inputs give float32)."
    return op


softplus = _act("softplus", F.softplus, "``log(1 + exp(x))``.")
softsign = _act("softsign", F.softsign, "``x / (1 + |x|)``.")
selu = _act("selu", F.selu, "Scaled ELU (``scale * elu(x, alpha)`` with the SELU constants).")
def relu6(x):
    """``min(max(x, 0), 6)`` (integer inputs keep their dtype, as Keras)."""
    return torch.clamp(_tt(x), 0, 6)

hard_sigmoid = _act("hard_sigmoid", F.hardsigmoid, "``relu6(x + 3) / 6``.")
hard_silu = _act("hard_silu", F.hardswish, "``x * relu6(x + 3) / 6``.")
hard_swish = hard_silu
log_sigmoid = _act("log_sigmoid", F.logsigmoid, "``log(sigmoid(x))``, computed stably.")
def hard_tanh(x):
    """``clip(x, -1, 1)`` (integer inputs keep their dtype, as Keras)."""
    return torch.clamp(_tt(x), -1, 1)

tanh_shrink = _act("tanh_shrink", F.tanhshrink, "``x - tanh(x)``.")
sparse_plus = _act(
    "sparse_plus", lambda x: torch.where(x <= -1, torch.zeros_like(x), torch.where(x < 1, 0.25 * (x + 1) ** 2, x)),
    "0 for ``x <= -1``, ``(x + 1)**2 / 4`` for ``|x| < 1``, ``x`` above.",
)
sparse_sigmoid = _act(
    "sparse_sigmoid", lambda x: torch.where(x <= -1, torch.zeros_like(x), torch.where(x >= 1, torch.ones_like(x), 0.5 * (x + 1))),
    "0 for ``x <= -1``, ``(x + 1) / 2`` for ``|x| < 1``, 1 above.",
)


def elu(x, alpha=1.0):
    """``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise."""
    return F.elu(_floatify(_tt(x)), alpha)


def celu(x, alpha=1.0):
    """``max(x, 0) + min(0, alpha * (exp(x / alpha) - 1))``."""
    if alpha == 0:
        raise ValueError("celu: `alpha` must not be 0")
    return F.celu(_floatify(_tt(x)), alpha)


def leaky_relu(x, negative_slope=0.2):
    """``x`` for ``x >= 0``, ``negative_slope * x`` otherwise (Keras's default slope 0.2)."""
    return F.leaky_relu(_floatify(_tt(x)), negative_slope)


def hard_shrink(x, threshold=0.5):
    """``x`` where ``|x| > threshold``, else 0."""
    x = _floatify(_tt(x))
    return torch.where(torch.abs(x) > threshold, x, torch.zeros_like(x))


def soft_shrink(x, threshold=0.5):
    """``x - threshold`` above ``threshold``, ``x + threshold`` below ``-threshold``, else 0."""
    x = _floatify(_tt(x))
    return torch.where(x > threshold, x - threshold, torch.where(x < -threshold, x + threshold, torch.zeros_like(x)))


def squareplus(x, b=4):
    """``(x + sqrt(x**2 + b)) / 2``."""
    x = _floatify(_tt(x))
    return (x + torch.sqrt(x * x + b)) / 2


def threshold(x, threshold, default_value):  # noqa: A002 - keras's name
    """``x`` where ``x > threshold``, else ``default_value``."""
    x = _tt(x)
    return torch.where(x > threshold, x, torch.as_tensor(default_value, dtype=x.dtype, device=x.device))


def glu(x, axis=-1):
    """Gated linear unit: ``a * sigmoid(b)`` for the halves ``a, b`` of ``axis``."""
    x = _floatify(_tt(x))
    if x.shape[axis] % 2:
        raise ValueError(f"glu: axis {axis} of shape {tuple(x.shape)} must have an even size")
    return F.glu(x, dim=axis)


def sparsemax(x, axis=-1):
    """Euclidean projection of ``x`` onto the simplex along ``axis`` (sparse probabilities)."""
    x = _floatify(_tt(x))
    z = torch.movedim(x, axis, -1)
    zs = torch.sort(z, dim=-1, descending=True).values
    k = torch.arange(1, z.shape[-1] + 1, dtype=z.dtype, device=z.device)
    cums = zs.cumsum(-1)
    support = (1 + k * zs) > cums
    k_z = support.sum(-1, keepdim=True)
    tau = (torch.gather(cums, -1, k_z - 1) - 1) / k_z.to(z.dtype)
    return torch.movedim(torch.clamp(z - tau, min=0), -1, axis)


def normalize(x, axis=-1, order=2, epsilon=None):
    """``x / max(norm(x, order), epsilon)`` along ``axis`` (``epsilon``
    defaults to ``backend.epsilon()``; order 2 floors the squared norm's
    reciprocal square root at ``1 / epsilon``, as Keras)."""
    if isinstance(order, bool) or not isinstance(order, int) or order < 1:
        raise ValueError(f"normalize: `order` must be an int >= 1, got {order!r}")
    x = _floatify(_tt(x))
    if x.ndim == 0:
        x = x.reshape(1)
    eps = _backend.epsilon() if epsilon is None else epsilon
    if order == 2:
        inv = torch.rsqrt(torch.sum(x * x, dim=axis, keepdim=True))
        return x * torch.clamp(inv, max=1.0 / eps)
    n = torch.linalg.vector_norm(x, ord=order, dim=axis, keepdim=True)
    return x / torch.clamp(n, min=eps)


def multi_hot(inputs, num_classes=None, axis=-1, dtype=None, sparse=False, **kwargs):
    """Multi-hot encode integer ``inputs``: 1-D gives one ``num_classes``
    vector, 2-D ``(batch, n)`` one per row (``num_tokens`` is accepted as
    Keras's legacy name for ``num_classes``)."""
    if num_classes is None:
        num_classes = kwargs.pop("num_tokens", None)
    if kwargs:
        raise ValueError(f"multi_hot: unexpected arguments {sorted(kwargs)}")
    if num_classes is None:
        raise ValueError("multi_hot: `num_classes` is required")
    if sparse:
        raise ValueError("multi_hot: sparse=True is not supported by kerasish")
    x = _tt(inputs)
    reduce_axis = 1 if x.ndim > 1 else 0
    return torch.amax(one_hot(x, num_classes, axis=axis, dtype=dtype), dim=reduce_axis)


def top_k(x, k, sorted=True):  # noqa: A002 - keras's name
    """The ``k`` largest values along the last axis and their indices
    (int32): a ``(values, indices)`` pair."""
    x = _tt(x)
    if not 0 <= k <= x.shape[-1]:
        raise ValueError(f"top_k: `k`={k} is out of range for last axis of shape {tuple(x.shape)}")
    values, indices = torch.topk(x, k, sorted=True if sorted else False)
    return values, indices.to(torch.int32)


def in_top_k(targets, predictions, k):
    """Whether each ``targets[i]`` is among the top ``k`` of
    ``predictions[i]`` (ties count as in); a bool tensor of shape ``(batch,)``."""
    t = _tt(targets).long()
    p = _tt(predictions)
    if p.ndim != 2 or t.ndim != 1 or t.shape[0] != p.shape[0]:
        raise ValueError(f"in_top_k: expected targets (batch,) and predictions (batch, classes), got {tuple(t.shape)} and {tuple(p.shape)}")
    kth = torch.topk(p, k, dim=-1).values[:, -1:]
    return (torch.take_along_dim(p, t[:, None], dim=-1) >= kth).any(-1)


def _norm_axes(x, axis):
    axes = [axis] if isinstance(axis, int) else list(axis)
    return sorted(a % x.ndim for a in axes)


def _broadcast_param(v, x, axes, fn, name):
    if v is None:
        return None
    v = _tt(v).to(x.dtype)
    want = [x.shape[a] for a in axes]
    if v.numel() != int(torch.tensor(want).prod()):
        raise ValueError(f"{fn}: `{name}` of shape {tuple(v.shape)} does not match axes {axes} of shape {tuple(x.shape)}")
    shape = [1] * x.ndim
    for a in axes:
        shape[a] = x.shape[a]
    return v.reshape(shape)


def _compute_dtype(x):
    return x if x.dtype in (torch.float32, torch.float64) else x.to(torch.float32)


def rms_normalization(x, scale=None, axis=-1, epsilon=None):
    """``x * rsqrt(mean(x**2, axis) + epsilon) * scale`` (computed in at
    least float32, returned in ``x``'s dtype; ``epsilon`` defaults to
    ``backend.epsilon()``)."""
    x = _floatify(_tt(x))
    out_dtype = x.dtype
    xc = _compute_dtype(x)
    if xc.ndim == 0:
        xc = xc.reshape(1)
    axes = _norm_axes(xc, axis)
    eps = _backend.epsilon() if epsilon is None else epsilon
    out = xc * torch.rsqrt(torch.mean(xc * xc, dim=axes, keepdim=True) + eps)
    s = _broadcast_param(scale, xc, axes, "rms_normalization", "scale")
    if s is not None:
        out = out * s
    return out.to(out_dtype)


def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None, **kwargs):
    """``(x - mean) / sqrt(var + epsilon) * gamma + beta`` over ``axis``
    (``rms_scaling=True``: ``x / sqrt(var + epsilon) * gamma``, as Keras)."""
    rms_scaling = kwargs.pop("rms_scaling", False)
    if kwargs:
        raise ValueError(f"layer_normalization: unexpected arguments {sorted(kwargs)}")
    x = _floatify(_tt(x))
    out_dtype = x.dtype
    xc = _compute_dtype(x)
    axes = _norm_axes(xc, axis)
    eps = _backend.epsilon() if epsilon is None else epsilon
    g = _broadcast_param(gamma, xc, axes, "layer_normalization", "gamma")
    b = _broadcast_param(beta, xc, axes, "layer_normalization", "beta")
    var = torch.var(xc, dim=axes, keepdim=True, correction=0)
    if rms_scaling:
        out = xc * torch.rsqrt(var + eps)
        return (out * g if g is not None else out).to(out_dtype)
    out = (xc - xc.mean(dim=axes, keepdim=True)) * torch.rsqrt(var + eps)
    if g is not None:
        out = out * g
    if b is not None:
        out = out + b
    return out.to(out_dtype)


def psnr(x1, x2, max_val):
    """Peak signal-to-noise ratio ``20 log10(max_val) - 10 log10(mse)`` (a scalar)."""
    a, b = _floatify(_tt(x1)), _floatify(_tt(x2))
    if a.shape != b.shape:
        raise ValueError(f"psnr: input shapes {tuple(a.shape)} and {tuple(b.shape)} must match")
    mse = torch.mean((a - b) ** 2)
    return 20 * torch.log10(torch.as_tensor(max_val, dtype=a.dtype)) - 10 * torch.log10(mse)


def polar(abs_, angle):
    """The complex tensor ``abs_ * exp(1j * angle)``."""
    r, t = _floatify(_tt(abs_)), _floatify(_tt(angle))
    return torch.polar(r, t.to(r.dtype))


def _block_check(x, block_size, data_format, fn):
    if x.ndim != 4:
        raise ValueError(f"{fn}: expected a 4-D input, got shape {tuple(x.shape)}")
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"{fn}: `data_format` must be 'channels_last' or 'channels_first', got {data_format!r}")
    if int(block_size) < 1:
        raise ValueError(f"{fn}: `block_size` must be >= 1, got {block_size!r}")
    return int(block_size)


def depth_to_space(x, block_size, data_format="channels_last"):
    """Move channel blocks into ``block_size x block_size`` spatial blocks:
    ``(N, H, W, C) -> (N, H*b, W*b, C/b**2)`` with channels read as
    ``(b, b, C/b**2)`` (TensorFlow's order); channels_first reads them as
    ``(C/b**2, b, b)`` (torch's ``pixel_shuffle``), as Keras's torch backend."""
    x = _tt(x)
    b = _block_check(x, block_size, data_format, "depth_to_space")
    c = x.shape[-1] if data_format == "channels_last" else x.shape[1]
    if c % (b * b):
        raise ValueError(f"depth_to_space: channels ({c}) must be divisible by block_size**2 ({b * b})")
    if data_format == "channels_first":
        return F.pixel_shuffle(x, b)
    n, h, w, c = x.shape
    return x.reshape(n, h, w, b, b, c // (b * b)).permute(0, 1, 3, 2, 4, 5).reshape(n, h * b, w * b, c // (b * b))


def space_to_depth(x, block_size, data_format="channels_last"):
    """Move ``block_size x block_size`` spatial blocks into channels, the
    inverse of :func:`depth_to_space`: ``(N, H, W, C) -> (N, H/b, W/b, C*b**2)``."""
    x = _tt(x)
    b = _block_check(x, block_size, data_format, "space_to_depth")
    h, w = (x.shape[1], x.shape[2]) if data_format == "channels_last" else (x.shape[2], x.shape[3])
    if h % b or w % b:
        raise ValueError(f"space_to_depth: height and width of shape {tuple(x.shape)} must be divisible by block_size {b}")
    if data_format == "channels_first":
        return F.pixel_unshuffle(x, b)
    n, h, w, c = x.shape
    return x.reshape(n, h // b, b, w // b, b, c).permute(0, 1, 3, 2, 4, 5).reshape(n, h // b, w // b, c * b * b)


def separable_conv(inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """A depthwise convolution followed by a 1x1 pointwise one (Keras kernel
    layouts: depthwise ``(*k, C, M)``, pointwise ``(1, ..., C*M, F)``)."""
    depth = depthwise_conv(inputs, depthwise_kernel, strides=strides, padding=padding, data_format=data_format,
                           dilation_rate=dilation_rate)
    return conv(depth, pointwise_kernel, strides=1, padding="valid", data_format=data_format)


_CONV_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


def _tuple(v, rank, fn, name):
    t = (int(v),) * rank if isinstance(v, int) else tuple(int(s) for s in v)
    if len(t) != rank or any(s < 0 for s in t):
        raise ValueError(f"{fn}: `{name}` must be a non-negative int or {rank} of them, got {v!r}")
    return t


def conv_transpose(inputs, kernel, strides=1, padding="valid", output_padding=None, data_format=None, dilation_rate=1):
    """Transposed N-D convolution (N = 1, 2, 3) with Keras's kernel layout
    ``(*kernel_size, filters, in_channels)`` and output sizes: ``valid`` gives
    ``(in - 1) * stride + max(kernel, stride)``, ``same`` ``in * stride``
    (``output_padding`` overrides the extra, as Keras)."""
    fn = "conv_transpose"
    x = _tt(inputs)
    k = _tt(kernel)
    rank = x.ndim - 2
    if rank not in _CONV_T or k.ndim != rank + 2:
        raise ValueError(f"{fn}: expected inputs of rank 3-5 and a kernel of rank inputs' rank, got {tuple(x.shape)} and {tuple(k.shape)}")
    padding = str(padding).lower()
    if padding not in ("valid", "same"):
        raise ValueError(f"{fn}: `padding` must be 'valid' or 'same', got {padding!r}")
    data_format = data_format or _backend.image_data_format()
    if data_format == "channels_last":
        x = torch.movedim(x, -1, 1)
    if x.shape[1] != k.shape[-1]:
        raise ValueError(f"{fn}: kernel {tuple(k.shape)} expects {k.shape[-1]} input channels, inputs have {x.shape[1]} ({tuple(_tt(inputs).shape)})")
    strides = _tuple(strides, rank, fn, "strides")
    dilation = _tuple(dilation_rate, rank, fn, "dilation_rate")
    if min(strides) < 1 or min(dilation) < 1:
        raise ValueError(f"{fn}: `strides` and `dilation_rate` must be >= 1, got {strides} and {dilation}")
    out_pad = (None,) * rank if output_padding is None else _tuple(output_padding, rank, fn, "output_padding")
    x, k = _floatify(x), _floatify(k)
    if x.dtype != k.dtype:
        dt = torch.promote_types(x.dtype, k.dtype)
        x, k = x.to(dt), k.to(dt)
    weight = k.permute(rank + 1, rank, *range(rank))  # (in, filters, *kernel)
    y = _CONV_T[rank](x, weight.to(x.device), stride=strides, dilation=dilation)
    for ax, (ks, s, op, d) in enumerate(zip(k.shape[:rank], strides, out_pad, dilation)):
        left, right = transpose_crops(int(ks), s, padding, op, d)
        dim = ax + 2
        if right < 0:  # Keras appends zeros past the full output
            y = F.pad(y, [0, 0] * (rank - 1 - ax) + [0, -right])
            right = 0
        y = y.narrow(dim, left, y.shape[dim] - left - right)
    return torch.movedim(y, 1, -1) if data_format == "channels_last" else y


_ADAPTIVE = {
    "adaptive_average_pool": {1: F.adaptive_avg_pool1d, 2: F.adaptive_avg_pool2d, 3: F.adaptive_avg_pool3d},
    "adaptive_max_pool": {1: F.adaptive_max_pool1d, 2: F.adaptive_max_pool2d, 3: F.adaptive_max_pool3d},
}


def _adaptive(fn, inputs, output_size, data_format):
    x = _tt(inputs)
    rank = x.ndim - 2
    if rank not in (1, 2, 3):
        raise ValueError(f"{fn}: inputs must have rank 3, 4 or 5 (batch, spatial..., channels), got shape {tuple(x.shape)}")
    size = _tuple(output_size, rank, fn, "output_size")
    if min(size) < 1:
        raise ValueError(f"{fn}: `output_size` must be >= 1, got {output_size!r}")
    data_format = data_format or _backend.image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"{fn}: `data_format` must be 'channels_last' or 'channels_first', got {data_format!r}")
    last = data_format == "channels_last"
    y = _ADAPTIVE[fn][rank](torch.movedim(x, -1, 1) if last else x, size)
    return torch.movedim(y, 1, -1) if last else y


def adaptive_average_pool(inputs, output_size, data_format=None):
    """Average pooling to a fixed spatial size, whatever the input size (1-3 spatial dims).

    Args:
        inputs: ``(batch, *spatial, channels)`` (channels_last) or ``(batch, channels, *spatial)``.
        output_size: an int (every spatial dim) or one int per spatial dim.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
        >>> from kerasish import ops
        >>> ops.adaptive_average_pool(ops.ones((2, 7, 9, 3)), 2).shape
        torch.Size([2, 2, 2, 3])
    """
    return _adaptive("adaptive_average_pool", inputs, output_size, data_format)


def adaptive_max_pool(inputs, output_size, data_format=None):
    """Max pooling to a fixed spatial size; arguments as :func:`adaptive_average_pool`.

    Example:
        >>> from kerasish import ops
        >>> ops.adaptive_max_pool(ops.arange(8.0).reshape(1, 8, 1), 2)[0, :, 0].tolist()
        [3.0, 7.0]
    """
    return _adaptive("adaptive_max_pool", inputs, output_size, data_format)


def _fold_args(fn, kernel_size, dilation, padding, stride):
    return dict(kernel_size=_tuple(kernel_size, 2, fn, "kernel_size"), dilation=_tuple(dilation, 2, fn, "dilation"),
                padding=_tuple(padding, 2, fn, "padding"), stride=_tuple(stride, 2, fn, "stride"))


def unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding blocks of a channels_first batch of images, flattened (im2col).

    Args:
        x: ``(N, C, H, W)`` (channels_first, as Keras).
        kernel_size, dilation, padding, stride: an int or a pair each.

    Returns:
        ``(N, C * kH * kW, L)``, ``L`` the number of blocks.

    Example:
        >>> from kerasish import ops
        >>> ops.unfold(ops.ones((1, 2, 4, 4)), kernel_size=2, stride=2).shape
        torch.Size([1, 8, 4])
    """
    fn = "unfold"
    t = _tt(x)
    if t.ndim != 4:
        raise ValueError(f"{fn}: `x` must be a 4-D (N, C, H, W) tensor, got shape {tuple(t.shape)}")
    return F.unfold(t, **_fold_args(fn, kernel_size, dilation, padding, stride))


def fold(x, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sums flattened sliding blocks back into images (col2im, the reverse of :func:`unfold`).

    Args:
        x: ``(N, C * kH * kW, L)``.
        output_size: ``(oH, oW)`` or an int.
        kernel_size, dilation, padding, stride: as given to :func:`unfold`.

    Returns:
        ``(N, C, oH, oW)``.

    Example:
        >>> from kerasish import ops
        >>> p = ops.unfold(ops.ones((1, 2, 4, 4)), kernel_size=2, stride=2)
        >>> ops.fold(p, output_size=(4, 4), kernel_size=2, stride=2).shape
        torch.Size([1, 2, 4, 4])
    """
    fn = "fold"
    t = _tt(x)
    if t.ndim != 3:
        raise ValueError(f"{fn}: `x` must be a 3-D (N, C * kH * kW, L) tensor, got shape {tuple(t.shape)}")
    args = _fold_args(fn, kernel_size, dilation, padding, stride)
    out = _tuple(output_size, 2, fn, "output_size")
    blocks = 1
    for o, k, d, p, s in zip(out, args["kernel_size"], args["dilation"], args["padding"], args["stride"]):
        blocks *= (o + 2 * p - d * (k - 1) - 1) // s + 1
    kk = args["kernel_size"][0] * args["kernel_size"][1]
    if t.shape[1] % kk or t.shape[2] != blocks:
        raise ValueError(f"{fn}: `x` of shape {tuple(t.shape)} does not hold blocks of {args['kernel_size']} "
                         f"for output_size {out} (expected (N, C * {kk}, {blocks}))")
    return F.fold(t, out, **args)
