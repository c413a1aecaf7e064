"""``Sequential``: a plain stack of layers, each with one input and one output."""

from __future__ import annotations

import torch

from kerasish.layers.core.input_layer import Input, InputLayer

from .functional import Functional
from kerasish.engine.keras_tensor import KerasTensor
from kerasish.engine.layer import Layer, _dtype_name, _is_shape_tuple
from kerasish.engine.serialization import deserialize_layer, safe_mode_scope, serialize_layer


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
        self._clear_graph()
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._maybe_build_graph()

    # ------------------------------------------------------------------
    def add(self, layer, rebuild=True):
        """Append a layer (or an ``Input`` tensor / ``InputLayer``).

        Args:
            layer: the layer. The first one may give the input shape: an
                ``Input``, a layer made with ``input_shape=``, or a built model
                with one input (its input shape is taken).
            rebuild: rebuild the graph now (else at the next ``build``, call
                or ``add``). A layer that cannot take the current output is
                refused, and the model stays as it was.
        """
        if isinstance(layer, KerasTensor):
            history = layer._keras_history
            if history is None or not isinstance(history.layer, InputLayer):
                raise ValueError("Sequential.add: only Input() tensors may be added, not intermediate tensors.")
            layer = history.layer
        if isinstance(layer, InputLayer):
            if self._seq_layers or self._input_tensor is not None:
                raise ValueError(f"Sequential model '{self.name}': an InputLayer can only be the first layer.")
            self._input_tensor = layer._inbound_nodes[0].outputs
            if rebuild:
                self._maybe_build_graph()
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add takes a Layer, got {type(layer).__name__}: {layer!r:.80}")
        if any(l.name == layer.name for l in self._seq_layers):
            raise ValueError(f"Sequential model '{self.name}' already has a layer named '{layer.name}'; layer names must be unique.")
        input_tensor = self._input_tensor
        if not self._seq_layers and input_tensor is None:
            input_tensor = _input_from_first_layer(layer)
        extend = rebuild and self.built and input_tensor is self._input_tensor
        self._seq_layers.append(layer)
        previous_input, self._input_tensor = self._input_tensor, input_tensor
        if not rebuild:
            if self.built:
                self._clear_graph()  # rebuilt at the next build, call or add
            return
        try:
            if extend:
                self._extend_graph(layer)
            else:
                self._maybe_build_graph()
        except Exception:
            self._seq_layers.pop()
            self._input_tensor = previous_input
            raise

    def pop(self, rebuild=True):
        """Remove the last layer and return it; the graph is rebuilt without it."""
        if not self._seq_layers:
            raise TypeError(f"Sequential model '{self.name}' has no layers to pop.")
        layer = self._seq_layers.pop()
        if rebuild:
            self._maybe_build_graph()
        else:
            self._clear_graph()
        return layer

    def _maybe_build_graph(self):
        """Build the graph when the input shape is known; otherwise make sure
        no graph (steps, modules, names) of an earlier stack survives."""
        if self._input_tensor is None or not self._seq_layers:
            self._clear_graph()
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
        try:
            x = layer(self._output_struct)
        except (ValueError, TypeError) as e:
            raise type(e)(f"In Sequential model '{self.name}': {e}") from e
        if not isinstance(x, KerasTensor):
            raise ValueError(f"Sequential model '{self.name}': layer '{layer.name}' has several outputs; all layers in a Sequential model must have one output.")
        self._init_graph(self._input_tensor, x)

    def build(self, input_shape=None, dtype=None):
        """Build the graph for ``input_shape`` (batch axis first, e.g. ``(None, 16)``).

        Args:
            input_shape: the shape of the one input; may be omitted when the
                model already has one (``Input`` first, ``input_shape=``).
            dtype: the input's dtype (default: the first layer's dtype).
        """
        if not self._seq_layers:
            raise ValueError(f"Sequential model '{self.name}' cannot be built because it has no layers. Call `model.add(layer)`.")
        if input_shape is None:
            if self._input_tensor is None:
                raise ValueError(f"Sequential model '{self.name}' has no input shape: pass one to build() or start with Input().")
        else:
            if not isinstance(input_shape, (list, tuple)) or not _is_shape_tuple(tuple(input_shape)):
                raise ValueError(
                    f"Sequential model '{self.name}' takes one input; build() needs one shape such as (None, 16), got {input_shape!r}."
                )
            shape = tuple(input_shape)
            if self._input_tensor is None:
                self._input_tensor = Input(batch_shape=shape, dtype=dtype or self._seq_layers[0].dtype)
            else:
                own = self._input_tensor.shape
                if len(own) != len(shape) or any(a is not None and b is not None and a != b for a, b in zip(own[1:], shape[1:])):
                    raise ValueError(
                        f"Sequential model '{self.name}' has already been configured to use input shape {own}. "
                        f"You cannot build it with input_shape {shape}."
                    )
        if self.built and self._inputs_flat and self._inputs_flat[0] is self._input_tensor:
            return  # already built on this input
        self._maybe_build_graph()

    def _build_on_data(self, inputs):
        # Keras builds a Sequential on the first batch it is called on. The
        # batch axis stays None here (Keras keeps the first batch's size), and
        # integer data (token ids) makes an integer input, as it would be fed.
        if not isinstance(inputs, torch.Tensor):
            raise ValueError(
                f"Sequential model '{self.name}' has no input shape yet and takes one input tensor; it was called on a "
                f"{type(inputs).__name__}. Start it with Input(shape) or call model.build(input_shape)."
            )
        dtype = None if inputs.is_floating_point() else _dtype_name(inputs.dtype)
        self.build((None,) + tuple(inputs.shape[1:]), dtype=dtype)

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
            self._build_on_data(args[0] if len(args) == 1 else list(args))
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
        with safe_mode_scope(safe_mode):
            return cls._from_config(config, custom_objects)

    @classmethod
    def _from_config(cls, config, custom_objects=None):
        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for data in config["layers"]:
            if data.get("class_name") == "InputLayer":
                cfg = dict(data["config"])
                model.add(InputLayer(**cfg), rebuild=False)
            else:
                model.add(deserialize_layer(data, custom_objects), rebuild=False)
        if model._input_tensor is None and config.get("build_input_shape"):
            model.build(tuple(config["build_input_shape"]))
        else:
            model._maybe_build_graph()
        return model


def _input_from_first_layer(layer):
    """The input a first layer declares: ``input_shape=`` (the Keras 2 idiom)
    or, for a built model with one input, that model's input (Keras takes a
    nested functional model's ``input_shape``). None: unknown until built."""
    if layer._batch_input_shape is not None:
        return Input(batch_shape=layer._batch_input_shape, dtype=layer.dtype)
    if isinstance(layer, Functional) and layer.built and len(layer._inputs_flat) == 1:
        spec = layer._inputs_flat[0]
        return Input(batch_shape=spec.shape, dtype=spec.dtype)
    return None
