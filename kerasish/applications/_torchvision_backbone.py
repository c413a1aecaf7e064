"""torchvision's ImageNet checkpoints, and the torchvision stage layers that
older ``.keras`` files name.

Checkpoints: :func:`_imagenet_state_dict` reads one of torchvision's published
files (``"DenseNet121_Weights.IMAGENET1K_V1"``), downloaded once through
torch.hub into ``torch.hub.get_dir()/checkpoints`` and checked against the hash
prefix in its name; :mod:`kerasish.applications.weight_map` maps it onto the
Keras-named layers of the families whose torchvision network is the same
(DenseNet, ConvNeXt, VGG's key map).

Legacy layers: applications were once built from torchvision stages; a
``.keras`` file saved then names :class:`TorchModuleLayer` (one torchvision
stage, made again from its ``spec``) and :class:`TorchvisionNormalization`
(Keras's input convention turned into torchvision's). Both stay registered as
built-in layers so those files keep loading without ``custom_objects``.
"""

from __future__ import annotations

import collections
import os
import re
import urllib.parse

import torch
from torch import nn

from kerasish.engine import layout
from kerasish.engine.layer import Layer, _infer_output_shape_by_tracing
from kerasish.engine.serialization import register_builtin_layers

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
# torchvision's checkpoints
# ----------------------------------------------------------------------
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
