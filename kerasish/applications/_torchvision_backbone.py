"""The machinery shared by the ``kerasish.applications`` models: input-shape
checks as Keras makes them, Keras's pooling top, weight loading (torchvision's
ImageNet checkpoints through torch.hub, Keras's own ImageNet HDF5 files,
local torch state_dicts, kerasish / Keras weight files), and torchvision
stages as kerasish layers.

Most families are built as Keras builds them, layer for layer (see
:func:`keras_inputs`, :func:`keras_pooling`, :func:`load_keras_weights` and
:mod:`kerasish.applications.weight_map` for torch checkpoints). The stage
design below (:class:`TorchModuleLayer`, :class:`TorchvisionNormalization`,
:func:`build_application`) remains for the models still made of torchvision
stages, and so that ``.keras`` files saved with them keep loading.

An application is an ordinary kerasish functional model::

    Input (channels_last) -> [TorchvisionNormalization] -> stage layers -> pooling / top

Each stage layer (:class:`TorchModuleLayer`) wraps one top-level module of a
torchvision architecture (``conv1``, ``layer1``, ``features.3``...) and is
registered natively under its readable name, so ``model.summary()`` lists the
stages, ``model.get_layer("layer4")`` finds one, ``layer.trainable = False``
freezes it and ``model.state_dict()`` keys read ``layer1.0.conv1.weight``.

Normalization: torchvision's ImageNet weights expect RGB images scaled to
[0, 1] and normalized with mean (0.485, 0.456, 0.406) and std (0.229, 0.224,
0.225). Keras's models expect what each family's ``preprocess_input`` makes
(``caffe``: BGR with the ImageNet means subtracted; ``tf``: [-1, 1];
``torch``: the torchvision normalization) or raw [0, 255] pixels for the
families that normalize inside the model (EfficientNet, ConvNeXt,
MobileNetV3). A :class:`TorchvisionNormalization` layer at the start of the
model turns the Keras input convention into torchvision's, so that
``model(preprocess_input(images))`` gives the right answer as in Keras.
"""

from __future__ import annotations

import collections
import os
import re
import urllib.parse
import warnings

import torch
from torch import nn

from kerasish import activations, layers
from kerasish.applications import weight_map
from kerasish.engine import layout
from kerasish.engine.keras_tensor import KerasTensor
from kerasish.engine.layer import Layer, _infer_output_shape_by_tracing
from kerasish.engine.serialization import register_builtin_layers
from kerasish.models.functional import Functional

# torchvision weight files carry the start of their SHA-256 in the name
# ("resnet50-0676ba61.pth"), the convention torch.hub checks downloads against.
_HASH_PREFIX = re.compile(r"-([a-f0-9]*)\.")

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# Keras's "caffe" mode subtracts these from BGR pixels (B, G, R order).
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)

# torchvision builders a saved stage may name (nothing else is ever called from a config).
_ARCHITECTURES = {
    "resnet50", "resnet101", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large",
    "efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3",
    "vgg16", "vgg19", "densenet121", "convnext_tiny",
}


# ----------------------------------------------------------------------
# Layers
# ----------------------------------------------------------------------
class TorchModuleLayer(Layer):
    """A kerasish layer that runs a ``torch.nn.Module`` on image tensors.

    The module is registered natively: a model lists it under the layer's name
    and its state_dict keys are the module's own (``layer1.0.conv1.weight``).
    Every floating-point parameter and buffer is a Keras weight of the layer
    (parameters trainable, buffers such as BatchNorm's running statistics
    non-trainable), so ``count_params``, ``trainable = False``, ``get_weights``
    and weight files work as for any layer.

    Training mode follows Keras: the module runs in train mode (BatchNorm
    batch statistics, dropout) only when called with ``training=True`` *and*
    the layer is trainable; a frozen layer (``trainable = False``) always runs
    in inference mode, like Keras's frozen BatchNormalization. BatchNorm inside
    the module keeps torch's semantics (momentum 0.1, unbiased running
    variance), not Keras's.

    Args:
        module: the ``nn.Module``; it takes and returns NCHW tensors (what
            torch modules take); the layer takes and returns channels_last
            tensors like every kerasish layer.
        spec: how to make the module again (used by :mod:`kerasish.applications`
            so that models save to and load from ``.keras`` files): a dict
            ``{"architecture": "resnet50", "kwargs": {...}, "paths": ["layer1"]}``
            naming a torchvision builder and the submodule(s) to take. A layer
            without a spec works everywhere except ``get_config``.
        name, trainable, dtype: as for every layer.

    Input shape: ``(batch, height, width, channels)``.
    Output shape: whatever the module makes (4-D outputs channels_last).

    Example:
        >>> import torch, torchvision
        >>> from kerasish.applications import TorchModuleLayer
        >>> stage = TorchModuleLayer(torchvision.models.resnet18().layer1, name="layer1")
        >>> tuple(stage(torch.zeros(2, 8, 8, 64)).shape)
        (2, 8, 8, 64)
    """

    _native_layout = True

    def __init__(self, module=None, spec=None, **kwargs):
        super().__init__(**kwargs)
        if module is None:
            if spec is None:
                raise ValueError("TorchModuleLayer: give `module` (an nn.Module) or `spec` (a dict naming a torchvision architecture).")
            module = module_from_spec(spec)
        if not isinstance(module, nn.Module):
            raise TypeError(f"TorchModuleLayer: `module` must be a torch.nn.Module, got {type(module).__name__}.")
        self.spec = spec
        self._set_torch_module(module)
        for mod_name, mod in module.named_modules():
            for attr, t in list(mod._parameters.items()) + list(mod._buffers.items()):
                if t is None or not t.is_floating_point():
                    continue  # num_batches_tracked and friends: state, not weights
                if attr in mod._buffers and attr in mod._non_persistent_buffers_set:
                    continue
                key = f"{mod_name}.{attr}" if mod_name else attr
                self._track_weight(mod, attr, key, trainable=attr in mod._parameters)
        self.built = True

    def build(self, input_shape):
        self.built = True

    def _check_input(self, input_shape):
        if not isinstance(input_shape, tuple) or len(input_shape) != 4:
            raise ValueError(f"Layer '{self.name}' (TorchModuleLayer) expects image tensors (batch, height, width, channels), got input shape {input_shape}.")

    def native_call(self, inputs, training=False):
        module = self._torch_module
        mode = bool(training) and self._trainable
        if module.training != mode:
            module.train(mode)
        return module(inputs)

    def compute_output_shape(self, input_shape):
        """The module run once on meta tensors (no memory, no compute); unknown
        spatial sizes are probed twice, as for every layer."""
        if any(d is None for d in input_shape[1:]):
            return _infer_output_shape_by_tracing(self, input_shape)
        module = self._torch_module
        state = {k: torch.empty(v.shape, device="meta", dtype=v.dtype) for k, v in
                 list(module.named_parameters()) + list(module.named_buffers())}
        x = torch.empty(layout.internal_shape((2,) + tuple(input_shape[1:])), device="meta")
        with torch.no_grad():
            y = torch.func.functional_call(module.eval() if module.training else module, state, (x,), strict=False)
        return (input_shape[0],) + tuple(layout.keras_shape(tuple(y.shape)))[1:]

    def get_config(self):
        if self.spec is None:
            raise NotImplementedError(
                f"Layer '{self.name}' (TorchModuleLayer) wraps a module without a `spec`, so it cannot be written as a config; "
                "save the weights (save_weights / state_dict) instead."
            )
        return {**super().get_config(), "spec": self.spec}


def module_from_spec(spec):
    """Make the module a :class:`TorchModuleLayer` spec names (a torchvision builder's submodules)."""
    import torchvision

    if not isinstance(spec, dict) or spec.get("architecture") not in _ARCHITECTURES:
        raise ValueError(f"TorchModuleLayer: `spec` must name one of {sorted(_ARCHITECTURES)}; got {spec!r}.")
    kwargs = dict(spec.get("kwargs") or {})
    full = getattr(torchvision.models, spec["architecture"])(weights=None, **kwargs)
    paths = list(spec["paths"])
    if len(paths) == 1 and not spec.get("sequential"):
        return full.get_submodule(paths[0])
    return nn.Sequential(collections.OrderedDict((p.rsplit(".", 1)[-1], full.get_submodule(p)) for p in paths))


class TorchvisionNormalization(Layer):
    """Turns a Keras application's input convention into torchvision's.

    ``y = (rgb01 - mean) / std`` per channel, where ``rgb01`` is the RGB image
    in [0, 1] recovered from the input according to ``mode``:

    * ``"caffe"``: the input is what Keras's caffe ``preprocess_input`` makes
      (BGR, ImageNet means subtracted, 0-255 scale).
    * ``"tf"``: the input is in [-1, 1] (Keras's tf mode).
    * ``"raw"``: the input is RGB pixels in [0, 255] (the families whose Keras
      models normalize inside: EfficientNet, ConvNeXt, MobileNetV3).

    Args:
        mode: one of ``"caffe"``, ``"tf"``, ``"raw"``.

    Input / output shape: ``(batch, height, width, 3)``. No weights.
    """

    _native_layout = True

    def __init__(self, mode="raw", **kwargs):
        super().__init__(**kwargs)
        if mode not in ("caffe", "tf", "raw"):
            raise ValueError(f"TorchvisionNormalization: `mode` must be 'caffe', 'tf' or 'raw', got {mode!r}.")
        self.mode = mode
        m, s = IMAGENET_MEAN, IMAGENET_STD
        if mode == "caffe":
            mean_rgb = CAFFE_MEAN_BGR[::-1]
            scale = [1.0 / (255.0 * s[c]) for c in range(3)]
            offset = [(mean_rgb[c] / 255.0 - m[c]) / s[c] for c in range(3)]
        elif mode == "tf":
            scale = [0.5 / s[c] for c in range(3)]
            offset = [(0.5 - m[c]) / s[c] for c in range(3)]
        else:
            scale = [1.0 / (255.0 * s[c]) for c in range(3)]
            offset = [-m[c] / s[c] for c in range(3)]
        # Non-persistent buffers: they follow model.to(device), stay out of state_dict.
        self.register_buffer("_scale", torch.tensor(scale).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("_offset", torch.tensor(offset).view(1, 3, 1, 1), persistent=False)
        self.built = True

    def _check_input(self, input_shape):
        if not isinstance(input_shape, tuple) or len(input_shape) != 4 or input_shape[-1] != 3:
            raise ValueError(f"Layer '{self.name}' (TorchvisionNormalization) expects RGB images (batch, height, width, 3), got input shape {input_shape}.")

    def native_call(self, inputs, training=False):
        x = inputs.flip(1) if self.mode == "caffe" else inputs
        return torch.addcmul(self._offset.to(x.dtype), x, self._scale.to(x.dtype))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


# An application model's config names its stages and its normalization layer:
# built-ins, so a saved application loads without custom_objects.
register_builtin_layers({"TorchModuleLayer": TorchModuleLayer, "TorchvisionNormalization": TorchvisionNormalization})


# ----------------------------------------------------------------------
# Building
# ----------------------------------------------------------------------
def obtain_input_shape(input_shape, default_size, min_size, require_flatten, weights=None):
    """Check / complete ``input_shape`` (channels_last) as Keras's applications do."""
    if input_shape is not None:
        try:
            input_shape = tuple(None if d is None else int(d) for d in input_shape)
        except TypeError:
            raise ValueError(f"`input_shape` must be a tuple of three integers. Received: input_shape={input_shape!r}") from None
    if weights != "imagenet" and input_shape and len(input_shape) == 3:
        if input_shape[-1] not in {1, 3}:
            warnings.warn(
                "This model usually expects 1 or 3 input channels. However, it was passed an input_shape "
                f"with {input_shape[-1]} input channels.",
                stacklevel=3,
            )
        default_shape = (default_size, default_size, input_shape[-1])
    else:
        default_shape = (default_size, default_size, 3)
    if weights == "imagenet" and require_flatten:
        if input_shape is not None and input_shape != default_shape:
            raise ValueError(
                "When setting `include_top=True` and loading `imagenet` weights, "
                f"`input_shape` should be {default_shape}.  Received: input_shape={input_shape}"
            )
        return default_shape
    if input_shape:
        if len(input_shape) != 3:
            raise ValueError(f"`input_shape` must be a tuple of three integers. Received: input_shape={input_shape}")
        if input_shape[-1] != 3 and weights == "imagenet":
            raise ValueError(f"The input must have 3 channels; Received `input_shape={input_shape}`")
        if (input_shape[0] is not None and input_shape[0] < min_size) or (input_shape[1] is not None and input_shape[1] < min_size):
            raise ValueError(f"Input size must be at least {min_size}x{min_size}; Received: input_shape={input_shape}")
    else:
        input_shape = default_shape if require_flatten else (None, None, 3)
    if require_flatten and None in input_shape:
        raise ValueError(f"If `include_top` is True, you should specify a static `input_shape`. Received: input_shape={input_shape}")
    return input_shape


def check_common_args(name, weights, include_top, classes, pooling, classifier_activation=None):
    if not (weights in {"imagenet", None} or (isinstance(weights, (str, os.PathLike)) and os.path.exists(weights))):
        raise ValueError(
            "The `weights` argument should be either `None` (random initialization), 'imagenet' "
            "(pre-training on ImageNet), or the path to the weights file to be loaded.  "
            f"Received: weights={weights}"
        )
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError(
            "If using `weights='imagenet'` with `include_top=True`, `classes` should be 1000.  "
            f"Received: classes={classes}"
        )
    if pooling not in (None, "avg", "max"):
        raise ValueError(f"{name}: `pooling` must be None, 'avg' or 'max'. Received: pooling={pooling!r}")
    if weights == "imagenet" and include_top and classifier_activation not in {None, "softmax"}:
        if activations.get(classifier_activation) not in (activations.get("softmax"), activations.get(None)):
            raise ValueError(
                "Only `None` and `softmax` activations are allowed for the `classifier_activation` argument when "
                f"using pretrained weights, with `include_top=True`; Received: classifier_activation={classifier_activation}"
            )


def make_input(input_shape, input_tensor):
    """(model input(s), the tensor to build on) as Keras's applications make them."""
    if input_tensor is None:
        x = layers.Input(shape=input_shape)
        return x, x
    if not isinstance(input_tensor, KerasTensor):
        x = layers.Input(shape=input_shape, tensor=input_tensor)
        return x, x
    return source_inputs(input_tensor), input_tensor


def source_inputs(tensor):
    """The ``Input`` tensors a symbolic tensor is computed from."""
    out, seen = [], set()

    def visit(t):
        layer, node_index, _ = t._keras_history
        node = layer._inbound_nodes[node_index]
        if node.is_input:
            if id(t) not in seen:
                seen.add(id(t))
                out.append(t)
            return
        for p in node.input_tensors:
            visit(p)

    visit(tensor)
    return out[0] if len(out) == 1 else out


def stage_layers(architecture, arch_kwargs, full, groups):
    """``[(layer name, [submodule paths])]`` -> TorchModuleLayers sharing ``full``'s modules."""
    stages = []
    for name, paths in groups:
        if len(paths) == 1:
            module = full.get_submodule(paths[0])
            sequential = False
        else:
            module = nn.Sequential(collections.OrderedDict((p.rsplit(".", 1)[-1], full.get_submodule(p)) for p in paths))
            sequential = True
        spec = {"architecture": architecture, "kwargs": dict(arch_kwargs), "paths": list(paths)}
        if sequential:
            spec["sequential"] = True
        stages.append(TorchModuleLayer(module, spec=spec, name=name))
    return stages


def pooled_top(x, include_top, pooling, classes, classifier_activation, dropout=None, hidden=None):
    """Keras's common top: GAP -> [Dropout] -> Dense(predictions), or pooling for a headless model."""
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout:
            x = layers.Dropout(dropout, name="top_dropout")(x)
        return layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name="max_pool")(x)
    return x


# ----------------------------------------------------------------------
# Weights
# ----------------------------------------------------------------------
class WeightsPlan:
    """How torchvision's state_dict keys map onto an application model.

    Args:
        full: the torchvision model whose backbone modules the stages share
            (its head replaced by ``nn.Identity``, so it holds no extra memory).
        head: ``{torchvision key: (kerasish layer, attr on its torch module, transform)}``
            for the classifier weights (loaded only when the model has its top).
        ignored_prefixes: torchvision keys that a headless model skips.
        rename: optional function fixing old key spellings (DenseNet).
    """

    def __init__(self, full, head, ignored_prefixes, rename=None):
        self.full = full
        self.head = head
        self.ignored_prefixes = tuple(ignored_prefixes)
        self.rename = rename

    def load(self, model, state_dict, source):
        if not isinstance(state_dict, dict):
            raise ValueError(f"{source}: expected a state_dict (a dict of tensors), got {type(state_dict).__name__}.")
        if "state_dict" in state_dict and isinstance(state_dict["state_dict"], dict):
            state_dict = state_dict["state_dict"]
        if self.rename is not None:
            state_dict = {self.rename(k): v for k, v in state_dict.items()}
        head_values, backbone = {}, {}
        for k, v in state_dict.items():
            if k in self.head:
                head_values[k] = v
            elif k.startswith(self.ignored_prefixes):
                continue
            else:
                backbone[k] = v
        expected = self.full.state_dict()
        unexpected = sorted(set(backbone) - set(expected))
        missing = sorted(set(expected) - set(backbone))
        if unexpected or missing:
            raise ValueError(
                f"{source} does not match model '{model.name}': missing keys {missing[:8]}{'...' if len(missing) > 8 else ''}, "
                f"unexpected keys {unexpected[:8]}{'...' if len(unexpected) > 8 else ''}."
            )
        for k, v in backbone.items():
            if tuple(v.shape) != tuple(expected[k].shape):
                raise ValueError(f"{source}: weight '{k}' has shape {tuple(v.shape)}, but model '{model.name}' expects {tuple(expected[k].shape)}.")
        present = [k for k in self.head if _layer_in(model, self.head[k][0])]
        head_updates = []
        for k in present:
            if k not in head_values:
                raise ValueError(f"{source} has no '{k}' for the top of model '{model.name}' (a headless checkpoint? use include_top=False).")
            layer, attr, transform = self.head[k]
            target = getattr(layer._torch_module, attr)
            value = transform(head_values[k]) if transform is not None else head_values[k]
            if tuple(value.shape) != tuple(target.shape):
                raise ValueError(
                    f"{source}: weight '{k}' has shape {tuple(head_values[k].shape)}, which does not fit layer '{layer.name}' "
                    f"of model '{model.name}' (weight shape {tuple(target.shape)}); check `classes` and `input_shape`."
                )
            head_updates.append((target, value))
        self.full.load_state_dict(backbone, strict=True)
        with torch.no_grad():
            for target, value in head_updates:
                target.copy_(value.to(device=target.device, dtype=target.dtype))


def _layer_in(model, layer):
    return any(l is layer for l in model.layers)


def attach(model, plan, weights_enum_name, pretty_name):
    """Remember how to load torchvision weights into ``model`` (plain attributes, no torch registration)."""
    model.__dict__["_torchvision_plan"] = plan
    model.__dict__["_torchvision_weights"] = weights_enum_name
    model.__dict__["_application_name"] = pretty_name


def load_application_weights(model, weights):
    """weights="imagenet" -> torchvision's checkpoint; a path -> a local file."""
    if weights is None:
        return
    plan = model.__dict__["_torchvision_plan"]
    pretty = model.__dict__["_application_name"]
    if weights == "imagenet":
        state_dict, path = _imagenet_state_dict(model.__dict__["_torchvision_weights"], pretty)
        plan.load(model, state_dict, f"{pretty} ImageNet weights file '{path}'")
        return
    path = os.fspath(weights)
    lower = path.lower()
    if lower.endswith((".pth", ".pt", ".bin", ".ckpt")):
        try:
            state_dict = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as e:
            raise ValueError(f"Cannot read the torch state_dict file '{path}' for {pretty}: {e}") from e
        plan.load(model, state_dict, f"weights file '{path}'")
    elif lower.endswith((".h5", ".keras", ".hdf5")):
        model.load_weights(path)
    else:
        raise ValueError(
            f"Unknown weights file type for `weights`={path!r}: expected a torch state_dict (.pth / .pt) or a Keras "
            "weights file (.weights.h5 / .h5 / .keras)."
        )


def _imagenet_state_dict(enum_name, pretty):
    """Download (or read from the torch hub cache) torchvision's checkpoint, with no pickle."""
    import torchvision

    cls_name, member = enum_name.split(".")
    weights = getattr(getattr(torchvision.models, cls_name), member)
    url = weights.url
    filename = os.path.basename(urllib.parse.urlparse(url).path)
    directory = os.path.join(torch.hub.get_dir(), "checkpoints")
    path = os.path.join(directory, filename)
    if not os.path.exists(path):
        try:
            os.makedirs(directory, exist_ok=True)
            match = _HASH_PREFIX.search(filename)
            download_file(url, path, match.group(1) if match else None)
        except Exception as e:
            raise OSError(
                f"Could not download the ImageNet weights of {pretty} ({cls_name}.{member}) from {url}: {e}. "
                f"Without network access, download '{filename}' elsewhere and place it at '{path}' "
                f"(torch.hub.get_dir()/checkpoints/), or pass weights='/path/to/{filename}'."
            ) from e
    try:
        return torch.load(path, map_location="cpu", weights_only=True), path
    except Exception as e:
        raise OSError(f"Cannot read the ImageNet weights of {pretty} at '{path}' (a damaged download? delete it and retry): {e}") from e


def download_file(url, path, hash_prefix):
    """torch.hub's downloader (a function of its own so tests can stand in for the network)."""
    torch.hub.download_url_to_file(url, path, hash_prefix=hash_prefix, progress=False)


# DenseNet checkpoints spell 'norm.1' where the modules say 'norm1' (torchvision fixes them the same way).
_DENSENET_KEY = re.compile(r"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$")


def densenet_rename(key):
    m = _DENSENET_KEY.match(key)
    return m.group(1) + m.group(2) if m else key


# ----------------------------------------------------------------------
# One builder for every family
# ----------------------------------------------------------------------
def build_application(*, pretty, architecture, arch_kwargs, full, groups, top, weights_enum, norm_mode, default_size,
                      include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name,
                      ignored_prefixes, after_stages=None, rename=None, min_size=32):
    """Assemble an application model.

    ``top(x)`` makes the head on the stages' output and returns
    ``(output, {torchvision key: (layer, attr, transform)})``; it is only
    called with ``include_top=True`` (a headless model gets Keras's pooling).
    """
    check_common_args(pretty, weights, include_top, classes, pooling, classifier_activation)
    input_shape = obtain_input_shape(input_shape, default_size, min_size, include_top, weights)
    if input_tensor is not None and isinstance(input_tensor, KerasTensor):
        if len(input_tensor.shape) != 4:
            raise ValueError(f"{pretty}: `input_tensor` must be a 4-D image tensor, got shape {input_tensor.shape}.")
    inputs, x = make_input(input_shape, input_tensor)
    if norm_mode is not None:
        x = TorchvisionNormalization(norm_mode, name="torchvision_normalization")(x)
    for layer in stage_layers(architecture, arch_kwargs, full, groups):
        x = layer(x)
    if after_stages is not None:
        x = after_stages(x)
    head = {}
    if include_top:
        x, head = top(x)
    else:
        x = pooled_top(x, False, pooling, classes, classifier_activation)
    model = Functional(inputs, x, name=name)
    attach(model, WeightsPlan(full, head, ignored_prefixes, rename), weights_enum, pretty)
    load_application_weights(model, weights)
    return model


def dense_head(prefix, layer):
    """Head entries for a kerasish Dense taking torchvision's nn.Linear at ``prefix``."""
    return {f"{prefix}.weight": (layer, "weight", None), f"{prefix}.bias": (layer, "bias", None)}


# ----------------------------------------------------------------------
# Applications built as Keras builds them (named kerasish layers)
# ----------------------------------------------------------------------
# Keras's own ImageNet weights (Keras 2 HDF5 files, md5-checked as Keras checks them).
KERAS_WEIGHTS_BASE = "https://storage.googleapis.com/tensorflow/keras-applications/"


def keras_inputs(pretty, *, include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
                 default_size, min_size):
    """Keras's argument checks and input for an application: ``(model inputs, image tensor)``."""
    check_common_args(pretty, weights, include_top, classes, pooling, classifier_activation)
    input_shape = obtain_input_shape(input_shape, default_size, min_size, include_top, weights)
    if input_tensor is not None and isinstance(input_tensor, KerasTensor) and len(input_tensor.shape) != 4:
        raise ValueError(f"{pretty}: `input_tensor` must be a 4-D image tensor, got shape {input_tensor.shape}.")
    return make_input(input_shape, input_tensor)


def keras_pooling(x, pooling, named=True):
    """A headless model's pooling as Keras adds it (some families leave these layers unnamed)."""
    if pooling == "avg":
        return layers.GlobalAveragePooling2D(**({"name": "avg_pool"} if named else {}))(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(**({"name": "max_pool"} if named else {}))(x)
    return x


def keras_weights_path(subdir, file_name, md5):
    """Keras's weight file ``KERAS_WEIGHTS_BASE/subdir/file_name``, in Keras's cache.

    The cache is Keras's (``$KERAS_HOME/models`` or ``~/.keras/models``), so a
    file Keras downloaded before is used as it is. A download is checked
    against Keras's md5 before it is kept.
    """
    import hashlib
    import tempfile

    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    directory = os.path.join(home, "models")
    path = os.path.join(directory, file_name)
    if os.path.exists(path):
        return path
    url = f"{KERAS_WEIGHTS_BASE}{subdir}/{file_name}"
    try:
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, suffix=".part")
        os.close(fd)
        try:
            download_file(url, tmp, None)
            digest = hashlib.md5()
            with open(tmp, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    digest.update(chunk)
            if md5 and digest.hexdigest() != md5:
                raise OSError(f"md5 {digest.hexdigest()} does not match Keras's {md5}")
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    except Exception as e:
        raise OSError(
            f"Could not download Keras's weights '{file_name}' from {url}: {e}. Without network access, download it "
            f"elsewhere and place it at '{path}', or pass weights='/path/to/{file_name}'."
        ) from e
    return path


def load_keras_weights(model, weights, keras_file=None):
    """``weights``: None, ``"imagenet"`` (``keras_file`` = (subdir, file name, md5),
    Keras's own file) or a path (any file ``model.load_weights`` reads, or a torch
    state_dict ``.pth`` / ``.pt`` read through the model's key map)."""
    if weights is None:
        return
    if weights == "imagenet":
        if keras_file is None:
            raise ValueError(f"Model '{model.name}' has no ImageNet weights.")
        model.load_weights(keras_weights_path(*keras_file))
        return
    path = os.fspath(weights)
    if path.lower().endswith((".pth", ".pt", ".bin", ".ckpt")):
        try:
            state_dict = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as e:
            raise ValueError(f"Cannot read the torch state_dict file '{path}' for model '{model.name}': {e}") from e
        weight_map.load_state_dict(model, state_dict, source=f"weights file '{path}'")
        return
    model.load_weights(path)
