"""Torch checkpoints (torchvision, timm, any state_dict) onto Keras-named application models.

An application is built as Keras builds it (``conv1_conv``, ``conv1_bn``, ...),
so a torch checkpoint's keys (``conv1.weight``, ``bn1.running_mean``) must be
told where they go. A :class:`KeyMap` says it as data: a list of
``(torch key prefix, kerasish layer name)`` pairs, which the model builder
appends to while it makes each layer. :func:`load_state_dict` then copies
``<prefix>.<suffix>`` into each weight of the named layer, where the suffix is
the torch name of the Keras weight (``kernel`` -> ``weight``, ``gamma`` ->
``weight``, ``moving_variance`` -> ``running_var``...).

Layouts: every kerasish layer keeps its weights in torch's layout (a Conv2D's
``nn.Conv2d.weight`` is ``(out, in, kh, kw)``, a Dense's ``nn.Linear.weight`` is
``(out, in)``), so a torch checkpoint's tensors are copied as they are; an entry
may give a ``transforms`` function per Keras weight for what differs (VGG's
first dense layer reads a flattened (C, H, W) map in torch, (H, W, C) in Keras).

Loading is all-or-nothing: every key, shape and layer is checked before the
first copy, and a mismatch raises ``ValueError`` naming the keys, so a failed
load leaves the model as it was.

Example:
    >>> import torch
    >>> from kerasish import layers
    >>> from kerasish.models.functional import Functional
    >>> from kerasish.applications.weight_map import KeyMap, load_state_dict
    >>> inp = layers.Input((8, 8, 3))
    >>> model = Functional(inp, layers.Conv2D(4, 3, name="stem_conv")(inp))
    >>> km = KeyMap()
    >>> km.add("conv1", "stem_conv")
    >>> sd = {"conv1.weight": torch.ones(4, 3, 3, 3), "conv1.bias": torch.zeros(4)}
    >>> load_state_dict(model, sd, km)
    >>> float(model.get_layer("stem_conv").kernel.numpy().sum())
    108.0
"""

from __future__ import annotations

import dataclasses

import torch

from kerasish.applications import _torchvision_backbone

__all__ = [
    "KeyMap", "MapEntry", "TORCH_SUFFIX", "attach_key_map", "key_map_of", "load_state_dict", "load_torchvision",
    "load_timm", "torchvision_state_dict", "timm_state_dict",
]

# The torch attribute behind each Keras weight name of the ordinary layers.
TORCH_SUFFIX = {
    "kernel": "weight",
    "depthwise_kernel": "weight",
    "bias": "bias",
    "gamma": "weight",
    "beta": "bias",
    "moving_mean": "running_mean",
    "moving_variance": "running_var",
}

# Torch state that is bookkeeping, not a weight: never required, never "unexpected".
_BOOKKEEPING = ("num_batches_tracked",)


@dataclasses.dataclass
class MapEntry:
    """One ``(torch key prefix, kerasish layer name)`` pair.

    Args:
        prefix: torch key prefix (``"layer1.0.conv1"``); keys are
            ``prefix + "." + suffix`` (or just ``suffix`` when prefix is ``""``).
        layer: the kerasish layer's name in the model (``"conv2_block1_1_conv"``).
        keys: optional ``{keras weight name: torch suffix}`` overriding
            :data:`TORCH_SUFFIX` (a SeparableConv2D's ``pointwise_kernel`` ->
            ``"pointwise.weight"``).
        transforms: optional ``{keras weight name: fn}``, ``fn(torch value) ->
            value in the layer's torch layout``.
    """

    prefix: str
    layer: str
    keys: dict | None = None
    transforms: dict | None = None

    def torch_key(self, weight_name):
        suffix = (self.keys or {}).get(weight_name, TORCH_SUFFIX.get(weight_name))
        if suffix is None:
            raise ValueError(
                f"KeyMap: layer '{self.layer}' has a weight '{weight_name}' with no known torch name; "
                f"give it in `keys` (e.g. keys={{'{weight_name}': 'weight'}})."
            )
        return f"{self.prefix}.{suffix}" if self.prefix else suffix


class KeyMap:
    """An ordered list of :class:`MapEntry`: where a torch checkpoint's keys go.

    Args:
        pairs: optional iterable of ``(torch prefix, layer name)`` pairs to start with.

    Example:
        >>> km = KeyMap([("conv1", "conv1_conv"), ("bn1", "conv1_bn")])
        >>> km.add("fc", "predictions")
        >>> [(e.prefix, e.layer) for e in km]
        [('conv1', 'conv1_conv'), ('bn1', 'conv1_bn'), ('fc', 'predictions')]
    """

    def __init__(self, pairs=()):
        self.entries = []
        for prefix, layer in pairs:
            self.add(prefix, layer)

    def add(self, prefix, layer, *, keys=None, transforms=None):
        """Append one pair; ``layer`` is a name or a layer (its name is taken)."""
        name = layer if isinstance(layer, str) else layer.name
        if not isinstance(prefix, str):
            raise TypeError(f"KeyMap.add: `prefix` must be a string, got {type(prefix).__name__}.")
        self.entries.append(MapEntry(prefix, name, dict(keys) if keys else None, dict(transforms) if transforms else None))

    def __iter__(self):
        return iter(self.entries)

    def __len__(self):
        return len(self.entries)

    def pairs(self):
        """The map as plain ``(prefix, layer name)`` tuples."""
        return [(e.prefix, e.layer) for e in self.entries]


def attach_key_map(model, key_map, ignore=(), source=None):
    """Remember on ``model`` how torch checkpoints map onto it.

    Args:
        model: the application model.
        key_map: its :class:`KeyMap`.
        ignore: torch key prefixes a checkpoint may have that the model does not
            use (the classifier of a headless model: ``("fc.",)``).
        source: optional description of the pretrained checkpoint
            (``"torchvision:ResNet50_Weights.IMAGENET1K_V2"`` or ``"timm:xception41"``).
    """
    # Plain attributes: no torch module registration, nothing in the state_dict.
    model.__dict__["_torch_key_map"] = key_map
    model.__dict__["_torch_key_map_ignore"] = tuple(ignore)
    model.__dict__["_torch_weights_source"] = source


def key_map_of(model):
    """(key map, ignored prefixes) remembered by :func:`attach_key_map`."""
    km = model.__dict__.get("_torch_key_map")
    if km is None:
        raise ValueError(
            f"Model '{model.name}' has no torch key map: no torch checkpoint maps onto it (an application whose torch "
            "counterpart is a different network, or a model not built by kerasish.applications); pass a KeyMap."
        )
    return km, model.__dict__.get("_torch_key_map_ignore", ())


def _layers_by_name(model):
    out = {}
    for layer in model.layers:
        out[layer.name] = layer
    return out


def load_state_dict(model, state_dict, key_map=None, *, ignore=None, rename=None, source="state_dict", strict=True):
    """Copy a torch ``state_dict`` into ``model``'s Keras-named layers.

    Args:
        model: a kerasish model.
        state_dict: ``{key: tensor}`` (a checkpoint holding ``{"state_dict": ...}``
            is unwrapped).
        key_map: a :class:`KeyMap`; default the one the model was built with.
        ignore: torch key prefixes to skip; default the model's (see
            :func:`attach_key_map`).
        rename: optional ``fn(key) -> key`` applied to every checkpoint key first
            (old spellings).
        source: how to name the checkpoint in errors.
        strict: if True (default), a checkpoint key that no entry reads (and no
            ``ignore`` prefix covers) is an error, as is any missing key.

    Raises:
        ValueError: a key missing or unexpected, a shape mismatch, a layer the
            model does not have. Nothing is copied then.
    """
    if key_map is None:
        key_map, own_ignore = key_map_of(model)
        ignore = own_ignore if ignore is None else ignore
    elif ignore is None:
        ignore = model.__dict__.get("_torch_key_map_ignore", ())
    if not isinstance(state_dict, dict):
        raise ValueError(f"{source}: expected a state_dict (a dict of tensors), got {type(state_dict).__name__}.")
    if "state_dict" in state_dict and isinstance(state_dict["state_dict"], dict):
        state_dict = state_dict["state_dict"]
    if rename is not None:
        state_dict = {rename(k): v for k, v in state_dict.items()}
    ignore = tuple(ignore)
    by_name = _layers_by_name(model)
    plan, used, missing, problems = [], set(), [], []
    for entry in key_map:
        layer = by_name.get(entry.layer)
        if layer is None:
            problems.append(f"model '{model.name}' has no layer '{entry.layer}' (for torch prefix '{entry.prefix}')")
            continue
        for var in layer.weights:
            key = entry.torch_key(var.name)
            if key not in state_dict:
                missing.append(key)
                continue
            used.add(key)
            value = state_dict[key]
            if not isinstance(value, torch.Tensor):
                problems.append(f"'{key}' is a {type(value).__name__}, not a tensor")
                continue
            fn = (entry.transforms or {}).get(var.name)
            if fn is not None:
                value = fn(value)
            target = var.tensor
            if tuple(value.shape) != tuple(target.shape):
                problems.append(
                    f"'{key}' has shape {tuple(value.shape)}, but weight '{var.path}' of layer '{layer.name}' "
                    f"({type(layer).__name__}) holds {tuple(target.shape)} (torch layout)"
                )
                continue
            plan.append((target, value))
    unexpected = []
    if strict:
        unexpected = sorted(
            k for k in state_dict if k not in used and not k.startswith(ignore) and not k.endswith(_BOOKKEEPING)
        )
    if missing or unexpected or problems:
        parts = []
        if missing:
            parts.append(f"missing keys {missing[:8]}{' ...' if len(missing) > 8 else ''} ({len(missing)})")
        if unexpected:
            parts.append(f"unexpected keys {unexpected[:8]}{' ...' if len(unexpected) > 8 else ''} ({len(unexpected)})")
        parts.extend(problems[:8])
        raise ValueError(f"{source} does not fit model '{model.name}': " + "; ".join(parts) + ". No weight was changed.")
    with torch.no_grad():
        for target, value in plan:
            target.copy_(value.to(device=target.device, dtype=target.dtype))


def torchvision_state_dict(enum_name, pretty=None):
    """torchvision's pretrained checkpoint, e.g. ``"ResNet50_Weights.IMAGENET1K_V2"``.

    Downloaded once through torch.hub (``torch.hub.get_dir()/checkpoints``),
    then read with ``weights_only=True`` (no pickle code runs).
    """
    state_dict, _ = _torchvision_backbone._imagenet_state_dict(enum_name, pretty or enum_name)
    return state_dict


def timm_state_dict(model_name):
    """timm's pretrained checkpoint for ``model_name`` (timm is an optional extra).

    Raises:
        ImportError: timm is not installed (``pip install kerasish[timm]``).
    """
    try:
        import timm
    except ImportError as e:
        raise ImportError(
            f"Loading the pretrained weights '{model_name}' needs timm: pip install kerasish[timm] (or pip install timm)."
        ) from e
    return timm.create_model(model_name, pretrained=True).state_dict()


def load_torchvision(model, enum_name, key_map=None, **kwargs):
    """:func:`load_state_dict` of torchvision's checkpoint ``enum_name`` into ``model``."""
    sd = torchvision_state_dict(enum_name, model.name)
    load_state_dict(model, sd, key_map, source=kwargs.pop("source", f"torchvision weights {enum_name}"), **kwargs)


def load_timm(model, model_name, key_map=None, **kwargs):
    """:func:`load_state_dict` of timm's pretrained ``model_name`` into ``model``."""
    sd = timm_state_dict(model_name)
    load_state_dict(model, sd, key_map, source=kwargs.pop("source", f"timm weights '{model_name}'"), **kwargs)
