"""``kerasish.models``: Model, Sequential, and loading and saving whole models."""

import json as _json

from kerasish.engine.serialization import deserialize_layer, register_builtin_layers, serialize_layer
from kerasish.models.functional import Functional
from kerasish.models.model import Model, _saving
from kerasish.models.sequential import Sequential
from kerasish.saving.object_registration import active_custom_objects

# The model classes configs name (their Keras module is written per class in
# engine/serialization.py's _MODEL_MODULES).
register_builtin_layers({"Functional": Functional, "Model": Model, "Sequential": Sequential})


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """A model from a ``.keras`` (Keras 3) or ``.h5`` (Keras 2) file, as
    ``keras.models.load_model``; the same as :func:`kerasish.saving.load_model`.

    Args:
        filepath: the file (str or path).
        custom_objects: ``{"Name": class_or_function}`` for the custom objects
            the file's config names.
        compile: compile the model again as it was saved.
        safe_mode: ``False`` lets stored Lambda code run.

    A front, not the function itself: ``kerasish.saving`` sits above this
    package (its file formats build models), so it is reached through
    ``kerasish.models.model._saving``, the one place models ask for it.

    Example:
        >>> import kerasish
        >>> model = kerasish.Sequential([kerasish.Input((3,)), kerasish.layers.Dense(2)])
        >>> kerasish.models.save_model(model, "tiny.keras")
        >>> kerasish.models.load_model("tiny.keras").count_params()
        8
    """
    saving_api, _ = _saving()
    return saving_api.load_model(filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode)


def save_model(model, filepath, overwrite=True, **kwargs):
    """Save the whole model, as ``keras.models.save_model``; the same as
    :func:`kerasish.saving.save_model`.

    Args:
        model: a kerasish model.
        filepath: ``*.keras`` (Keras 3's zip) or ``*.h5`` (the Keras 2 layout).
        overwrite: replace an existing file.

    Example: see :func:`load_model`.
    """
    saving_api, _ = _saving()
    return saving_api.save_model(model, filepath, overwrite=overwrite, **kwargs)


def model_from_json(json_string, custom_objects=None):
    """Rebuild a model from ``model.to_json()`` (weights are not included)."""
    return deserialize_layer(_json.loads(json_string), active_custom_objects(custom_objects))


def clone_model(model, input_tensors=None):
    """A new model with the same architecture and freshly initialised weights."""
    if input_tensors is not None:
        raise ValueError("clone_model: `input_tensors` is not supported yet; call the clone on them instead.")
    return deserialize_layer(serialize_layer(model))


__all__ = ["Functional", "Model", "Sequential", "clone_model", "load_model", "model_from_json", "save_model"]
