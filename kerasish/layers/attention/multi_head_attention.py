"""MultiHeadAttention: Keras's layer on EinsumDense projections and torch's fused attention."""

from __future__ import annotations

import math
import string

import torch

from kerasish import constraints, initializers, regularizers
from kerasish.engine import masking
from kerasish.engine.layer import Layer
from kerasish.layers.activations.softmax import Softmax
from kerasish.layers.attention.dot_product import causal_mask, masked_softmax, merge_masks, project, sdpa
from kerasish.layers.core.einsum_dense import EinsumDense
from kerasish.layers.regularization.dropout import Dropout


def _letters(start, count):
    return string.ascii_lowercase[start:start + count]


def projection_equation(free_dims, bound_dims, output_dims):
    """Keras's projection einsum: ``(equation, bias_axes, output_rank)``."""
    free = _letters(0, free_dims)
    bound = _letters(free_dims, bound_dims)
    out = _letters(free_dims + bound_dims, output_dims)
    return f"{free}{bound},{bound}{out}->{free}{out}", out, free_dims + output_dims


def attention_equations(rank, attn_axes):
    """Keras's score and combine einsums for projected tensors of ``rank``
    (``(batch, <other axes>, <attention axes>, heads, channels)``)."""
    target = _letters(0, rank)
    batch_dims = [i for i in range(rank) if i not in attn_axes and i != rank - 1]
    source, offset = "", rank
    for i in range(rank):
        if i in batch_dims or i == rank - 1:
            source += target[i]
        else:
            source += string.ascii_lowercase[offset]
            offset += 1
    product = "".join([target[i] for i in batch_dims] + [target[i] for i in attn_axes] + [source[i] for i in attn_axes])
    return f"{source},{target}->{product}", f"{product},{source}->{target}", len(product)


def _partial_shape(output_rank, known_last):
    return [None] * (output_rank - len(known_last)) + list(known_last)


def _positive(value, arg, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"MultiHeadAttention: received an invalid value for argument `{arg}`, expected a positive integer. "
                         f"Received: {arg}={value!r}")
    return value


def _clone_initializer(init):
    # A fresh initializer per projection: a seeded one reused would give equal kernels (Keras clones too).
    return type(init).from_config(init.get_config())


class MultiHeadAttention(Layer):
    """Multi-head attention (Vaswani et al., 2017), Keras's weight layout.

    ``query``, ``key`` and ``value`` are projected by ``EinsumDense`` sublayers
    ``query`` / ``key`` / ``value`` (kernels ``(dim, num_heads, key_dim)``, biases
    ``(num_heads, key_dim)``), attended per head, and projected back by
    ``attention_output`` (kernel ``(num_heads, value_dim, out)``).

    Args:
        num_heads: number of heads.
        key_dim: size of each head for query and key.
        value_dim: size of each head for value (default ``key_dim``).
        dropout: dropout rate on the attention probabilities.
        use_bias: whether the projections have biases.
        output_shape: the output's last axes (default: the query's last axis).
        attention_axes: axes attention runs over (default: all but batch, heads, features).
        sliding_window: each query position sees keys within ``sliding_window - 1`` of it.
        flash_attention: Keras's flag; torch picks its fused kernel itself, so only
            ``True`` with dropout or ``return_attention_scores`` is refused, as in Keras.
        use_gate: a sigmoid gate (a ``gate`` projection of the query) on the heads' outputs.
        initializers, regularizers, constraints: ``kernel_initializer``, ``bias_initializer``,
            ``kernel_regularizer``, ``bias_regularizer``, ``activity_regularizer``,
            ``kernel_constraint``, ``bias_constraint``, for the projections.
        seed: seed of the attention dropout.

    Call arguments:
        query ``(B, T, dim)``, value ``(B, S, dim)``, key ``(B, S, dim)`` (default ``value``);
        attention_mask: boolean ``(B, T, S)``, True where attention is allowed;
        return_attention_scores: also return the ``(B, num_heads, T, S)`` probabilities;
        training: dropout on; use_causal_mask: each position sees only earlier ones.
        Keras masks riding on ``query`` / ``value`` / ``key`` (``Embedding(mask_zero=True)``)
        are merged into the attention mask, and the query's mask is the output's.

    With the default ``attention_axes`` and no attention scores asked for, the
    attention runs on ``torch.nn.functional.scaled_dot_product_attention`` (dropout
    in training through its ``dropout_p``, drawn from torch's generator); otherwise
    an explicit softmax path gives the same values.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import MultiHeadAttention
        >>> mha = MultiHeadAttention(num_heads=2, key_dim=4)
        >>> tuple(mha(np.zeros((3, 5, 8)), np.zeros((3, 7, 8))).shape)
        (3, 5, 8)
    """

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True, output_shape=None,
                 attention_axes=None, sliding_window=None, flash_attention=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, use_gate=False, seed=None, **kwargs):
        self_num_heads = _positive(num_heads, "num_heads")
        self_key_dim = _positive(key_dim, "key_dim")
        self_value_dim = _positive(value_dim, "value_dim", allow_none=True)
        super().__init__(**kwargs)
        self.supports_masking = True
        self._num_heads = self_num_heads
        self._key_dim = self_key_dim
        self._value_dim = self_value_dim or self_key_dim
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0.0 <= dropout <= 1.0:
            raise ValueError(f"MultiHeadAttention: `dropout` must be a float in [0, 1], got {dropout!r}.")
        self._dropout = dropout
        self._use_bias = bool(use_bias)
        self._use_gate = bool(use_gate)
        if output_shape:
            if isinstance(output_shape, int):
                output_shape = (output_shape,)
            if not isinstance(output_shape, (list, tuple)):
                raise ValueError(f"Invalid `output_shape`: {output_shape}. When specified, the `output_shape` should be "
                                 "of type tuple, list, or int.")
            output_shape = tuple(output_shape)
        self._output_shape = output_shape
        self._flash_attention = flash_attention
        if flash_attention and dropout > 0.0:
            raise ValueError("MultiHeadAttention: dropout is not supported when flash attention is enabled. "
                             "Please set dropout to 0.0 to use flash attention.")
        self._kernel_initializer = initializers.get(kernel_initializer)
        self._bias_initializer = initializers.get(bias_initializer)
        self._kernel_regularizer = regularizers.get(kernel_regularizer)
        self._bias_regularizer = regularizers.get(bias_regularizer)
        self._activity_regularizer = regularizers.get(activity_regularizer)
        self._kernel_constraint = constraints.get(kernel_constraint)
        self._bias_constraint = constraints.get(bias_constraint)
        if isinstance(attention_axes, int):
            attention_axes = (attention_axes,)
        elif attention_axes is not None and not isinstance(attention_axes, (list, tuple)):
            raise ValueError(f"MultiHeadAttention: `attention_axes` must be an int, list, or tuple. "
                             f"Received: attention_axes={attention_axes}")
        self._attention_axes = tuple(attention_axes) if attention_axes else None
        if sliding_window is not None:
            _positive(sliding_window, "sliding_window")
        self._sliding_window = sliding_window
        self.seed = seed
        self._inverse_sqrt_key_dim = 1.0 / math.sqrt(float(self._key_dim))
        self._built_from = None

    num_heads = property(lambda self: self._num_heads)
    key_dim = property(lambda self: self._key_dim)
    value_dim = property(lambda self: self._value_dim)
    dropout = property(lambda self: self._dropout)
    use_bias = property(lambda self: self._use_bias)
    attention_axes = property(lambda self: self._attention_axes)

    # ------------------------------------------------------------------
    def _sublayer_kwargs(self):
        return dict(kernel_initializer=_clone_initializer(self._kernel_initializer),
                    bias_initializer=_clone_initializer(self._bias_initializer),
                    kernel_regularizer=self._kernel_regularizer, bias_regularizer=self._bias_regularizer,
                    activity_regularizer=self._activity_regularizer, kernel_constraint=self._kernel_constraint,
                    bias_constraint=self._bias_constraint, dtype=self._dtype)

    def _projection(self, rank, bound, heads_dims, name, activation=None):
        equation, bias_axes, out_rank = projection_equation(rank - 1, bound, len(heads_dims))
        return EinsumDense(equation, output_shape=_partial_shape(out_rank - 1, heads_dims),
                           bias_axes=bias_axes if self._use_bias else None, activation=activation, name=name,
                           **self._sublayer_kwargs())

    def _check_shapes(self, query_shape, value_shape, key_shape):
        key_shape = value_shape if key_shape is None else key_shape
        where = f"Layer '{self.name}' (MultiHeadAttention)"
        if tuple(value_shape[1:-1]) != tuple(key_shape[1:-1]):
            raise ValueError(f"{where}: all dimensions of `value` and `key`, except the last one, must be equal. "
                             f"Received: value_shape={tuple(value_shape)} and key_shape={tuple(key_shape)}")
        if len(query_shape) < 3 or len(value_shape) != len(query_shape):
            raise ValueError(f"{where}: `query` and `value` must have the same rank, at least 3 (batch, positions..., "
                             f"features). Received: query_shape={tuple(query_shape)}, value_shape={tuple(value_shape)}")
        for arg, shape in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            if shape[-1] is None:
                raise ValueError(f"{where}: the last axis of `{arg}` must be known. Received: {arg}_shape={tuple(shape)}")
        if self._attention_axes is not None:
            rank = len(query_shape)
            bad = [a for a in self._attention_axes if not (1 <= (a if a >= 0 else rank + a) <= rank - 2)]
            if bad:
                raise ValueError(f"{where}: `attention_axes` {self._attention_axes} is out of range for query_shape "
                                 f"{tuple(query_shape)}: each axis must name one of the axes 1..{rank - 2} (or -{rank - 1}..-2).")
        return key_shape

    def build(self, query_shape, value_shape=None, key_shape=None):
        """Build the projections for ``query_shape``, ``value_shape`` (and ``key_shape``).

        An eager first call may build with the query's shape only; the
        projections are then made on that call, when every shape is known.
        """
        if value_shape is None:
            return
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        key_shape = self._check_shapes(query_shape, value_shape, None if key_shape is None else tuple(key_shape))
        rank = len(query_shape)
        heads_k = [self._num_heads, self._key_dim]
        heads_v = [self._num_heads, self._value_dim]
        # Attribute names are Keras's saved paths (`query_dense`, ...; `_softmax`, `_dropout_layer`).
        self.query_dense = self._projection(rank, 1, heads_k, "query")
        self.query_dense.build(query_shape)
        self.key_dense = self._projection(len(key_shape), 1, heads_k, "key")
        self.key_dense.build(key_shape)
        if self._use_gate:
            self.gate_dense = self._projection(rank, 1, heads_v, "gate", activation="sigmoid")
            self.gate_dense.build(query_shape)
        self.value_dense = self._projection(len(value_shape), 1, heads_v, "value")
        self.value_dense.build(value_shape)
        proj_rank = rank + 1
        if self._attention_axes is None:
            self._attention_axes = tuple(range(1, proj_rank - 2))
        else:
            self._attention_axes = tuple(a if a >= 0 else (proj_rank - 1) + a for a in self._attention_axes)
        self._dot_product_equation, self._combine_equation, scores_rank = attention_equations(proj_rank, self._attention_axes)
        self._norm_axes = tuple(range(scores_rank - len(self._attention_axes), scores_rank))
        self._softmax = Softmax(axis=self._norm_axes, dtype=self._dtype)
        self._dropout_layer = Dropout(rate=self._dropout, seed=self.seed, dtype=self._dtype)
        out_dims = list(self._output_shape) if self._output_shape else [query_shape[-1]]
        equation, bias_axes, out_rank = projection_equation(rank - 1, 2, len(out_dims))
        self.output_dense = EinsumDense(equation, output_shape=_partial_shape(out_rank - 1, out_dims),
                                        bias_axes=bias_axes if self._use_bias else None, name="attention_output",
                                        **self._sublayer_kwargs())
        heads_shape = list(self.query_dense.compute_output_shape(query_shape))
        heads_shape[-1] = self._value_dim
        self.output_dense.build(tuple(heads_shape))
        self._built_from = (query_shape, value_shape, key_shape)
        self.built = True

    # ------------------------------------------------------------------
    def _compute_attention_mask(self, query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask):
        return merge_masks(query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask,
                           self._sliding_window)

    def _check_mask(self, mask, scores_shape, arg="attention_mask"):
        shape = tuple(mask.shape)
        if len(shape) > len(scores_shape) or any(m != 1 and m != d for m, d in zip(reversed(shape), reversed(scores_shape))):
            raise ValueError(f"Layer '{self.name}' (MultiHeadAttention): the merged `{arg}` of shape {shape} does not "
                             f"broadcast to the attention scores' shape {tuple(scores_shape)} (batch, heads, query, key).")

    def _compute_attention(self, query, key, value, attention_mask=None, training=None, return_attention_scores=False,
                           use_causal_mask=False):
        """Attention on projected ``(B, T, N, H)`` tensors: ``(output, scores or None)``."""
        if self._flash_attention and return_attention_scores:
            raise ValueError("MultiHeadAttention: returning attention scores is not supported when flash attention is "
                             "enabled. Please disable flash attention to access attention scores.")
        if not return_attention_scores and query.dim() == 4:
            mask = attention_mask
            if mask is not None:
                while mask.dim() < 4:
                    mask = mask.unsqueeze(-3)  # the heads axis
                self._check_mask(mask, (query.shape[0], query.shape[2], query.shape[1], key.shape[1]))
            out = sdpa(query, key, value, mask=mask, scale=self._inverse_sqrt_key_dim, is_causal=use_causal_mask,
                       dropout_p=float(self._dropout) if training else 0.0)
            return out, None
        if use_causal_mask:  # only reached when the causal mask was the only one (`call` left it out)
            m = causal_mask(query.shape[1], value.shape[1], query.device)
            attention_mask = m if attention_mask is None else attention_mask & m
        query = query * self._inverse_sqrt_key_dim
        scores = torch.einsum(self._dot_product_equation, key, query)
        mask = attention_mask
        if mask is not None:
            expand_at = -len(self._attention_axes) * 2 - 1
            while mask.dim() < scores.dim():
                mask = mask.unsqueeze(expand_at)
            self._check_mask(mask, scores.shape)
        probs = masked_softmax(scores, mask, self._norm_axes)
        dropped = self._dropout_layer.native_call(probs, training=bool(training)) if self._dropout > 0.0 else probs
        return torch.einsum(self._combine_equation, dropped, value), probs

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None, attention_mask=None,
             return_attention_scores=False, training=None, use_causal_mask=False):
        key_given = key is not None
        if key is None:
            key = value
        # As Keras: the query's mask is the one riding on it; value / key masks
        # are those given, else those riding on the tensors.
        query_mask = masking.get_mask(query)
        if value_mask is None:
            value_mask = masking.get_mask(value)
        if key_mask is None and key_given:
            key_mask = masking.get_mask(key)
        if self._built_from is None:
            self.build(tuple(query.shape), tuple(value.shape), tuple(key.shape) if key_given else None)
        else:
            self._check_shapes(tuple(query.shape), tuple(value.shape), tuple(key.shape))
        causal_only = (use_causal_mask and query_mask is None and value_mask is None and key_mask is None
                       and attention_mask is None and self._sliding_window is None)
        if causal_only:
            attention_mask = None
        else:
            attention_mask = self._compute_attention_mask(query, value, query_mask, value_mask, key_mask, attention_mask,
                                                          use_causal_mask)
        gate = project(self.gate_dense, query) if self._use_gate else None
        q = project(self.query_dense, query)
        k = project(self.key_dense, key)
        v = project(self.value_dense, value)
        out, scores = self._compute_attention(q, k, v, attention_mask, training, return_attention_scores,
                                              use_causal_mask=causal_only)
        if gate is not None:
            out = out * gate
        out = project(self.output_dense, out)
        if return_attention_scores:
            return out, scores
        return out

    # ------------------------------------------------------------------
    def compute_output_shape(self, query_shape, value_shape, key_shape=None):
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ValueError(f"Layer '{self.name}' (MultiHeadAttention): all dimensions of `value` and `key`, except the "
                             f"last one, must be equal. Received: value_shape={value_shape} and key_shape={key_shape}")
        if self._output_shape:
            return query_shape[:-1] + tuple(self._output_shape)
        return query_shape

    def _scores_shape(self, query_shape, value_shape):
        rank = len(query_shape) + 1
        axes = self._attention_axes or tuple(range(1, rank - 2))
        axes = tuple(a if a >= 0 else (rank - 1) + a for a in axes)
        projected = tuple(query_shape[:-1]) + (self._num_heads, self._key_dim)  # (B, ..., heads, key_dim)
        batch = [projected[i] for i in range(rank - 1) if i not in axes]  # the heads axis included
        return tuple(batch + [query_shape[a] for a in axes] + [value_shape[a] for a in axes])

    def _output_shapes_for_call(self, args, kwargs):
        # Several tensor arguments, and a second output with return_attention_scores.
        shapes = dict(zip(("query", "value", "key"), args))
        for name in ("query", "value", "key"):
            if name in kwargs:
                shapes[name] = kwargs[name]
        if "value" not in shapes:
            raise TypeError(f"Layer '{self.name}' (MultiHeadAttention) was called without `value`.")
        q, v = tuple(shapes["query"].shape), tuple(shapes["value"].shape)
        k = tuple(shapes["key"].shape) if shapes.get("key") is not None else None
        self._check_shapes(q, v, k)
        out = self.compute_output_shape(q, v, k)
        if kwargs.get("return_attention_scores"):
            return [out, self._scores_shape(q, v)]
        return out

    def get_config(self):
        def ser(fn, obj):
            return fn(obj) if obj is not None else None

        return {
            **super().get_config(),
            "num_heads": self._num_heads,
            "key_dim": self._key_dim,
            "value_dim": self._value_dim,
            "dropout": self._dropout,
            "use_bias": self._use_bias,
            "use_gate": self._use_gate,
            "output_shape": self._output_shape,
            "attention_axes": self._attention_axes,
            "sliding_window": self._sliding_window,
            "kernel_initializer": initializers.serialize(self._kernel_initializer),
            "bias_initializer": initializers.serialize(self._bias_initializer),
            "kernel_regularizer": ser(regularizers.serialize, self._kernel_regularizer),
            "bias_regularizer": ser(regularizers.serialize, self._bias_regularizer),
            "activity_regularizer": ser(regularizers.serialize, self._activity_regularizer),
            "kernel_constraint": constraints.serialize(self._kernel_constraint),
            "bias_constraint": constraints.serialize(self._bias_constraint),
            "seed": self.seed,
        }
