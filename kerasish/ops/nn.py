"""Neural-network ops (``keras.ops.conv``, ``keras.ops.softmax``...).

Images are ``channels_last`` (``(batch, height, width, channels)``) unless
``data_format="channels_first"``, as in Keras; kernels are in Keras layout
(``(kh, kw, in, out)``).
"""

from __future__ import annotations


import torch
import torch.nn.functional as F

from kerasish import backend as _backend
from kerasish.layers.args import same_padding
from kerasish.layers.attention import dot_product as _attention
from kerasish.ops.core import _tensors, convert_to_tensor
from kerasish.ops.numpy import _floatify, _tt


# -- activations ------------------------------------------------------------
def relu(x):
    """``max(x, 0)``."""
    return torch.relu(_tt(x))


def sigmoid(x):
    """``1 / (1 + exp(-x))``."""
    return torch.sigmoid(_floatify(_tt(x)))


def silu(x):
    """``x * sigmoid(x)`` (swish)."""
    return F.silu(_floatify(_tt(x)))


swish = silu


def gelu(x, approximate=True):
    """Gaussian error linear unit; the tanh approximation by default, as ``keras.ops.gelu``."""
    return F.gelu(_floatify(_tt(x)), approximate="tanh" if approximate else "none")


def softmax(x, axis=-1):
    """Softmax over ``axis`` (an int or a tuple of axes)."""
    x = _floatify(_tt(x))
    if isinstance(axis, (tuple, list)):
        axes = [a % x.ndim for a in axis]
        return torch.exp(x - torch.logsumexp(x, dim=axes, keepdim=True))
    return torch.softmax(x, dim=axis)


def log_softmax(x, axis=-1):
    """Log of the softmax over ``axis``."""
    x = _floatify(_tt(x))
    if isinstance(axis, (tuple, list)):
        return x - torch.logsumexp(x, dim=[a % x.ndim for a in axis], keepdim=True)
    return torch.log_softmax(x, dim=axis)


# -- helpers ----------------------------------------------------------------
def _tuple(value, n, arg, fn):
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,) * n
    value = tuple(value)
    if len(value) != n or any(not isinstance(v, int) or isinstance(v, bool) or v <= 0 for v in value):
        raise ValueError(f"{fn}: `{arg}` must be a positive int or a tuple of {n} positive ints, got {value!r}")
    return value


def _fmt(data_format, fn):
    data_format = data_format or _backend.image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"{fn}: `data_format` must be 'channels_last' or 'channels_first', got {data_format!r}")
    return data_format


def _padding(padding, fn):
    if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
        raise ValueError(f"{fn}: `padding` must be 'valid' or 'same', got {padding!r}")
    return padding.lower()


def _to_cf(x, data_format):
    return torch.movedim(x, -1, 1) if data_format == "channels_last" else x


def _from_cf(x, data_format):
    return torch.movedim(x, 1, -1) if data_format == "channels_last" else x


def _same_pads(spatial, kernel, strides, dilation):
    """Per-axis (before, after) pads for TF's 'same' rule, as F.pad's flat list."""
    pairs = [same_padding(s, k, st, d) for s, k, st, d in zip(spatial, kernel, strides, dilation)]
    flat = []
    for b, a in reversed(pairs):
        flat += [b, a]
    return pairs, flat


_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_MAXPOOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVGPOOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


def _check_rank(x, fn):
    if x.ndim not in (3, 4, 5):
        raise ValueError(f"{fn}: inputs must be 3-D, 4-D or 5-D (batch, spatial..., channels), got shape {tuple(x.shape)}")
    return x.ndim - 2


def _conv_impl(fn, inputs, kernel, strides, padding, data_format, dilation_rate, groups_mode):
    x, k = _tensors(_tt(inputs), _tt(kernel))
    n = _check_rank(x, fn)
    if k.ndim != n + 2:
        raise ValueError(f"{fn}: kernel must be {n + 2}-D (spatial..., in, out), got shape {tuple(k.shape)} for inputs of shape {tuple(x.shape)}")
    strides = _tuple(strides, n, "strides", fn)
    dilation = _tuple(dilation_rate, n, "dilation_rate", fn)
    padding = _padding(padding, fn)
    data_format = _fmt(data_format, fn)
    x = _to_cf(x, data_format)
    if x.dtype != k.dtype:
        dt = torch.promote_types(x.dtype, k.dtype)
        x, k = x.to(dt), k.to(dt)
    channels = x.shape[1]
    kin = k.shape[-2]
    if groups_mode:  # depthwise: (spatial..., in, multiplier)
        if kin != channels:
            raise ValueError(f"{fn}: kernel shape {tuple(k.shape)} expects {kin} input channels, inputs of shape {tuple(_from_cf(x, data_format).shape)} have {channels}")
        mult = k.shape[-1]
        w = k.reshape(*k.shape[:-2], 1, kin * mult)
        groups = channels
    else:
        if channels % kin:
            raise ValueError(f"{fn}: kernel shape {tuple(k.shape)} expects {kin} input channels per group, inputs of shape {tuple(_from_cf(x, data_format).shape)} have {channels}")
        w = k
        groups = channels // kin
    w = torch.movedim(torch.movedim(w, -1, 0), -1, 1)  # (out, in, spatial...)
    spatial = x.shape[2:]
    if padding == "same":
        pairs, flat = _same_pads(spatial, w.shape[2:], strides, dilation)
        if all(b == a for b, a in pairs):
            pad_arg = tuple(b for b, _ in pairs)
        else:
            x = F.pad(x, flat)
            pad_arg = 0
    else:
        eff = [(kk - 1) * d + 1 for kk, d in zip(w.shape[2:], dilation)]
        if any(s < e for s, e in zip(spatial, eff)):
            raise ValueError(f"{fn}: with padding='valid' the kernel (effective size {tuple(eff)}) is larger than the inputs' spatial shape {tuple(spatial)}")
        pad_arg = 0
    y = _CONV[n](x, w, None, strides, pad_arg, dilation, groups)
    return _from_cf(y, data_format)


def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """N-D convolution (1-D, 2-D or 3-D), as ``keras.ops.conv``.

    Args:
        inputs: ``(batch, spatial..., channels)`` (channels_last).
        kernel: ``(spatial..., in_channels // groups, out_channels)``.
        strides, dilation_rate: int or tuple.
        padding: ``"valid"`` or ``"same"`` (TensorFlow's rule: output
            ``ceil(size / stride)``, the odd pixel padded at the end).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
        >>> from kerasish.ops import ones
        >>> conv(ones((1, 5, 5, 3)), ones((3, 3, 3, 8)), padding="same").shape
        torch.Size([1, 5, 5, 8])
    """
    return _conv_impl("conv", inputs, kernel, strides, padding, data_format, dilation_rate, False)


def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """Depthwise convolution; ``kernel`` is ``(spatial..., in_channels, multiplier)``
    and the output has ``in_channels * multiplier`` channels."""
    return _conv_impl("depthwise_conv", inputs, kernel, strides, padding, data_format, dilation_rate, True)


def _pool(fn, mode, inputs, pool_size, strides, padding, data_format):
    x = _floatify(_tt(inputs)) if mode == "avg" else _tt(inputs)
    n = _check_rank(x, fn)
    pool_size = _tuple(pool_size, n, "pool_size", fn)
    strides = pool_size if strides is None else _tuple(strides, n, "strides", fn)
    padding = _padding(padding, fn)
    data_format = _fmt(data_format, fn)
    x = _to_cf(x, data_format)
    spatial = x.shape[2:]
    if padding == "valid":
        if any(s < p for s, p in zip(spatial, pool_size)):
            raise ValueError(f"{fn}: pool_size {pool_size} is larger than the inputs' spatial shape {tuple(spatial)} with padding='valid'")
        y = _MAXPOOL[n](x, pool_size, strides) if mode == "max" else _AVGPOOL[n](x, pool_size, strides)
        return _from_cf(y, data_format)
    pairs, flat = _same_pads(spatial, pool_size, strides, (1,) * n)
    if mode == "max":
        if all(b == a for b, a in pairs) and all(b <= p // 2 for (b, _), p in zip(pairs, pool_size)):
            y = _MAXPOOL[n](x, pool_size, strides, tuple(b for b, _ in pairs))
        else:
            y = _MAXPOOL[n](F.pad(x, flat, value=float("-inf")), pool_size, strides)
        return _from_cf(y, data_format)
    # average over the real pixels only (padding excluded from the count)
    sums = _AVGPOOL[n](F.pad(x, flat), pool_size, strides)
    ones = torch.ones((1, 1) + tuple(spatial), dtype=x.dtype, device=x.device)
    counts = _AVGPOOL[n](F.pad(ones, flat), pool_size, strides)
    return _from_cf(sums / counts, data_format)


def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Max pooling over 1-D, 2-D or 3-D windows (``strides`` default ``pool_size``).

    ``padding="same"`` pads with -inf by TensorFlow's rule.
    """
    return _pool("max_pool", "max", inputs, pool_size, strides, padding, data_format)


def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Average pooling over 1-D, 2-D or 3-D windows (``strides`` default ``pool_size``).

    With ``padding="same"`` each window averages its real pixels only (padding
    is not counted), as Keras/TensorFlow.
    """
    return _pool("average_pool", "avg", inputs, pool_size, strides, padding, data_format)


def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """``(x - mean) / sqrt(variance + epsilon) * scale + offset``, where the
    1-D ``mean``/``variance``/``offset``/``scale`` run along ``axis`` of ``x``."""
    x = _floatify(_tt(x))
    axis = axis % x.ndim
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]

    def bc(v):
        if v is None:
            return None
        v = convert_to_tensor(v, device=x.device)
        if v.ndim == 1:
            if v.shape[0] != x.shape[axis]:
                raise ValueError(f"batch_normalization: a parameter of shape {tuple(v.shape)} does not fit axis {axis} of x with shape {tuple(x.shape)}")
            v = v.reshape(shape)
        return v.to(x.dtype)

    m, v, o, s = bc(mean), bc(variance), bc(offset), bc(scale)
    inv = torch.rsqrt(v + epsilon)
    if s is not None:
        inv = inv * s
    out = (x - m) * inv
    return out + o if o is not None else out


def moments(x, axes, keepdims=False, synchronized=False):
    """``(mean, variance)`` of ``x`` over ``axes`` (population variance)."""
    x = _tt(x)
    ori = x.dtype
    if ori in (torch.float16, torch.bfloat16):
        x = x.float()
    x = _floatify(x)
    axes = tuple(axes) if isinstance(axes, (list, tuple)) else (axes,)
    m = torch.mean(x, dim=axes, keepdim=True)
    v = torch.mean(torch.square(x - m), dim=axes, keepdim=True)
    if not keepdims:
        m, v = m.squeeze(axes), v.squeeze(axes)
    if ori in (torch.float16, torch.bfloat16):
        m, v = m.to(ori), v.to(ori)
    return m, v


# -- losses -----------------------------------------------------------------
def _check_same(fn, t, o):
    if tuple(t.shape) != tuple(o.shape):
        raise ValueError(f"{fn}: `target` and `output` must have the same shape, got {tuple(t.shape)} and {tuple(o.shape)}")


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Cross-entropy between one-hot (or soft) ``target`` and ``output``
    probabilities (or logits when ``from_logits``), reduced over ``axis``."""
    t, o = _tensors(_floatify(_tt(target)), _floatify(_tt(output)))
    _check_same("categorical_crossentropy", t, o)
    if from_logits:
        logp = torch.log_softmax(o, dim=axis)
    else:
        o = o / torch.sum(o, dim=axis, keepdim=True)
        eps = _backend.epsilon()
        logp = torch.log(torch.clamp(o, eps, 1 - eps))
    return -torch.sum(t * logp, dim=axis)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Cross-entropy with integer class ``target`` (shape of ``output`` without ``axis``)."""
    t, o = _tensors(_tt(target), _floatify(_tt(output)))
    if t.ndim == o.ndim and t.shape[-1] == 1:
        t = t.squeeze(-1)
    if t.ndim != o.ndim - 1:
        raise ValueError(f"sparse_categorical_crossentropy: `target` of shape {tuple(t.shape)} must have one dimension less than `output` of shape {tuple(o.shape)}")
    if from_logits:
        logp = torch.log_softmax(o, dim=axis)
    else:
        o = o / torch.sum(o, dim=axis, keepdim=True)
        eps = _backend.epsilon()
        logp = torch.log(torch.clamp(o, eps, 1 - eps))
    oh = F.one_hot(t.long(), o.shape[axis]).to(o.dtype)
    oh = torch.movedim(oh, -1, axis)
    return -torch.sum(oh * logp, dim=axis)


def binary_crossentropy(target, output, from_logits=False):
    """Element-wise binary cross-entropy (not reduced)."""
    t, o = _tensors(_floatify(_tt(target)), _floatify(_tt(output)))
    _check_same("binary_crossentropy", t, o)
    if from_logits:
        return F.binary_cross_entropy_with_logits(o, t, reduction="none")
    eps = _backend.epsilon()
    o = torch.clamp(o, eps, 1 - eps)
    return -(t * torch.log(o) + (1 - t) * torch.log(1 - o))


def dot_product_attention(query, key, value, bias=None, mask=None, scale=None, is_causal=False, flash_attention=None,
                          attn_logits_soft_cap=None):
    """Scaled dot-product attention, ``softmax(Q K^T * scale + bias) V``, on
    ``torch.nn.functional.scaled_dot_product_attention``.

    Args:
        query: ``(B, T, N, H)``. key: ``(B, S, K, H)``. value: ``(B, S, K, H)``;
            ``K`` divides ``N`` (grouped-query attention repeats the key / value heads).
        bias: optional additive bias broadcastable to ``(B, N, T, S)``.
        mask: optional boolean mask broadcastable to ``(B, N, T, S)``, True where
            attention is allowed (not together with ``bias``).
        scale: the logits' scale (default ``1 / sqrt(H)``).
        is_causal: apply a causal mask.
        flash_attention: Keras's flag; torch chooses its fused kernel itself.
        attn_logits_soft_cap: only supported by Keras on JAX TPUs; must be None.

    Returns:
        ``(B, T, N, H)``, in the inputs' common dtype.

    Example:
        >>> from kerasish import ops
        >>> q = ops.ones((2, 5, 4, 8))
        >>> tuple(ops.dot_product_attention(q, q, q).shape)
        (2, 5, 4, 8)
    """
    fn = "dot_product_attention"
    if attn_logits_soft_cap is not None:
        raise ValueError(f"{fn}: attn_logits_soft_cap is only supported for JAX on TPU. "
                         "Set attn_logits_soft_cap=None when not using JAX on TPU.")
    q, k, v = _tensors(_floatify(_tt(query)), _floatify(_tt(key)), _floatify(_tt(value)))
    shapes = f"query.shape={tuple(q.shape)}, key.shape={tuple(k.shape)}, value.shape={tuple(v.shape)}"
    if q.dim() != 4 or k.dim() != 4 or v.dim() != 4:
        raise ValueError(f"{fn}: only supports 4D inputs (batch, seq, heads, dim). Received: {shapes}.")
    if bias is not None and mask is not None:
        raise ValueError(f"{fn}: only one of `bias` and `mask` can be provided. Received both.")
    if k.shape[:3] != v.shape[:3] or q.shape[0] != k.shape[0] or q.shape[-1] != k.shape[-1] or q.shape[2] % k.shape[2]:
        raise ValueError(f"{fn}: incompatible shapes: key and value must share (batch, seq, heads), query and key the "
                         f"batch and last axis, and key's heads must divide query's. Received: {shapes}.")
    dtype = torch.promote_types(torch.promote_types(q.dtype, k.dtype), v.dtype)
    q, k, v = q.to(dtype), k.to(dtype), v.to(dtype)
    scores_shape = (q.shape[0], q.shape[2], q.shape[1], k.shape[1])
    for arg, extra in (("mask", mask), ("bias", bias)):
        if extra is None:
            continue
        extra_shape = tuple(torch.as_tensor(extra).shape)
        if len(extra_shape) > 4 or any(m != 1 and m != d for m, d in zip(reversed(extra_shape), reversed(scores_shape))):
            raise ValueError(f"{fn}: `{arg}` of shape {extra_shape} does not broadcast to the scores' shape "
                             f"{scores_shape} (batch, heads, query, key). Received: {shapes}.")
    return _attention.sdpa(q, k, v, mask=mask, bias=bias, scale=scale, is_causal=bool(is_causal))
