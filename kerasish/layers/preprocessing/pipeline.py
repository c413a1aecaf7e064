"""Pipeline: a plain layer that runs a list of layers one after the other."""

from __future__ import annotations

import copy

from kerasish.engine.layer import Layer
from kerasish.engine.serialization import deserialize_layer, serialize_layer


class Pipeline(Layer):
    """Applies ``layers`` in order, as Keras's ``keras.layers.Pipeline``: a
    layer, not a model, typically an augmentation pipeline for
    ``Dataset.map`` or the start of a model. Called directly with no
    ``training`` argument it runs its layers in training mode (they augment),
    as Keras's does; models pass the flag.

    Args:
        layers: a list of kerasish layers.
        name: optional name of the layer.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import RandomFlip, Rescaling
        >>> from kerasish.layers.preprocessing.pipeline import Pipeline
        >>> p = Pipeline([Rescaling(1 / 255), RandomFlip("horizontal", seed=1)])
        >>> p(np.full((2, 4, 4, 3), 255.0)).max().item()
        1.0
    """

    def __init__(self, layers, name=None, **kwargs):
        if not isinstance(layers, (list, tuple)) or not all(isinstance(layer, Layer) for layer in layers):
            raise ValueError(f"Pipeline: `layers` must be a list of kerasish layers. Received: layers={layers!r:.200}")
        super().__init__(name=name, **kwargs)
        self._pipeline_layers = list(layers)
        for i, layer in enumerate(self._pipeline_layers):  # torch tracks them (devices, state_dict)
            self.add_module(f"layer_{i}", layer)

    @property
    def layers(self):
        return list(self._pipeline_layers)

    def _eager_call(self, inputs, *args, **kwargs):
        if kwargs.get("training") is None:  # as Keras: training unless told otherwise
            kwargs["training"] = True
        return super()._eager_call(inputs, *args, **kwargs)

    def build(self, input_shape):
        self.built = True

    def call(self, inputs, training=None):
        for layer in self._pipeline_layers:
            inputs = layer(inputs, training=training) if layer._call_has_training else layer(inputs)
        return inputs

    def compute_output_shape(self, input_shape):
        for layer in self._pipeline_layers:
            input_shape = layer.compute_output_shape(input_shape)
        return input_shape

    def get_config(self):
        return {"layers": [serialize_layer(layer) for layer in self._pipeline_layers], "name": self.name}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        layers = config.get("layers")
        if not isinstance(layers, (list, tuple)):
            raise ValueError("Pipeline: the config must contain a `layers` key mapping to a list of serialized layers. "
                             f"Received config with layers={layers!r:.200}.")
        config = copy.deepcopy(config)
        config["layers"] = [deserialize_layer(layer, custom_objects=custom_objects) for layer in layers]
        return cls(**config)
