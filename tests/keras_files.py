"""Rebuilding recorded Keras 3 ``.keras`` files in tests.

A test records a Keras model's file as its parts (config.json, the
model.weights.h5 datasets, the asset texts) rather than as a binary; this
module zips those parts back into a file laid out as Keras 3 wrote it.
"""

import io
import json
import zipfile

import h5py
import numpy as np


def write_keras_file(path, ref, keras_version="3.15.1"):
    """Write ``ref`` (a dict with "config", "weights" and "assets") as a .keras file at ``path``.

    ``ref["weights"]`` maps h5 dataset paths (``layers/dense/vars/0``) to
    nested lists, stored as float32; ``ref["assets"]`` maps zip member names to
    texts. Returns ``path``.
    """
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        f.require_group("vars")  # Keras writes the root's own (empty) variables group too
        for key, value in ref["weights"].items():
            f.create_dataset(key, data=np.asarray(value, dtype="float32"))
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("metadata.json", json.dumps({"keras_version": keras_version}))
        z.writestr("config.json", json.dumps(ref["config"]))
        z.writestr("model.weights.h5", buf.getvalue())
        for name, text in ref["assets"].items():
            z.writestr(name, text)
    return path


def float32_policy(**shared):
    """Keras 3's serialized ``DTypePolicy("float32")``, as a recorded config holds it
    (``shared_object_id=...`` where the file shares one policy between layers)."""
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": None, **shared}


def keras_initializer(class_name, config):
    """A serialized ``keras.initializers`` object, as a recorded config holds it."""
    return {"module": "keras.initializers", "class_name": class_name, "config": config, "registered_name": None}


def inbound(shape, dtype, layer, **kwargs):
    """A recorded layer's ``inbound_nodes``: one call on ``layer``'s first output (a ``shape`` / ``dtype`` tensor)."""
    tensor = {"class_name": "__keras_tensor__", "config": {"shape": shape, "dtype": dtype, "keras_history": [layer, 0, 0]}}
    return [{"args": [tensor], "kwargs": kwargs}]
