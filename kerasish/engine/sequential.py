"""``Sequential``: a plain stack of layers, each with one input and one output."""

from __future__ import annotations


from .functional import Functional
from .keras_tensor import KerasTensor
from .layer import Layer, _shapes_of
from .serialization import deserialize_layer, serialize_layer


class Sequential(Functional):
    """A linear stack of layers.

    Args:
        layers: optional list of layers to add.
        name: the model's name (default ``sequential``, made unique).

    The input shape comes from an ``Input``/``InputLayer`` first, from
    ``input_shape=`` on the first layer (the Keras 2 idiom, accepted quietly),
    from ``model.build(input_shape)`` or from the first batch it is called on.

    Example:
        >>> from kerasish import Sequential
        >>> from kerasish.layers import Dense
        >>> model = Sequential([Dense(8, activation="relu", input_shape=(4,)), Dense(1)])
        >>> model.output_shape
        (None, 1)
    """

    _keras_node_base = 0  # Keras 3's Sequential has no node of its own

    def __init__(self, layers=None, name=None, trainable=True, **kwargs):
        Layer.__init__(self, name=name, trainable=trainable, **kwargs)
        self._seq_layers: list[Layer] = []
        self._input_tensor: KerasTensor | None = None
        self._layers = []
        self._steps = []
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._maybe_build_graph()

    # ------------------------------------------------------------------
    def add(self, layer, rebuild=True):
        """Append a layer (or an ``Input`` tensor / ``InputLayer``)."""
        from kerasish.layers.core.input_layer import InputLayer

        if isinstance(layer, KerasTensor):
            history = layer._keras_history
            if history is None or not isinstance(history.layer, InputLayer):
                raise ValueError("Sequential.add: only Input() tensors may be added, not intermediate tensors.")
            layer = history.layer
        if isinstance(layer, InputLayer):
            if self._seq_layers or self._input_tensor is not None:
                raise ValueError(f"Sequential model '{self.name}': an InputLayer can only be the first layer.")
            self._input_tensor = layer._inbound_nodes[0].outputs
        elif isinstance(layer, Layer):
            if not self._seq_layers and self._input_tensor is None and layer._batch_input_shape is not None:
                from kerasish.layers.core.input_layer import Input

                self._input_tensor = Input(batch_shape=layer._batch_input_shape, dtype=layer.dtype)
            if any(l.name == layer.name for l in self._seq_layers):
                raise ValueError(f"Sequential model '{self.name}' already has a layer named '{layer.name}'; layer names must be unique.")
            self._seq_layers.append(layer)
        else:
            raise TypeError(f"Sequential.add takes a Layer, got {type(layer).__name__}: {layer!r:.80}")
        if rebuild:
            if self.built and isinstance(layer, Layer) and layer is self._seq_layers[-1]:
                self._extend_graph(layer)
            else:
                self._maybe_build_graph()

    def pop(self, rebuild=True):
        if not self._seq_layers:
            raise TypeError(f"Sequential model '{self.name}' has no layers to pop.")
        layer = self._seq_layers.pop()
        self.built = False
        if rebuild:
            self._maybe_build_graph(force=True)
        return layer

    def _maybe_build_graph(self, force=False):
        if self._input_tensor is None:
            return
        if not self._seq_layers:
            return
        x = self._input_tensor
        for layer in self._seq_layers:
            try:
                x = layer(x)
            except (ValueError, TypeError) as e:
                raise type(e)(f"In Sequential model '{self.name}': {e}") from e
            if not isinstance(x, KerasTensor):
                raise ValueError(f"Sequential model '{self.name}': layer '{layer.name}' has several outputs; all layers in a Sequential model must have one output.")
        self._init_graph(self._input_tensor, x)

    def _extend_graph(self, layer):
        x = layer(self._output_struct)
        self._init_graph(self._input_tensor, x)

    def build(self, input_shape=None):
        if input_shape is None:
            if self._input_tensor is None:
                raise ValueError(f"Sequential model '{self.name}' has no input shape: pass one to build() or start with Input().")
        else:
            from kerasish.layers.core.input_layer import Input

            if self._input_tensor is None:
                self._input_tensor = Input(batch_shape=tuple(input_shape))
        self._maybe_build_graph(force=True)

    def _check_input(self, input_shape):
        if self.built:
            super()._check_input(input_shape)

    def _maybe_build(self, input_shape):
        if not self.built:
            self.build((None,) + tuple(input_shape)[1:])

    # ------------------------------------------------------------------
    @property
    def layers(self):
        return list(self._seq_layers)

    def _check_built(self, what):
        if not self.built:
            raise ValueError(
                f"Sequential model '{self.name}' has not been built yet, so it has no {what}. "
                "Give the first layer an input shape (Input(shape) first, or input_shape=...), call model.build(input_shape), or call it on data."
            )

    def forward(self, *args, training=None):
        if not self.built:
            self._maybe_build(_shapes_of(args[0]))
        return super().forward(*args, training=training)

    @property
    def inputs(self):
        self._check_built("inputs")
        return super().inputs

    @property
    def outputs(self):
        self._check_built("outputs")
        return super().outputs

    @property
    def input(self):
        self._check_built("input")
        return self._input_struct

    @property
    def output(self):
        self._check_built("output")
        return self._output_struct

    @property
    def input_shape(self):
        self._check_built("input shape")
        return self._inputs_flat[0].shape

    @property
    def output_shape(self):
        self._check_built("output shape")
        return self._outputs_flat[0].shape

    def get_config(self):
        layer_configs = []
        if self._input_tensor is not None:
            layer_configs.append(serialize_layer(self._input_tensor._keras_history.layer))
        layer_configs.extend(serialize_layer(l) for l in self._seq_layers)
        config = {"name": self.name, "trainable": self.trainable, "layers": layer_configs}
        if self.built:
            config["build_input_shape"] = list(self._inputs_flat[0].shape)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=None):
        from .serialization import safe_mode_scope

        with safe_mode_scope(safe_mode):
            return cls._from_config(config, custom_objects)

    @classmethod
    def _from_config(cls, config, custom_objects=None):
        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for data in config["layers"]:
            if data.get("class_name") == "InputLayer":
                from kerasish.layers.core.input_layer import InputLayer

                cfg = dict(data["config"])
                model.add(InputLayer(**cfg), rebuild=False)
            else:
                model.add(deserialize_layer(data, custom_objects), rebuild=False)
        if model._input_tensor is None and config.get("build_input_shape"):
            model.build(tuple(config["build_input_shape"]))
        else:
            model._maybe_build_graph()
        return model
