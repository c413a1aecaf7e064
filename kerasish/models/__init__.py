"""``kerasish.models``: Model, Sequential, and loading and saving whole models."""

import json as _json

from kerasish.models.functional import Functional
from kerasish.models.model import Model
from kerasish.models.sequential import Sequential
from kerasish.saving.saving_api import load_model, save_model


def model_from_json(json_string, custom_objects=None):
    """Rebuild a model from ``model.to_json()`` (weights are not included)."""
    from kerasish.engine.serialization import deserialize_layer
    from kerasish.saving.object_registration import active_custom_objects

    return deserialize_layer(_json.loads(json_string), active_custom_objects(custom_objects))


def clone_model(model, input_tensors=None):
    """A new model with the same architecture and freshly initialised weights."""
    from kerasish.engine.serialization import deserialize_layer, serialize_layer

    if input_tensors is not None:
        raise ValueError("clone_model: `input_tensors` is not supported yet; call the clone on them instead.")
    return deserialize_layer(serialize_layer(model))


__all__ = ["Functional", "Model", "Sequential", "clone_model", "load_model", "model_from_json", "save_model"]
