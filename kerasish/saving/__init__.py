"""``kerasish.saving``: model and weights files, Keras 3 and Keras 2 formats,
and the registry of custom classes.

- ``.keras``: Keras 3's zip (config + HDF5 weights); read and written.
- ``.weights.h5``: Keras 3's weights layout; read and written.
- ``.h5``: Keras 2's HDF5 (weights only or whole model); read and written.
- ``model.export(path, format="torch" | "onnx")``: programs for deployment.

Every kind of object (layer, loss, optimizer, schedule, activation...) is
written and read by ``serialize_keras_object`` / ``deserialize_keras_object``,
and names are found in ``custom_objects``, ``custom_object_scope`` blocks,
``register_keras_serializable``'s registry, then kerasish's built-ins.

Loading never unpickles, and never runs code from a file unless
``safe_mode=False`` is passed.
"""

from .object_registration import (
    CustomObjectScope,
    SafeModeScope,
    custom_object_scope,
    enable_unsafe_deserialization,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    loading_weight_limit_scope,
    register_keras_serializable,
)
from .serialization_lib import deserialize_keras_object, serialize_keras_object

# The registry above first: the file formats below import the models, whose
# modules import the registry again (kerasish/__init__.py enters here).
from .saving_api import load_model, load_weights, save_model, save_weights

__all__ = [
    "CustomObjectScope",
    "SafeModeScope",
    "custom_object_scope",
    "deserialize_keras_object",
    "enable_unsafe_deserialization",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "load_model",
    "load_weights",
    "loading_weight_limit_scope",
    "register_keras_serializable",
    "save_model",
    "save_weights",
    "serialize_keras_object",
]
