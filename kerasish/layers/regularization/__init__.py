"""Regularization layers: Dropout, SpatialDropout1D, SpatialDropout2D, SpatialDropout3D."""

from kerasish.layers.regularization.dropout import Dropout, SpatialDropout2D
from kerasish.layers.regularization.spatial_dropout1d import SpatialDropout1D
from kerasish.layers.regularization.spatial_dropout3d import SpatialDropout3D

__all__ = ["Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D"]
