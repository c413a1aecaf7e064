"""One serializer for every kind of Keras object, in Keras 3's config format.

``serialize_keras_object`` writes, and ``deserialize_keras_object`` reads:

- a class instance: ``{"module", "class_name", "config", "registered_name"}``
  (built-ins: Keras's public module, e.g. ``"keras.losses"``, and
  ``registered_name`` None; others: their module and registered name); layers
  add ``"build_config"``;
- a named function: ``{"module": "builtins", "class_name": "function",
  "config": <registered name>, "registered_name": "function"}``;
- plain data (None, str, numbers, lists, tuples, dicts) as it is.

Every package's ``serialize`` / ``deserialize`` / ``get`` is a thin front on
this module. Names are found along one path (:func:`lookup`): the
``custom_objects`` argument, the active ``custom_object_scope`` blocks, the
registry of ``register_keras_serializable``, then an explicit table of
built-ins (``module_objects``, or the table each package registered here with
:func:`register_builtins`). A name found nowhere raises one error,
:class:`UnknownObjectError`, naming the object, the file and the fix.

This module imports nothing of kerasish but the registry: packages register
their tables and hooks here, so it stays at the bottom of the import graph.
"""

from __future__ import annotations

import inspect
import types

import numpy as np

from .object_registration import (
    SafeModeScope,
    custom_object_scope,
    get_registered_name,
    get_registered_object,
)

__all__ = [
    "UnknownObjectError",
    "deserialize_keras_object",
    "lookup",
    "register_builtins",
    "register_kind_hooks",
    "serialize_keras_object",
    "unknown_object_error",
]


class UnknownObjectError(ValueError, TypeError):
    """A config names a class or function that is not registered, passed in
    ``custom_objects`` nor built in. A ValueError (kerasish's rule for bad
    input) and a TypeError (what Keras 3 raises), so either ``except`` works."""


# kind ("losses", "layers"...) -> (Keras's public module, table name -> object).
_TABLES: dict[str, tuple[str, dict]] = {}
# id(object) -> Keras's public module, for the built-ins of every table. By id:
# functions and classes are hashable but the tables are small and ids exact.
_PUBLIC_MODULE: dict[int, str] = {}
# (base class, serialize hook, revive hook) for kinds whose format adds to the
# plain one (layers: build_config, nested custom_objects).
_HOOKS: list[tuple[type, object, object]] = []


def register_builtins(kind: str, public_module: str, objects: dict) -> None:
    """Declare a package's built-ins: the explicit table its configs name.

    Args:
        kind: the package's kind, as in Keras's module names (``"losses"``,
            ``"optimizers"``, ``"schedules"``, ``"layers"``...).
        public_module: the module Keras writes for them (``"keras.losses"``).
        objects: name -> class or function. The dict is kept, not copied, so a
            package may keep filling it (layers register as they are defined).
    """
    _TABLES[kind] = (public_module, objects)


def builtin_module(obj):
    """Keras's public module for a built-in class or function, else None."""
    module = _PUBLIC_MODULE.get(id(obj))
    if module is not None:
        return module
    for public_module, table in _TABLES.values():
        name = getattr(obj, "__name__", None)
        if name is not None and table.get(name) is obj:
            _PUBLIC_MODULE[id(obj)] = public_module
            return public_module
    return None


def register_kind_hooks(base: type, serialize=None, revive=None) -> None:
    """Let a kind (layers) extend the plain format.

    Args:
        base: the kind's base class.
        serialize: ``fn(obj) -> dict``, the object's whole config.
        revive: ``fn(cls, whole_config_dict, custom_objects) -> obj`` (the
            dict with ``class_name``, ``config``, ``build_config``...).
    """
    _HOOKS.append((base, serialize, revive))


def _hook_for(cls, index):
    for hook in _HOOKS:
        if isinstance(cls, type) and issubclass(cls, hook[0]) and hook[index] is not None:
            return hook[index]
    return None


def _kind_of_module(module) -> str | None:
    """The kind a Keras module name points to: ``"keras.src.optimizers.schedules.
    learning_rate_schedule"`` -> ``"schedules"``, ``"keras.losses"`` -> ``"losses"``."""
    if not isinstance(module, str):
        return None
    if module in ("keras", "keras.models") or module.startswith("keras.src.models"):
        return "layers"
    kind = None
    for part in module.split("."):
        if part in _TABLES:
            kind = part
    return kind


# ----------------------------------------------------------------------
# Lookup and the one error
# ----------------------------------------------------------------------
def lookup(name, custom_objects=None, module_objects=None):
    """The object ``name`` stands for, or None: ``custom_objects``, the active
    scopes, the registry, then ``module_objects`` (the built-ins asked for)."""
    return get_registered_object(name, custom_objects, module_objects)


def unknown_object_error(
    name, kind: str = "object", *, function: bool = False, known=None, known_label="Known", source=None, config=None
):
    """The error for a name found nowhere.

    Args:
        name: the class or function name the config gave.
        kind: what was asked for (``"loss"``, ``"layer class"``...).
        function: whether a function was asked for (the fix then names one).
        known: the built-in names to list, or a ready string.
        known_label: the words before them (``"Known optimizers"``).
        source: the file the config came from, if any.
        config: the config dict, shown (truncated) to help find the spot.
    """
    where = f" in '{source}'" if source else ""
    msg = f"Unknown {kind}: {name!r}{where}."
    if known:
        msg += f" {known_label}: {known if isinstance(known, str) else ', '.join(sorted(known))}."
    what = "function" if function else "class"
    msg += (
        f" If it is a custom {what}, pass it to the loading call as `custom_objects={{{name!r}: ...}}` "
        f"(or in a `keras.saving.custom_object_scope`), or decorate it with "
        "`@keras.saving.register_keras_serializable()` and import it before loading."
    )
    if config is not None:
        msg += f" Config: {config!r:.300}"
    return UnknownObjectError(msg)


# ----------------------------------------------------------------------
# Serialize
# ----------------------------------------------------------------------
def serialize_function(fn) -> dict:
    """Keras 3's form of a named function (its registered name as ``config``)."""
    if getattr(fn, "__name__", "<lambda>") == "<lambda>":
        raise ValueError(
            f"Cannot serialize the lambda {fn!r}: give it a name with `def` and register it with "
            "`@keras.saving.register_keras_serializable()` (or use a Lambda layer, which stores its code)."
        )
    return {"module": "builtins", "class_name": "function", "config": get_registered_name(fn), "registered_name": "function"}


def serialize_class_instance(obj, config=None) -> dict:
    """``{"module", "class_name", "config", "registered_name"}`` for an object with ``get_config``."""
    cls = type(obj)
    module = builtin_module(cls)
    return {
        "module": module or cls.__module__,
        # A built-in class whose Keras export name differs from its class name
        # (GroupedQueryAttention -> GroupQueryAttention) says so in
        # `_keras_class_name`; read from the class itself only, so a user's
        # subclass is still written under its own name.
        "class_name": vars(cls).get("_keras_class_name", cls.__name__),
        "config": obj.get_config() if config is None else config,
        "registered_name": None if module else get_registered_name(cls),
    }


def serialize_keras_object(obj):
    """Any Keras object as JSON-ready data, in Keras 3's format.

    Args:
        obj: None, plain data, a named function, or an object with
            ``get_config`` (layer, model, loss, metric, optimizer, schedule,
            initializer, regularizer, constraint...).

    Raises:
        ValueError: a lambda, or an object that cannot describe itself.
    """
    if obj is None or isinstance(obj, (str, bool, int, float)):
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, list):
        return [serialize_keras_object(o) for o in obj]
    if isinstance(obj, tuple):
        return tuple(serialize_keras_object(o) for o in obj)
    if isinstance(obj, dict):
        return {k: serialize_keras_object(v) for k, v in obj.items()}
    hook = _hook_for(type(obj), 1)
    if hook is not None:
        return hook(obj)
    if isinstance(obj, (types.FunctionType, types.BuiltinFunctionType)) or (
        callable(obj) and not isinstance(obj, type) and not hasattr(obj, "get_config") and hasattr(obj, "__name__")
    ):
        return serialize_function(obj)
    if callable(getattr(obj, "get_config", None)) and not isinstance(obj, type):
        return serialize_class_instance(obj)
    raise ValueError(
        f"Cannot serialize {obj!r} of type {type(obj).__name__}: give it a `get_config()` method "
        "(and register its class), or use a named function."
    )


# ----------------------------------------------------------------------
# Deserialize
# ----------------------------------------------------------------------
def _builtin_table(module, module_objects, function):
    """The built-ins to search: the caller's, else the kind the module names,
    else (a function written as module "builtins") every function table."""
    if module_objects is not None:
        return module_objects
    kind = _kind_of_module(module)
    if kind is not None:
        return _TABLES[kind][1]
    merged = {}
    for _, table in reversed(list(_TABLES.values())):
        merged.update({k: v for k, v in table.items() if function != isinstance(v, type)})
    return merged


def _instantiate(cls, config, custom_objects):
    """``cls.from_config(config["config"])`` (passing ``custom_objects`` where accepted)."""
    revive = _hook_for(cls, 2)
    if revive is not None:
        return revive(cls, config, custom_objects)
    inner = dict(config.get("config") or {})
    from_config = getattr(cls, "from_config", None)
    if from_config is None:
        return cls(**inner)
    try:
        params = inspect.signature(from_config).parameters
    except (TypeError, ValueError):
        params = {}
    if "custom_objects" in params:
        return from_config(inner, custom_objects=custom_objects)
    return from_config(inner)


def deserialize_keras_object(config, custom_objects=None, safe_mode=True, **kwargs):
    """The object :func:`serialize_keras_object` (kerasish's or Keras 3's) wrote.

    Args:
        config: a config dict, a name (looked up, classes instantiated with no
            arguments), or plain data (returned as it is; lists and dicts
            element by element only when they hold configs).
        custom_objects: name -> class or function, searched first.
        safe_mode: False lets code stored in a config (Lambda layers) run.
        module_objects: (keyword) the table of built-ins to search, the
            package's own; by default the table of the kind the config's
            ``module`` names.
        kind: (keyword) what is asked for, for the error (``"loss"``).
        known: (keyword) names to list in the error.
        source: (keyword) the file the config came from, for the error.
        printable_module_name: (keyword) Keras's name for ``kind``.

    Raises:
        UnknownObjectError: (a ValueError) a class or function found nowhere.
    """
    module_objects = kwargs.pop("module_objects", None)
    kind = kwargs.pop("kind", None) or kwargs.pop("printable_module_name", None) or "object"
    known = kwargs.pop("known", None)
    source = kwargs.pop("source", None)
    if kwargs:
        raise TypeError(f"deserialize_keras_object: unexpected arguments {sorted(kwargs)}.")
    # safe_mode=True keeps the ambient setting (an outer SafeModeScope(False) or
    # enable_unsafe_deserialization() still applies, as in Keras); False lifts it.
    with SafeModeScope(None if safe_mode is None or safe_mode else False), custom_object_scope(custom_objects or {}):
        return _deserialize(config, custom_objects, module_objects, kind, known, source)


def _deserialize(config, custom_objects, module_objects, kind, known, source):
    if config is None or isinstance(config, (bool, int, float)):
        return config
    if isinstance(config, str):
        obj = lookup(config, custom_objects, module_objects)
        if obj is None and module_objects is None:
            obj = lookup(config, None, _builtin_table(None, None, True)) or lookup(config, None, _builtin_table(None, None, False))
        if obj is None:
            raise unknown_object_error(config, kind, known=known, source=source)
        return obj() if isinstance(obj, type) else obj
    if isinstance(config, (list, tuple)):
        return type(config)(_deserialize(c, custom_objects, module_objects, kind, known, source) if isinstance(c, dict) else c for c in config)
    if not isinstance(config, dict):
        raise ValueError(f"Could not interpret {kind} config of type {type(config).__name__}: {config!r:.200}")
    if "class_name" not in config:
        return {k: _deserialize(v, custom_objects, module_objects, kind, known, source) if isinstance(v, dict) else v for k, v in config.items()}
    class_name = config["class_name"]
    inner = config.get("config")
    module = config.get("module")
    registered = config.get("registered_name")
    if class_name == "__tuple__":
        return tuple(_deserialize(c, custom_objects, module_objects, kind, known, source) for c in inner["value"])
    if class_name == "function":
        # Keras 3 writes the registered name as "config"; Keras 2 and older
        # kerasish files may give it as registered_name only.
        name = inner if isinstance(inner, str) else registered
        table = _builtin_table(module, module_objects, True)
        obj = None
        for key in (name, registered if registered != "function" else None):
            obj = obj or lookup(key, custom_objects, table)
        if obj is None or isinstance(obj, type):
            raise unknown_object_error(name, kind if kind != "object" else "function", function=True, known=known, source=source)
        return obj
    table = _builtin_table(module, module_objects, False)
    obj = None
    for key in (registered, class_name):
        obj = obj or lookup(key, custom_objects, table)
    if obj is None and module_objects is None:
        # A module this side does not know (Keras's backend-specific
        # optimizer modules): search every built-in table by class name.
        for _, other in _TABLES.values():
            obj = obj or other.get(class_name)
    if obj is None:
        raise unknown_object_error(registered or class_name, kind if kind != "object" else "class", known=known, source=source, config=config)
    if not isinstance(obj, type):
        return obj
    return _instantiate(obj, config, custom_objects)


# ----------------------------------------------------------------------
# The pieces package fronts (losses.get, optimizers.deserialize...) share
# ----------------------------------------------------------------------
def resolve(config, custom_objects=None, module_objects=None):
    """The class or function a name or config dict names (None if none):
    the same lookup :func:`deserialize_keras_object` does, without building it."""
    if isinstance(config, str):
        return lookup(config, custom_objects, module_objects)
    if not isinstance(config, dict) or "class_name" not in config:
        return None
    inner, registered = config.get("config"), config.get("registered_name")
    if config["class_name"] == "function":
        keys = (inner if isinstance(inner, str) else registered, None if registered == "function" else registered)
    else:
        keys = (registered, config["class_name"])
    for key in keys:
        obj = lookup(key, custom_objects, module_objects)
        if obj is not None:
            return obj
    return None


def instantiate(cls, config, custom_objects=None):
    """Build ``cls`` from a config dict's ``"config"`` (``from_config`` when it has one)."""
    with custom_object_scope(custom_objects or {}):
        return _instantiate(cls, config if isinstance(config, dict) else {}, custom_objects)


def serialize_object_of(obj, base_cls, kind: str):
    """``serialize`` of a package: None for None, the class form for a
    ``base_cls`` instance, the function form for a named function."""
    if obj is None:
        return None
    if isinstance(obj, base_cls):
        return serialize_class_instance(obj)
    if callable(obj) and not isinstance(obj, type) and getattr(obj, "__name__", "<lambda>") != "<lambda>":
        return serialize_function(obj)
    raise ValueError(
        f"Cannot serialize {kind} {obj!r}: use a `{base_cls.__name__}` subclass with get_config(), or a named function "
        "registered with `@keras.saving.register_keras_serializable()`."
    )


def deserialize_object_of(config, custom_objects, module_objects, kind: str, known=None, source=None):
    """``deserialize`` of a package: a name or config dict -> the object, the
    package's ``module_objects`` as built-ins; any other input is refused."""
    if config is None:
        return None
    if not isinstance(config, (str, dict)) or (isinstance(config, dict) and "class_name" not in config):
        raise ValueError(f"Could not interpret {kind} config: {config!r:.200}")
    return deserialize_keras_object(
        config, custom_objects, module_objects=module_objects, kind=kind, known=known or module_objects, source=source
    )


def get_object(identifier, deserialize, kind: str):
    """``get`` of a package: None, a name or config dict (deserialized), a
    class (instantiated), or any callable as it is."""
    if identifier is None:
        return None
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if isinstance(identifier, type):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret {kind} identifier: {identifier!r}")
