"""Normalization layers: BatchNormalization, LayerNormalization."""

from kerasish.layers.normalization.batch_normalization import BatchNormalization
from kerasish.layers.normalization.layer_normalization import LayerNormalization

__all__ = ["BatchNormalization", "LayerNormalization"]
