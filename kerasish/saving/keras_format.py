"""Keras 3's ``.keras`` format: a zip of ``metadata.json``, ``config.json``
(the model's class and config, its build and compile configs) and
``model.weights.h5`` (the weights in Keras's HDF5 layout, see weights_h5),
plus ``assets/<layer path>/...``: the files layers write in ``save_assets``
(a lookup layer's adapted ``vocabulary.txt``).

Reading it decodes JSON and HDF5 datasets only: no pickle, and Python code
stored by Lambda layers runs only with ``safe_mode=False``. Assets are plain
files, bounded in size, extracted into a private temporary folder under
checked relative names, and read by the layers as UTF-8 text.
"""

from __future__ import annotations

import datetime
import io
import json
import os
import posixpath
import tempfile
import zipfile
import zlib

import h5py

from kerasish.version import __version__
from kerasish.engine.serialization import deserialize_layer, safe_mode_scope, serialize_layer
from kerasish.models.model import Model

from .bounded_read import MAX_CONFIG_BYTES, decode_json
from .file_io import atomic_write, open_h5_for_reading
from .object_registration import active_custom_objects, custom_object_scope, loading_weight_limit_scope
from .weights_h5 import read_weights_group, walk, write_weights_group

CONFIG_FILENAME = "config.json"
METADATA_FILENAME = "metadata.json"
WEIGHTS_FILENAME = "model.weights.h5"
ASSETS_DIRNAME = "assets"
# A vocabulary of a million 40-byte tokens is 40 MB; all assets together are
# bounded by this many bytes when read back.
MAX_ASSETS_BYTES = 1024 * 2**20
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
    # A temporary file renamed into place: a crash or a full disk leaves the
    # previous file whole.
    with atomic_write(filepath) as tmp, zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr(METADATA_FILENAME, json.dumps(metadata))
        z.writestr(CONFIG_FILENAME, json.dumps(config))
        z.writestr(WEIGHTS_FILENAME, weights.getvalue())
        _write_assets(z, model)


def _asset_layers(model, method):
    """``(path, layer)`` of the layers with a callable ``method``, Keras's paths."""
    for path, layer in walk(model):
        if callable(getattr(layer, method, None)):
            yield path, layer


def _write_assets(z, model) -> None:
    """Each layer's ``save_assets(dir)`` files as ``assets/<path>/<file>``, as Keras 3 lays them out."""
    with tempfile.TemporaryDirectory(prefix="kerasish_assets_") as tmp:
        for path, layer in _asset_layers(model, "save_assets"):
            folder = os.path.join(tmp, *path.split("/")) if path else tmp
            os.makedirs(folder, exist_ok=True)
            layer.save_assets(folder)
        for root, _, files in sorted(os.walk(tmp)):
            for name in sorted(files):
                full = os.path.join(root, name)
                z.write(full, f"{ASSETS_DIRNAME}/{os.path.relpath(full, tmp).replace(os.sep, '/')}")


def _safe_asset_name(name):
    """The path of an ``assets/`` member relative to ``assets/``, or None when
    it is not a plain relative file name (absolute, ``..``, a backslash, empty parts)."""
    rel = name[len(ASSETS_DIRNAME) + 1:]
    parts = rel.split("/")
    if not rel or "\\" in rel or "\0" in rel or rel.startswith("/") or any(p in ("", ".", "..") for p in parts):
        return None
    return posixpath.normpath(rel)


def _read_assets(z, model, filepath) -> None:
    """Give each layer with ``load_assets`` its ``assets/<path>/`` files, in a
    private temporary folder, as Keras does (layers without assets get an
    empty folder; the layer decides whether one was required)."""
    layers = list(_asset_layers(model, "load_assets"))
    if not layers:
        return
    members = [n for n in z.namelist() if n.startswith(ASSETS_DIRNAME + "/") and not n.endswith("/")]
    total = 0
    with tempfile.TemporaryDirectory(prefix="kerasish_assets_") as tmp:
        for name in members:
            rel = _safe_asset_name(name)
            if rel is None:
                raise ValueError(f"'{filepath}': the asset member '{name}' has an unsafe name; refusing to extract it.")
            total += z.getinfo(name).file_size
            if total > MAX_ASSETS_BYTES:
                raise ValueError(f"'{filepath}': its assets declare more than {MAX_ASSETS_BYTES} bytes; refusing to read them.")
            data = _member(z, name, filepath, MAX_ASSETS_BYTES)
            target = os.path.join(tmp, *rel.split("/"))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as f:
                f.write(data)
        for path, layer in layers:
            folder = os.path.join(tmp, *path.split("/")) if path else tmp
            os.makedirs(folder, exist_ok=True)
            layer.load_assets(folder)


# A zip member that inflates to more than this many times its stored size is
# a decompression bomb, not a model (kerasish and Keras store members
# uncompressed; DEFLATE of real weights gains ~1.1x). Small members are let
# through: only a large expansion can exhaust memory.
MAX_MEMBER_EXPANSION = 100
MEMBER_BOMB_FLOOR_BYTES = 64 * 2**20
# model.weights.h5 may hold float64 copies of float32 weights and an optimizer
# state up to three times the weights' size: its declared size is bounded by
# this many times the model's own bytes, plus room for HDF5's metadata.
WEIGHTS_SIZE_FACTOR = 8
WEIGHTS_SIZE_SLACK_BYTES = 64 * 2**20


def _open_archive(filepath) -> zipfile.ZipFile:
    """Open the zip and check its member list (only the central directory is
    read here: no member is inflated or CRC-checked until it is needed)."""
    try:
        z = zipfile.ZipFile(filepath, "r")
    except (zipfile.BadZipFile, EOFError, OSError) as e:
        raise ValueError(f"'{filepath}' is not a valid .keras file (a zip archive): {e}") from e
    names = z.namelist()
    dupes = sorted({n for n in names if names.count(n) > 1}) if len(set(names)) != len(names) else []
    if dupes:
        z.close()
        raise ValueError(
            f"'{filepath}' is not a valid .keras file: the member(s) {dupes} appear more than once "
            "(which one a reader takes is ambiguous)."
        )
    return z


def _member(z, name, filepath, max_bytes):
    """Read member ``name`` after checking its declared size against
    ``max_bytes`` and against its stored size (zip bombs); the CRC is checked
    as it is read. Raises KeyError when absent."""
    info = z.getinfo(name)
    if info.file_size > max_bytes:
        raise ValueError(
            f"'{filepath}': the member '{name}' declares {info.file_size} bytes, more than the {max_bytes} "
            "this model can need; refusing to read it."
        )
    if info.file_size > MEMBER_BOMB_FLOOR_BYTES and info.file_size > MAX_MEMBER_EXPANSION * info.compress_size:
        raise ValueError(
            f"'{filepath}': the member '{name}' declares {info.file_size} bytes but stores only {info.compress_size}; "
            "refusing to inflate a potential decompression bomb."
        )
    try:
        return z.read(name)
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as e:
        raise ValueError(f"'{filepath}' is corrupt: the member '{name}' cannot be read ({e}).") from e


def _read_json(z, name, filepath):
    try:
        raw = _member(z, name, filepath, MAX_CONFIG_BYTES)
    except KeyError:
        raise ValueError(f"'{filepath}' is not a .keras model file: it has no '{name}'.") from None
    return decode_json(raw, filepath, f"'{name}'")


def _weights_allowance(model) -> int:
    nbytes = sum(v.tensor.numel() * v.tensor.element_size() for v in model.weights)
    return WEIGHTS_SIZE_FACTOR * nbytes + WEIGHTS_SIZE_SLACK_BYTES


def _read_weights(z, model, filepath, skip_mismatch=False):
    try:
        data = _member(z, WEIGHTS_FILENAME, filepath, _weights_allowance(model))
    except KeyError:
        names = z.namelist()
        hint = " (Keras wrote its weights as .npz; kerasish reads the .h5 form)" if any(n.endswith(".npz") for n in names) else ""
        raise ValueError(f"'{filepath}' has no '{WEIGHTS_FILENAME}'{hint}.") from None
    try:
        f = open_h5_for_reading(io.BytesIO(data))
    except OSError as e:
        raise ValueError(f"'{filepath}': '{WEIGHTS_FILENAME}' is not a valid HDF5 file: {e}") from e
    with f:
        read_weights_group(f, model, filepath, skip_mismatch=skip_mismatch)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    with _open_archive(filepath) as z:
        config = _read_json(z, CONFIG_FILENAME, filepath)
        if not isinstance(config, dict) or "class_name" not in config:
            raise ValueError(f"'{filepath}': config.json does not describe a model.")
        # Each weight the config's layers create is bounded before it is allocated.
        with safe_mode_scope(safe_mode), loading_weight_limit_scope():
            try:
                model = deserialize_layer(config, active_custom_objects(custom_objects), source=filepath)
            except (TypeError, KeyError) as e:
                raise ValueError(f"Cannot rebuild the model in '{filepath}' from its config: {e}") from e
            except RecursionError as e:
                raise ValueError(f"Cannot rebuild the model in '{filepath}': its config is nested too deeply.") from e
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
        _read_assets(z, model, filepath)
        try:
            metadata = _read_json(z, METADATA_FILENAME, filepath)
        except ValueError:  # metadata is informative only: a missing or bad one is ignored
            metadata = {}
    names = metadata.get("kerasish_class_names") if isinstance(metadata, dict) else None
    if isinstance(names, list) and all(isinstance(n, str) for n in names):
        model.class_names = names
    return model


def load_weights_from_archive(model, filepath, skip_mismatch=False) -> None:
    """``model.load_weights("m.keras")``: the weights of a .keras file only."""
    with _open_archive(filepath) as z:
        _read_weights(z, model, filepath, skip_mismatch=skip_mismatch)
