"""``kerasish.saving``: model and weights files, Keras 3 and Keras 2 formats,
and the registry of custom classes.

- ``.keras``: Keras 3's zip (config + HDF5 weights); read and written.
- ``.weights.h5``: Keras 3's weights layout; read and written.
- ``.h5``: Keras 2's HDF5 (weights only or whole model); read and written.
- ``model.export(path, format="torch" | "onnx")``: programs for deployment.

Loading never unpickles, and never runs code from a file unless
``safe_mode=False`` is passed.
"""

from kerasish.engine.serialization import enable_unsafe_deserialization

from .object_registration import (
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from .saving_api import load_model, load_weights, save_model, save_weights

__all__ = [
    "CustomObjectScope",
    "custom_object_scope",
    "enable_unsafe_deserialization",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "load_model",
    "load_weights",
    "register_keras_serializable",
    "save_model",
    "save_weights",
]
