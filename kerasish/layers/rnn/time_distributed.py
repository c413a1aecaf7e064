"""TimeDistributed: one layer applied to every time step of a sequence."""

from __future__ import annotations

import copy
import inspect

from kerasish.engine import layout
from kerasish.engine.layer import Layer
from kerasish.engine.serialization import deserialize_layer, serialize_layer


class TimeDistributed(Layer):
    """Applies ``layer`` to every step of ``(batch, timesteps, ...)`` inputs.

    Args:
        layer: any layer (``Dense``, ``Conv2D``, ...); its weights are shared by
            all steps.

    The steps are folded into the batch (``(batch * timesteps, ...)``), the
    layer runs once, and the result is unfolded: the same values as Keras's
    step-by-step loop for every layer whose output for a sample does not depend
    on the rest of the batch (all but BatchNormalization in training, whose
    batch statistics then cover all steps at once). A mask ``(batch,
    timesteps)`` is passed to a layer that takes one (one entry per folded
    sample) and passed on unchanged, as Keras does.

    Input: ``(batch, timesteps, *step_shape)``; output ``(batch, timesteps,
    *layer_output_shape)``.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import Dense, TimeDistributed
        >>> TimeDistributed(Dense(4))(np.zeros((2, 5, 3), dtype="float32")).shape
        torch.Size([2, 5, 4])
    """

    _native_layout = True

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"TimeDistributed: `layer` must be a kerasish Layer instance; received {layer!r:.200}.")
        super().__init__(**kwargs)
        self.layer = layer
        self.supports_masking = True
        try:
            self._layer_takes_mask = "mask" in inspect.signature(layer.call).parameters
        except (TypeError, ValueError):
            self._layer_takes_mask = False

    def _child_shape(self, input_shape):
        if not isinstance(input_shape, tuple) or len(input_shape) < 3:
            raise ValueError(
                f"Layer '{self.name}' (TimeDistributed) expects inputs of shape (batch, timesteps, ...) with at least "
                f"3 axes, got shape {input_shape}."
            )
        return (input_shape[0], *input_shape[2:])  # Keras builds the layer for one step's batch

    def _check_input(self, input_shape):
        self._child_shape(input_shape)

    def build(self, input_shape):
        self.layer._maybe_build(self._child_shape(input_shape))
        self.built = True

    def compute_output_shape(self, input_shape):
        child = self.layer.compute_output_shape((input_shape[0], *input_shape[2:]))
        return (child[0], input_shape[1], *child[1:])

    def compute_mask(self, inputs, mask=None):
        return mask

    def call(self, inputs, mask=None, training=None):
        return layout.to_keras(self.native_call(layout.to_internal(inputs), mask=mask, training=bool(training)))

    def native_call(self, inputs, mask=None, training=False):
        x = layout.to_keras(inputs)  # a 4-D sequence arrives as an image would; the steps are its axis 1
        b, t = x.shape[0], x.shape[1]
        kwargs = {"training": training}
        if mask is not None:
            if mask.dim() < 2 or tuple(mask.shape[:2]) != (b, t):
                raise ValueError(
                    f"Layer '{self.name}' (TimeDistributed): the mask must have shape (batch, timesteps, ...) starting "
                    f"with {(b, t)}, got {tuple(mask.shape)}."
                )
            if self._layer_takes_mask:
                kwargs["mask"] = mask.reshape(b * t, *mask.shape[2:])
        folded = x.reshape(b * t, *x.shape[2:])
        y = self.layer.native_call(layout.to_internal(folded), **kwargs)
        y = layout.to_keras(y)
        return layout.to_internal(y.reshape(b, t, *y.shape[1:]))

    def get_config(self):
        return {**super().get_config(), "layer": serialize_layer(self.layer)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = copy.deepcopy(config)
        config["layer"] = deserialize_layer(config["layer"], custom_objects=custom_objects)
        return cls(**config)
