"""Keras 2's HDF5 files (``.h5`` / ``.hdf5``), read and written.

Two layouts, both of which Keras 3 still reads:

- **weights only**, what Keras 2's ``model.save_weights("cnn.h5")`` wrote: the
  root has the attributes ``layer_names`` (every layer of ``model.layers``, in
  order), ``backend`` and ``keras_version``; each layer has a group named after
  it whose attribute ``weight_names`` lists its weights (``b"conv2d/kernel:0"``)
  and which holds one dataset per name, at that path. A layer's weights come in
  Keras 2's order, trainable weights first, then the others (a BatchNormalization:
  gamma, beta, moving_mean, moving_variance); a nested model is one group holding
  all of its weights, flattened the same way. The model's own weights (not a
  layer's) go to the group ``top_level_model_weights``.
- **whole model**, what Keras 2's ``model.save("model.h5")`` wrote (and Keras 3
  still writes for ``.h5``): root attributes ``model_config`` (JSON of
  ``{"class_name", "config"}``), ``keras_version``, ``backend`` and, for a
  compiled model, ``training_config``; the weights in the layout above under the
  group ``model_weights``.

Weights are matched to layers by position among the layers that have weights
(as Keras does), or with ``by_name=True`` by layer name. Every write goes
through :func:`~kerasish.saving.weight_assign.assign_weights`, so a load that
fails leaves the model's weights unchanged.

``model_config`` may be written by Keras 3 (Keras 3's config format) or by
Keras 2 (``class_name`` ``"Model"``, inbound nodes as nested lists
``[[["input_1", 0, 0, {}]]]``, ``batch_input_shape`` on input layers, ...);
:func:`~kerasish.saving.legacy_config.convert_legacy_config` turns the latter into the former.

Reading decodes JSON and numeric HDF5 datasets only: nothing is unpickled, HDF5
links to other files are refused, and Python code stored by a Lambda layer
runs only with ``safe_mode=False``.

Compiling: kerasish's training API arrives with the training issue. Until then
``load_model(..., compile=True)`` keeps a file's ``training_config`` (decoded
JSON) on the model as ``model._legacy_training_config`` and does nothing more.
"""

from __future__ import annotations

import json
import warnings

import h5py
import numpy as np
import torch

from kerasish.version import __version__
from kerasish.engine.serialization import deserialize_layer, safe_mode_scope
from kerasish.models.model import Model

from .keras_format import KERAS_FORMAT_VERSION
from .legacy_config import convert_legacy_config
from .bounded_read import MAX_CONFIG_BYTES, check_dataset, decode_json, h5_require
from .file_io import atomic_write, open_h5_for_reading, open_h5_for_writing
from .object_registration import active_custom_objects, loading_weight_limit_scope
from .weight_assign import assign_weights

# HDF5 keeps attributes in the object header, which holds at most 64 KiB: long
# lists (layer_names of a big model) are split into name0, name1, ... as Keras does.
HDF5_OBJECT_HEADER_LIMIT = 64512
TOP_LEVEL_GROUP = "top_level_model_weights"
BACKEND = "torch"


# ----------------------------------------------------------------------
# HDF5 helpers
# ----------------------------------------------------------------------
def _open(filepath, mode):
    try:
        return h5py.File(filepath, mode)
    except OSError as e:
        raise OSError(f"Cannot open '{filepath}' as an HDF5 file: {e}") from e


def _text(value) -> str:
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value).decode("utf8")
    return str(value)


def save_attribute_list(group, name: str, data: list) -> None:
    """Store a list of byte strings as attribute ``name``, split into
    ``name0``, ``name1``... when it would not fit in an object header."""
    too_long = [x for x in data if len(x) > HDF5_OBJECT_HEADER_LIMIT]
    if too_long:
        raise ValueError(f"Cannot save attribute '{name}': the entries {too_long!r:.200} are longer than {HDF5_OBJECT_HEADER_LIMIT} bytes.")
    if not data:
        group.attrs[name] = data  # an empty array, as Keras writes
        return
    array = np.asarray(data)
    chunks = 1
    parts = [array]
    while any(p.nbytes > HDF5_OBJECT_HEADER_LIMIT for p in parts):
        chunks += 1
        parts = np.array_split(array, chunks)
    if chunks == 1:
        group.attrs[name] = array
    else:
        for i, part in enumerate(parts):
            group.attrs[f"{name}{i}"] = part


def load_attribute_list(group, name: str) -> list[str]:
    """The list stored by :func:`save_attribute_list` (chunked or not), as strings."""
    if name in group.attrs:
        raw = [group.attrs[name]]
    else:
        raw, i = [], 0
        while f"{name}{i}" in group.attrs:
            raw.append(group.attrs[f"{name}{i}"])
            i += 1
    out = []
    for part in raw:
        values = np.atleast_1d(np.asarray(part))
        if values.dtype.kind == "f" and values.size == 0:  # Keras writes [] for "none"
            continue
        out.extend(_text(v) for v in values.tolist())
    return out


def _has_attribute_list(group, name: str) -> bool:
    return name in group.attrs or f"{name}0" in group.attrs


def _get(group, path: str, filepath, want):
    """``group[path]``, following hard links only; ``want`` is h5py.Group or h5py.Dataset."""
    return h5_require(group, path, filepath, want)


def _read_array(group, name: str, filepath):
    """The dataset ``name`` (checked numeric, not yet read: its declared shape
    is compared with the model's before weight_assign reads it)."""
    ds = _get(group, name, filepath, h5py.Dataset)
    check_dataset(ds, filepath)
    return ds


def _decode_json(raw, filepath, what):
    return decode_json(raw, filepath, f"the '{what}' attribute", object_hook=_json_hook)


def _attribute(obj, name, filepath):
    """Attribute ``name`` of ``obj`` (None when absent), its stored size checked
    against the config limit before it is read."""
    if name not in obj.attrs:
        return None
    size = h5py.h5a.open(obj.id, name.encode("utf8")).get_storage_size()
    if size > MAX_CONFIG_BYTES:
        raise ValueError(f"'{filepath}': the '{name}' attribute is {size} bytes, more than the {MAX_CONFIG_BYTES} a model config may have.")
    return obj.attrs[name]


def _json_hook(d):
    # Keras's json_utils markers for objects JSON has no type for.
    name = d.get("class_name")
    if name in ("__tuple__", "TensorShape") and "items" in d and len(d) == 2:
        return list(d["items"])
    if name == "__ellipsis__" and len(d) == 1:
        return Ellipsis
    return d


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, torch.dtype):
        return str(obj).replace("torch.", "")
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    raise TypeError(f"Cannot write {type(obj).__name__} {obj!r:.80} into the model's JSON config.")


# ----------------------------------------------------------------------
# Weights: which variables, in which order
# ----------------------------------------------------------------------
def legacy_weights(layer) -> list:
    """A layer's (or nested model's) weights in Keras 2's order: trainable first."""
    return list(layer.trainable_weights) + list(layer.non_trainable_weights)


def _top_level_weights(model) -> list:
    """The model's own weights (made with ``model.add_weight``), not its layers'."""
    own = list(getattr(model, "_variables", []))
    trainable = {id(v) for v in model.trainable_weights}
    return [v for v in own if id(v) in trainable] + [v for v in own if id(v) not in trainable]


def _numpy(var) -> np.ndarray:
    t = var.value.detach()
    if t.dtype == torch.bfloat16:
        t = t.float()
    return t.cpu().numpy()


def _describe(layer, var) -> str:
    own = var.path == f"{layer.name}/{var.name}"
    return f"layer '{layer.name}' weight '{var.name if own else var.path}'"


def _write_subset(group, weights) -> None:
    names, used = [], set()
    for var in weights:
        base = var.path or var.name
        name, i = f"{base}:0", 1
        while name in used:
            name = f"{base}_{i}:0"
            i += 1
        used.add(name)
        names.append(name)
    save_attribute_list(group, "weight_names", [n.encode("utf8") for n in names])
    for name, var in zip(names, weights):
        group.create_dataset(name, data=_numpy(var))


def write_weights_group(group, model) -> None:
    """Write ``model``'s weights into ``group`` in Keras 2's layout."""
    layers = list(model.layers)
    names = [layer.name for layer in layers]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"Cannot save model '{model.name}' in the .h5 format: the layer name(s) {dupes} are used more than once.")
    if TOP_LEVEL_GROUP in names:
        raise ValueError(f"Cannot save model '{model.name}' in the .h5 format: a layer is named '{TOP_LEVEL_GROUP}', a name the format reserves.")
    save_attribute_list(group, "layer_names", [n.encode("utf8") for n in names])
    group.attrs["backend"] = BACKEND.encode("utf8")
    group.attrs["keras_version"] = KERAS_FORMAT_VERSION.encode("utf8")
    # Created sorted by name, as Keras does (group names then grow strictly).
    for layer in sorted(layers, key=lambda l: l.name):
        _write_subset(group.create_group(layer.name), legacy_weights(layer))
    _write_subset(group.create_group(TOP_LEVEL_GROUP), _top_level_weights(model))


def _check_built(model, action):
    if not model.built:
        raise ValueError(
            f"Model '{model.name}' is not built yet, so it has no weights to {action}. "
            "Call it on data or call model.build(input_shape) first."
        )


def _write_atomically(filepath, write):
    """Write through a temporary file next to ``filepath``, then move it into
    place (file_io.atomic_write): a failure leaves no half-written file (and an
    older file intact), and HDF5's handle is released even on a full disk."""
    with atomic_write(filepath) as tmp, open_h5_for_writing(tmp) as f:
        write(f)


def save_weights(model, filepath) -> None:
    """Write ``model``'s weights as Keras 2's ``model.save_weights('x.h5')`` did."""
    _check_built(model, "save")
    _write_atomically(filepath, lambda f: write_weights_group(f, model))


# ----------------------------------------------------------------------
# Weights: reading
# ----------------------------------------------------------------------
def _weights_group(f, filepath):
    if _has_attribute_list(f, "layer_names"):
        return f
    if "model_weights" in f:
        group = _get(f, "model_weights", filepath, h5py.Group)
        if _has_attribute_list(group, "layer_names"):
            return group
    raise ValueError(
        f"'{filepath}' holds no Keras weights: it has neither the 'layer_names' attribute of a "
        "weights file nor a 'model_weights' group."
    )


def _stored_layers(group, filepath):
    """``[(layer name, [arrays])]`` for every layer named in ``layer_names``."""
    out = []
    for name in load_attribute_list(group, "layer_names"):
        layer_group = _get(group, name, filepath, h5py.Group)
        values = [_read_array(layer_group, w, filepath) for w in load_attribute_list(layer_group, "weight_names")]
        out.append((name, values))
    return out


def _stored_top_level(group, filepath):
    if TOP_LEVEL_GROUP not in group:
        return None
    top = _get(group, TOP_LEVEL_GROUP, filepath, h5py.Group)
    return [_read_array(top, w, filepath) for w in load_attribute_list(top, "weight_names")]


def _pairs_by_order(stored, top_values, model, filepath):
    layers = [layer for layer in model.layers if legacy_weights(layer)]
    stored = [(name, values) for name, values in stored if values]
    if len(layers) != len(stored):
        raise ValueError(
            f"Layer count mismatch when loading weights from '{filepath}': the model '{model.name}' has "
            f"{len(layers)} layers with weights ({[l.name for l in layers]}), but the file holds weights "
            f"for {len(stored)} layers ({[n for n, _ in stored]})."
        )
    pairs = []
    for k, (layer, (name, values)) in enumerate(zip(layers, stored)):
        variables = legacy_weights(layer)
        if len(variables) != len(values):
            raise ValueError(
                f"Weight count mismatch when loading weights from '{filepath}': layer #{k} ('{layer.name}' in the "
                f"model, '{name}' in the file) has {len(variables)} weights ({[v.name for v in variables]}), "
                f"but the file holds {len(values)}."
            )
        pairs.extend((v, a, _describe(layer, v)) for v, a in zip(variables, values))
    if top_values is not None:
        own = _top_level_weights(model)
        if len(own) != len(top_values):
            raise ValueError(
                f"Weight count mismatch when loading weights from '{filepath}': model '{model.name}' has "
                f"{len(own)} top-level weights, but the file holds {len(top_values)}."
            )
        pairs.extend((v, a, f"model '{model.name}' weight '{v.name}'") for v, a in zip(own, top_values))
    return pairs


def _pairs_by_name(stored, top_values, model, filepath, skip_mismatch):
    by_name: dict[str, list] = {}
    for layer in model.layers:
        by_name.setdefault(layer.name, []).append(layer)
    pairs = []
    found = set()
    for name, values in stored:
        for layer in by_name.get(name, []):
            found.add(id(layer))
            variables = legacy_weights(layer)
            if len(variables) != len(values):
                message = (
                    f"layer '{layer.name}' has {len(variables)} weights ({[v.name for v in variables]}), "
                    f"but '{filepath}' holds {len(values)} for it."
                )
                if not skip_mismatch:
                    raise ValueError(f"Weight count mismatch when loading weights by name: {message}")
                warnings.warn(f"Skipping layer '{layer.name}' (skip_mismatch=True): {message}", stacklevel=4)
                continue
            pairs.extend((v, a, _describe(layer, v)) for v, a in zip(variables, values))
    for layer in model.layers:
        if id(layer) not in found and legacy_weights(layer):
            warnings.warn(
                f"Layer '{layer.name}' is not in '{filepath}' (loading by name); its weights are left unchanged.",
                stacklevel=4,
            )
    if top_values is not None:
        own = _top_level_weights(model)
        if len(own) != len(top_values):
            message = f"model '{model.name}' has {len(own)} top-level weights, but '{filepath}' holds {len(top_values)}."
            if not skip_mismatch:
                raise ValueError(f"Weight count mismatch when loading weights by name: {message}")
            warnings.warn(f"Skipping the top-level weights (skip_mismatch=True): {message}", stacklevel=4)
        else:
            pairs.extend((v, a, f"model '{model.name}' weight '{v.name}'") for v, a in zip(own, top_values))
    return pairs


def _read_pairs(f, model, filepath, skip_mismatch, by_name):
    group = _weights_group(f, filepath)
    try:
        stored = _stored_layers(group, filepath)
        top_values = _stored_top_level(group, filepath)
    except (OSError, KeyError, RuntimeError) as e:
        raise OSError(f"Cannot read the weights in '{filepath}' (damaged file?): {e}") from e
    if by_name:
        return _pairs_by_name(stored, top_values, model, filepath, skip_mismatch)
    return _pairs_by_order(stored, top_values, model, filepath)


def load_weights(model, filepath, skip_mismatch=False, by_name=False) -> None:
    """Load a Keras 2 weights file, or the weights of a Keras 2 whole-model file.

    Args:
        skip_mismatch: warn about and skip weights whose shapes differ (and, with
            ``by_name``, layers whose number of weights differs).
        by_name: match the file's layers to the model's by name instead of by
            position. Model layers the file does not have are left unchanged,
            with a warning naming them.

    Raises:
        ValueError: the file holds no weights; it holds weights for a different
            number of layers; a shape differs (naming the layer and both shapes).
            The model is left unchanged then.
    """
    _check_built(model, "load")
    with open_h5_for_reading(filepath) as f:
        pairs = _read_pairs(f, model, filepath, skip_mismatch, by_name)
        # Inside the with: the pairs hold datasets, read only once all fit.
        assign_weights(pairs, filepath, skip_mismatch=skip_mismatch)


# ----------------------------------------------------------------------
# Whole models
# ----------------------------------------------------------------------
def save_model(model, filepath) -> None:
    """Write the model as Keras 2's ``model.save('model.h5')`` did: config and
    weights (Keras 3's ``keras.models.load_model`` reads it)."""
    _check_built(model, "save")
    try:
        config = model.get_config()
    except NotImplementedError as e:
        raise NotImplementedError(
            f"Cannot save model '{model.name}' as a whole: it has no config ({e}). Save its weights with "
            "model.save_weights(...) instead, or implement get_config()."
        ) from e
    model_config = json.dumps({"class_name": type(model).__name__, "config": config}, default=_json_default)
    training_config = getattr(model, "_legacy_training_config", None)

    def write(f):
        f.attrs["keras_version"] = KERAS_FORMAT_VERSION.encode("utf8")
        f.attrs["backend"] = BACKEND.encode("utf8")
        f.attrs["kerasish_version"] = __version__.encode("utf8")
        f.attrs["model_config"] = model_config.encode("utf8")
        if training_config is not None:
            f.attrs["training_config"] = json.dumps(training_config, default=_json_default).encode("utf8")
        write_weights_group(f.create_group("model_weights"), model)

    _write_atomically(filepath, write)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Rebuild a model saved in Keras 2's HDF5 layout (by Keras 2, Keras 3 or kerasish).

    Args:
        custom_objects: ``{"name": class}`` for custom layers the config names.
        compile: kerasish's training API arrives with the training issue; for now a
            file's ``training_config`` is kept as ``model._legacy_training_config``.
        safe_mode: False lets a Lambda layer's stored Python code load (only for
            files you trust).
    """
    with open_h5_for_reading(filepath) as f:
        try:
            raw = _attribute(f, "model_config", filepath)
            raw_training = _attribute(f, "training_config", filepath)
        except (OSError, KeyError, RuntimeError) as e:
            raise OSError(f"Cannot read '{filepath}' (damaged file?): {e}") from e
        if raw is None:
            raise ValueError(
                f"No model config found in '{filepath}': it holds no 'model_config' attribute (a weights-only "
                f"file?). Build the model in code and use model.load_weights('{filepath}')."
            )
        config = _decode_json(raw, filepath, "model_config")
        if not isinstance(config, dict) or "class_name" not in config:
            raise ValueError(f"'{filepath}': model_config does not describe a model (no 'class_name').")
        try:
            config = convert_legacy_config(config)
        except (TypeError, KeyError, IndexError, AttributeError) as e:
            raise ValueError(f"'{filepath}': cannot read its model config ({type(e).__name__}: {e}).") from e
        # Each weight the config's layers create is bounded before it is allocated.
        with safe_mode_scope(safe_mode), loading_weight_limit_scope():
            try:
                model = deserialize_layer(config, active_custom_objects(custom_objects), source=filepath)
            except ValueError as e:
                raise ValueError(f"Cannot rebuild the model in '{filepath}': {e}") from e
            except RecursionError as e:
                raise ValueError(f"Cannot rebuild the model in '{filepath}': its config is nested too deeply.") from e
            except (TypeError, KeyError, IndexError) as e:
                raise ValueError(f"Cannot rebuild the model in '{filepath}' from its config: {type(e).__name__}: {e}") from e
        if not isinstance(model, Model):
            raise ValueError(f"'{filepath}' holds a {type(model).__name__}, not a model.")
        pairs = _read_pairs(f, model, filepath, skip_mismatch=False, by_name=False)
        assign_weights(pairs, filepath)
    if compile and raw_training is not None:
        model._legacy_training_config = _decode_json(raw_training, filepath, "training_config")
    return model
