"""Keras 2 model configs in Keras 3's terms.

Keras 2 wrote a model's config (an ``.h5`` file's ``model_config``, or
``to_json()``) with class name ``"Model"``, inbound nodes as nested lists
(``[[["input_1", 0, 0, {}]]]``), ``batch_input_shape`` on input layers, axes as
one-element lists and its own Lambda / LeakyReLU arguments.
:func:`convert_legacy_config` turns such a config into Keras 3's format, which
kerasish reads; a Keras 3 config comes back unchanged. Pure data to data: no
class is looked up and no code is run here.

Example:
    >>> from kerasish.saving.legacy_config import convert_legacy_config
    >>> convert_legacy_config({"class_name": "Model", "config": {"name": "m", "layers": [], "input_layers": [], "output_layers": []}})["class_name"]
    'Functional'
"""

from __future__ import annotations

_MODEL_CLASS_NAMES = ("Model", "Functional", "Sequential")
# Keys Keras 2's Lambda wrote that Keras 3's has no use for.
_LAMBDA_LEGACY_KEYS = ("module", "function_type", "output_shape_type", "output_shape_module")


def _is_model_data(data) -> bool:
    config = data.get("config")
    return data.get("class_name") in _MODEL_CLASS_NAMES or isinstance(config, list) or (
        isinstance(config, dict) and "layers" in config
    )


def _lambda_dict(value):
    # Keras 2 stored a lambda as [base64 marshal code, defaults, closure].
    if isinstance(value, list) and value and isinstance(value[0], str):
        return {
            "class_name": "__lambda__",
            "config": {"code": value[0], "defaults": value[1] if len(value) > 1 else None, "closure": value[2] if len(value) > 2 else None},
        }
    return value


def convert_layer_config(class_name: str, config: dict) -> dict:
    """One layer's Keras 2 config in Keras 3's terms (Keras 3 configs pass unchanged)."""
    cfg = dict(config)
    if class_name == "InputLayer" and "batch_input_shape" in cfg:
        shape = cfg.pop("batch_input_shape")
        cfg.setdefault("batch_shape", shape)
    axis = cfg.get("axis")
    if isinstance(axis, list) and len(axis) == 1 and isinstance(axis[0], int):
        cfg["axis"] = axis[0]
    if class_name == "Lambda":
        shape_type = cfg.get("output_shape_type")
        for key in _LAMBDA_LEGACY_KEYS:
            cfg.pop(key, None)
        cfg["function"] = _lambda_dict(cfg.get("function"))
        if shape_type == "lambda":
            cfg["output_shape"] = _lambda_dict(cfg.get("output_shape"))
    if class_name == "LeakyReLU" and "alpha" in cfg:
        cfg.setdefault("negative_slope", cfg.pop("alpha"))
    if class_name == "BatchNormalization" and cfg.get("fused") in (None, True, False):
        cfg.pop("fused", None)  # a TensorFlow kernel choice, not a behaviour
    return cfg


def _tensor_ref(name, node_index, tensor_index):
    return {"class_name": "__keras_tensor__", "config": {"shape": None, "dtype": None, "keras_history": [name, node_index, tensor_index]}}


def _first_node_offsets(layers) -> dict:
    """Keras 2 numbered a nested model's calls from 1 when the model was made
    on an Input (its construction was node 0); inbound nodes in Keras 3 (and
    kerasish) number them from 0."""
    offsets = {}
    for data in layers:
        if not _is_model_data(data):
            continue
        class_name, config = data.get("class_name"), data.get("config")
        if class_name == "Sequential" or isinstance(config, list):
            inner = config if isinstance(config, list) else config.get("layers", [])
            first = inner[0] if inner else {}
            has_input = first.get("class_name") == "InputLayer" or "batch_input_shape" in first.get("config", {})
            offsets[data.get("name", config.get("name") if isinstance(config, dict) else None)] = 1 if has_input else 0
        else:
            offsets[data.get("name", config.get("name"))] = 1
    return offsets


def _io_offsets(layers, offsets) -> dict:
    """The shifts for input_layers / output_layers: there Keras 3 still numbers a
    nested functional model's calls from 1 (its own first node), so only nested
    Sequential models shift."""
    functional = {
        data.get("name", (data.get("config") or {}).get("name"))
        for data in layers
        if _is_model_data(data) and data.get("class_name") != "Sequential" and not isinstance(data.get("config"), list)
    }
    return {name: off for name, off in offsets.items() if name not in functional}


def _convert_node(node, offsets):
    if isinstance(node, dict):  # Keras 3: {"args": [...], "kwargs": {...}}
        return node
    refs, kwargs = [], {}
    for entry in node:
        name, node_index, tensor_index = entry[0], int(entry[1]), int(entry[2])
        if len(entry) > 3 and isinstance(entry[3], dict):
            kwargs = entry[3]
        refs.append(_tensor_ref(name, node_index - offsets.get(name, 0), tensor_index))
    args = [refs[0]] if len(refs) == 1 else [refs]
    return {"args": args, "kwargs": dict(kwargs)}


def _convert_io_refs(refs, offsets, legacy):
    def one(r):
        return [r[0], int(r[1]) - (offsets.get(r[0], 0) if legacy else 0), int(r[2])]

    if isinstance(refs, list) and len(refs) >= 3 and isinstance(refs[0], str):
        return one(refs)
    if isinstance(refs, dict):
        return {k: _convert_io_refs(v, offsets, legacy) for k, v in refs.items()}
    out = [_convert_io_refs(r, offsets, legacy) for r in refs]
    # Keras 2 always wrote a list; a one-input (one-output) model takes
    # (returns) a single tensor.
    if legacy and len(out) == 1 and isinstance(refs[0], list) and refs[0] and isinstance(refs[0][0], str):
        return out[0]
    return out


def convert_legacy_config(data: dict) -> dict:
    """A model (or layer) config from a Keras 2 ``.h5`` file in Keras 3's format.

    Handles class name ``"Model"``, Sequential configs given as a bare list of
    layers, inbound nodes as nested lists (``[[["input_1", 0, 0, {}]]]``),
    input and output lists, ``batch_input_shape`` on input layers, axes
    written as one-element lists, Keras 2's Lambda and LeakyReLU arguments,
    and nested models. Configs already in Keras 3's format come back unchanged.
    """
    if not isinstance(data, dict) or "class_name" not in data:
        raise ValueError(f"Not a serialized Keras object: {data!r:.200}")
    out = dict(data)
    class_name = data["class_name"]
    config = data.get("config") if data.get("config") is not None else {}
    if not _is_model_data(data):
        out["config"] = convert_layer_config(class_name, config) if isinstance(config, dict) else config
        return out
    if class_name == "Model":
        out["class_name"] = "Functional"
    if class_name == "Sequential" or isinstance(config, list):
        layers = config if isinstance(config, list) else config.get("layers", [])
        cfg = {} if isinstance(config, list) else dict(config)
        cfg["layers"] = [convert_legacy_config(layer) for layer in layers]
        out["config"] = cfg
        return out
    if "input_layers" not in config:  # a custom model with its own config
        return out
    layers = config.get("layers", [])
    legacy = any(isinstance(node, list) for layer in layers for node in layer.get("inbound_nodes", []))
    offsets = _first_node_offsets(layers) if legacy else {}
    new_layers = []
    for layer in layers:
        converted = convert_legacy_config(layer)
        converted["inbound_nodes"] = [_convert_node(n, offsets) for n in layer.get("inbound_nodes", [])]
        if "name" not in converted and isinstance(converted.get("config"), dict):
            converted["name"] = converted["config"].get("name")
        new_layers.append(converted)
    cfg = dict(config)
    cfg["layers"] = new_layers
    io_offsets = _io_offsets(layers, offsets) if legacy else {}
    cfg["input_layers"] = _convert_io_refs(config["input_layers"], io_offsets, legacy)
    cfg["output_layers"] = _convert_io_refs(config["output_layers"], io_offsets, legacy)
    out["config"] = cfg
    return out
