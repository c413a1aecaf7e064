"""``Model``: a Layer that groups layers, as in Keras, and a torch.nn.Module
whose children are those layers' native torch modules.

``Model(inputs, outputs)`` makes a :class:`~kerasish.engine.functional.Functional`
model (the graph declared with symbolic tensors); subclassing ``Model`` and
writing ``call`` makes a subclassed model.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .layer import Layer, _to_tensor
from .trainer import Trainer



class Model(Trainer, Layer):
    """Groups layers into an object with training and inference features.

    ``Model(inputs, outputs, name=None)`` builds a functional model; a subclass
    that defines ``call`` is a subclassed model. Either way the model is a
    ``torch.nn.Module``: ``model(x)`` takes and returns channels_last torch
    tensors, ``model.state_dict()`` is keyed by layer names, and the model
    works in a plain PyTorch loop, under ``torch.compile`` and ``torch.export``.
    """

    def __new__(cls, *args, **kwargs):
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            from .functional import Functional

            return Functional.__new__(Functional)
        return super().__new__(cls, *args, **kwargs)

    def __init__(self, *args, **kwargs):
        # Only subclassed models get here (Functional and Sequential have their own).
        if args:
            raise TypeError(f"{type(self).__name__}.__init__ got unexpected positional arguments {args!r}")
        kwargs.pop("inputs", None)
        kwargs.pop("outputs", None)
        super().__init__(**kwargs)

    # ------------------------------------------------------------------
    # Layers
    # ------------------------------------------------------------------
    @property
    def layers(self) -> list[Layer]:
        return self._sublayers()

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by ``name`` or by ``index`` in ``model.layers``."""
        if index is not None and name is not None:
            raise ValueError("get_layer: provide only a layer name or a layer index, not both.")
        layers = self.layers
        if index is not None:
            if not isinstance(index, int) or not -len(layers) <= index < len(layers):
                raise ValueError(f"Was asked to retrieve layer at index {index} but model '{self.name}' only has {len(layers)} layers.")
            return layers[index]
        if name is not None:
            for layer in layers:
                if layer.name == name:
                    return layer
            raise ValueError(f"No such layer: {name!r}. Existing layers are: {[l.name for l in layers]}.")
        raise ValueError("get_layer: provide either a layer name or a layer index.")

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)
        for layer in self.layers:
            layer.trainable = value

    @property
    def weights(self):
        out, seen = [], set()
        for v in self._variables:
            seen.add(id(v))
            out.append(v)
        for layer in self.layers:
            for v in layer.weights:
                if id(v) not in seen:
                    seen.add(id(v))
                    out.append(v)
        return out

    variables = weights

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        out = [v for v in self._variables if v.trainable]
        seen = {id(v) for v in out}
        for layer in self.layers:
            for v in layer.trainable_weights:
                if id(v) not in seen:
                    seen.add(id(v))
                    out.append(v)
        return out

    trainable_variables = trainable_weights

    @property
    def non_trainable_weights(self):
        trainable = {id(v) for v in self.trainable_weights}
        return [v for v in self.weights if id(v) not in trainable]

    non_trainable_variables = non_trainable_weights

    @property
    def losses(self):
        out = []
        for v in self.weights:
            if v.regularizer is not None:
                out.append(v.regularizer(v.value))
        out.extend(self._activity_losses)
        for layer in self.layers:
            out.extend(layer._activity_losses)
        return out

    # ------------------------------------------------------------------
    # Calling
    # ------------------------------------------------------------------
    def _eager_call(self, inputs, *args, **kwargs):
        device = self._device()
        # A functional model casts each input to its Input's dtype (float64 data
        # into a float64 model unrounded); a subclassed one gets float32, as in Keras.
        cast_float64 = getattr(self, "_input_dtypes", None) is None

        def convert(x):
            t = _to_tensor(x, cast_float64=cast_float64)
            return t.to(device) if device is not None and t.device != device else t

        if isinstance(inputs, dict):
            inputs = {k: convert(v) for k, v in inputs.items()}
        elif isinstance(inputs, (list, tuple)):
            inputs = type(inputs)(convert(v) for v in inputs)
        else:
            inputs = convert(inputs)
        args = tuple(convert(a) if isinstance(a, (np.ndarray, torch.Tensor)) else a for a in args)
        self._activity_losses = []  # add_loss() in call() counts for this call only
        if not self.built:
            from .layer import _shapes_of

            self._maybe_build(_shapes_of(inputs))
        # Through nn.Module.__call__ so torch's hooks (and compile wrappers) see it.
        return nn.Module.__call__(self, inputs, *args, **kwargs)

    def forward(self, *args, **kwargs):
        # Subclassed models: torch's entry point runs Keras's call().
        if self._call_has_training and "training" not in kwargs:
            kwargs["training"] = self.training
        elif not self._call_has_training:
            kwargs.pop("training", None)
        return self.call(*args, **kwargs)

    def build(self, input_shape):
        """Subclassed models: build by running ``call`` on a dummy batch."""
        if isinstance(input_shape, (list, tuple)) and input_shape and isinstance(input_shape[0], (list, tuple)):
            shapes = [tuple(1 if d is None else d for d in s) for s in input_shape]
            x = [torch.zeros(s) for s in shapes]
        else:
            x = torch.zeros(tuple(1 if d is None else d for d in input_shape))
        self.built = True
        self._build_shapes = input_shape
        with torch.no_grad():
            self.call(x, **({"training": False} if self._call_has_training else {}))

    # ------------------------------------------------------------------
    # Introspection
    # ------------------------------------------------------------------
    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False, show_trainable=False, layer_range=None):
        """Print a table of the layers, their output shapes and parameter counts."""
        from .summary import print_summary

        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn, expand_nested=expand_nested, show_trainable=show_trainable, layer_range=layer_range)

    # ------------------------------------------------------------------
    # Files
    # ------------------------------------------------------------------
    def save(self, filepath, overwrite=True, **kwargs):
        """Save the whole model: ``.keras`` (Keras 3's format, which Keras 3
        loads) or ``.h5`` (Keras 2's HDF5 layout)."""
        from kerasish.saving import saving_api

        _written_once(lambda: saving_api.save_model(self, filepath, overwrite=overwrite, **kwargs), f"model.save({str(filepath)!r})")

    def save_weights(self, filepath, overwrite=True):
        """Save the weights: ``.weights.h5`` (Keras 3) or ``.h5`` (Keras 2, as in
        ``model.save_weights('cnn.h5')``)."""
        from kerasish.saving import saving_api

        _written_once(lambda: saving_api.save_weights(self, filepath, overwrite=overwrite), f"model.save_weights({str(filepath)!r})")

    def load_weights(self, filepath, skip_mismatch=False, by_name=False, **kwargs):
        """Load weights from ``.weights.h5``, ``.h5`` (Keras 3 or 2 layout) or ``.keras``.

        Args:
            skip_mismatch: warn about and skip weights whose shapes do not fit.
            by_name: (Keras 2 ``.h5`` files) match layers by name, not order.

        A failed load leaves the current weights untouched.
        """
        from kerasish.saving import saving_api

        saving_api.load_weights(self, filepath, skip_mismatch=skip_mismatch, by_name=by_name, **kwargs)

    def export(self, filepath, format="torch", verbose=True, input_signature=None, **kwargs):
        """Export for deployment: ``format="torch"`` writes a ``torch.export``
        program, ``format="onnx"`` an ONNX model (needs the onnx packages)."""
        from kerasish.saving import export as export_lib

        return _written_once(lambda: export_lib.export_model(self, filepath, format=format, verbose=verbose, input_signature=input_signature, **kwargs),
                             f"model.export({str(filepath)!r})")

    def to_json(self, **kwargs) -> str:
        """The model's config as JSON (Keras's ``model_from_json`` reads it)."""
        import json

        from .serialization import serialize_layer

        return json.dumps(serialize_layer(self), **kwargs)

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(
                f"You tried to call `count_params` on model '{self.name}', but the model isn't built. "
                "Call it on data first or use `model.build(input_shape)`."
            )
        return super().count_params()

    def get_config(self):
        config = super().get_config()
        config.pop("dtype", None)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=None):
        """Rebuild a model from ``get_config()`` data (ours or Keras 3's).

        ``safe_mode=False`` lets Lambda layers' stored code run; by default it
        is refused (see :func:`kerasish.engine.serialization.in_safe_mode`)."""
        from .functional import Functional, functional_from_config
        from .serialization import safe_mode_scope

        with safe_mode_scope(safe_mode):
            if "layers" in config and "input_layers" in config and (cls is Model or issubclass(cls, Functional)):
                return functional_from_config(cls if cls is not Model else Functional, config, custom_objects)
            return Layer.from_config.__func__(cls, config)

    def __repr__(self):
        return nn.Module.__repr__(self)

    def extra_repr(self) -> str:
        return ""


def _written_once(write, what):
    """Data-parallel: rank 0 writes the file and the other processes wait
    until it is complete (so a load right after reads a whole file); call it
    on every process, as the same script does. Otherwise: just write."""
    from kerasish.distribution.data_parallel import active

    dp = active()
    if dp is None:
        return write()
    return dp.chief_does(write, what)
