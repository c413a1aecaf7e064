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
