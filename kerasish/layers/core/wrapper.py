"""Wrapper: the base class of layers that take another layer and augment it."""

from __future__ import annotations

import copy

from kerasish.engine.layer import Layer
from kerasish.engine.serialization import deserialize_layer, serialize_layer


class Wrapper(Layer):
    """Base class of layers wrapping another layer (as Keras's ``keras.layers.Wrapper``):
    it holds ``self.layer`` (whose weights become the wrapper's), builds it with the
    wrapper, and writes it in its config. Subclass it and write ``call``; used as it
    is, it runs the wrapped layer unchanged.

    Args:
        layer: the kerasish layer to wrap.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import Dense, Wrapper
        >>> class Twice(Wrapper):
        ...     def call(self, x):
        ...         return 2 * self.layer(x)
        >>> Twice(Dense(2, kernel_initializer="ones"))(np.ones((1, 3), "float32")).tolist()
        [[6.0, 6.0]]
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(
                f"{type(self).__name__}: layer {layer!r:.200} supplied to Wrapper isn't a supported layer type. "
                "Please ensure the wrapped layer is a valid kerasish layer."
            )
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape=None):
        if not self.layer.built:
            self.layer._maybe_build(input_shape)
        self.built = True

    def call(self, inputs, training=None):
        return self.layer(inputs, training=training)

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "layer": serialize_layer(self.layer)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = copy.deepcopy(config)
        layer = deserialize_layer(config.pop("layer"), custom_objects=custom_objects)
        return cls(layer, **config)
