"""``model.summary()``: Keras 3's table of layers, output shapes and parameter
counts, drawn with ``rich`` exactly as Keras draws it.

The text matches Keras 3 character for character: the same columns
(``Layer (type)``, ``Output Shape``, ``Param #``, plus ``Connected to`` for
graphs that are not a plain chain and ``Trainable`` on request), the same
column widths for a given ``line_length`` / ``positions``, and the same footer
(`` Total params: 10,865,724 (41.45 MB)``). When stdout is not a terminal, or
``print_fn`` is given, the text is plain (no ANSI escapes); the table keeps its
box-drawing characters.

Two deliberate differences from Keras 3, both where Keras 3 misbehaves:

* ``positions`` given as absolute column ends (``[33, 65, 80, 100]``, the
  Keras 2 form that Keras 3's docstring still promises) are honoured; Keras 3
  multiplies them by ``line_length`` again and draws a squashed table.
* A ``line_length`` wider than the console is not cropped when the text goes
  to a file, a pipe or ``print_fn`` (Keras 3 crops it at 80 columns, see
  keras-team/keras#21107).
"""

from __future__ import annotations

import math
import re
import shutil

import torch

from kerasish.distribution import is_chief
from kerasish.models.functional import Functional
from kerasish.models.sequential import Sequential

__all__ = ["print_summary", "get_layer_index_bound_by_layer_name", "readable_memory_size", "weight_memory_size", "count_params"]

# Bits per element, as Keras counts them.
_DTYPE_BITS = {
    **{f"float{i}": i for i in (16, 32, 64)},
    **{f"int{i}": i for i in (8, 16, 32, 64)},
    **{f"uint{i}": i for i in (8, 16, 32, 64)},
    "bfloat16": 16,
    "bool": 1,
}


def _dtype_bits(dtype) -> int:
    if isinstance(dtype, torch.dtype):
        name = str(dtype).replace("torch.", "")
        if name in _DTYPE_BITS:
            return _DTYPE_BITS[name]
        return torch.empty((), dtype=dtype).element_size() * 8
    name = str(getattr(dtype, "name", dtype)).replace("torch.", "")
    if name in _DTYPE_BITS:
        return _DTYPE_BITS[name]
    try:
        return torch.empty((), dtype=getattr(torch, name)).element_size() * 8
    except (AttributeError, TypeError):
        raise ValueError(f"Invalid dtype: {dtype}") from None


def count_params(weights) -> int:
    """Number of scalars in ``weights`` (anything with a ``.shape``)."""
    return int(sum(math.prod(tuple(w.shape)) for w in weights))


def weight_memory_size(weights) -> float:
    """Memory taken by ``weights`` in bytes (each weight counted once)."""
    unique = {id(w): w for w in weights}.values()
    bits = sum(math.prod(tuple(w.shape)) * _dtype_bits(w.dtype) for w in unique)
    return bits / 8


def readable_memory_size(size: float) -> str:
    """``43462896`` -> ``'41.45 MB'`` (powers of 1024, two decimals), as Keras writes it."""
    units = ["B", "KB", "MB", "GB", "TB", "PB"]
    for unit in units:
        if size / 1024 < 1:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} {units[-1]}"


# ----------------------------------------------------------------------
# rich markup, as Keras themes it
# ----------------------------------------------------------------------
def _number(x) -> str:
    return f"[color(45)]{x}[/]" if x is None else f"[color(34)]{x}[/]"


def _symbol(x) -> str:
    return f"[color(33)]{x}[/]"


def _bold(x, color=None) -> str:
    if color:
        return f"[bold][color({color})]{x}[/][/]"
    return f"[bold]{x}[/]"


def _format_shape(shape) -> str:
    return "(" + ", ".join(_number(d) for d in shape) + ")"


def _is_shape(s) -> bool:
    return isinstance(s, tuple) and all(d is None or isinstance(d, int) for d in s)


def _map_shapes(struct):
    """Format each shape tuple in a (possibly nested) structure of shapes."""
    if _is_shape(struct):
        return _format_shape(struct)
    if isinstance(struct, dict):
        return {k: _map_shapes(v) for k, v in struct.items()}
    if isinstance(struct, (list, tuple)):
        return [_map_shapes(s) for s in struct]
    return _format_shape(struct)


def _flat(struct) -> list:
    if isinstance(struct, dict):
        return [x for k in struct for x in _flat(struct[k])]
    if isinstance(struct, (list, tuple)):
        return [x for s in struct for x in _flat(s)]
    return [struct]


def _format_layer_shape(layer) -> str:
    """The Output Shape cell: the shape(s) from the layer's latest call."""
    nodes = getattr(layer, "_inbound_nodes", [])
    build_shapes = getattr(layer, "_build_shapes", None) if getattr(layer, "built", False) else None
    if not nodes and build_shapes is None:
        return "?"
    if nodes:
        shapes = [_format_shape(t.shape) for t in nodes[-1].output_tensors]
    else:
        try:
            if isinstance(layer, Functional):
                # Keras formats a model's output_shape as if it were one shape.
                shapes = _format_shape(layer.output_shape)
            else:
                shapes = _map_shapes(layer.compute_output_shape(build_shapes))
        except NotImplementedError:
            return "?"
    flat = _flat(shapes)
    if len(flat) == 1:
        return flat[0]
    return str(shapes).replace("'", "")


# ----------------------------------------------------------------------
# Graph facts Keras reads off its Functional model
# ----------------------------------------------------------------------
def _is_sequential_like(model, layers, nodes_by_depth) -> bool:
    """Keras's rule: one node per depth, each with one input tensor, and no
    layer called twice inside the model."""
    nodes = []
    for v in nodes_by_depth.values():
        if len(v) > 1 or (len(v) == 1 and len(v[0].input_tensors) > 1):
            return False
        nodes += v
    node_ids = {id(n) for n in nodes}
    for layer in layers:
        if sum(1 for n in layer._inbound_nodes if id(n) in node_ids) > 1:
            return False
    return True


def get_layer_index_bound_by_layer_name(layers, layer_range=None):
    """``[first, last + 1]``: the slice of ``layers`` that ``layer_range``
    (two names or regexes, both ends included) selects."""
    if layer_range is None:
        return [0, len(layers)]
    if len(layer_range) != 2:
        raise ValueError(
            "layer_range must be a list or tuple of length 2. Received: "
            f"layer_range = {layer_range} of length {len(layer_range)}"
        )
    if not isinstance(layer_range[0], str) or not isinstance(layer_range[1], str):
        raise ValueError(f"layer_range should contain string type only. Received: {layer_range}")
    lower = [i for i, layer in enumerate(layers) if re.match(layer_range[0], layer.name)]
    upper = [i for i, layer in enumerate(layers) if re.match(layer_range[1], layer.name)]
    if not lower or not upper:
        raise ValueError(f"Passed layer_names do not match the layer names in the model. Received: {layer_range}")
    if min(lower) > max(upper):
        return [min(upper), max(lower) + 1]
    return [min(lower), max(upper) + 1]


# ----------------------------------------------------------------------
def print_summary(model, line_length=None, positions=None, print_fn=None, expand_nested=False, show_trainable=False, layer_range=None):
    """Print a summary of ``model``, as Keras 3's ``model.summary()`` does.

    Args:
        model: a kerasish model (functional, Sequential or subclassed).
        line_length: total width of the table. Default: 88 (108 with the
            ``Connected to`` column, +12 with ``show_trainable``), at most the
            terminal width minus 4 (80 - 4 when stdout is not a terminal).
        positions: where each column ends, as fractions of ``line_length``
            (default ``[0.45, 0.80, 1.0]``, or ``[0.3, 0.56, 0.74, 1.0]`` with
            ``Connected to``) or as absolute character positions.
        print_fn: called once with the whole summary as plain text. Default:
            print to stdout (in colour on a terminal).
        expand_nested: also list the layers of nested models, indented.
        show_trainable: add a ``Trainable`` column (``Y`` / ``N``, ``-`` for
            layers without weights).
        layer_range: two layer names (or regexes), both included, to print
            only that stretch of ``model.layers``.

    Example:
        >>> from kerasish import Sequential, Input
        >>> from kerasish.layers import Dense
        >>> model = Sequential([Input((4,)), Dense(2)], name="tiny")
        >>> model.summary(print_fn=lambda text: print(text.splitlines()[-3]))
         Total params: 10 (40.00 B)
    """
    if print_fn is None and not is_chief():
        return  # data-parallel: the table is printed once, by rank 0
    import rich.console
    import rich.markup
    import rich.table

    relevant_nodes: set = set()
    if isinstance(model, Sequential) or not isinstance(model, Functional):
        # Subclassed models are shown as a plain sequence of their layers.
        sequential_like = True
        layers = model.layers
    else:
        layers = model.layers
        nodes_by_depth = model._nodes_by_depth
        sequential_like = _is_sequential_like(model, layers, nodes_by_depth)
        relevant_nodes = {id(n) for v in nodes_by_depth.values() for n in v}

    if sequential_like:
        default_line_length = 88
        positions = list(positions or [0.45, 0.80, 1.0])
        header = ["Layer (type)", "Output Shape", "Param #"]
        alignment = ["left", "left", "right"]
    else:
        default_line_length = 108
        positions = list(positions or [0.3, 0.56, 0.74, 1.0])
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        alignment = ["left", "left", "right", "left"]

    default_line_length += 12 if show_trainable else 0
    default_line_length = min(default_line_length, shutil.get_terminal_size().columns - 4)
    line_length = line_length or default_line_length
    # Column ends in characters; positions above 1 are absolute (Keras 2 style).
    absolute = bool(positions) and positions[-1] > 1
    if show_trainable:
        positions = [p * 0.90 for p in positions] + [line_length if absolute else 1.0]
        header.append("Trainable")
        alignment.append("center")
    if len(positions) < len(header):
        raise ValueError(
            f"`positions` must give the end of each of the {len(header)} columns {header}; received positions={positions}"
        )
    ends = [int(p) if absolute else int(p * line_length) for p in positions]

    column_widths = []
    current = 0
    for end in ends:
        width = end - current
        if width < 4:
            raise ValueError("Insufficient console width to print summary.")
        column_widths.append(width)
        current += width

    columns = [rich.table.Column(name, justify=alignment[i], width=column_widths[i]) for i, name in enumerate(header)]
    table = rich.table.Table(*columns, width=line_length, show_lines=True)

    def connections(layer) -> str:
        text = ""
        for node in layer._inbound_nodes:
            if relevant_nodes and id(node) not in relevant_nodes:
                continue  # a call of this layer in another model
            for t in node.input_tensors:
                history = t._keras_history
                if text:
                    text += ", "
                text += f"{history.layer.name}[{_number(history.node_index)}][{_number(history.tensor_index)}]"
        return text or "-"

    def fields(layer, prefix="") -> list:
        name = rich.markup.escape(f"{prefix}{layer.name}")
        name += f" ({_symbol(rich.markup.escape(type(layer).__name__))})"
        if not layer.built:
            params = f"{_number(0)} (unbuilt)"
        else:
            params = _number(f"{layer.count_params():,}")
        row = [name, _format_layer_shape(layer), params]
        if not sequential_like:
            row.append(connections(layer))
        if show_trainable:
            if len(layer.weights) > 0:
                row.append(_bold("Y", color=34) if layer.trainable else _bold("N", color=9))
            else:
                row.append(_bold("-"))
        return row

    def rows_for(layer, level=0) -> list:
        prefix = "   " * level + "└ " if level else ""
        rows = [fields(layer, prefix)]
        sub = getattr(layer, "layers", None) if expand_nested else None
        if sub:
            for inner in sub:
                rows.extend(rows_for(inner, level + 1))
        return rows

    start, stop = get_layer_index_bound_by_layer_name(layers, layer_range)
    for layer in layers[start:stop]:
        for row in rows_for(layer):
            table.add_row(*row)

    trainable = model.trainable_weights
    non_trainable = model.non_trainable_weights
    trainable_count, trainable_size = count_params(trainable), weight_memory_size(trainable)
    non_trainable_count, non_trainable_size = count_params(non_trainable), weight_memory_size(non_trainable)
    optimizer = getattr(model, "optimizer", None)
    optimizer_built = bool(getattr(model, "compiled", False) and optimizer is not None and getattr(optimizer, "built", False))
    if optimizer_built:
        opt_vars = list(optimizer.variables)
        optimizer_count, optimizer_size = count_params(opt_vars), weight_memory_size(opt_vars)
    else:
        optimizer_count, optimizer_size = 0, 0
    total_count = trainable_count + non_trainable_count + optimizer_count
    total_size = trainable_size + non_trainable_size + optimizer_size

    if print_fn:
        console = rich.console.Console(highlight=False, force_terminal=False, color_system=None)
        console.begin_capture()
    else:
        console = rich.console.Console(highlight=False)
    if print_fn or not console.is_terminal:
        # Text for a file or a pipe keeps the width asked for (Keras crops at 80).
        console.width = max(console.width, line_length)

    console.print(_bold(f'Model: "{rich.markup.escape(model.name)}"'))
    console.print(table)
    console.print(_bold(" Total params: ") + _number(f"{total_count:,}") + f" ({readable_memory_size(total_size)})")
    console.print(_bold(" Trainable params: ") + _number(f"{trainable_count:,}") + f" ({readable_memory_size(trainable_size)})")
    console.print(_bold(" Non-trainable params: ") + _number(f"{non_trainable_count:,}") + f" ({readable_memory_size(non_trainable_size)})")
    if optimizer_built:
        console.print(_bold(" Optimizer params: ") + _number(f"{optimizer_count:,}") + f" ({readable_memory_size(optimizer_size)})")

    if print_fn:
        print_fn(console.end_capture())
