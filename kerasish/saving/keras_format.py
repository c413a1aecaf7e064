"""Keras 3's ``.keras`` format: a zip of ``metadata.json``, ``config.json``
(the model's class and config, its build and compile configs) and
``model.weights.h5`` (the weights in Keras's HDF5 layout, see weights_h5).

Reading it decodes JSON and HDF5 datasets only: no pickle, and Python code
stored by Lambda layers runs only with ``safe_mode=False``.
"""

from __future__ import annotations

import datetime
import io
import json
import zipfile

import h5py

from kerasish.version import __version__
from kerasish.engine.serialization import deserialize_layer, safe_mode_scope, serialize_layer
from kerasish.models.model import Model

from .object_registration import active_custom_objects, custom_object_scope
from .weights_h5 import read_weights_group, write_weights_group

CONFIG_FILENAME = "config.json"
METADATA_FILENAME = "metadata.json"
WEIGHTS_FILENAME = "model.weights.h5"
# The Keras release whose .keras layout this writer follows; Keras 3 reads it.
KERAS_FORMAT_VERSION = "3.8.0"


def model_to_config(model) -> dict:
    """The ``config.json`` content: what Keras's ``serialize_keras_object(model)`` gives."""
    config = serialize_layer(model)
    if "build_config" not in config:
        config["build_config"] = {"input_shape": None}
    compile_config = getattr(model, "get_compile_config", None)
    config["compile_config"] = compile_config() if callable(compile_config) else None
    return config


def save_model(model, filepath) -> None:
    if not model.built:
        raise ValueError(f"Model '{model.name}' is not built yet, so it has no weights to save. Call it on data or build() it first.")
    config = model_to_config(model)
    metadata = {
        "keras_version": KERAS_FORMAT_VERSION,
        "kerasish_version": __version__,
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
    }
    class_names = getattr(model, "class_names", None)
    if class_names:
        metadata["kerasish_class_names"] = [str(c) for c in class_names]
    weights = io.BytesIO()
    with h5py.File(weights, "w") as f:
        write_weights_group(f, model)
    with zipfile.ZipFile(filepath, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr(METADATA_FILENAME, json.dumps(metadata))
        z.writestr(CONFIG_FILENAME, json.dumps(config))
        z.writestr(WEIGHTS_FILENAME, weights.getvalue())


def _open_archive(filepath) -> zipfile.ZipFile:
    try:
        z = zipfile.ZipFile(filepath, "r")
        bad = z.testzip()
    except (zipfile.BadZipFile, EOFError, OSError) as e:
        raise ValueError(f"'{filepath}' is not a valid .keras file (a zip archive): {e}") from e
    if bad is not None:
        z.close()
        raise ValueError(f"'{filepath}' is corrupt: the member '{bad}' fails its checksum.")
    return z


def _read_json(z, name, filepath):
    try:
        return json.loads(z.read(name).decode("utf-8"))
    except KeyError:
        raise ValueError(f"'{filepath}' is not a .keras model file: it has no '{name}'.") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"'{filepath}': '{name}' is not valid JSON: {e}") from e


def _read_weights(z, model, filepath, skip_mismatch=False):
    try:
        data = z.read(WEIGHTS_FILENAME)
    except KeyError:
        names = z.namelist()
        hint = " (Keras wrote its weights as .npz; kerasish reads the .h5 form)" if any(n.endswith(".npz") for n in names) else ""
        raise ValueError(f"'{filepath}' has no '{WEIGHTS_FILENAME}'{hint}.") from None
    try:
        f = h5py.File(io.BytesIO(data), "r")
    except OSError as e:
        raise ValueError(f"'{filepath}': '{WEIGHTS_FILENAME}' is not a valid HDF5 file: {e}") from e
    with f:
        read_weights_group(f, model, filepath, skip_mismatch=skip_mismatch)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    with _open_archive(filepath) as z:
        config = _read_json(z, CONFIG_FILENAME, filepath)
        if not isinstance(config, dict) or "class_name" not in config:
            raise ValueError(f"'{filepath}': config.json does not describe a model.")
        with safe_mode_scope(safe_mode):
            try:
                model = deserialize_layer(config, active_custom_objects(custom_objects), source=filepath)
            except (TypeError, KeyError) as e:
                raise ValueError(f"Cannot rebuild the model in '{filepath}' from its config: {e}") from e
        if not isinstance(model, Model):
            raise ValueError(f"'{filepath}' holds a {type(model).__name__}, not a model.")
        compile_config = config.get("compile_config")
        model._loaded_compile_config = compile_config
        if compile and compile_config and hasattr(model, "compile_from_config"):
            # Compiled first, so that the optimizer exists to take its saved state.
            # Custom losses / metrics are found through the same custom_objects.
            with custom_object_scope(active_custom_objects(custom_objects)):
                model.compile_from_config(compile_config)
        _read_weights(z, model, filepath)
        try:
            metadata = json.loads(z.read(METADATA_FILENAME).decode("utf-8"))
        except (KeyError, UnicodeDecodeError, json.JSONDecodeError):
            metadata = {}
    names = metadata.get("kerasish_class_names") if isinstance(metadata, dict) else None
    if isinstance(names, list) and all(isinstance(n, str) for n in names):
        model.class_names = names
    return model


def load_weights_from_archive(model, filepath, skip_mismatch=False) -> None:
    """``model.load_weights("m.keras")``: the weights of a .keras file only."""
    with _open_archive(filepath) as z:
        _read_weights(z, model, filepath, skip_mismatch=skip_mismatch)
