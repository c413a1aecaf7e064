"""Registering user classes so files can name them: Keras's
``register_keras_serializable`` and ``custom_object_scope``.

Loading looks classes up by name in ``custom_objects``, then in the scope
and the registry here, then among kerasish's own classes. Nothing else is
imported or run because a file names it.
"""

from __future__ import annotations

import contextlib

from kerasish.engine.serialization import CUSTOM_OBJECTS

_scope_stack: list[dict] = []


def register_keras_serializable(package: str = "Custom", name: str | None = None):
    """Class decorator: make a custom layer, model, loss... loadable by name.

    Registered as ``"package>Name"``, as Keras does::

        @kerasish.saving.register_keras_serializable(package="my_pkg")
        class Scale(kerasish.layers.Layer):
            ...
    """
    if not isinstance(package, str) or ">" in package:
        raise ValueError(f"register_keras_serializable: `package` must be a string without '>', got {package!r}")

    def decorator(obj):
        registered = f"{package}>{name or obj.__name__}"
        if isinstance(obj, type) and not hasattr(obj, "get_config"):
            raise ValueError(f"Cannot register {obj.__name__}: it has no get_config() method.")
        CUSTOM_OBJECTS[registered] = obj
        try:
            obj._registered_name = registered
        except (AttributeError, TypeError):
            pass
        return obj

    return decorator


def get_registered_name(obj) -> str:
    """The name ``obj`` is registered under (its class name if it is not)."""
    cls = obj if isinstance(obj, type) else type(obj)
    return cls.__dict__.get("_registered_name") or getattr(obj, "__name__", cls.__name__)


def get_registered_object(name: str, custom_objects=None, module_objects=None):
    """Look ``name`` up in ``custom_objects``, the active scopes, the registry, ``module_objects``."""
    for table in [custom_objects or {}, *reversed(_scope_stack), CUSTOM_OBJECTS, module_objects or {}]:
        if name in table:
            return table[name]
    return None


def get_custom_objects() -> dict:
    """The global registry (name -> class), as Keras's ``get_custom_objects``."""
    return CUSTOM_OBJECTS


@contextlib.contextmanager
def custom_object_scope(custom_objects: dict):
    """Within this block, loading also finds the classes in ``custom_objects``."""
    _scope_stack.append(dict(custom_objects or {}))
    try:
        yield
    finally:
        _scope_stack.pop()


CustomObjectScope = custom_object_scope


def active_custom_objects(custom_objects=None) -> dict:
    """``custom_objects`` merged over every active scope (inner scopes win)."""
    merged = {}
    for scope in _scope_stack:
        merged.update(scope)
    merged.update(custom_objects or {})
    return merged


# ----------------------------------------------------------------------
# Small Keras objects (regularizers, constraints) as Keras 3 config dicts
# ----------------------------------------------------------------------
def serialize_small_object(obj, base_cls, builtins: dict, keras_module: str, kind: str):
    """Keras 3's ``{"module", "class_name", "config", "registered_name"}`` for
    an instance of ``base_cls`` (built-in: Keras's module and no registered
    name) or a named function; None for None."""
    if obj is None:
        return None
    if isinstance(obj, base_cls):
        cls = type(obj)
        builtin = builtins.get(cls.__name__) is cls
        return {
            "module": keras_module if builtin else cls.__module__,
            "class_name": cls.__name__,
            "config": obj.get_config(),
            "registered_name": None if builtin else get_registered_name(cls),
        }
    if callable(obj) and not isinstance(obj, type) and getattr(obj, "__name__", "<lambda>") != "<lambda>":
        return {
            "module": getattr(obj, "__module__", None),
            "class_name": "function",
            "config": obj.__name__,
            "registered_name": getattr(obj, "_registered_name", None) or obj.__name__,
        }
    raise ValueError(f"Cannot serialize {kind} {obj!r}: use a `{base_cls.__name__}` subclass with get_config(), or a named function.")


def deserialize_small_object(config, builtins: dict, unknown, kind: str, custom_objects=None):
    """The object for a name (``"max_norm"``) or a Keras 2 / Keras 3 config
    dict; classes are found in ``custom_objects``, the active scopes, the
    registry, then ``builtins``. ``unknown(name)`` makes the error raised
    for a name found nowhere."""
    if config is None:
        return None

    def lookup(name):
        return None if name is None else get_registered_object(name, custom_objects, builtins)

    if isinstance(config, str):
        obj = lookup(config)
        if obj is None:
            raise unknown(config)
        return obj() if isinstance(obj, type) else obj
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Could not interpret {kind} config: {config!r}")
    class_name, inner = config["class_name"], config.get("config")
    if class_name == "function":
        name = inner if isinstance(inner, str) else config.get("registered_name")
        obj = lookup(name) or lookup(config.get("registered_name"))
        if obj is None:
            raise unknown(name)
        return obj
    obj = lookup(config.get("registered_name")) or lookup(class_name)
    if obj is None:
        raise unknown(class_name)
    if not isinstance(obj, type):
        return obj
    inner = inner or {}
    return obj.from_config(inner) if hasattr(obj, "from_config") else obj(**inner)


def get_small_object(identifier, deserialize, kind: str):
    """``get()`` of regularizers and constraints: None, a name or config dict,
    a class (instantiated), or any callable as it is."""
    if identifier is None:
        return None
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if isinstance(identifier, type):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret {kind} identifier: {identifier!r}")
