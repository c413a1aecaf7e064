"""StackedRNNCells: several cells run as one, each step's output the next cell's input."""

from __future__ import annotations

import copy

import torch

from kerasish import tree
from kerasish.engine.layer import Layer, torch_dtype
from kerasish.engine.serialization import deserialize_layer, serialize_layer


def cell_output_size(cell) -> int:
    """A cell's output size: its ``output_size``, else its (first) state size."""
    size = getattr(cell, "output_size", None)
    if size is not None:
        return size
    state_size = cell.state_size
    return state_size[0] if isinstance(state_size, (list, tuple)) else state_size


def check_cell(cell, who):
    """A ValueError naming ``who`` unless ``cell`` has ``call`` and ``state_size``."""
    if not callable(getattr(cell, "call", None)):
        raise ValueError(f"{who}: an RNN cell needs a `call(inputs, states)` method; received {cell!r:.200}.")
    if getattr(cell, "state_size", None) is None:
        raise ValueError(f"{who}: an RNN cell needs a `state_size` attribute (an int or a list of ints); received {cell!r:.200}.")
    size = cell.state_size
    if not isinstance(size, (int, list, tuple)):
        raise ValueError(f"{who}: `state_size` must be an int or a list of ints; the cell {cell!r:.200} has {size!r}.")


def call_cell(cell, inputs, states, training):
    """One step of any cell, Keras's way: ``training`` passed when its ``call`` takes it."""
    if isinstance(cell, Layer):
        if cell._call_has_training:
            return cell.call(inputs, states, training=training)
        return cell.call(inputs, states)
    try:
        return cell.call(inputs, states, training=training)
    except TypeError:
        return cell.call(inputs, states)


class StackedRNNCells(Layer):
    """A stack of RNN cells that behaves as one cell (``RNN(StackedRNNCells([...]))``).

    Args:
        cells: list of cells (``LSTMCell``, ``GRUCell``, ``SimpleRNNCell`` or
            your own with ``state_size`` and ``call(inputs, states)``).

    ``state_size`` is the list of the cells' state sizes; states are passed and
    returned as one entry per cell (a list for a cell with several states).
    ``RNN([cell_a, cell_b])`` makes one.

    Example:
        >>> import numpy as np
        >>> from kerasish.layers import RNN, LSTMCell, StackedRNNCells
        >>> RNN(StackedRNNCells([LSTMCell(4), LSTMCell(3)]))(np.zeros((2, 5, 6), dtype="float32")).shape
        torch.Size([2, 3])
    """

    # Built-in: the cells' weights are theirs, never tracked again as raw torch
    # parameters of this layer (what a user layer's plain-torch attributes get).
    _native_layout = True

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        cells = list(cells)
        if not cells:
            raise ValueError("StackedRNNCells: `cells` must be a non-empty list of RNN cells.")
        for cell in cells:
            check_cell(cell, "StackedRNNCells")
        self.cells = cells

    def _sublayers(self):
        # The cells are a list attribute (a ModuleList), which the base class does not look into.
        return [c for c in self.cells if isinstance(c, Layer)]

    @property
    def state_size(self):
        return [c.state_size for c in self.cells]

    @property
    def output_size(self):
        return cell_output_size(self.cells[-1])

    def build(self, input_shape):
        for cell in self.cells:
            if isinstance(cell, Layer) and not cell.built:
                cell._maybe_build(tuple(input_shape))
            input_shape = (input_shape[0], cell_output_size(cell))
        self.built = True

    def get_initial_state(self, batch_size=None):
        out = []
        for cell in self.cells:
            fn = getattr(cell, "get_initial_state", None)
            if fn is not None:
                out.append(fn(batch_size=batch_size))
            elif isinstance(cell.state_size, int):
                out.append(torch.zeros((batch_size, cell.state_size), dtype=torch_dtype(self._dtype)))
            else:
                out.append([torch.zeros((batch_size, d), dtype=torch_dtype(self._dtype)) for d in cell.state_size])
        return out

    def call(self, inputs, states, training=False):
        """One step through every cell; ``states`` has one entry per cell."""
        new_states = []
        for cell, s in zip(self.cells, states):
            nested = tree.is_nested(s)
            inputs, s = call_cell(cell, inputs, list(s) if nested else [s], training)
            if not tree.is_nested(s):
                s = [s]
            new_states.append(s if nested or len(s) > 1 else s[0])
        return inputs, new_states

    def get_config(self):
        return {**super().get_config(), "cells": [serialize_layer(c) for c in self.cells]}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = copy.deepcopy(config)
        cells = [deserialize_layer(c, custom_objects=custom_objects) for c in config.pop("cells")]
        return cls(cells, **config)
