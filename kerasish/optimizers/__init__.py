"""``kerasish.optimizers``: Keras 3's optimizers, driving torch.optim optimizers.

Classes (Keras's names, arguments and defaults): :class:`SGD`, :class:`Adam`,
:class:`AdamW`, :class:`RMSprop`, :class:`Adagrad`, :class:`Adadelta`,
:class:`Adamax`, :class:`Nadam`, :class:`Lion`; learning-rate schedules in
:mod:`kerasish.optimizers.schedules`; :func:`get`, :func:`serialize`,
:func:`deserialize` as in Keras.

Example::

    import kerasish.optimizers as optimizers

    opt = optimizers.get("adam")                       # Adam()
    opt = optimizers.get({"class_name": "SGD", "config": {"learning_rate": 0.1}})
    optimizers.serialize(opt)                          # Keras 3's dict form

The interface a training loop uses: ``opt.build(model.trainable_weights)``,
then per batch ``loss.backward(); opt.step(); opt.zero_grad()`` (see
:class:`Optimizer`).
"""

from __future__ import annotations

import inspect

from kerasish.saving import serialization_lib

from . import schedules
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .base_optimizer import Optimizer
from .lion import Lion
from .nadam import Nadam
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = [
    "Optimizer",
    "SGD",
    "Adam",
    "AdamW",
    "RMSprop",
    "Adagrad",
    "Adadelta",
    "Adamax",
    "Nadam",
    "Lion",
    "schedules",
    "get",
    "serialize",
    "deserialize",
    "ALL_OBJECTS_DICT",
]

_KERAS_MODULE = "keras.optimizers"

#: Lower-case class name -> class, the names ``get()`` accepts (as Keras).
ALL_OBJECTS_DICT = {
    cls.__name__.lower(): cls for cls in (Optimizer, SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, Nadam, Lion)
}


def _known() -> str:
    return ", ".join(sorted(k for k in ALL_OBJECTS_DICT if k != "optimizer"))


# Class names and the lower-case names get() accepts: the table configs name.
_BY_NAME = {**{cls.__name__: cls for cls in ALL_OBJECTS_DICT.values()}, **ALL_OBJECTS_DICT}
serialization_lib.register_builtins("optimizers", _KERAS_MODULE, _BY_NAME)


def serialize(optimizer):
    """Keras 3's dict form: ``{"module", "class_name", "config", "registered_name"}``."""
    if not isinstance(optimizer, Optimizer):
        raise ValueError(f"Cannot serialize {optimizer!r}: expected a kerasish optimizer instance.")
    return serialization_lib.serialize_class_instance(optimizer)


def deserialize(config, custom_objects=None):
    """Make an optimizer from :func:`serialize`'s output, the plain
    ``{"class_name", "config"}`` form, or a name. Built-in names are case-insensitive."""
    if isinstance(config, str):
        config = {"class_name": config, "config": {}}
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Could not interpret optimizer config: {config!r}")
    cls = serialization_lib.resolve(config, custom_objects, _BY_NAME)
    if cls is None:
        cls = ALL_OBJECTS_DICT.get(str(config["class_name"]).lower())
    if cls is None or not (inspect.isclass(cls) and issubclass(cls, Optimizer)) or cls is Optimizer:
        raise serialization_lib.unknown_object_error(config.get("registered_name") or config["class_name"], "optimizer", known=_known(), known_label="Known optimizers")
    return serialization_lib.instantiate(cls, config, custom_objects)


def get(identifier):
    """Resolve an optimizer: None, a name (``"adam"``, ``"SGD"``...), an
    instance (returned as is), an Optimizer class (instantiated with its
    defaults) or a config dict."""
    if identifier is None:
        return None
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if inspect.isclass(identifier) and issubclass(identifier, Optimizer) and identifier is not Optimizer:
        return identifier()
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}. Known optimizers: {_known()}.")
