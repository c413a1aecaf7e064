"""``Model``: a Layer that groups layers, as in Keras, and a torch.nn.Module
whose children are those layers' native torch modules.

``Model(inputs, outputs)`` makes a :class:`~kerasish.models.functional.Functional`
model (the graph declared with symbolic tensors); subclassing ``Model`` and
writing ``call`` makes a subclassed model; a subclass given ``(inputs,
outputs)`` (one that overrides ``train_step``, say) is a functional model with
the subclass's methods, as in Keras.
"""

from __future__ import annotations

import inspect
import json

import numpy as np
import torch
from torch import nn

from kerasish.distribution import data_parallel
from kerasish.engine.keras_tensor import as_host_strings, is_string_data
from kerasish.engine.layer import Layer, _shapes_of, _to_tensor, unique_variables
from kerasish.engine.serialization import safe_mode_scope, serialize_layer
from kerasish.trainers.trainer import Trainer


class Model(Trainer, Layer):
    """Groups layers into an object with training and inference features.

    ``Model(inputs, outputs, name=None)`` builds a functional model; a subclass
    that defines ``call`` is a subclassed model, and a subclass constructed
    with ``(inputs, outputs)`` is a functional model that keeps the
    subclass's methods (``isinstance(model, Functional)`` holds). Either way the model is a
    ``torch.nn.Module``: ``model(x)`` takes and returns channels_last torch
    tensors, ``model.state_dict()`` is keyed by layer names, and the model
    works in a plain PyTorch loop, under ``torch.compile`` and ``torch.export``.
    """

    def __new__(cls, *args, **kwargs):
        if cls is Model and functional_init_arguments(args, kwargs):
            Functional = _functional().Functional
            return Functional.__new__(Functional)
        return super().__new__(cls, *args, **kwargs)

    def __init__(self, *args, **kwargs):
        # Subclasses get here (Functional and Sequential have their own
        # __init__). Given inputs and outputs, a subclass is a functional model
        # that keeps its own methods (train_step, ...), as in Keras.
        if functional_init_arguments(args, kwargs):
            inject_functional_model_class(type(self))
            _functional().Functional.__init__(self, *args, **kwargs)
            return
        if args or "inputs" in kwargs or "outputs" in kwargs:
            given = f"{len(args)} positional argument(s)" + "".join(f", `{k}=`" for k in ("inputs", "outputs") if k in kwargs)
            raise TypeError(
                f"{type(self).__name__}.__init__: a functional model takes `inputs` and `outputs` "
                f"(Model(inputs, outputs, name=...)); got {given}. A subclassed model takes only keyword "
                "arguments such as `name=`."
            )
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
        return unique_variables([*self._variables, *(v for layer in self.layers for v in layer.weights)])

    variables = weights

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return unique_variables([*(v for v in self._variables if v.trainable), *(v for layer in self.layers for v in layer.trainable_weights)])

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
            if type(x) is not torch.Tensor and is_string_data(x):
                return as_host_strings(x)  # strings stay numpy arrays on the host, for the layers that take them
            t = _to_tensor(x, cast_float64=cast_float64)
            return t.to(device) if device is not None and t.device != device else t

        if isinstance(inputs, dict):
            inputs = {k: convert(v) for k, v in inputs.items()}
        elif isinstance(inputs, (list, tuple)) and not is_string_data(inputs):
            inputs = type(inputs)(convert(v) for v in inputs)
        else:
            inputs = convert(inputs)
        args = tuple(convert(a) if isinstance(a, (np.ndarray, torch.Tensor)) else a for a in args)
        self._activity_losses = []  # add_loss() in call() counts for this call only
        if not self.built:
            self._build_on_data(inputs)
        # Through nn.Module.__call__ so torch's hooks (and compile wrappers) see it.
        return nn.Module.__call__(self, inputs, *args, **kwargs)

    def _build_on_data(self, inputs):
        """Build on the first data the model is called on (tensors, or
        lists / dicts of them), as Keras builds a model on its first call."""
        self._maybe_build(_shapes_of(inputs))

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
        # deferred: summary.py tells the subclasses Functional and Sequential
        # apart, and they import this module.
        from .summary import print_summary

        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn, expand_nested=expand_nested, show_trainable=show_trainable, layer_range=layer_range)

    # ------------------------------------------------------------------
    # Files
    # ------------------------------------------------------------------
    def save(self, filepath, overwrite=True, **kwargs):
        """Save the whole model: ``.keras`` (Keras 3's format, which Keras 3
        loads) or ``.h5`` (Keras 2's HDF5 layout)."""
        saving_api, _ = _saving()
        _written_once(lambda: saving_api.save_model(self, filepath, overwrite=overwrite, **kwargs), f"model.save({str(filepath)!r})")

    def save_weights(self, filepath, overwrite=True):
        """Save the weights: ``.weights.h5`` (Keras 3) or ``.h5`` (Keras 2, as in
        ``model.save_weights('cnn.h5')``)."""
        saving_api, _ = _saving()
        _written_once(lambda: saving_api.save_weights(self, filepath, overwrite=overwrite), f"model.save_weights({str(filepath)!r})")

    def load_weights(self, filepath, skip_mismatch=False, by_name=False, **kwargs):
        """Load weights from ``.weights.h5``, ``.h5`` (Keras 3 or 2 layout) or ``.keras``.

        Args:
            skip_mismatch: warn about and skip weights whose shapes do not fit.
            by_name: (Keras 2 ``.h5`` files) match layers by name, not order.

        A failed load leaves the current weights untouched.
        """
        saving_api, _ = _saving()
        saving_api.load_weights(self, filepath, skip_mismatch=skip_mismatch, by_name=by_name, **kwargs)

    def export(self, filepath, format="torch", verbose=True, input_signature=None, **kwargs):
        """Export for deployment: ``format="torch"`` writes a ``torch.export``
        program, ``format="onnx"`` an ONNX model (needs the onnx packages)."""
        _, export_lib = _saving()
        return _written_once(lambda: export_lib.export_model(self, filepath, format=format, verbose=verbose, input_signature=input_signature, **kwargs),
                             f"model.export({str(filepath)!r})")

    def to_json(self, **kwargs) -> str:
        """The model's config as JSON (Keras's ``model_from_json`` reads it)."""
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

        A functional config (``layers``, ``input_layers``, ``output_layers``)
        revives a functional model; for a ``Model`` subclass it does so through
        the subclass's constructor when that takes ``(inputs, outputs, ...)``
        or ``*args, **kwargs`` (Keras's rule), so the subclass's methods stay.
        Any other config goes to the constructor as keyword arguments.

        Args:
            config: the dict ``get_config()`` returned.
            custom_objects: ``{"ClassName": class}`` for the custom layers the
                config names.
            safe_mode: ``False`` lets Lambda layers' stored code run; by default
                it is refused (see :func:`kerasish.engine.serialization.in_safe_mode`).
        """
        functional = _functional()
        with safe_mode_scope(safe_mode):
            if all(k in config for k in ("layers", "input_layers", "output_layers")):
                if cls is Model or issubclass(cls, functional.Functional) or functional_like_constructor(cls):
                    return functional.functional_from_config(cls, config, custom_objects)
            if cls._user_class and not _takes_var_keywords(cls):
                return Layer.from_config.__func__(cls, config)
            try:
                return cls(**config)
            except TypeError as e:
                raise TypeError(
                    f"Unable to revive model {cls.__name__} from its config: {e}. When overriding `get_config()`, "
                    f"return every argument {cls.__name__}.__init__ takes, or define a `from_config(cls, config)` "
                    f"classmethod. Received config={config!r:.300}"
                ) from e

    def __repr__(self):
        return nn.Module.__repr__(self)

    def extra_repr(self) -> str:
        return ""


def functional_init_arguments(args, kwargs) -> bool:
    """Whether constructor arguments declare a functional model: ``(inputs,
    outputs)``, ``(inputs, outputs=...)`` or ``inputs=`` and ``outputs=``
    (Keras's rule; a third positional argument is the name)."""
    return len(args) in (2, 3) or (len(args) == 1 and "outputs" in kwargs) or ("inputs" in kwargs and "outputs" in kwargs)


def inject_functional_model_class(cls):
    """Put ``Functional`` in place of ``Model`` among ``cls``'s ancestors.

    A ``Model`` subclass made with ``(inputs, outputs)`` is a functional model
    with the subclass's methods, as in Keras: ``isinstance(model, Functional)``
    holds and the graph runs as any functional model's. Done once per class.
    Returns the class to use in place of ``cls``.
    """
    Functional = _functional().Functional
    if cls is Model:
        return Functional
    if cls is object or not issubclass(cls, Model) or issubclass(cls, Functional):
        return cls
    cls.__bases__ = tuple(inject_functional_model_class(base) for base in cls.__bases__)
    return cls


def functional_like_constructor(cls) -> bool:
    """Whether ``cls(inputs=..., outputs=..., name=..., trainable=...)`` makes
    it (its ``__init__`` is Functional's, or takes ``*args, **kwargs``), so a
    functional config can revive it (Keras's rule)."""
    try:
        spec = inspect.getfullargspec(cls.__init__)
    except TypeError:
        return False
    if spec.args[1:] == inspect.getfullargspec(_functional().Functional.__init__).args[1:]:
        return True
    return spec.varargs is not None and spec.varkw is not None


def _takes_var_keywords(cls) -> bool:
    return inspect.getfullargspec(cls.__init__).varkw is not None


def _written_once(write, what):
    """Data-parallel: rank 0 writes the file and the other processes wait
    until it is complete (so a load right after reads a whole file); call it
    on every process, as the same script does. Otherwise: just write."""
    dp = data_parallel.active()
    if dp is None:
        return write()
    return dp.chief_does(write, what)


def _functional():
    """``kerasish.models.functional``: ``Model(inputs, outputs)`` makes its
    subclass ``Functional``, and a functional config revives one."""
    # deferred: Model <-> Functional: functional.py subclasses Model, and
    # Model(inputs, outputs) returns a Functional (as Keras's Model.__new__).
    from kerasish.models import functional

    return functional


def _saving():
    """``(kerasish.saving.saving_api, kerasish.saving.export)``, for ``save``,
    ``save_weights``, ``load_weights`` and ``export``."""
    # deferred: models <-> saving: the file formats (above models) build and
    # check models when they load, and Model's methods call them.
    from kerasish.saving import export, saving_api

    return saving_api, export
