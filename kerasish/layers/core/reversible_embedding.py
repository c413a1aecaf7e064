"""ReversibleEmbedding: an Embedding that also projects vectors back to vocabulary logits."""

from __future__ import annotations

import torch

from kerasish.engine import layout
from kerasish.engine.layer import torch_dtype
from kerasish.layers.core.embedding import Embedding


def _reverse_dtype(value):
    """``reverse_dtype`` checked: None or a floating dtype name (kept as given, as Keras's config does)."""
    if value is None:
        return None
    try:
        dtype = torch_dtype(value)
    except (AttributeError, TypeError, ValueError) as e:
        raise ValueError(f"ReversibleEmbedding: `reverse_dtype` must be a floating dtype name such as 'float32', "
                         f"got {value!r}.") from e
    if not dtype.is_floating_point:
        raise ValueError(f"ReversibleEmbedding: `reverse_dtype` must be a floating dtype, got {value!r}.")
    return str(value).replace("torch.", "") if isinstance(value, torch.dtype) else value


def _soft_cap(value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"ReversibleEmbedding: `logit_soft_cap` must be a positive number or None, got {value!r}.")
    return value


class ReversibleEmbedding(Embedding):
    """An :class:`Embedding` that can also be called in reverse, projecting
    ``output_dim`` vectors back to logits over the ``input_dim`` vocabulary
    (a language model's tied input / output embedding).

    Args:
        input_dim: positive int, the vocabulary size.
        output_dim: positive int, the size of each vector.
        tie_weights: whether the reverse projection is the transposed
            ``embeddings`` matrix (default) or a weight of its own,
            ``reverse_embeddings`` ``(output_dim, input_dim)``, initialized
            with ``embeddings_initializer``.
        others: ``embeddings_initializer``, ``embeddings_regularizer``,
            ``embeddings_constraint`` and ``mask_zero`` as :class:`Embedding`.
        reverse_dtype: floating dtype name the reverse projection computes in
            (its output then has this dtype); None: the layer's dtype.
        logit_soft_cap: positive number or None; when set, reverse logits
            become ``tanh(logits / logit_soft_cap) * logit_soft_cap``.
        **kwargs: the Layer arguments (``name``, ``dtype``, ``trainable``...),
            and Embedding's ``weights`` (the ``embeddings`` matrix, or the list
            of both matrices when ``tie_weights=False``).

    Call arguments:
        inputs: token ids ``(batch, ...)`` -> ``(batch, ..., output_dim)``,
            or with ``reverse=True`` vectors ``(batch, ..., output_dim)`` ->
            logits ``(batch, ..., input_dim)``.
        reverse: bool, the direction (default False: ids to vectors).

    Masks: with ``mask_zero`` the forward call's output carries ``ids != 0``;
    a reverse call's output carries no mask, as in Keras.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import ReversibleEmbedding
        >>> emb = ReversibleEmbedding(100, 8)
        >>> hidden = emb(np.array([[1, 2, 3]]))
        >>> tuple(hidden.shape), tuple(emb(hidden, reverse=True).shape)
        ((1, 3, 8), (1, 3, 100))
    """

    def __init__(self, input_dim, output_dim, tie_weights=True, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False, reverse_dtype=None,
                 logit_soft_cap=None, **kwargs):
        # Embedding builds at once when given `weights`, but this layer's build
        # needs `tie_weights` first: the weights are set here after it.
        weights = kwargs.pop("weights", None)
        super().__init__(input_dim, output_dim, embeddings_initializer=embeddings_initializer,
                         embeddings_regularizer=embeddings_regularizer, embeddings_constraint=embeddings_constraint,
                         mask_zero=mask_zero, **kwargs)
        self.tie_weights = bool(tie_weights)
        self.reverse_dtype = _reverse_dtype(reverse_dtype)
        self.logit_soft_cap = _soft_cap(logit_soft_cap)
        # The direction of the latest call (or declared call); see compute_mask.
        self._reverse_call = False
        if weights is not None:
            self.build(None)
            self.set_weights(weights if isinstance(weights, list) else [weights])

    def build(self, input_shape=None):
        if self.built:
            return
        super().build(input_shape)
        if not self.tie_weights:
            self.add_weight(shape=(self.output_dim, self.input_dim), initializer=self.embeddings_initializer,
                            name="reverse_embeddings", trainable=True)

    def call(self, inputs, reverse=False, training=None):
        # Keras's signature: `reverse` second, so `layer(hidden, True)` works.
        return super().call(inputs, training=training, reverse=reverse)

    def native_call(self, inputs, reverse=False, training=False):
        # compute_mask does not receive the call's arguments: the engine runs it
        # right after this call (eagerly, and in a model's program), so the
        # direction is recorded here for it.
        self._reverse_call = bool(reverse)
        if not reverse:
            return super().native_call(inputs, training=training)
        x = layout.to_keras(inputs)
        if x.dim() < 1 or x.shape[-1] != self.output_dim:
            raise ValueError(f"Layer '{self.name}' (ReversibleEmbedding): a reverse call takes vectors of size "
                             f"output_dim={self.output_dim} on the last axis, got shape {tuple(x.shape)}.")
        kernel = self._torch_module.weight.t() if self.tie_weights else self.reverse_embeddings
        if self.reverse_dtype is not None:
            dtype = torch_dtype(self.reverse_dtype)
            x, kernel = x.to(dtype), kernel.to(dtype)
        elif x.dtype != kernel.dtype:
            x = x.to(kernel.dtype)
        logits = torch.matmul(x, kernel)
        if self.logit_soft_cap is not None:
            logits = torch.tanh(logits / self.logit_soft_cap) * self.logit_soft_cap
        return layout.to_internal(logits)

    def compute_mask(self, inputs, mask=None):
        """Embedding's mask (``inputs != 0`` with ``mask_zero``) for a forward call; None for a reverse one."""
        if self._reverse_call:
            return None
        return super().compute_mask(inputs, mask)

    def compute_output_shape(self, input_shape, reverse=False):
        if reverse:
            return tuple(input_shape)[:-1] + (self.input_dim,)
        return super().compute_output_shape(input_shape)

    def _output_shapes_for_call(self, args, kwargs):
        # A declared call: the shape depends on `reverse`, and the output's
        # symbolic mask (computed next, from compute_mask) on the direction.
        reverse = bool(kwargs.get("reverse", args[1] if len(args) > 1 else False))
        self._reverse_call = reverse
        shape = tuple(args[0].shape)
        if reverse and (len(shape) < 1 or shape[-1] != self.output_dim):
            raise ValueError(f"Layer '{self.name}' (ReversibleEmbedding): a reverse call takes vectors of size "
                             f"output_dim={self.output_dim} on the last axis, got shape {shape}.")
        return self.compute_output_shape(shape, reverse=reverse)

    def get_config(self):
        return {
            **super().get_config(),
            "tie_weights": self.tie_weights,
            "reverse_dtype": self.reverse_dtype,
            "logit_soft_cap": self.logit_soft_cap,
        }
