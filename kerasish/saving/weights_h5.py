"""Keras 3's weights layout in HDF5 (``model.weights.h5`` inside a ``.keras``
file, and ``*.weights.h5`` files).

Layers are addressed the way Keras addresses them, by position, not by name:
a model's layers are the group ``layers``, each under its class name in snake
case, made unique within its container (``conv2d``, ``conv2d_1``, ...), with
its weights in ``<path>/vars/0``, ``1``... in Keras's order. Nested models
recurse (``layers/sequential/layers/dense/vars``).
"""

from __future__ import annotations

import warnings

import h5py

from kerasish.models.functional import Functional
from kerasish.engine.layer import Layer
from kerasish.engine.naming import to_snake_case

from .bounded_read import check_dataset, h5_children, h5_get, h5_require
from .file_io import atomic_write, open_h5_for_reading, open_h5_for_writing
from .weight_assign import check_pairs, commit


def _unique(name: str, used: dict) -> str:
    if name in used:
        used[name] += 1
        return f"{name}_{used[name]}"
    used[name] = 0
    return name


def _name_key(name: str) -> str:
    # Keras visits private attributes last.
    return f"~{name}" if name.startswith("_") else name


def _children(layer):
    """(relative path, child layer) pairs in the order Keras visits them."""
    out = []
    if isinstance(layer, Functional):
        used: dict = {}
        for child in layer.layers:
            out.append((f"layers/{_unique(to_snake_case(type(child).__name__), used)}", child))
        return out
    # Custom layers and subclassed models: sublayers held as attributes.
    for attr in sorted(layer._modules, key=_name_key):
        child = layer._modules[attr]
        if isinstance(child, Layer):
            out.append((attr, child))
        elif isinstance(child, (list, tuple)) or type(child).__name__ == "_LayerList":
            used = {}
            for item in child:
                if isinstance(item, Layer):
                    out.append((f"{attr}/{_unique(to_snake_case(type(item).__name__), used)}", item))
    return out


def walk(model):
    """Yield ``(path, layer)`` for the model and every layer inside, Keras's paths."""
    seen = set()

    def visit(layer, path):
        if id(layer) in seen:
            return
        seen.add(id(layer))
        yield path, layer
        for rel, child in _children(layer):
            yield from visit(child, f"{path}/{rel}" if path else rel)

    yield from visit(model, "")


def _store_keys(layer):
    """The dataset names of ``layer``'s weights: positions, as Keras's layers store
    them, unless the layer names its own (TorchModuleWrapper: state_dict keys)."""
    keys = getattr(layer, "_weight_store_keys", None)
    return keys() if keys is not None else [str(i) for i in range(len(layer._variables))]


def write_weights_group(root: h5py.Group, model) -> None:
    """Write every layer's weights under ``root`` in Keras 3's layout."""
    for path, layer in walk(model):
        group = root.require_group(f"{path}/vars" if path else "vars")
        group.attrs["name"] = layer.name
        for key, var in zip(_store_keys(layer), layer._variables):
            group.create_dataset(key, data=var.numpy())
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and hasattr(optimizer, "save_own_variables"):
        optimizer.save_own_variables(root.require_group("optimizer/vars"))


def _optimizer_store(root, model, filepath):
    """The ``optimizer/vars`` datasets (link-free, numeric, not yet read) as a
    ``{"0": dataset, ...}`` mapping, or None when the file or model has none."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not hasattr(optimizer, "prepare_own_variables"):
        return None
    if h5_get(root, "optimizer", filepath) is None:
        return None
    group = h5_require(root, "optimizer/vars", filepath, h5py.Group)
    store = {}
    for name in h5_children(group, filepath):
        ds = h5_require(group, name, filepath, h5py.Dataset)
        check_dataset(ds, filepath)
        store[name] = ds
    if not optimizer.built:
        # No slots yet to compare with: each stored value must have the shape of
        # a trainable weight (a slot) or be a scalar (iterations, learning rate),
        # so a declared 40000x30000 entry is refused before it is read.
        shapes = {tuple(v.shape) for v in model.trainable_weights} | {()}
        for ds in store.values():
            if tuple(ds.shape) not in shapes:
                raise ValueError(
                    f"Cannot load the optimizer state from '{filepath}': the entry '{ds.name}' has shape "
                    f"{tuple(ds.shape)}, which is the shape of none of the model's trainable weights."
                )
    return store


def read_weights_group(root: h5py.Group, model, filepath, skip_mismatch=False) -> None:
    """Load every layer's weights (and the optimizer's state, when both the
    file and the model have one) from ``root`` in Keras 3's layout, all or
    nothing: every declared shape and dtype is checked, and everything read,
    before the first weight changes.

    Raises:
        ValueError: a missing or extra weight, a shape or dtype that does not
            fit, an HDF5 link, naming the file and the entry.
    """
    pairs = []
    for path, layer in walk(model):
        if not layer._variables:
            continue
        key = f"{path}/vars" if path else "vars"
        where = f"layer '{layer.name}'"
        stored = h5_get(root, key, filepath, h5py.Group)
        count = 0 if stored is None else len(h5_children(stored, filepath))
        if count != len(layer._variables):
            message = (
                f"Cannot load weights from '{filepath}': {where} ({type(layer).__name__}) expects "
                f"{len(layer._variables)} variables, but the file has {count} at '{key}'."
            )
            if skip_mismatch:
                warnings.warn(f"Skipping {where} (skip_mismatch=True): {message}", stacklevel=3)
                continue
            raise ValueError(message)
        keys = _store_keys(layer)
        if not all(k in stored for k in keys):
            keys = [str(i) for i in range(len(layer._variables))]  # older kerasish files stored positions
        for key, var in zip(keys, layer._variables):
            ds = h5_require(stored, key, filepath, h5py.Dataset)
            pairs.append((var, ds, f"{where} weight '{var.name}'"))
    ready, _ = check_pairs(pairs, filepath, skip_mismatch=skip_mismatch)
    store = _optimizer_store(root, model, filepath)
    optimizer_state = None if store is None else model.optimizer.prepare_own_variables(store, source=filepath)
    commit(ready)
    if store is not None:
        model.optimizer.commit_own_variables(optimizer_state)


def _open(filepath, mode):
    try:
        return h5py.File(filepath, mode)
    except OSError as e:
        raise OSError(f"Cannot open '{filepath}' as an HDF5 file: {e}") from e


def is_keras3_layout(filepath) -> bool:
    with open_h5_for_reading(filepath) as f:
        if "layer_names" in f.attrs or "model_weights" in f or "model_config" in f.attrs:
            return False
        return "vars" in f or "layers" in f


def save_weights(model, filepath) -> None:
    # Written beside the target and renamed over it: a crash, a full disk or a
    # reader holding the old file open never leaves a torn file.
    with atomic_write(filepath) as tmp, open_h5_for_writing(tmp) as f:
        write_weights_group(f, model)


def load_weights(model, filepath, skip_mismatch=False) -> None:
    with open_h5_for_reading(filepath) as f:
        if "vars" not in f and "layers" not in f:
            raise ValueError(f"'{filepath}' holds no weights in Keras 3's layout (no 'layers' or 'vars' group).")
        read_weights_group(f, model, filepath, skip_mismatch=skip_mismatch)
