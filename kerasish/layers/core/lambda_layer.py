"""Lambda: wrap an expression (a Python function) as a layer.

Saving follows Keras 3: a named function is stored by name, a Python
``lambda`` by its marshalled bytecode (``{"class_name": "__lambda__",
"config": {"code", "defaults", "closure"}}``). Loading bytecode runs code taken
from the file, so :meth:`Lambda.from_config` refuses it unless the caller
passes ``safe_mode=False`` — as Keras does.
"""

from __future__ import annotations

import builtins
import codecs
import inspect
import marshal
import math
import types

import numpy as np
import torch

from kerasish import activations
from kerasish.engine import layout
from kerasish.engine.layer import Layer, _infer_output_shape_by_tracing, _is_shape_tuple
from kerasish.layers.preprocessing.rescaling import deserialize_value, serialize_value
from kerasish.saving import object_registration, serialization_lib

_LAMBDA_CLASS = "__lambda__"

_SAFE_MODE_MESSAGE = (
    "Requested the deserialization of a `Lambda` layer whose `{what}` is a Python lambda. This carries a potential "
    "risk of arbitrary code execution and thus it is disallowed by default. If you trust the source of the config, "
    "you can override this error by passing `safe_mode=False` to `Lambda.from_config` (or to the loading function)."
)


# ----------------------------------------------------------------------
# Functions <-> config (Keras 3's format)
# ----------------------------------------------------------------------
def _is_python_lambda(fn) -> bool:
    return isinstance(fn, types.LambdaType) and fn.__name__ == "<lambda>"


def dump_function(fn) -> dict:
    """A Python lambda -> Keras's ``__lambda__`` dict (base64 of its marshalled code)."""
    code = codecs.encode(marshal.dumps(fn.__code__), "base64").decode("ascii")
    closure = tuple(c.cell_contents for c in fn.__closure__) if fn.__closure__ else None
    return {"class_name": _LAMBDA_CLASS, "config": {"code": code, "defaults": fn.__defaults__, "closure": closure}}


def load_function(config: dict, globs=None):
    """Rebuild a function from :func:`dump_function`'s config. Runs bytecode
    from the config: only call it on trusted data (``safe_mode=False``)."""
    code = config["code"]
    defaults = config.get("defaults")
    closure = config.get("closure")
    if isinstance(defaults, list):
        defaults = tuple(defaults)
    try:
        raw = codecs.decode(code.encode("ascii"), "base64")
    except (UnicodeEncodeError, ValueError):
        raw = code.encode("raw_unicode_escape")
    code_obj = marshal.loads(raw)
    cells = tuple(types.CellType(v) for v in closure) if closure is not None else None
    if globs is None:
        globs = {"__builtins__": builtins, "torch": torch, "np": np, "numpy": np, "math": math}
    return types.FunctionType(code_obj, globs, name=code_obj.co_name, argdefs=defaults, closure=cells)


def serialize_function(fn):
    """A callable -> Keras 3's config for it.

    A Python lambda gives the ``__lambda__`` bytecode form; a named function
    gives ``{"module": "builtins", "class_name": "function", "config": name,
    "registered_name": "function"}`` (what Keras 3 writes); an object with
    ``get_config`` gives its class form.
    """
    if _is_python_lambda(fn):
        return dump_function(fn)
    if callable(getattr(fn, "get_config", None)) and not isinstance(fn, type):
        cls = type(fn)
        return {
            "module": cls.__module__,
            "class_name": cls.__name__,
            "config": fn.get_config(),
            "registered_name": getattr(cls, "_registered_name", cls.__name__),
        }
    name = getattr(fn, "_registered_name", None) or getattr(fn, "__name__", None)
    if callable(fn) and isinstance(name, str):
        return {"module": "builtins", "class_name": "function", "config": name, "registered_name": "function"}
    raise ValueError(f"Lambda: cannot serialize {fn!r} of type {type(fn).__name__}: give a named function or a Python lambda.")


def _lookup_function(config: dict, custom_objects):
    """The function (or object) a Lambda's config names: the registry's one
    lookup (custom_objects, scopes, registered names), then the activations."""
    name = config.get("config")
    obj = serialization_lib.resolve(config, custom_objects)
    if config.get("class_name") == "function":
        if obj is not None:
            return obj
        if isinstance(name, str):
            try:
                return activations.get(name)
            except (ValueError, TypeError):
                pass
        raise serialization_lib.unknown_object_error(name, "function for a Lambda layer", function=True, config=config)
    if obj is None:
        raise serialization_lib.unknown_object_error(config.get("class_name"), "object for a Lambda layer", config=config)
    if isinstance(obj, type):
        inner = config.get("config") or {}
        return obj.from_config(inner) if hasattr(obj, "from_config") else obj(**inner)
    return obj


def _in_safe_mode() -> bool:
    """The ambient safe-mode setting (the registry's)."""
    return object_registration.in_safe_mode() is not False


def _signature_names(fn) -> set:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return set()
    return {name for name, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def _normalize_output_shape(shape):
    if shape is None or callable(shape):
        return shape
    if isinstance(shape, (list, tuple)) and all(d is None or (isinstance(d, (int, np.integer)) and not isinstance(d, bool)) for d in shape):
        return tuple(None if d is None else int(d) for d in shape)
    if isinstance(shape, (list, tuple)):
        return [_normalize_output_shape(s) for s in shape]
    if isinstance(shape, dict):
        return {k: _normalize_output_shape(v) for k, v in shape.items()}
    raise ValueError(
        f"Lambda: `output_shape` must be a tuple (without the batch axis), a structure of tuples or a callable. "
        f"Received: output_shape={shape!r}"
    )


def _first_dim(shapes):
    if _is_shape_tuple(shapes):
        return shapes[0] if shapes else None
    if isinstance(shapes, dict):
        shapes = list(shapes.values())
    return _first_dim(shapes[0]) if shapes else None


def _add_batch(shape, batch):
    if _is_shape_tuple(shape):
        return (batch,) + tuple(shape)
    if isinstance(shape, dict):
        return {k: _add_batch(v, batch) for k, v in shape.items()}
    return [_add_batch(s, batch) for s in shape]


class Lambda(Layer):
    """Wraps a function of tensors as a layer.

    ``function`` receives the input in Keras layout (channels_last images) and
    returns tensors in Keras layout, whatever the model does inside. Prefer a
    Layer subclass for anything with state or that should be saved portably.

    Args:
        function: the function; its first argument is the input. If it takes
            ``training`` or ``mask`` arguments they are passed.
        output_shape: the output shape without the batch axis (a tuple, or a
            structure of tuples for several outputs), or a callable taking
            the full input shape and returning the full output shape. By
            default it is inferred by running ``function`` on meta tensors.
        mask: ``None``, a callable ``mask(inputs, mask)``, or a fixed mask.
        arguments: dict of keyword arguments passed to ``function``.

    Input shape: any. Output shape: ``function``'s.

    Saving: a named function is stored by name (give it back through
    ``custom_objects`` when loading); a Python ``lambda`` is stored as
    bytecode (Keras's format, tied to the Python version), which
    ``from_config`` only loads with ``safe_mode=False``.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import Lambda
        >>> Lambda(lambda x: x ** 2)(np.array([[1.0, 2.0]])).tolist()
        [[1.0, 4.0]]
    """

    _native_layout = True

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise ValueError(f"Lambda: `function` must be callable. Received: function={function!r}")
        if arguments is not None and not isinstance(arguments, dict):
            raise ValueError(f"Lambda: `arguments` must be a dict of keyword arguments. Received: arguments={arguments!r}")
        self.function = function
        self.arguments = dict(arguments) if arguments else {}
        self._output_shape = _normalize_output_shape(output_shape)
        self.mask = mask
        self.supports_masking = mask is not None
        names = _signature_names(function)
        self._fn_expects_training_arg = "training" in names
        self._fn_expects_mask_arg = "mask" in names

    def call(self, inputs, mask=None, training=None):
        if self._fn_expects_mask_arg or self._fn_expects_training_arg:
            kwargs = dict(self.arguments)
            if self._fn_expects_mask_arg:
                kwargs["mask"] = mask
            if self._fn_expects_training_arg:
                kwargs["training"] = training
            return self.function(inputs, **kwargs)
        return self.function(inputs, **self.arguments)

    def native_call(self, inputs, training=False, mask=None):
        x = layout.map_structure(layout.to_keras, inputs)
        return layout.map_structure(layout.to_internal, self.call(x, mask=mask, training=training))

    def compute_mask(self, inputs, mask=None):
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            try:
                return _infer_output_shape_by_tracing(self, input_shape)
            except Exception as meta_error:  # e.g. the function holds real tensors or leaves torch
                try:
                    return _infer_output_shape_by_tracing(self, input_shape, on_meta=False, probes=(7, 11))
                except Exception:
                    raise NotImplementedError(
                        f"Layer '{self.name}' (Lambda): could not infer the output shape of the Lambda's function for input "
                        f"shape {input_shape} ({type(meta_error).__name__}: {meta_error}). Please specify the `output_shape` "
                        "argument for this Lambda layer."
                    ) from meta_error
        if callable(self._output_shape):
            out = self._output_shape(input_shape)
            return tuple(out) if isinstance(out, list) and _is_shape_tuple(tuple(out)) else out
        return _add_batch(self._output_shape, _first_dim(input_shape))

    # ------------------------------------------------------------------
    # Config
    # ------------------------------------------------------------------
    def get_config(self):
        config = {"function": serialize_function(self.function)}
        if self._output_shape is not None:
            config["output_shape"] = serialize_function(self._output_shape) if callable(self._output_shape) else self._output_shape
        if self.mask is not None:
            config["mask"] = serialize_function(self.mask) if callable(self.mask) else serialize_value(self.mask)
        config["arguments"] = serialize_value(self.arguments)
        return {**super().get_config(), **config}

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=None):
        """Rebuild a Lambda from :meth:`get_config` data (or Keras 3's).

        A function stored as bytecode (a Python lambda) is only rebuilt with
        ``safe_mode=False``: loading it runs code from the config. Otherwise
        (``safe_mode`` left unset or True) this raises ValueError. Named
        functions are looked up in ``custom_objects``, the registered objects
        and kerasish's activations.
        """
        safe = _in_safe_mode() if safe_mode is None else safe_mode is not False
        config = dict(config)
        globs = None
        if custom_objects:
            globs = {"__builtins__": builtins, "torch": torch, "np": np, "numpy": np, "math": math, **custom_objects}

        def revive(value, what):
            if isinstance(value, dict) and value.get("class_name") == _LAMBDA_CLASS:
                if safe:
                    raise ValueError(_SAFE_MODE_MESSAGE.format(what=what))
                return load_function(value["config"], globs)
            if isinstance(value, dict) and "class_name" in value and value.get("class_name") not in ("__numpy__", "__tensor__"):
                return _lookup_function(value, custom_objects)
            return value

        config["function"] = revive(config["function"], "function")
        if config.get("output_shape") is not None:
            config["output_shape"] = revive(config["output_shape"], "output_shape")
        if config.get("mask") is not None:
            mask = revive(config["mask"], "mask")
            config["mask"] = deserialize_value(mask) if not callable(mask) else mask
        if "arguments" in config:
            config["arguments"] = deserialize_value(config["arguments"])
        if "batch_shape" in config and "batch_input_shape" not in config:
            config["batch_input_shape"] = config.pop("batch_shape")
        return cls(**config)
