"""Keras 3's config format: how a layer or model is written as plain JSON data
and made again. Nothing here runs code taken from a config: classes are looked
up by name among kerasish's own objects and the ones the user registered or
passed in ``custom_objects``."""

from __future__ import annotations

import contextlib
import inspect
import threading

from .layer import BUILTIN_OBJECTS

_state = threading.local()
_unsafe_everywhere = False


def in_safe_mode() -> bool:
    """Whether deserialising may run code from a config (Lambda bytecode): no,
    unless a ``safe_mode=False`` scope or :func:`enable_unsafe_deserialization` says so."""
    scoped = getattr(_state, "safe_mode", None)
    if scoped is not None:
        return scoped
    return not _unsafe_everywhere


@contextlib.contextmanager
def safe_mode_scope(safe_mode: bool | None):
    """Within this block, loading follows ``safe_mode`` (None keeps the ambient one)."""
    previous = getattr(_state, "safe_mode", None)
    if safe_mode is not None:
        _state.safe_mode = bool(safe_mode)
    try:
        yield
    finally:
        _state.safe_mode = previous


def enable_unsafe_deserialization() -> None:
    """Let configs with Python code (Lambda layers) load everywhere, as Keras's
    ``keras.config.enable_unsafe_deserialization()``. Only for files you trust."""
    global _unsafe_everywhere
    _unsafe_everywhere = True

# Classes users registered with kerasish.saving.register_keras_serializable.
CUSTOM_OBJECTS: dict[str, type] = {}

_MODEL_MODULES = {
    "Functional": "keras.src.models.functional",
    "Sequential": "keras",
    "Model": "keras",
}


def serialize_layer(layer) -> dict:
    """``{"module", "class_name", "config", "registered_name", "build_config"}``."""
    cls_name = type(layer).__name__
    builtin = BUILTIN_OBJECTS.get(cls_name) is type(layer)
    # Only the class's own registration counts: a subclass of a registered
    # class is a different class and must not load as its parent.
    registered = None if builtin else type(layer).__dict__.get("_registered_name", cls_name)
    out = {
        "module": _MODEL_MODULES.get(cls_name, "keras.layers") if builtin else type(layer).__module__,
        "class_name": cls_name,
        "config": layer.get_config(),
        "registered_name": registered,
    }
    build_shape = getattr(layer, "_build_shapes", None)
    if layer.built and build_shape is not None and cls_name not in ("InputLayer",):
        out["build_config"] = {"input_shape": _jsonable_shape(build_shape)}
    return out


def _jsonable_shape(shape):
    if isinstance(shape, tuple):
        return list(shape)
    if isinstance(shape, list):
        return [_jsonable_shape(s) for s in shape]
    if isinstance(shape, dict):
        return {k: _jsonable_shape(v) for k, v in shape.items()}
    return shape


def _shape_from_json(shape):
    if isinstance(shape, list) and all(d is None or isinstance(d, int) for d in shape):
        return tuple(shape)
    if isinstance(shape, list):
        return [_shape_from_json(s) for s in shape]
    if isinstance(shape, dict):
        return {k: _shape_from_json(v) for k, v in shape.items()}
    return shape


def resolve_class(class_name: str, registered_name=None, custom_objects=None):
    custom_objects = custom_objects or {}
    for key in (registered_name, class_name):
        if key and key in custom_objects:
            return custom_objects[key]
    for key in (registered_name, class_name):
        if key and key in CUSTOM_OBJECTS:
            return CUSTOM_OBJECTS[key]
    if class_name in BUILTIN_OBJECTS:
        return BUILTIN_OBJECTS[class_name]
    raise ValueError(
        f"Unknown layer class '{registered_name or class_name}'. If it is a custom class, pass it in "
        "`custom_objects={...}` or decorate it with `kerasish.saving.register_keras_serializable()`."
    )


def deserialize_layer(data, custom_objects=None):
    """Make a layer (or model) again from :func:`serialize_layer`'s output."""
    if not isinstance(data, dict) or "class_name" not in data:
        raise ValueError(f"Not a serialized layer: {data!r:.200}")
    cls = resolve_class(data["class_name"], data.get("registered_name"), custom_objects)
    config = data.get("config", {})
    from .model import Model

    if isinstance(cls, type) and issubclass(cls, Model):
        layer = cls.from_config(config, custom_objects=custom_objects)
    elif custom_objects and "custom_objects" in inspect.signature(cls.from_config).parameters:
        layer = cls.from_config(config, custom_objects=custom_objects)
    else:
        layer = cls.from_config(config)
    build = data.get("build_config")
    if build and not layer.built and "input_shape" in build:
        layer._maybe_build(_shape_from_json(build["input_shape"]))
    return layer
