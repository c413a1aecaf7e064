"""The attention kernels the attention layers and ``ops.dot_product_attention`` share.

Two paths with the same values: ``sdpa`` on ``torch.nn.functional.scaled_dot_product_attention``
(torch picks its flash / memory-efficient / math kernel), and ``masked_softmax`` for the
explicit path (attention scores returned, attention over several axes). Masks follow
Keras's torch backend: in the fused path a boolean mask becomes an additive mask of a
large negative number (a fully masked row then averages the values, as Keras's does); in
the explicit path masked scores get ``-1e9`` before the softmax and 0 after (Keras's
``Softmax`` layer).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def sdpa_large_negative(dtype: torch.dtype) -> float:
    """The additive mask value Keras's torch backend uses (0.7 of the dtype's largest)."""
    return -0.7 * (65500.0 if dtype == torch.float16 else 3.38953e38)


def softmax_large_negative(dtype: torch.dtype) -> float:
    """The value Keras's ``Softmax`` layer gives masked logits."""
    return -3e4 if dtype == torch.float16 else -1e9


def sdpa(query, key, value, mask=None, bias=None, scale=None, is_causal=False, dropout_p=0.0):
    """Attention on ``(batch, seq, heads, dim)`` tensors with the fused torch kernel.

    Args:
        query: ``(B, T, N, H)``; key: ``(B, S, K, H)``; value: ``(B, S, K, H_v)``,
            ``K`` dividing ``N`` (grouped heads are repeated, as Keras does).
        mask: boolean, broadcastable to ``(B, N, T, S)``; True where attention is allowed.
        bias: additive, broadcastable to ``(B, N, T, S)`` (not with ``mask``).
        scale: the logits' scale (default ``1 / sqrt(H)``).
        is_causal: add the causal (lower triangular) constraint.
        dropout_p: dropout on the attention probabilities.

    Returns:
        ``(B, T, N, H_v)``.
    """
    if mask is not None:
        mask = torch.as_tensor(mask, device=query.device).to(torch.bool)
        if is_causal:
            # torch takes `attn_mask` and `is_causal` as exclusive: fold the causal part in.
            t, s = query.shape[1], key.shape[1]
            mask = mask & torch.ones((t, s), dtype=torch.bool, device=query.device).tril()
            is_causal = False
        bias = torch.zeros((), dtype=query.dtype, device=query.device).masked_fill(~mask, sdpa_large_negative(query.dtype))
    elif bias is not None:
        bias = torch.as_tensor(bias, dtype=query.dtype, device=query.device)
    q, k, v = query.transpose(1, 2), key.transpose(1, 2), value.transpose(1, 2)
    heads, kv_heads = q.shape[1], k.shape[1]
    if heads != kv_heads and kv_heads > 1:
        k = k.repeat_interleave(heads // kv_heads, dim=1)
        v = v.repeat_interleave(heads // kv_heads, dim=1)
    if bias is not None:
        bias = bias.contiguous()
    # (B, N, T, H) views of (B, T, N, H) tensors, as a hand-written block passes them: the
    # kernels take strided inputs, a copy would only cost.
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias,
                                         dropout_p=dropout_p, is_causal=is_causal, scale=scale)
    return out.transpose(1, 2)


def masked_softmax(scores, mask, axes):
    """Softmax of ``scores`` over ``axes`` with Keras's ``Softmax`` mask rule (masked: 0)."""
    if mask is not None:
        mask = torch.as_tensor(mask, device=scores.device)
        if mask.dtype != torch.bool:
            mask = mask > 0.5
        scores = scores.masked_fill(~mask, softmax_large_negative(scores.dtype))
    if len(axes) == 1:
        probs = torch.softmax(scores, dim=axes[0])
    else:
        probs = torch.exp(scores - torch.logsumexp(scores, dim=tuple(axes), keepdim=True))
    if mask is not None:
        probs = probs.masked_fill(~mask, 0.0)
    return probs


def causal_mask(query_length: int, value_length: int, device=None) -> torch.Tensor:
    """``(1, T, S)`` boolean, True on and below the diagonal (Keras's causal mask)."""
    return torch.ones((1, query_length, value_length), dtype=torch.bool, device=device).tril()


def merge_masks(query, value, query_mask=None, value_mask=None, key_mask=None, attention_mask=None,
                use_causal_mask=False, sliding_window=None):
    """Keras's attention mask from the inputs' masks, as its attention layers merge them.

    The query's mask becomes ``(B, T, 1)``, the value's and key's ``(B, 1, S)``, the
    causal and sliding-window masks ``(1, T, S)``; all are and-ed with ``attention_mask``.
    Returns a boolean tensor, or None when there is no mask at all.
    """
    device = query.device

    def as_bool(m):
        return torch.as_tensor(m, device=device).to(torch.bool)

    auto = None
    if query_mask is not None:
        auto = as_bool(query_mask).unsqueeze(-1)
    for m in (value_mask, key_mask):
        if m is not None:
            m = as_bool(m).unsqueeze(-2)
            auto = m if auto is None else auto & m
    t, s = query.shape[1], value.shape[1]
    if use_causal_mask:
        m = causal_mask(t, s, device)
        auto = m if auto is None else auto & m
    if sliding_window is not None:
        rows = torch.arange(t, device=device).view(1, t, 1)
        cols = torch.arange(s, device=device).view(1, 1, s)
        m = (rows - cols).abs() < sliding_window
        auto = m if auto is None else auto & m
    if attention_mask is not None:
        attention_mask = as_bool(attention_mask)
    if auto is not None:
        attention_mask = auto if attention_mask is None else attention_mask & auto
    return attention_mask


def project(sub, x):
    """``sub``'s own call on ``x`` (an EinsumDense projection inside an attention layer).

    Masks stay out (Keras strips them before projecting), and the sublayer's
    activity regularizer is applied as its ``__call__`` would.
    """
    y = sub.call(x)
    if sub.activity_regularizer is not None:
        sub._activity_losses = [sub.activity_regularizer(y) / max(y.shape[0], 1)]
    return y
