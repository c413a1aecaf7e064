"""What the rank-1 and rank-3 convolutions share (Conv1D, Conv3D, the
transposed, depthwise and separable 1-D / 3-D ones): argument checks,
TensorFlow's 'same' padding and Conv1D's 'causal' one, the channels-first
view torch's ops want, the activation and the config.

The 2-D convolutions keep their own base (``base_conv.py``): images run in
channels_last memory inside a model with fused kernels of their own, and that
path is left as it is. Sequences and volumes keep Keras's axis order inside a
model, so these layers take the channels-first view themselves
(``nd_layout``) and return to Keras's order after the convolution.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import nn

from kerasish import activations, constraints, initializers, regularizers
from kerasish.engine.layer import Layer, torch_dtype
from kerasish.layers import args as A
from kerasish.layers.convolutional import nd_layout
from kerasish.layers.core.activation import activate_fresh, get_activation

_SPATIAL_NAMES = {1: "steps", 2: "height, width", 3: "depth, height, width"}
_CONV_MODULES = {1: nn.Conv1d, 3: nn.Conv3d}


def conv_pads(padding: str, spatial, kernel, strides, dilation) -> tuple:
    """The ``F.pad`` tuple (last axis first) of Keras's ``padding`` for an
    input of ``spatial`` size: 'same' is TensorFlow's rule (the odd element at
    the end), 'causal' pads ``dilation * (kernel - 1)`` in front."""
    if padding == "valid":
        return ()
    if padding == "causal":
        pairs = [(d * (k - 1), 0) for k, d in zip(kernel, dilation)]
    else:
        pairs = [A.same_padding(s, k, st, d) for s, k, st, d in zip(spatial, kernel, strides, dilation)]
    return tuple(v for pair in reversed(pairs) for v in pair)


class BaseConvND(Layer):
    """Shared base of the rank-``rank`` convolutions (1 or 3); subclasses set
    ``rank``, make the module in ``build`` and run it in ``_conv``."""

    _native_layout = True
    rank = 1
    _allowed_padding = ("valid", "same")
    _transposed = False

    def __init__(self, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 bias_initializer="zeros", bias_regularizer=None, activity_regularizer=None, bias_constraint=None, **kwargs):
        cls = type(self).__name__
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        r = self.rank
        self.kernel_size = A.normalize_tuple(kernel_size, r, "kernel_size", cls)
        self.strides = A.normalize_tuple(strides, r, "strides", cls)
        self.padding = A.normalize_padding(padding, cls, self._allowed_padding)
        self.data_format = A.normalize_data_format(data_format, cls)
        self.dilation_rate = A.normalize_tuple(dilation_rate, r, "dilation_rate", cls)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                f"{cls}: `strides > 1` is not compatible with `dilation_rate > 1`; got strides={self.strides}, "
                f"dilation_rate={self.dilation_rate}."
            )
        self.activation = get_activation(activation, cls)
        self.use_bias = bool(use_bias)
        self.bias_initializer = initializers.get(bias_initializer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.bias_constraint = constraints.get(bias_constraint)

    # Keras shape helpers ------------------------------------------------
    def _channel_axis(self):
        return nd_layout.channel_axis(self.data_format)

    def _spatial(self, input_shape):
        return tuple(input_shape[a] for a in nd_layout.spatial_axes(self.rank, self.data_format))

    def _check_input(self, input_shape):
        cls, r = type(self).__name__, self.rank
        if not isinstance(input_shape, tuple) or len(input_shape) != r + 2:
            raise ValueError(
                f"Layer '{self.name}' ({cls}) expects a {r + 2}-D input (batch, {_SPATIAL_NAMES[r]}, channels), got shape {input_shape}."
            )
        channels = input_shape[self._channel_axis()]
        if channels is None:
            raise ValueError(f"Layer '{self.name}' ({cls}) needs a known channel axis, got input shape {input_shape}.")
        if self.built and channels != self.input_channels:
            raise ValueError(
                f"Layer '{self.name}' ({cls}) was built for {self.input_channels} input channels, but got an input of shape {input_shape}."
            )
        if self.padding == "valid" and not self._transposed:
            for size, k, d in zip(self._spatial(input_shape), self.kernel_size, self.dilation_rate):
                if size is not None and size < (k - 1) * d + 1:
                    raise ValueError(
                        f"Layer '{self.name}' ({cls}): the kernel {self.kernel_size} (dilation {self.dilation_rate}) is {'longer' if r == 1 else 'larger'} than the "
                        f"input's spatial size {self._spatial(input_shape)} with padding='valid'. Input shape: {input_shape}."
                    )

    # Padding --------------------------------------------------------------
    def _plan_padding(self):
        """The padding the module does itself, or None when it runs per call.

        With stride 1 the 'same' padding does not depend on the input size:
        when it is symmetric the module pads by itself and nothing runs per call."""
        if self.padding == "same" and all(s == 1 for s in self.strides) and all(
            ((k - 1) * d) % 2 == 0 for k, d in zip(self.kernel_size, self.dilation_rate)
        ):
            self._module_pads = True
            return tuple((k - 1) * d // 2 for k, d in zip(self.kernel_size, self.dilation_rate))
        self._module_pads = self.padding == "valid"
        return 0

    def _pad_input(self, x):
        """Pad torch-layout ``x`` for an op whose module does no padding of its own."""
        if self._module_pads:
            return x
        pads = conv_pads(self.padding, x.shape[2:], self.kernel_size, self.strides, self.dilation_rate)
        return F.pad(x, pads) if any(pads) else x

    # The call -------------------------------------------------------------
    def _conv(self, x):
        """torch-layout ``x`` (N, C, *spatial) -> torch-layout output, no activation."""
        raise NotImplementedError

    def native_call(self, inputs, training=False):
        y = self._conv(nd_layout.to_channels_first(inputs, self.data_format))
        # The activation runs on the Keras-layout view (softmax's axis -1 is Keras's last axis).
        return activate_fresh(self.activation, nd_layout.from_channels_first(y, self.data_format), self._torch_module)

    def _pre_activation(self, inputs, training=False):
        """The output before ``activation``: what the logits split
        (``kerasish/models/passes/logits.py``) runs instead of ``native_call``."""
        return nd_layout.from_channels_first(self._conv(nd_layout.to_channels_first(inputs, self.data_format)), self.data_format)

    def _output_spatial(self, input_shape):
        # causal pads (k - 1) * d in front: the length is 'same''s, ceil(steps / stride)
        padding = "same" if self.padding == "causal" else self.padding
        return tuple(
            A.conv_output_length(s, k, st, padding, d)
            for s, k, st, d in zip(self._spatial(input_shape), self.kernel_size, self.strides, self.dilation_rate)
        )

    def _output_shape(self, input_shape, channels):
        spatial = self._output_spatial(input_shape)
        if self.data_format == "channels_last":
            return (input_shape[0], *spatial, channels)
        return (input_shape[0], channels, *spatial)

    def _base_config(self):
        return {
            **super().get_config(),
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": list(self.dilation_rate),
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
        }

    def _bias_config(self):
        return {
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer) if self.bias_regularizer else None,
            "activity_regularizer": regularizers.serialize(self.activity_regularizer) if self.activity_regularizer else None,
            "bias_constraint": constraints.serialize(self.bias_constraint),
        }

    def _track_bias(self, owner):
        if self.use_bias:
            self._track_weight(owner, "bias", "bias", initializer=self.bias_initializer, regularizer=self.bias_regularizer,
                               constraint=self.bias_constraint)



class BaseConv(BaseConvND):
    """A convolution with ``filters`` kernels of rank ``rank`` (Conv1D, Conv3D)
    on ``nn.Conv1d`` / ``nn.Conv3d``. The Keras kernel ``(*kernel_size,
    in / groups, filters)`` is the module's weight ``(filters, in / groups,
    *kernel_size)`` permuted."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1, groups=1,
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias, bias_initializer,
                         bias_regularizer, activity_regularizer, bias_constraint, **kwargs)
        cls = type(self).__name__
        self.filters = A.positive_int(filters, "filters", cls)
        self.groups = A.positive_int(groups, "groups", cls)
        if self.filters % self.groups:
            raise ValueError(f"{cls}: `filters` ({self.filters}) must be divisible by `groups` ({self.groups}).")
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)

    def _check_input(self, input_shape):
        super()._check_input(input_shape)
        channels = input_shape[self._channel_axis()]
        if channels % self.groups:
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}): the input's {channels} channels are not divisible by "
                f"groups={self.groups}. Input shape: {input_shape}."
            )

    def build(self, input_shape):
        self.input_channels = int(input_shape[self._channel_axis()])
        conv = _CONV_MODULES[self.rank](self.input_channels, self.filters, self.kernel_size, stride=self.strides,
                                        padding=self._plan_padding(), dilation=self.dilation_rate, groups=self.groups,
                                        bias=self.use_bias, dtype=torch_dtype(self._dtype))
        self._set_torch_module(conv)
        self._track_weight(conv, "weight", "kernel", to_keras=nd_layout.kernel_to_keras, from_keras=nd_layout.kernel_from_keras,
                           initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                           constraint=self.kernel_constraint)
        self._track_bias(conv)
        self.built = True

    def _conv(self, x):
        return self._torch_module(self._pad_input(x))

    def compute_output_shape(self, input_shape):
        return self._output_shape(input_shape, self.filters)

    def get_config(self):
        return {
            **self._base_config(),
            "filters": self.filters,
            "groups": self.groups,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer) if self.kernel_regularizer else None,
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            **self._bias_config(),
        }
