"""TorchModuleWrapper: any ``torch.nn.Module`` as a layer.

Its config holds the module pickled (``torch.save``, base64), as Keras 3's
does, so files written by either load in the other. Unpickling runs code
from the file, so :meth:`TorchModuleWrapper.from_config` refuses it unless
the caller passes ``safe_mode=False`` (or unsafe deserialization is enabled).
"""

from __future__ import annotations

import base64
import io

import torch
from torch import nn

from kerasish.engine.layer import Layer, _infer_output_shape_by_tracing
from kerasish.saving import object_registration

_SAFE_MODE_MESSAGE = (
    "Requested the deserialization of a `torch.nn.Module` object via `torch.load()` (a TorchModuleWrapper layer). "
    "This carries a potential risk of arbitrary code execution and thus it is disallowed by default. If you trust "
    "the source of the artifact, you can override this error by passing `safe_mode=False` to the loading function, "
    "or calling `kerasish.saving.enable_unsafe_deserialization()`."
)


class TorchModuleWrapper(Layer):
    """Wraps a ``torch.nn.Module`` as a layer: its parameters become the layer's
    trainable weights (non-trainable where ``requires_grad`` is False), its
    buffers (BatchNorm's running statistics, ...) non-trainable weights, so
    ``fit`` trains it and weight files save its whole state.

    Args:
        module: the ``torch.nn.Module`` (an uninitialized lazy module is refused).
        output_shape: optional output shape (batch first); inferred by running
            the module on placeholder tensors when not given.

    The module sees its inputs as the caller passes them (no channels_last
    conversion: a ``nn.Conv2d`` wants ``(batch, channels, height, width)``).
    It runs in ``train()`` mode for ``training=True`` calls (``fit``) and in
    ``eval()`` mode otherwise. Its config holds the module pickled, as Keras's;
    loading it runs code from the file and needs ``safe_mode=False``.

    Example:
        >>> import torch
        >>> from kerasish.layers import TorchModuleWrapper
        >>> layer = TorchModuleWrapper(torch.nn.Linear(3, 2))
        >>> layer(torch.ones(4, 3)).shape
        torch.Size([4, 2])
        >>> [w.name for w in layer.weights]
        ['weight', 'bias']
    """

    def __init__(self, module, name=None, output_shape=None, **kwargs):
        if not isinstance(module, nn.Module):
            raise TypeError(f"TorchModuleWrapper: `module` must be a torch.nn.Module, got {type(module).__name__}.")
        if isinstance(module, nn.modules.lazy.LazyModuleMixin) and module.has_uninitialized_params():
            raise ValueError(
                "TorchModuleWrapper: LazyModules are not supported unless they are already initialized. "
                f"Received uninitialized LazyModule: module={module}"
            )
        super().__init__(name=name, **kwargs)
        # Not ``self.output_shape``: that is Layer's property (the shape of its output tensor).
        self._given_output_shape = tuple(output_shape) if output_shape is not None else None
        # Registered as the layer's native module (state_dict keys ``<layer>.module.<key>``), without
        # _set_torch_module's memory-format change: the user's module keeps its tensors as they are.
        object.__setattr__(self, "_torch_module", module)
        self.add_module("module", module)
        self._track_module_state()

    def _track_module_state(self):
        seen = set()
        for key, param in self.module.named_parameters():
            seen.add(id(param))
            owner, attr = self._owner(key)
            self._track_weight(owner, attr, key, trainable=param.requires_grad)
        for key, buf in self.module.named_buffers():
            if id(buf) not in seen:
                owner, attr = self._owner(key)
                self._track_weight(owner, attr, key, trainable=False)
        self.built = True

    def _owner(self, key):
        path, _, attr = key.rpartition(".")
        return (self.module.get_submodule(path) if path else self.module), attr

    def _weight_store_keys(self):
        # Keras 3 stores a wrapped module's weights under its state_dict keys, not by position.
        return [v.name for v in self._variables]

    def build(self, input_shape=None):
        self.built = True

    def call(self, *args, training=None, **kwargs):
        self.module.train(training is True)
        return self.module(*args, **kwargs)

    def compute_output_shape(self, input_shape):
        if self._given_output_shape is not None:
            return self._given_output_shape
        # The module's weights are real tensors: run it on small zero tensors (meta tensors cannot mix with them).
        return _infer_output_shape_by_tracing(self, input_shape, on_meta=False)

    def get_config(self):
        buffer = io.BytesIO()
        torch.save(self.module, buffer)
        return {
            **super().get_config(),
            "module": base64.b64encode(buffer.getvalue()).decode("ascii"),
            "output_shape": list(self._given_output_shape) if self._given_output_shape is not None else None,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=None):
        """Rebuild the layer from :meth:`get_config` data (or Keras 3's); refused
        unless ``safe_mode=False`` (or unsafe deserialization is enabled), since
        unpickling the module runs code from the config."""
        config = dict(config)
        if isinstance(config.get("module"), str):
            safe = object_registration.in_safe_mode() is not False if safe_mode is None else safe_mode is not False
            if safe:
                raise ValueError(_SAFE_MODE_MESSAGE)
            data = base64.b64decode(config["module"].encode("ascii"))
            config["module"] = torch.load(io.BytesIO(data), weights_only=False)
        return cls(**config)
