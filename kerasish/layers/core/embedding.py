"""Embedding: token ids -> dense vectors, on ``nn.Embedding``."""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F
from torch import nn

from kerasish import constraints, initializers, regularizers
from kerasish.engine import layout
from kerasish.engine.layer import Layer, torch_dtype
from kerasish.layers.args import positive_int


def _must_check_ids(ids: torch.Tensor) -> bool:
    """Whether the range check can run: not on shape-tracing placeholders
    (meta tensors), not inside torch.compile / tracing (where a data-dependent
    branch would break the graph), not on an empty batch."""
    if ids.device.type == "meta" or ids.numel() == 0:
        return False
    return not (torch.compiler.is_compiling() or torch.jit.is_tracing())


class Embedding(Layer):
    """Turns non-negative integer ids into dense vectors: ``embeddings[ids]``.

    Args:
        input_dim: positive int, the vocabulary size (largest id + 1).
        output_dim: positive int, the size of each vector.
        embeddings_initializer: initializer of the ``(input_dim, output_dim)``
            matrix (Keras's default ``"uniform"``: RandomUniform(-0.05, 0.05)).
        embeddings_regularizer / activity_regularizer: regularizers.
        embeddings_constraint: constraint applied after each update.
        mask_zero: whether id 0 is padding: the output then carries the mask
            ``ids != 0`` (``output._keras_mask``), which mask-aware layers
            downstream (LSTM, GlobalAveragePooling1D, the losses) follow; see
            docs/sequence_models.md.
        weights: optional initial ``(input_dim, output_dim)`` matrix.
        input_length: Keras 2's argument, accepted and ignored (as Keras 3 does).

    Input shape: ``(batch, ...)`` integer ids (float ids are truncated to
    integers, as Keras casts them). Output shape: ``(batch, ..., output_dim)``.
    An id outside ``[0, input_dim)`` raises a ValueError naming the layer and
    the id (checked with one min/max reduction per call, skipped under
    ``torch.compile``). The native module is ``nn.Embedding``, whose weight is
    Keras's ``embeddings`` matrix as it is.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import Embedding
        >>> Embedding(10, 4)(np.array([[1, 2, 3]])).shape
        torch.Size([1, 3, 4])
    """

    _native_layout = True
    _outputs_own_dtype = True

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform", embeddings_regularizer=None,
                 embeddings_constraint=None, mask_zero=False, weights=None, **kwargs):
        if kwargs.pop("input_length", None) is not None:
            warnings.warn("Embedding: argument `input_length` is deprecated (Keras 3 ignores it). Just remove it.",
                          stacklevel=2)
        super().__init__(**kwargs)
        self.input_dim = positive_int(input_dim, "input_dim", "Embedding")
        self.output_dim = positive_int(output_dim, "output_dim", "Embedding")
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero
        if weights is not None:
            self.build(None)
            self.set_weights(weights if isinstance(weights, list) and len(weights) == 1 else [weights])

    def build(self, input_shape=None):
        if self.built:
            return
        emb = self._set_torch_module(nn.Embedding(self.input_dim, self.output_dim, dtype=torch_dtype(self._dtype)))
        self._track_weight(emb, "weight", "embeddings", initializer=self.embeddings_initializer,
                           regularizer=self.embeddings_regularizer, constraint=self.embeddings_constraint)
        self.built = True

    def _check_input(self, input_shape):
        if not isinstance(input_shape, tuple) or len(input_shape) < 1:
            raise ValueError(f"Layer '{self.name}' (Embedding) expects a tensor of token ids, got shape {input_shape}.")

    def native_call(self, inputs, training=False):
        # Ids and vectors in Keras's axis order; a rank-4 result (ids of rank 3) goes back to
        # the internal image layout the rest of the model expects (engine/layout.py).
        ids = layout.to_keras(inputs)
        if ids.is_floating_point() or ids.dtype not in (torch.int32, torch.int64):
            ids = ids.to(torch.int64)  # Keras casts non-integer ids (truncating floats)
        if _must_check_ids(ids):
            lo, hi = torch.aminmax(ids)
            lo, hi = int(lo), int(hi)
            if lo < 0 or hi >= self.input_dim:
                bad = lo if lo < 0 else hi
                raise ValueError(
                    f"Layer '{self.name}' (Embedding): token id {bad} is outside [0, input_dim) = [0, {self.input_dim}); "
                    f"the ids given range over [{lo}, {hi}]."
                )
        emb = self._torch_module
        return layout.to_internal(F.embedding(ids, emb.weight))

    def compute_mask(self, inputs, mask=None):
        """``inputs != 0`` when ``mask_zero``, else None."""
        if not self.mask_zero:
            return None
        return torch.as_tensor(inputs) != 0

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self):
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
            "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer) if self.embeddings_regularizer else None,
            "activity_regularizer": regularizers.serialize(self.activity_regularizer) if self.activity_regularizer else None,
            "embeddings_constraint": constraints.serialize(self.embeddings_constraint),
            "mask_zero": self.mask_zero,
            "quantization_config": None,
        }
