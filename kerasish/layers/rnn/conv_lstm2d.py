"""ConvLSTM2D: an LSTM whose gates are 2-D convolutions (Shi et al. 2015), on the step loop.

The input projection of every frame is one ``F.conv2d`` over all frames at once
(the time axis folded into the batch); each step then adds the recurrent
convolution (stride 1, ``'same'`` padding, as Keras). Inside, states are NCHW
(the internal layout of 4-D tensors); weights are Keras's: ``kernel (kh, kw,
channels, 4*filters)``, ``recurrent_kernel (kh, kw, filters, 4*filters)``,
``bias (4*filters,)``, gates i, f, c, o.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from kerasish import activations, constraints, initializers, regularizers
from kerasish.engine import layout
from kerasish.engine.layer import Layer
from kerasish.layers import args as A
from kerasish.layers.rnn.cells import check_rate, plain
from kerasish.layers.rnn.rnn import RNN
from kerasish.layers.regularization.dropout import _check_seed, _SeededMasks


class _ConvLSTMRunner:
    """One sequence of a ConvLSTM cell: weights in torch's layout, dropout masks drawn once."""

    def __init__(self, cell, sample, training):
        self.cell = cell
        self.kernel = plain(cell.kernel).permute(3, 2, 0, 1)  # (4F, C, kh, kw)
        self.recurrent_kernel = plain(cell.recurrent_kernel).permute(3, 2, 0, 1)  # (4F, F, kh, kw)
        self.bias = plain(cell.bias) if cell.use_bias else None
        self.in_mask = self.rec_mask = None
        b = sample.shape[0]
        if training and 0.0 < cell.dropout < 1.0:  # Keras: one mask per gate, shaped as a frame
            self.in_mask = cell._dropout_mask((4, b, *sample.shape[1:]), cell.dropout, sample)
        if training and 0.0 < cell.recurrent_dropout < 1.0:
            self.rec_mask = cell._dropout_mask((4, b, cell.filters, *cell._out_hw), cell.recurrent_dropout, sample)

    def _conv_in(self, frames, kernel, bias):
        cell = self.cell
        x = frames.permute(0, 3, 1, 2)  # frames are channels_last
        if cell.padding == "same":
            (t, bo), (le, r) = (A.same_padding(n, k, s, d) for n, k, s, d in
                                zip(x.shape[2:], cell.kernel_size, cell.strides, cell.dilation_rate))
            x = F.pad(x, (le, r, t, bo))
        return F.conv2d(x, kernel, bias, stride=cell.strides, dilation=cell.dilation_rate)

    def project(self, x):
        b, t = x.shape[:2]
        if self.in_mask is None:
            y = self._conv_in(x.reshape(b * t, *x.shape[2:]), self.kernel, self.bias)
        else:
            kernels = self.kernel.chunk(4, dim=0)
            biases = self.bias.chunk(4) if self.bias is not None else [None] * 4
            y = torch.cat([self._conv_in((x * m.unsqueeze(1)).reshape(b * t, *x.shape[2:]), k, bb)
                           for m, k, bb in zip(self.in_mask, kernels, biases)], dim=1)
        return y.reshape(b, t, *y.shape[1:])

    def step(self, xp, states):
        h, c = states
        if self.rec_mask is None:
            r = F.conv2d(h, self.recurrent_kernel, padding="same")
        else:
            r = torch.cat([F.conv2d(h * m, k, padding="same")
                           for m, k in zip(self.rec_mask, self.recurrent_kernel.chunk(4, dim=0))], dim=1)
        i, f, g, o = (xp + r).chunk(4, dim=1)
        ra, act = self.cell.recurrent_activation, self.cell.activation
        c = ra(f) * c + ra(i) * act(g)
        h = ra(o) * act(c)
        return h, [h, c]


class ConvLSTMCell(Layer):
    """One step of a 2-D ConvLSTM (what ``ConvLSTM2D`` runs; its weights live here).

    Args: as :class:`ConvLSTM2D` (without the ``return_*`` / ``stateful`` ones).
    """

    _native_layout = True

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        cls = "ConvLSTM2D"
        self.filters = A.positive_int(filters, "filters", cls)
        self.kernel_size = A.normalize_tuple(kernel_size, 2, "kernel_size", cls)
        self.strides = A.normalize_tuple(strides, 2, "strides", cls)
        self.padding = A.normalize_padding(padding, cls)
        self.data_format = A.normalize_data_format(data_format, cls)
        if self.data_format != "channels_last":
            raise ValueError(f"{cls}: only data_format='channels_last' is supported; got {data_format!r}.")
        self.dilation_rate = A.normalize_tuple(dilation_rate, 2, "dilation_rate", cls)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                f"{cls}: strides > 1 are not compatible with dilation_rate > 1; got strides={self.strides} and "
                f"dilation_rate={self.dilation_rate}."
            )
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = check_rate(dropout, "dropout", cls)
        self.recurrent_dropout = check_rate(recurrent_dropout, "recurrent_dropout", cls)
        self.seed = _check_seed(seed, cls)
        self._masks = _SeededMasks(seed) if seed is not None else None
        # Two states (h, c), each (batch, filters, rows, cols) inside; RNN counts them by these sizes.
        self.state_size = [self.filters, self.filters]
        self._out_hw = None

    def output_hw(self, frame_shape):
        """(rows, cols) of a step's output for a frame ``(rows, cols, channels)``."""
        return tuple(A.conv_output_length(n, k, s, self.padding, d) for n, k, s, d in
                     zip(frame_shape[:2], self.kernel_size, self.strides, self.dilation_rate))

    def build(self, input_shape):
        rows, cols, channels = input_shape[-3:]
        if rows is None or cols is None or channels is None:
            raise ValueError(
                f"ConvLSTM2D needs known frame sizes and channels, got input shape {input_shape}."
            )
        self._out_hw = self.output_hw((rows, cols))
        if min(self._out_hw) <= 0:
            raise ValueError(f"ConvLSTM2D: the kernel does not fit frames of shape {(rows, cols)} (output {self._out_hw}).")
        kh, kw = self.kernel_size
        g = 4 * self.filters
        self.kernel = self.add_weight((kh, kw, int(channels), g), self.kernel_initializer, name="kernel",
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight((kh, kw, self.filters, g), self.recurrent_initializer,
                                                name="recurrent_kernel", regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)
        if self.use_bias:
            self.bias = self.add_weight((g,), self._bias_initial, name="bias", regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        self.built = True

    def _bias_initial(self, shape):
        f = self.filters
        if not self.unit_forget_bias:
            return self.bias_initializer(shape)
        init = self.bias_initializer
        return torch.cat([torch.as_tensor(init((f,))), torch.ones(f), torch.as_tensor(init((2 * f,)))])

    def _dropout_mask(self, shape, rate, like):
        keep = 1.0 - rate
        if self._masks is not None:
            return self._masks.keep_mask(shape, keep, like)
        return torch.empty(shape, dtype=like.dtype, device=like.device).bernoulli_(keep).div_(keep)

    def _runner(self, sample, training):
        return _ConvLSTMRunner(self, sample, training)

    def call(self, inputs, states, training=False):
        """One step: ``inputs (batch, rows, cols, channels)``, ``states [h, c]`` (NCHW) -> ``(h, [h, c])``."""
        runner = self._runner(inputs, training)
        return runner.step(runner.project(inputs.unsqueeze(1))[:, 0], list(states))

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "activation": activations.serialize(self.activation),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "unit_forget_bias": self.unit_forget_bias,
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer) if self.kernel_regularizer else None,
            "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer) if self.recurrent_regularizer else None,
            "bias_regularizer": regularizers.serialize(self.bias_regularizer) if self.bias_regularizer else None,
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }


class ConvLSTM2D(RNN):
    """2-D convolutional LSTM over sequences of frames ``(batch, time, rows, cols, channels)``.

    Args:
        filters: positive int, the channels of the output and states.
        kernel_size / strides / dilation_rate: int or 2 ints (the input
            convolution's; the recurrent one has stride 1 and ``'same'`` padding).
        padding: ``'valid'`` or ``'same'`` (TensorFlow's rule), of the input convolution.
        data_format: ``'channels_last'`` only.
        activation / recurrent_activation: ``'tanh'`` / ``'sigmoid'`` by default.
        use_bias, unit_forget_bias, initializers, regularizers, constraints: as LSTM.
        dropout / recurrent_dropout / seed: one mask per gate and sequence, shaped
            as a frame / a state, as Keras.
        return_sequences / return_state / go_backwards / stateful: as :class:`RNN`.

    Output: ``(batch, rows', cols', filters)``, or ``(batch, time, rows', cols',
    filters)`` with ``return_sequences``; ``return_state`` adds ``h`` and ``c``
    ``(batch, rows', cols', filters)``. ``initial_state=[h, c]`` in that shape.
    ``mask=`` bool ``(batch, time)`` skips frames as Keras does.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import ConvLSTM2D
        >>> ConvLSTM2D(4, 3, padding="same")(np.zeros((2, 5, 8, 8, 3), dtype="float32")).shape
        torch.Size([2, 8, 8, 4])
    """

    _exact_rank = 5

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, **kwargs):
        cell = ConvLSTMCell(
            filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
            dilation_rate=dilation_rate, activation=activation, recurrent_activation=recurrent_activation,
            use_bias=use_bias, kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, unit_forget_bias=unit_forget_bias,
            kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint, dropout=dropout,
            recurrent_dropout=recurrent_dropout, seed=seed, name="conv_lstm_cell", dtype=kwargs.get("dtype"),
        )
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, activity_regularizer=activity_regularizer,
                         **kwargs)

    # Keras reads the cell's arguments on the layer.
    filters = property(lambda self: self.cell.filters)
    kernel_size = property(lambda self: self.cell.kernel_size)
    strides = property(lambda self: self.cell.strides)
    padding = property(lambda self: self.cell.padding)
    data_format = property(lambda self: self.cell.data_format)
    dilation_rate = property(lambda self: self.cell.dilation_rate)

    def _check_input(self, input_shape):
        if not isinstance(input_shape, tuple) or len(input_shape) != 5:
            raise ValueError(
                f"Layer '{self.name}' (ConvLSTM2D) expects sequences of frames (batch, time, rows, cols, channels), "
                f"got shape {input_shape}."
            )
        if None in input_shape[2:]:
            raise ValueError(f"Layer '{self.name}' (ConvLSTM2D) needs known frame sizes and channels, got {input_shape}.")
        if self.built and tuple(input_shape[2:]) != self._frame_shape:
            raise ValueError(
                f"Layer '{self.name}' (ConvLSTM2D) was built for frames {self._frame_shape}, got input shape {input_shape}."
            )

    def build(self, sequences_shape):
        self._frame_shape = tuple(int(d) for d in sequences_shape[2:])
        if not self.cell.built:
            self.cell._maybe_build((sequences_shape[0], *sequences_shape[2:]))
        self._finish_build(sequences_shape)

    def _state_shapes(self, batch):
        return [(batch, self.filters, *self.cell._out_hw)] * 2

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        b, t = sequences_shape[0], sequences_shape[1]
        hw = self.cell.output_hw(sequences_shape[2:4])
        step = (*hw, self.filters)
        out = (b, t, *step) if self.return_sequences else (b, *step)
        return [out, (b, *step), (b, *step)] if self.return_state else out

    def call(self, sequences, initial_state=None, mask=None, training=None):
        if initial_state is not None:  # Keras layout in, the internal one (NCHW) inside
            initial_state = [layout.to_internal(torch.as_tensor(s)) for s in initial_state]
        out = self.native_call(sequences, initial_state=initial_state, mask=mask, training=bool(training))
        return layout.map_structure(layout.to_keras, out)

    def _run(self, x, states, mask, training):
        last, seq, states = super()._run(x, states, mask, training)
        if seq is not None:
            seq = seq.permute(0, 1, 3, 4, 2)  # steps are NCHW; a 5-D sequence is channels_last
        return last, seq, states

    def get_config(self):
        config = self.cell.get_config()
        for key in ("name", "trainable", "dtype"):
            config.pop(key)
        base = Layer.get_config(self)
        base["activity_regularizer"] = (
            regularizers.serialize(self.activity_regularizer) if self.activity_regularizer is not None else None
        )
        return {**base, **config, **self._rnn_config()}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config.pop("unroll", None)
        config.pop("zero_output_for_mask", None)
        return cls(**config)
