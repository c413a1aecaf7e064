"""GroupedQueryAttention (``keras.layers.GroupQueryAttention``): fewer key / value heads than query heads."""

from __future__ import annotations

import math

import torch

from kerasish import constraints, initializers, regularizers
from kerasish.engine import masking
from kerasish.engine.layer import Layer
from kerasish.layers.activations.softmax import Softmax
from kerasish.layers.attention.dot_product import causal_mask, masked_softmax, merge_masks, project, sdpa
from kerasish.layers.core.einsum_dense import EinsumDense
from kerasish.layers.regularization.dropout import Dropout


def _positive(value, arg):
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"GroupedQueryAttention: `{arg}` must be a positive integer. Received: {arg}={value!r}")
    return value


class GroupedQueryAttention(Layer):
    """Grouped-query attention (Ainslie et al., 2023): ``num_query_heads`` query heads
    sharing ``num_key_value_heads`` key / value heads, Keras's weight layout.

    Args:
        head_dim: size of each head.
        num_query_heads: number of query heads.
        num_key_value_heads: number of key / value heads; divides ``num_query_heads``.
        dropout: dropout rate on the attention probabilities.
        use_bias: whether the projections have biases.
        sliding_window: each query position sees keys within ``sliding_window - 1`` of it.
        flash_attention: Keras's flag; torch picks its fused kernel itself.
        use_gate: a sigmoid gate (a ``gate`` projection of the query) on the heads' outputs.
        initializers, regularizers, constraints: ``kernel_initializer``, ``bias_initializer``,
            ``kernel_regularizer``, ``bias_regularizer``, ``activity_regularizer``,
            ``kernel_constraint``, ``bias_constraint``, for the projections.
        seed: seed of the attention dropout on the explicit path.

    Weights (Keras's): ``query`` kernel ``(dim, num_query_heads, head_dim)``, ``key`` /
    ``value`` kernels ``(dim, num_key_value_heads, head_dim)``, ``attention_output`` kernel
    ``(num_query_heads, head_dim, dim)``, biases over the heads.

    Call arguments: ``query (B, T, dim)``, ``value (B, S, dim)``, ``key`` (default
    ``value``), ``query_mask`` / ``value_mask`` / ``key_mask`` (default: the masks riding
    on the tensors), ``attention_mask (B, T, S)``, ``return_attention_scores``,
    ``training``, ``use_causal_mask``. Output ``(B, T, dim)`` (and the
    ``(B, num_query_heads, T, S)`` scores).

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import GroupQueryAttention
        >>> gqa = GroupQueryAttention(head_dim=4, num_query_heads=4, num_key_value_heads=2)
        >>> tuple(gqa(np.zeros((2, 5, 8)), np.zeros((2, 7, 8))).shape)
        (2, 5, 8)
    """

    # Keras writes the exported name in configs; weight paths keep the class's
    # own snake_case name (`grouped_query_attention`), as Keras's do.
    _keras_class_name = "GroupQueryAttention"

    def __init__(self, head_dim, num_query_heads, num_key_value_heads, dropout=0.0, use_bias=True, sliding_window=None,
                 flash_attention=None, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, use_gate=False, seed=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.supports_masking = True
        self.head_dim = _positive(head_dim, "head_dim")
        self.num_query_heads = _positive(num_query_heads, "num_query_heads")
        self.num_key_value_heads = _positive(num_key_value_heads, "num_key_value_heads")
        if num_query_heads % num_key_value_heads != 0:
            raise ValueError("GroupedQueryAttention: `num_query_heads` must be divisible by `num_key_value_heads`. "
                             f"Received: num_query_heads={num_query_heads}, num_key_value_heads={num_key_value_heads}")
        self.num_repeats = num_query_heads // num_key_value_heads
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0.0 <= dropout <= 1.0:
            raise ValueError(f"GroupedQueryAttention: `dropout` must be a float in [0, 1], got {dropout!r}.")
        self.dropout = dropout
        self.use_bias = bool(use_bias)
        self.use_gate = bool(use_gate)
        if sliding_window is not None:
            _positive(sliding_window, "sliding_window")
        self.sliding_window = sliding_window
        self._flash_attention = flash_attention
        if flash_attention and dropout > 0.0:
            raise ValueError("GroupedQueryAttention: dropout is not supported when flash attention is enabled. "
                             "Please set dropout to 0.0 to use flash attention.")
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.seed = seed
        self._inverse_sqrt_head_dim = 1.0 / math.sqrt(float(self.head_dim))
        self._built_from = None

    def _sublayer_kwargs(self):
        return dict(kernel_initializer=type(self.kernel_initializer).from_config(self.kernel_initializer.get_config()),
                    bias_initializer=type(self.bias_initializer).from_config(self.bias_initializer.get_config()),
                    kernel_regularizer=self.kernel_regularizer, bias_regularizer=self.bias_regularizer,
                    activity_regularizer=self.activity_regularizer, kernel_constraint=self.kernel_constraint,
                    bias_constraint=self.bias_constraint, dtype=self._dtype)

    def _check_shapes(self, query_shape, value_shape, key_shape):
        key_shape = value_shape if key_shape is None else key_shape
        where = f"Layer '{self.name}' (GroupedQueryAttention)"
        for arg, shape in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            if len(shape) != 3 or shape[-1] is None:
                raise ValueError(f"{where}: `{arg}` must be of shape (batch, sequence, features) with known features. "
                                 f"Received: {arg}_shape={tuple(shape)}")
        if query_shape[-1] != value_shape[-1]:
            raise ValueError(f"{where}: the last dimension of `query_shape` and `value_shape` must be equal, but are "
                             f"{query_shape[-1]}, {value_shape[-1]}. Received: query_shape={tuple(query_shape)}, "
                             f"value_shape={tuple(value_shape)}")
        if tuple(value_shape[1:-1]) != tuple(key_shape[1:-1]):
            raise ValueError(f"{where}: all dimensions of `value` and `key`, except the last one, must be equal. "
                             f"Received: value_shape={tuple(value_shape)} and key_shape={tuple(key_shape)}")
        return key_shape

    def build(self, query_shape, value_shape=None, key_shape=None):
        """Build the projections; an eager first call with the query's shape only builds them on that call."""
        if value_shape is None:
            return
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        key_shape = self._check_shapes(query_shape, value_shape, None if key_shape is None else tuple(key_shape))
        self.feature_dim = query_shape[-1]
        bias = self.use_bias
        # Attribute names are Keras's saved paths (`_query_dense`, ...).
        self._query_dense = EinsumDense("bqm,muh->bquh", output_shape=(None, self.num_query_heads, self.head_dim),
                                        bias_axes="uh" if bias else None, name="query", **self._sublayer_kwargs())
        self._query_dense.build(query_shape)
        self._key_dense = EinsumDense("bkm,mvh->bkvh", output_shape=(None, self.num_key_value_heads, self.head_dim),
                                      bias_axes="vh" if bias else None, name="key", **self._sublayer_kwargs())
        self._key_dense.build(key_shape)
        if self.use_gate:
            self._gate_dense = EinsumDense("bqm,muh->bquh", output_shape=(None, self.num_query_heads, self.head_dim),
                                           bias_axes="uh" if bias else None, activation="sigmoid", name="gate",
                                           **self._sublayer_kwargs())
            self._gate_dense.build(query_shape)
        self._value_dense = EinsumDense("bkm,mvh->bkvh", output_shape=(None, self.num_key_value_heads, self.head_dim),
                                        bias_axes="vh" if bias else None, name="value", **self._sublayer_kwargs())
        self._value_dense.build(value_shape)
        self._softmax = Softmax(axis=-1, dtype=self._dtype)
        self._dropout_layer = Dropout(rate=self.dropout, seed=self.seed, dtype=self._dtype)
        self._output_dense = EinsumDense("bquh,uhm->bqm", output_shape=(None, self.feature_dim),
                                         bias_axes="m" if bias else None, name="attention_output",
                                         **self._sublayer_kwargs())
        self._output_dense.build((None, None, self.num_query_heads, self.head_dim))
        self._built_from = (query_shape, value_shape, key_shape)
        self.built = True

    def _compute_attention(self, query, key, value, attention_mask, training, return_attention_scores, use_causal_mask):
        if self._flash_attention and return_attention_scores:
            raise ValueError("GroupedQueryAttention: returning attention scores is not supported when flash attention "
                             "is enabled. Please disable flash attention to access attention scores.")
        mask = attention_mask
        if mask is not None:
            while mask.dim() < 4:
                mask = mask.unsqueeze(-3)  # the heads axis
            scores_shape = (query.shape[0], query.shape[2], query.shape[1], key.shape[1])
            if mask.dim() > 4 or any(m != 1 and m != d for m, d in zip(reversed(mask.shape), reversed(scores_shape))):
                raise ValueError(f"Layer '{self.name}' (GroupedQueryAttention): the merged `attention_mask` of shape "
                                 f"{tuple(attention_mask.shape)} does not broadcast to the attention scores' shape "
                                 f"{scores_shape} (batch, heads, query, key).")
        if not return_attention_scores:
            out = sdpa(query, key, value, mask=mask, scale=self._inverse_sqrt_head_dim, is_causal=use_causal_mask,
                       dropout_p=float(self.dropout) if training else 0.0)
            return out, None
        if use_causal_mask:  # only reached when the causal mask was the only one
            mask = causal_mask(query.shape[1], value.shape[1], query.device).unsqueeze(1)
        scores = torch.einsum("bquh,bkuh->buqk", query * self._inverse_sqrt_head_dim, key)
        probs = masked_softmax(scores, mask, (-1,))
        dropped = self._dropout_layer.native_call(probs, training=bool(training)) if self.dropout > 0.0 else probs
        return torch.einsum("buqk,bkuh->bquh", dropped, value), probs

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None, attention_mask=None,
             return_attention_scores=False, training=None, use_causal_mask=False):
        key_given = key is not None
        if key is None:
            key = value
        # Keras fills each `<arg>_mask` not given from the mask riding on that argument.
        if query_mask is None:
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
                       and attention_mask is None and self.sliding_window is None)
        if causal_only:
            attention_mask = None
        else:
            attention_mask = merge_masks(query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask,
                                         self.sliding_window)
        gate = project(self._gate_dense, query) if self.use_gate else None
        q = project(self._query_dense, query)
        k = project(self._key_dense, key).repeat_interleave(self.num_repeats, dim=2)
        v = project(self._value_dense, value).repeat_interleave(self.num_repeats, dim=2)
        out, scores = self._compute_attention(q, k, v, attention_mask, training, return_attention_scores, causal_only)
        if gate is not None:
            out = out * gate
        out = project(self._output_dense, out)
        if return_attention_scores:
            return out, scores
        return out

    def compute_output_shape(self, query_shape, value_shape, key_shape=None):
        self._check_shapes(tuple(query_shape), tuple(value_shape), None if key_shape is None else tuple(key_shape))
        return tuple(query_shape)

    def _output_shapes_for_call(self, args, kwargs):
        # Several tensor arguments, and a second output with return_attention_scores.
        shapes = dict(zip(("query", "value", "key"), args))
        shapes.update({n: kwargs[n] for n in ("query", "value", "key") if n in kwargs})
        if "value" not in shapes:
            raise TypeError(f"Layer '{self.name}' (GroupedQueryAttention) was called without `value`.")
        q, v = tuple(shapes["query"].shape), tuple(shapes["value"].shape)
        k = tuple(shapes["key"].shape) if shapes.get("key") is not None else None
        out = self.compute_output_shape(q, v, k)
        if kwargs.get("return_attention_scores"):
            return [out, (q[0], self.num_query_heads, q[1], (k or v)[1])]
        return out

    def get_config(self):
        def ser(obj):
            return regularizers.serialize(obj) if obj is not None else None

        return {
            **super().get_config(),
            "head_dim": self.head_dim,
            "num_query_heads": self.num_query_heads,
            "num_key_value_heads": self.num_key_value_heads,
            "use_bias": self.use_bias,
            "use_gate": self.use_gate,
            "sliding_window": self.sliding_window,
            "dropout": self.dropout,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": ser(self.kernel_regularizer),
            "bias_regularizer": ser(self.bias_regularizer),
            "activity_regularizer": ser(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "seed": self.seed,
        }


GroupQueryAttention = GroupedQueryAttention  # Keras exports the class under this name
