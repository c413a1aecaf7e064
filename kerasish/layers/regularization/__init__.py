"""Regularization layers: Dropout, SpatialDropout1D, SpatialDropout2D, SpatialDropout3D."""

from kerasish.layers.regularization.dropout import Dropout
from kerasish.layers.regularization.spatial_dropout import SpatialDropout1D, SpatialDropout2D, SpatialDropout3D

__all__ = ["Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D"]
