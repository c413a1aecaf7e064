"""Keras 3's config format: how a layer or model is written as plain JSON data
and made again. Nothing here runs code taken from a config: classes are looked
up by name among kerasish's own objects and the ones the user registered or
passed in ``custom_objects``.

kerasish's own objects are an explicit table, :data:`BUILTIN_LAYERS`, that the
packages fill with what they export (``kerasish.layers`` its layer classes,
``kerasish.models`` the model classes, ``kerasish.applications`` its backbone
layers) through :func:`register_builtin_layers`. A class in no table is found
by name only when registered or passed in, whatever module defines it."""

from __future__ import annotations

import inspect

from kerasish.saving import serialization_lib
from kerasish.saving.object_registration import (  # noqa: F401  (re-exported: older imports name them here)
    CUSTOM_OBJECTS,
    SafeModeScope,
    enable_unsafe_deserialization,
    in_safe_mode,
    safe_mode_scope,
)

from .layer import Layer

# Keras class name -> built-in layer or model class: the names configs may use
# without registration. Filled by register_builtin_layers (see the docstring).
BUILTIN_LAYERS: dict[str, type] = {}

_MODEL_MODULES = {
    "Functional": "keras.src.models.functional",
    "Sequential": "keras",
    "Model": "keras",
}


def register_builtin_layers(objects: dict) -> None:
    """Add a package's built-in layer (or model) classes to :data:`BUILTIN_LAYERS`.

    Args:
        objects: Keras name -> class (aliases such as ``"Convolution2D"`` may
            name the same class as ``"Conv2D"``; serialization writes the
            class's own ``__name__``).

    Raises:
        TypeError: a value is not a Layer subclass.
        ValueError: a name is taken already by another class.

    Example:
        >>> from kerasish.engine.serialization import BUILTIN_LAYERS, register_builtin_layers
        >>> from kerasish.layers import Dense
        >>> register_builtin_layers({"Dense": Dense})  # already there: a no-op
        >>> BUILTIN_LAYERS["Dense"] is Dense
        True
    """
    for name, cls in objects.items():
        if not (isinstance(cls, type) and issubclass(cls, Layer)):
            raise TypeError(f"register_builtin_layers: {name!r} is {cls!r}, not a Layer subclass.")
        known = BUILTIN_LAYERS.get(name)
        if known is not None and known is not cls:
            raise ValueError(f"register_builtin_layers: the name {name!r} is taken by {known.__module__}.{known.__qualname__}.")
    BUILTIN_LAYERS.update(objects)


def serialize_layer(layer) -> dict:
    """``{"module", "class_name", "config", "registered_name", "build_config"}``."""
    cls_name = type(layer).__name__
    out = serialization_lib.serialize_class_instance(layer)
    if out["registered_name"] is None:  # built-in: Keras's public module for its kind
        out["module"] = _MODEL_MODULES.get(cls_name, "keras.layers")
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


def resolve_class(class_name: str, registered_name=None, custom_objects=None, source=None):
    """The layer class a config names: ``custom_objects``, the active
    ``custom_object_scope``\\ s, the registry, then kerasish's layers."""
    for key in (registered_name, class_name):
        obj = serialization_lib.lookup(key, custom_objects, BUILTIN_LAYERS)
        if obj is not None:
            return obj
    raise serialization_lib.unknown_object_error(registered_name or class_name, "layer class", source=source)


def _revive_layer(cls, config, custom_objects=None):
    """``cls.from_config(config)``, passing ``custom_objects`` to models and to
    layers whose ``from_config`` takes it (wrappers holding inner layers)."""
    config = config or {}
    try:
        takes_objects = "custom_objects" in inspect.signature(cls.from_config).parameters
    except (TypeError, ValueError):
        takes_objects = False
    if custom_objects and takes_objects:
        return cls.from_config(config, custom_objects=custom_objects)
    return cls.from_config(config)


def deserialize_layer(data, custom_objects=None, source=None):
    """Make a layer (or model) again from :func:`serialize_layer`'s output.

    Args:
        data: the config dict (Keras 3's or kerasish's).
        custom_objects: name -> class for custom layers; active
            ``custom_object_scope`` blocks and registered classes count too.
        source: the file the config came from, named in errors.
    """
    if not isinstance(data, dict) or "class_name" not in data:
        raise ValueError(f"Not a serialized layer: {data!r:.200}")
    cls = resolve_class(data["class_name"], data.get("registered_name"), custom_objects, source=source)
    return _revive_hook(cls, data, custom_objects)


def _revive_hook(cls, data, custom_objects):
    """deserialize_keras_object's path for layers: the class is found already."""
    layer = _revive_layer(cls, data.get("config", {}), custom_objects)
    build = data.get("build_config")
    if build and not layer.built and "input_shape" in build:
        layer._maybe_build(_shape_from_json(build["input_shape"]))
    return layer


# Layers and models go through serialize_keras_object / deserialize_keras_object
# with build_config and nested custom_objects; their built-ins are BUILTIN_LAYERS
# (registered empty: the dict is kept, and the packages fill it as they import).
serialization_lib.register_builtins("layers", "keras.layers", BUILTIN_LAYERS)
serialization_lib.register_kind_hooks(Layer, serialize=serialize_layer, revive=_revive_hook)
