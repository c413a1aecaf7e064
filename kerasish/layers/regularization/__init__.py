"""Regularization layers: Dropout, SpatialDropout2D."""

from kerasish.layers.regularization.dropout import Dropout, SpatialDropout2D

__all__ = ["Dropout", "SpatialDropout2D"]
