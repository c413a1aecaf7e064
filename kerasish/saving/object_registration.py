"""The registry of objects a config may name: Keras's
``register_keras_serializable``, ``custom_object_scope`` and safe mode.

This module is a leaf: it imports nothing of kerasish, so every package
(initializers, losses, layers...) can use it without depending on the Layer.

Loading finds a name in, in order: the ``custom_objects`` argument, the active
``custom_object_scope`` blocks (innermost first), the global registry filled by
``register_keras_serializable``, then the caller's table of built-ins
(``module_objects``). Nothing is imported or run because a file names it.
"""

from __future__ import annotations

import contextlib
import threading

# Objects users registered, by registered name ("package>name"); what
# ``get_custom_objects()`` returns and what users may also fill by hand.
CUSTOM_OBJECTS: dict = {}

# Per thread: the stack of active custom-object scopes and the safe-mode setting
# of the innermost SafeModeScope, so that loading in one thread does not see
# another thread's scopes (as Keras's thread-local GLOBAL_CUSTOM_OBJECTS scopes).
_state = threading.local()
_unsafe_everywhere = False


def _scope_stack() -> list:
    stack = getattr(_state, "scopes", None)
    if stack is None:
        stack = _state.scopes = []
    return stack


def register_keras_serializable(package: str = "Custom", name: str | None = None):
    """Decorator: make a custom class or function loadable by name.

    Registered as ``"package>name"``, as Keras does::

        @kerasish.saving.register_keras_serializable(package="my_pkg")
        class Scale(kerasish.layers.Layer):
            ...

    Args:
        package: the namespace part of the registered name (no ``">"``).
        name: the name part; the class's or function's ``__name__`` when None.

    Raises:
        ValueError: ``package`` contains ``">"``, a class has no
            ``get_config``, or the name is already registered to another object.
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
        except (AttributeError, TypeError):  # builtins and slotted objects
            pass
        return obj

    return decorator


def get_registered_name(obj) -> str:
    """The name ``obj`` (a class, function or instance's class) is registered
    under; its ``__name__`` if it is not registered.

    Only the class's own registration counts: a subclass of a registered class
    is a different class and must not load as its parent.
    """
    if isinstance(obj, type) or callable(obj) and hasattr(obj, "__name__"):
        own = obj.__dict__.get("_registered_name") if hasattr(obj, "__dict__") else None
        return own or obj.__name__
    return get_registered_name(type(obj))


def get_registered_object(name, custom_objects=None, module_objects=None):
    """The object ``name`` stands for, or None.

    Args:
        name: a registered name (``"my_pkg>Scale"``) or a plain name.
        custom_objects: a dict name -> object, searched first.
        module_objects: the caller's table of built-ins, searched last.
    """
    if not isinstance(name, str):
        return None
    for table in (custom_objects or {}, *reversed(_scope_stack()), CUSTOM_OBJECTS, module_objects or {}):
        if name in table:
            return table[name]
    return None


def get_custom_objects() -> dict:
    """The global registry (name -> object), as Keras's ``get_custom_objects``;
    adding to it registers objects under plain names."""
    return CUSTOM_OBJECTS


class CustomObjectScope:
    """Within this block, loading also finds the objects in ``custom_objects``.

    Scopes nest (the inner one wins) and are per thread::

        with kerasish.saving.custom_object_scope({"Scale": Scale}):
            model = kerasish.models.Model.from_config(config)

    Args:
        custom_objects: a dict name -> class or function (or several dicts).
    """

    def __init__(self, *custom_objects):
        self.custom_objects = {}
        for objects in custom_objects:
            if objects is None:
                continue
            if not isinstance(objects, dict):
                raise TypeError(f"custom_object_scope: expected dicts of name -> object, got {type(objects).__name__}.")
            self.custom_objects.update(objects)

    def __enter__(self):
        _scope_stack().append(self.custom_objects)
        return self

    def __exit__(self, *exc):
        stack = _scope_stack()
        # Remove this scope even if an inner one leaked (exited out of order).
        for i in range(len(stack) - 1, -1, -1):
            if stack[i] is self.custom_objects:
                del stack[i:]
                break
        return False


custom_object_scope = CustomObjectScope


def active_custom_objects(custom_objects=None) -> dict:
    """``custom_objects`` merged over every active scope (inner scopes win)."""
    merged = {}
    for scope in _scope_stack():
        merged.update(scope)
    merged.update(custom_objects or {})
    return merged


# ----------------------------------------------------------------------
# Safe mode: whether loading may run code stored in a config (Lambda bytecode)
# ----------------------------------------------------------------------
def in_safe_mode() -> bool:
    """Whether deserialising refuses code from a config: yes, unless a
    ``SafeModeScope(False)`` or :func:`enable_unsafe_deserialization` says so."""
    scoped = getattr(_state, "safe_mode", None)
    if scoped is not None:
        return scoped
    return not _unsafe_everywhere


class SafeModeScope:
    """Within this block, loading follows ``safe_mode`` (None keeps the ambient one).

    Args:
        safe_mode: True refuses code stored in configs, False allows it.
    """

    def __init__(self, safe_mode: bool | None = True):
        self.safe_mode = safe_mode

    def __enter__(self):
        self._previous = getattr(_state, "safe_mode", None)
        if self.safe_mode is not None:
            _state.safe_mode = bool(self.safe_mode)
        return self

    def __exit__(self, *exc):
        _state.safe_mode = self._previous
        return False


@contextlib.contextmanager
def safe_mode_scope(safe_mode: bool | None):
    """Function form of :class:`SafeModeScope` (kept for existing callers)."""
    with SafeModeScope(safe_mode):
        yield


def enable_unsafe_deserialization() -> None:
    """Let configs with Python code (Lambda layers) load everywhere, as Keras's
    ``keras.config.enable_unsafe_deserialization()``. Only for files you trust."""
    global _unsafe_everywhere
    _unsafe_everywhere = True


# The largest single weight (in bytes) a model rebuilt from a file's config may
# create: a config is data chosen by whoever wrote the file, and a Dense of
# 400 GB must be refused before torch's allocator (or the OOM killer) sees it.
# 16 GiB holds any single weight of a real model (a 7B LLM's largest is ~1 GiB).
DEFAULT_MAX_LOADED_WEIGHT_BYTES = 16 * 2**30


def loading_weight_limit() -> int | None:
    """The byte limit on each weight created while a model is rebuilt from a
    file's config (inside :func:`loading_weight_limit_scope`); None outside."""
    return getattr(_state, "weight_limit", None)


@contextlib.contextmanager
def loading_weight_limit_scope(max_bytes: int | None = None):
    """Within this block, every weight a layer creates while it builds is
    checked against ``max_bytes`` before it is allocated (Layer._maybe_build).

    The loaders (``load_model``) open it around rebuilding the model from the
    file's config. Open it yourself around ``load_model`` with a larger limit
    to load a model with a bigger single weight; the innermost scope counts.

    Args:
        max_bytes: the limit per weight in bytes; None uses the enclosing
            scope's limit, or :data:`DEFAULT_MAX_LOADED_WEIGHT_BYTES`.

    Example:
        >>> from kerasish.saving.object_registration import loading_weight_limit, loading_weight_limit_scope
        >>> with loading_weight_limit_scope(2**20):
        ...     loading_weight_limit()
        1048576
        >>> loading_weight_limit() is None
        True
    """
    previous = getattr(_state, "weight_limit", None)
    if max_bytes is None:
        max_bytes = previous if previous is not None else DEFAULT_MAX_LOADED_WEIGHT_BYTES
    if not isinstance(max_bytes, int) or isinstance(max_bytes, bool) or max_bytes <= 0:
        raise ValueError(f"loading_weight_limit_scope: max_bytes must be a positive int, got {max_bytes!r}")
    _state.weight_limit = max_bytes
    try:
        yield max_bytes
    finally:
        _state.weight_limit = previous
