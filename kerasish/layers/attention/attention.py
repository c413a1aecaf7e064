"""Attention: Luong-style dot-product attention (Keras's ``keras.layers.Attention``)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from kerasish.engine.layer import Layer


class Attention(Layer):
    """Dot-product attention: ``softmax(query @ key^T) @ value`` (Luong style).

    Args:
        use_scale: learn a scalar ``scale`` multiplying the scores.
        score_mode: ``"dot"`` (``query @ key^T``) or ``"concat"``
            (``concat_score_weight * sum(tanh(query + key), -1)``).
        dropout: dropout rate on the attention distribution (training only).
        seed: kept in the config (the dropout draws from torch's generator).

    Call arguments:
        inputs: ``[query, value]`` or ``[query, value, key]``; query ``(batch, Tq, dim)``,
            value / key ``(batch, Tv, dim)`` (key defaults to value).
        mask: ``[query_mask, value_mask]`` (``(batch, Tq)`` / ``(batch, Tv)``), by default
            the masks riding on the inputs: masked values get no attention, masked
            query positions output zeros.
        training: dropout on. return_attention_scores: also return the ``(batch, Tq, Tv)``
            distribution. use_causal_mask: position ``i`` sees only ``j <= i``.

    Output: ``(batch, Tq, dim_value)``, the query's mask passed on.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import Attention
        >>> tuple(Attention()([np.ones((2, 3, 4)), np.ones((2, 5, 4))]).shape)
        (2, 3, 4)
    """

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        cls = type(self).__name__
        self.use_scale = bool(use_scale)
        self.score_mode = score_mode
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{cls}: `dropout` must be a float in [0, 1], got {dropout!r}.")
        self.dropout = dropout
        self.seed = seed
        if score_mode not in ("dot", "concat"):
            raise ValueError(f"{cls}: invalid value for argument score_mode. Expected one of {{'dot', 'concat'}}. "
                             f"Received: score_mode={score_mode!r}")

    def _validate_inputs(self, inputs, mask=None):
        cls = type(self).__name__
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"Layer '{self.name}' ({cls}) must be called on a list of inputs, namely [query, value] or "
                             f"[query, value, key]. Received: inputs={inputs}.")
        if not 2 <= len(inputs) <= 3:
            raise ValueError(f"Layer '{self.name}' ({cls}) accepts inputs list of length 2 or 3, namely [query, value] "
                             f"or [query, value, key]. Received length: {len(inputs)}.")
        if mask is not None:
            if not isinstance(mask, (list, tuple)):
                raise ValueError(f"Layer '{self.name}' ({cls}) mask must be a list, namely [query_mask, value_mask]. "
                                 f"Received: mask={mask}.")
            if not 2 <= len(mask) <= 3:
                raise ValueError(f"Layer '{self.name}' ({cls}) accepts mask list of length 2 or 3. Received {len(mask)} masks.")

    def _check_input(self, input_shape):
        if not isinstance(input_shape, list):  # one tensor's shape (a tuple), not a list of inputs
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) must be called on a list of inputs, namely "
                             f"[query, value] or [query, value, key]. Received one input of shape {input_shape}.")
        self._validate_inputs(input_shape)
        q, v = tuple(input_shape[0]), tuple(input_shape[1])
        k = tuple(input_shape[2]) if len(input_shape) > 2 else v
        cls = type(self).__name__
        if len(q) < 2 or len(v) != len(q) or len(k) != len(q):
            raise ValueError(f"Layer '{self.name}' ({cls}): query, value and key must have the same rank (>= 2). "
                             f"Received: query {q}, value {v}, key {k}.")
        if k[-2] is not None and v[-2] is not None and k[-2] != v[-2]:
            raise ValueError(f"Layer '{self.name}' ({cls}): key and value must have the same length Tv. "
                             f"Received: value {v}, key {k}.")
        if q[-1] is not None and k[-1] is not None and q[-1] != k[-1]:
            raise ValueError(f"Layer '{self.name}' ({cls}): query and key must have the same last axis. "
                             f"Received: query {q}, key {k}.")

    def build(self, input_shape):
        self._validate_inputs(input_shape)
        if self.use_scale:
            self.scale = self.add_weight(name="scale", shape=(), initializer="ones")
        else:
            self.scale = None
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight(name="concat_score_weight", shape=(), initializer="ones")
        else:
            self.concat_score_weight = None
        self.built = True

    def _calculate_scores(self, query, key):
        """``(batch, Tq, Tv)`` scores of ``query`` against ``key``."""
        scale = None if self.scale is None else self.scale.value
        if self.score_mode == "dot":
            scores = torch.matmul(query, key.transpose(-2, -1))
            return scores if scale is None else scores * scale
        summed = query.unsqueeze(-2) + key.unsqueeze(-3)
        if scale is not None:
            summed = scale * summed
        return self.concat_score_weight.value * torch.tanh(summed).sum(-1)

    def _apply_scores(self, scores, value, scores_mask=None, training=False):
        if scores_mask is not None:
            padding = ~scores_mask
            if padding.dim() == 2:
                padding = padding.unsqueeze(-2)
            big = 65504.0 if scores.dtype == torch.float16 else 1.0e9
            scores = torch.where(padding, scores - big, scores)
        weights = torch.softmax(scores, dim=-1)
        dropped = F.dropout(weights, float(self.dropout), True) if training and self.dropout > 0 else weights
        return torch.matmul(dropped, value), weights

    def call(self, inputs, mask=None, training=False, return_attention_scores=False, use_causal_mask=False):
        self._validate_inputs(inputs, mask)
        q, v = inputs[0], inputs[1]
        k = inputs[2] if len(inputs) > 2 else v
        q_mask = mask[0] if mask else None
        v_mask = mask[1] if mask else None
        if v_mask is not None:
            v_mask = torch.as_tensor(v_mask, device=q.device).to(torch.bool)
        scores = self._calculate_scores(q, k)
        if use_causal_mask:
            t, s = scores.shape[-2], scores.shape[-1]
            causal = torch.ones((1, t, s), dtype=torch.bool, device=scores.device).tril()
            scores_mask = causal if v_mask is None else v_mask.unsqueeze(-2) & causal
        else:
            scores_mask = v_mask
        out, weights = self._apply_scores(scores, v, scores_mask, training)
        if q_mask is not None:
            q_mask = torch.as_tensor(q_mask, device=q.device).to(torch.bool).unsqueeze(-1)
            out = torch.where(q_mask, out, torch.zeros((), dtype=out.dtype, device=out.device))
        if return_attention_scores:
            return out, weights
        return out

    def compute_mask(self, inputs, mask=None):
        self._validate_inputs(inputs, mask)
        if mask is None or mask[0] is None:
            return None
        return mask[0]

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape[0])[:-1], tuple(input_shape[1])[-1])

    def _output_shapes_for_call(self, args, kwargs):
        # A second output, the scores, with return_attention_scores.
        shapes = [tuple(t.shape) for t in args[0]]
        out = self.compute_output_shape(shapes)
        if kwargs.get("return_attention_scores"):
            key = shapes[2] if len(shapes) > 2 else shapes[1]
            return [out, (*shapes[0][:-1], key[-2])]
        return out

    def get_config(self):
        return {**super().get_config(), "use_scale": self.use_scale, "score_mode": self.score_mode,
                "dropout": self.dropout, "seed": self.seed}
