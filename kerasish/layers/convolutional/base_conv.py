"""What the 2-D convolutions share: argument checks, TensorFlow's 'same'
padding, channels_first handling, and Keras <-> torch kernel layouts."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from kerasish import activations, constraints, initializers, regularizers
from kerasish.engine import layout
from kerasish.engine.layer import Layer
from kerasish.layers import args as A
from kerasish.layers.core.activation import activate_fresh, get_activation


# Keras conv kernel (kh, kw, in, out) <-> torch Conv2d weight (out, in, kh, kw).
def conv_kernel_to_keras(w):
    return w.permute(2, 3, 1, 0)


def conv_kernel_from_keras(k):
    return k.permute(3, 2, 0, 1)


class SpatialPadding:
    """TensorFlow-style padding for one 2-D window op.

    When the padding can be worked out at build time and is symmetric, the
    torch module does it itself (``padding=(ph, pw)``) and nothing runs per
    call: ``exact_in_module(x)`` is True. Otherwise (stride > 1 'same' with
    the odd pixel at the bottom/right, or unknown spatial sizes) the op runs
    with no padding on ``apply_full(x)``.

    With strides > 1 the 'same' padding depends on the input size, and a
    layer built for one size may be called on another (as in Keras): the
    build-time padding is used only for inputs of the build-time size.
    """

    def __init__(self, padding, kernel, strides, dilation, spatial_shape, pad_value=0.0):
        self.padding = padding
        self.kernel, self.strides, self.dilation = kernel, strides, dilation
        self.pad_value = pad_value
        self.spatial = tuple(spatial_shape)
        self.module_padding = (0, 0)
        self.static = None  # (left, right, top, bottom) for F.pad, or None
        self.dynamic = False
        # True when the padding was worked out for the build-time size only.
        self.size_dependent = False
        if padding != "same":
            return
        if any(s is None for s in spatial_shape):
            if all(st == 1 for st in strides):
                pads = [A.same_padding(1, k, 1, d) for k, d in zip(kernel, dilation)]
                self._set(pads)
            else:
                self.dynamic = True
            return
        self.size_dependent = any(st > 1 for st in strides)
        pads = [A.same_padding(s, k, st, d) for s, k, st, d in zip(spatial_shape, kernel, strides, dilation)]
        self._set(pads)

    def _set(self, pads):
        (t, b), (l, r) = pads
        if t == b and l == r:
            self.module_padding = (t, l)
        else:
            self.static = (l, r, t, b)

    def _other_size(self, x) -> bool:
        return self.size_dependent and tuple(x.shape[2:]) != self.spatial

    def exact_in_module(self, x: torch.Tensor) -> bool:
        """Whether the module alone (its own symmetric padding) is right for NCHW ``x``."""
        return self.static is None and not self.dynamic and not self._other_size(x)

    def full_pads(self, spatial) -> tuple:
        """The whole (left, right, top, bottom) padding for an NCHW input of this spatial size."""
        if self.padding != "same":
            return (0, 0, 0, 0)
        (t, b), (l, r) = [A.same_padding(s, k, st, d) for s, k, st, d in zip(spatial, self.kernel, self.strides, self.dilation)]
        return (l, r, t, b)

    def apply_full(self, x: torch.Tensor) -> torch.Tensor:
        """Pad an NCHW tensor completely, for an op run with no padding of its own."""
        if self.static is not None and not self._other_size(x):
            pads = self.static
        else:
            pads = self.full_pads(x.shape[2:])
        return F.pad(x, pads, value=self.pad_value) if any(pads) else x


def padded_conv(conv, pad: SpatialPadding, x: torch.Tensor) -> torch.Tensor:
    """Run ``nn.Conv2d`` ``conv`` on NCHW ``x`` with ``pad``'s 'same'/'valid' padding."""
    if conv.kernel_size == (1, 1) and conv.stride != (1, 1) and torch.is_grad_enabled():
        # A 1x1 kernel with strides reads every s-th pixel: the same as a 1x1
        # stride-1 convolution of those pixels (no padding either way). Taken in
        # training because torch 2.14's backward of a strided 1x1 convolution on
        # a channels_last input whose size the stride divides corrupts the heap
        # (ResNet's shortcut convolutions): tests/test_layers_conv.py.
        sh, sw = conv.stride
        return F.conv2d(x[:, :, ::sh, ::sw], conv.weight, conv.bias, 1, 0, 1, conv.groups)
    if pad.exact_in_module(x):
        return conv(x)
    return F.conv2d(pad.apply_full(x), conv.weight, conv.bias, conv.stride, 0, conv.dilation, conv.groups)


class BaseConv2D(Layer):
    """Shared base of Conv2D, DepthwiseConv2D, SeparableConv2D, Conv2DTranspose."""

    _native_layout = True
    _allowed_padding = ("valid", "same")

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", data_format=None, dilation_rate=(1, 1), activation=None,
                 use_bias=True, bias_initializer="zeros", bias_regularizer=None, activity_regularizer=None, bias_constraint=None, **kwargs):
        cls = type(self).__name__
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.kernel_size = A.normalize_tuple(kernel_size, 2, "kernel_size", cls)
        self.strides = A.normalize_tuple(strides, 2, "strides", cls)
        self.padding = A.normalize_padding(padding, cls, self._allowed_padding)
        self.data_format = A.normalize_data_format(data_format, cls)
        self.dilation_rate = A.normalize_tuple(dilation_rate, 2, "dilation_rate", cls)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                f"{cls}: `strides > 1` is not compatible with `dilation_rate > 1`; got strides={self.strides}, dilation_rate={self.dilation_rate}."
            )
        self.activation = get_activation(activation, cls)
        self.use_bias = bool(use_bias)
        self.bias_initializer = initializers.get(bias_initializer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.bias_constraint = constraints.get(bias_constraint)

    # Keras shape helpers ------------------------------------------------
    def _channel_axis(self):
        return -1 if self.data_format == "channels_last" else 1

    def _spatial(self, input_shape):
        return tuple(input_shape[1:3]) if self.data_format == "channels_last" else tuple(input_shape[2:4])

    def _check_input(self, input_shape):
        cls = type(self).__name__
        if not isinstance(input_shape, tuple) or len(input_shape) != 4:
            raise ValueError(
                f"Layer '{self.name}' ({cls}) expects a 4-D input (batch, height, width, channels), got shape {input_shape}."
            )
        channels = input_shape[self._channel_axis()]
        if channels is None:
            raise ValueError(f"Layer '{self.name}' ({cls}) needs a known channel axis, got input shape {input_shape}.")
        if self.built and channels != self.input_channels:
            raise ValueError(
                f"Layer '{self.name}' ({cls}) was built for {self.input_channels} input channels, but got an input of shape {input_shape}."
            )
        if self.padding == "valid":
            for size, k, d in zip(self._spatial(input_shape), self.kernel_size, self.dilation_rate):
                if size is not None and size < (k - 1) * d + 1 and cls != "Conv2DTranspose":
                    raise ValueError(
                        f"Layer '{self.name}' ({cls}): the kernel {self.kernel_size} (dilation {self.dilation_rate}) is larger than the "
                        f"input's spatial size {self._spatial(input_shape)} with padding='valid'. Input shape: {input_shape}."
                    )

    # Layout helpers ------------------------------------------------------
    def _to_nchw(self, x):
        """Internal layout -> the NCHW tensor torch's conv wants."""
        if self.data_format == "channels_first":
            return layout.to_keras(x)  # Keras NCHW is what torch wants
        return x

    def _from_nchw(self, y):
        if self.data_format == "channels_first":
            return layout.to_internal(y)
        return y

    def _conv(self, inputs):
        """The convolution itself: internal-layout input -> NCHW output, no activation."""
        raise NotImplementedError

    def native_call(self, inputs, training=False):
        return self._from_nchw(self._finish(self._conv(inputs)))

    def _pre_activation(self, inputs, training=False):
        """The output before ``activation``: what the logits split
        (``kerasish/models/passes/logits.py``) runs instead of ``native_call``."""
        return self._from_nchw(self._conv(inputs))

    def _finish(self, y):
        # channels_last: y is internal NCHW, Keras's last axis is dim 1.
        # channels_first: y is in Keras layout already, so Keras's axes apply as they are.
        return activate_fresh(self.activation, y, self._torch_module) if self.data_format == "channels_last" else self.activation(y)

    def _output_spatial(self, input_shape):
        return tuple(
            A.conv_output_length(s, k, st, self.padding, d)
            for s, k, st, d in zip(self._spatial(input_shape), self.kernel_size, self.strides, self.dilation_rate)
        )

    def _output_shape(self, input_shape, channels):
        h, w = self._output_spatial(input_shape)
        if self.data_format == "channels_last":
            return (input_shape[0], h, w, channels)
        return (input_shape[0], channels, h, w)

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
