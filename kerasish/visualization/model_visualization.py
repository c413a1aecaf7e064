"""``plot_model``: draw a model's graph of layers to an image file.

Keras 3 draws through pydot and the graphviz ``dot`` program, which a fresh
machine rarely has. kerasish lays the graph out itself and draws it with
matplotlib, so ``plot_model`` works wherever matplotlib is installed:

* layers sit in rows by depth (every layer below the layers feeding it),
  branches side by side, a merge centred under its branches; edges that skip
  rows are routed between the boxes;
* each box shows what Keras's shows: ``name (ClassName)``, then on request the
  activation, the input and output shapes, the output dtype and a
  ``Trainable`` / ``Non-trainable`` mark;
* ``rankdir`` ``"TB"`` (top to bottom), ``"LR"`` (left to right), ``"BT"``
  or ``"RL"``; ``expand_nested`` draws nested models' layers inside a dashed
  frame named after the nested model.

The file format follows ``to_file``'s extension (``.png``, ``.pdf``,
``.svg``, ``.jpg``...; PNG when there is none).
"""

from __future__ import annotations

import os

from kerasish.engine.keras_tensor import KerasTensor
from kerasish.models.functional import Functional
from kerasish.models.model import Model
from kerasish.models.sequential import Sequential

__all__ = ["plot_model"]

_RANKDIRS = ("TB", "LR", "BT", "RL")
_SPLINES = ("ortho", "line", "polyline", "spline", "curved")

# Sizes in inches (the figure's data units), fonts in points.
_TITLE_PT = 9.0
_BODY_PT = 7.5
_PAD_X = 0.10
_TITLE_H = 0.26
_ROW_H = 0.22
_NODE_SEP = 0.30  # between neighbouring boxes in a row
_DUMMY_W = 0.06  # width given to an edge crossing a row
_RANK_SEP = 0.45  # between rows
_CLUSTER_PAD = 0.14
_CLUSTER_LABEL_H = 0.20
_MARGIN = 0.25


# ----------------------------------------------------------------------
# Labels
# ----------------------------------------------------------------------
def _activation_name(layer):
    act = layer.activation
    if hasattr(act, "name"):
        return act.name
    if hasattr(act, "__name__"):
        return act.__name__
    return str(act)


def _shape_struct(struct):
    """Shapes of the symbolic tensors in a call-argument structure."""
    if isinstance(struct, KerasTensor):
        return tuple(struct.shape)
    if isinstance(struct, dict):
        return {k: _shape_struct(v) for k, v in struct.items()}
    if isinstance(struct, (list, tuple)):
        return [_shape_struct(s) for s in struct]
    return struct


def _format_shape(shape):
    """As Keras writes a shape in ``plot_model``: ``(None, 4)``; a dict as ``k: v``."""
    if shape is None:
        return "?"
    if isinstance(shape, dict):
        return ", ".join(f"{k}: {v}" for k, v in shape.items())
    return str(shape).replace("{", "").replace("}", "")


def _layer_io(layer, nodes):
    """(input shape, output shape, output dtype) of ``layer`` over ``nodes``
    (its calls inside the model drawn); ``None`` where unknown or where the
    calls disagree."""
    if not nodes:
        nodes = list(getattr(layer, "_inbound_nodes", []))
    ins, outs, dtypes = set(), set(), set()
    for node in nodes:
        arg = node.call_args[0] if node.call_args else node.input_tensors
        ins.add(repr(_shape_struct(arg)) if node.input_tensors else None)
        outs.add(repr(_shape_struct(node.outputs)))
        dts = [str(getattr(t, "dtype", "?")) for t in node.output_tensors]
        dtypes.add(dts[0] if len(set(dts)) == 1 else repr(dts))
    pick = lambda s: (next(iter(s)) if len(s) == 1 else None)  # noqa: E731
    in_shape, out_shape, dtype = pick(ins), pick(outs), pick(dtypes)
    # repr of a tuple/list/dict of tuples reads the same as Keras's str of shapes
    if in_shape is not None:
        in_shape = in_shape.replace("'", "")
    if out_shape is not None:
        out_shape = out_shape.replace("'", "")
    if out_shape is None and not nodes and getattr(layer, "built", False):
        try:
            out_shape = str(tuple(layer.output_shape))
        except Exception:  # noqa: BLE001 - a label is best effort
            out_shape = None
    return in_shape, out_shape, dtype


class _Box:
    """One drawn box: a layer (or a model drawn as one box)."""

    def __init__(self, layer, key, cluster, nodes, opts):
        self.layer = layer
        self.key = key
        self.cluster = cluster  # tuple of nested model names (expand_nested)
        class_name = type(layer).__name__
        self.title = f"{layer.name} ({class_name})" if opts["show_layer_names"] else class_name
        self.lines = []  # (text, background colour, text colour, bold)
        if opts["show_layer_activations"] and getattr(layer, "activation", None) is not None:
            self.lines.append((f"Activation: {_activation_name(layer)}", "white", "black"))
        cells = []
        in_shape, out_shape, dtype = _layer_io(layer, nodes)
        if opts["show_shapes"]:
            if class_name != "InputLayer":
                cells.append((f"Input shape: {_format_shape(in_shape)}", "white", "black"))
            cells.append((f"Output shape: {_format_shape(out_shape)}", "white", "black"))
        if opts["show_dtype"]:
            cells.append((f"Output dtype: {dtype or '?'}", "white", "black"))
        if opts["show_trainable"] and getattr(layer, "weights", None):
            if layer.trainable:
                cells.append(("Trainable", "#228b22", "white"))
            else:
                cells.append(("Non-trainable", "#b22222", "white"))
        self.lines.extend(cells)
        self.width = self.height = 0.0

    def measure(self, text_width):
        widths = [text_width(self.title, _TITLE_PT, True)] + [text_width(t, _BODY_PT, False) for t, _, _ in self.lines]
        self.width = max(widths) + 2 * _PAD_X
        self.height = _TITLE_H + _ROW_H * len(self.lines)


# ----------------------------------------------------------------------
# The graph: boxes and edges, nested models expanded on request
# ----------------------------------------------------------------------
def _is_graph_model(layer):
    return isinstance(layer, Functional)


def _collect(model, expand_nested, opts):
    """(boxes, edges) for ``model``; edges are (source box, target box)."""
    boxes: list[_Box] = []
    by_layer: dict[int, _Box] = {}
    edges: list[tuple[_Box, _Box]] = []
    names: set = set()
    expanded: set = set()

    def add_box(layer, cluster, nodes):
        key = layer.name if layer.name not in names else "/".join(cluster + (layer.name,))
        names.add(key)
        box = _Box(layer, key, cluster, nodes, opts)
        boxes.append(box)
        by_layer[id(layer)] = box
        return box

    def model_nodes(m):
        return getattr(m, "_node_set", set())

    def add_model(m, cluster):
        if isinstance(m, Sequential) or not isinstance(m, Functional):
            layers = list(m.layers) if isinstance(m, Sequential) else []
        else:
            layers = list(m.layers)
        node_set = model_nodes(m)
        for layer in layers:
            if id(layer) in by_layer or id(layer) in expanded:
                continue  # a layer or model used in several places is drawn once, as Keras does
            nodes = [n for n in layer._inbound_nodes if n in node_set]
            if expand_nested and _is_graph_model(layer):
                expanded.add(id(layer))
                add_model(layer, cluster + (layer.name,))
            else:
                add_box(layer, cluster, nodes)
        return layers

    def entry(dest, input_index):
        """The box a tensor entering ``dest`` lands on (inside nested models)."""
        while _is_graph_model(dest) and id(dest) not in by_layer:
            if isinstance(dest, Sequential):
                dest = dest.layers[0]
            else:
                dest = dest._inputs_flat[min(input_index, len(dest._inputs_flat) - 1)]._keras_history.layer
                input_index = 0
        return by_layer.get(id(dest))

    def exit_(source, output_index):
        """The box producing output ``output_index`` of ``source``."""
        while _is_graph_model(source) and id(source) not in by_layer:
            history = source._outputs_flat[output_index]._keras_history
            source, output_index = history.layer, history.tensor_index
        return by_layer.get(id(source))

    def add_edge(a, b):
        if a is not None and b is not None and a is not b and (a, b) not in seen:
            seen.add((a, b))
            edges.append((a, b))

    seen: set = set()

    def connect(m):
        if isinstance(m, Sequential):
            layers = list(m.layers)
            for a, b in zip(layers, layers[1:]):
                add_edge(exit_(a, 0), entry(b, 0))
            for layer in layers:
                if expand_nested and _is_graph_model(layer):
                    connect(layer)
            return
        if not isinstance(m, Functional):
            return
        node_set = model_nodes(m)
        for layer in m.layers:
            if expand_nested and _is_graph_model(layer):
                connect(layer)
            for node in layer._inbound_nodes:
                if node not in node_set:
                    continue
                for input_index, t in enumerate(node.input_tensors):
                    h = t._keras_history
                    if h is None:
                        continue
                    add_edge(exit_(h.layer, h.tensor_index), entry(layer, input_index))

    if isinstance(model, Functional):
        add_model(model, ())
        connect(model)
    else:  # a subclassed model is drawn as one box, as Keras does
        add_box(model, (), list(getattr(model, "_inbound_nodes", [])))
    return boxes, edges


# ----------------------------------------------------------------------
# Layout: ranks, order within ranks, positions
# ----------------------------------------------------------------------
def _ranks(boxes, edges):
    parents = {b: [] for b in boxes}
    children = {b: [] for b in boxes}
    for a, b in edges:
        parents[b].append(a)
        children[a].append(b)
    # Longest path from the sources, in the models' own (topological) order.
    order = _topological(boxes, parents, children)
    rank = {}
    for b in order:
        rank[b] = max((rank[p] + 1 for p in parents[b]), default=0)
    # A source feeding only later rows (a second input) moves down next to its use.
    for b in reversed(order):
        if not parents[b] and children[b]:
            rank[b] = min(rank[c] for c in children[b]) - 1
    low = min(rank.values())
    return {b: r - low for b, r in rank.items()}, parents, children


def _topological(boxes, parents, children):
    indeg = {b: len(parents[b]) for b in boxes}
    ready = [b for b in boxes if indeg[b] == 0]
    out = []
    while ready:
        b = ready.pop(0)
        out.append(b)
        for c in children[b]:
            indeg[c] -= 1
            if indeg[c] == 0:
                ready.append(c)
    if len(out) != len(boxes):  # a cycle cannot come from a model graph; be safe
        out += [b for b in boxes if b not in set(out)]
    return out


class _Dummy:
    """Where an edge crosses a row it skips."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.key = None


def _isotonic_place(desired, gaps, weights=None):
    """Positions closest (weighted least squares) to ``desired`` keeping the
    order and ``x[i+1] - x[i] >= gaps[i]`` (pool adjacent violators)."""
    weights = weights or [1.0] * len(desired)
    offsets = [0.0]
    for g in gaps:
        offsets.append(offsets[-1] + g)
    targets = [d - o for d, o in zip(desired, offsets)]
    blocks = []  # [weighted sum, weight, count]
    for t, w in zip(targets, weights):
        blocks.append([t * w, w, 1])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            s, w2, c = blocks.pop()
            blocks[-1][0] += s
            blocks[-1][1] += w2
            blocks[-1][2] += c
    y = []
    for s, w, c in blocks:
        y += [s / w] * c
    return [v + o for v, o in zip(y, offsets)]


def _layout(boxes, edges, horizontal):
    """Place the boxes. Returns (position of each item in abstract (u, v)
    coordinates -- u across a row, v down the rows --, the routed edges)."""
    rank, parents, children = _ranks(boxes, edges)
    # Break long edges into one-row segments through dummies.
    up = {b: [] for b in boxes}
    down = {b: [] for b in boxes}
    chains = []
    for a, b in edges:
        chain = [a]
        for r in range(rank[a] + 1, rank[b]):
            d = _Dummy(a.cluster if len(a.cluster) <= len(b.cluster) else b.cluster)
            rank[d] = d.rank = r
            up[d], down[d] = [], []
            chain.append(d)
        chain.append(b)
        for s, t in zip(chain, chain[1:]):
            down[s].append(t)
            up[t].append(s)
        chains.append(chain)
    n_ranks = max(rank.values()) + 1
    rows = [[] for _ in range(n_ranks)]
    for item in list(boxes) + [d for c in chains for d in c[1:-1]]:
        rows[rank[item]].append(item)

    def size(item):  # (across a row, along the rows)
        if isinstance(item, _Dummy):
            return (_DUMMY_W, 0.0)
        return (item.height, item.width) if horizontal else (item.width, item.height)

    # Order within rows: barycentre sweeps, nested models kept together.
    pos = {}
    for row in rows:
        for i, item in enumerate(row):
            pos[item] = float(i)

    def sort_row(row, neighbours):
        bc = {}
        for item in row:
            ns = neighbours[item]
            bc[item] = sum(pos[n] for n in ns) / len(ns) if ns else pos[item]

        def key(item):
            k = []
            cl = item.cluster
            for depth in range(1, 4):
                if len(cl) >= depth:
                    members = [o for o in row if o.cluster[:depth] == cl[:depth]]
                    k.append(sum(bc[o] for o in members) / len(members))
                else:
                    k.append(bc[item])
            return k + [bc[item], pos[item]]

        keys = {id(item): key(item) for item in row}  # list.sort empties the list while sorting
        row.sort(key=lambda item: keys[id(item)])
        for i, item in enumerate(row):
            pos[item] = float(i)

    for sweep in range(8):
        if sweep % 2 == 0:
            for row in rows[1:]:
                sort_row(row, up)
        else:
            for row in reversed(rows[:-1]):
                sort_row(row, down)

    # Coordinates across the rows: align with parents / children, no overlaps.
    def gaps(row):
        out = []
        for a, b in zip(row, row[1:]):
            sep = _NODE_SEP if not (isinstance(a, _Dummy) and isinstance(b, _Dummy)) else _DUMMY_W * 2
            if a.cluster != b.cluster:
                sep += _CLUSTER_PAD * 2
            out.append((size(a)[0] + size(b)[0]) / 2 + sep)
        return out

    u = {}
    for row in rows:
        xs = _isotonic_place([0.0] * len(row), gaps(row))
        for item, x in zip(row, xs):
            u[item] = x

    def place(row, neighbours, mix=None):
        desired = []
        for item in row:
            ns = neighbours[item]
            target = sum(u[n] for n in ns) / len(ns) if ns else u[item]
            if mix is not None and mix[item]:
                other = sum(u[n] for n in mix[item]) / len(mix[item])
                target = (target + other) / 2 if ns else other
            desired.append(target)
        # Dummies give way to boxes; merges (several neighbours) to nobody.
        weights = [0.15 if isinstance(item, _Dummy) else max(1.0, len(neighbours[item])) for item in row]
        for item, x in zip(row, _isotonic_place(desired, gaps(row), weights)):
            u[item] = x

    both = {item: (up[item] + down[item]) if isinstance(item, _Dummy) else [] for item in up}
    for _ in range(6):
        for row in rows[1:]:
            place(row, up, both)
        for row in reversed(rows[:-1]):
            place(row, down, both)
    # Final pass: a merge centred among the layers it joins (its real parents,
    # not the dummies of long edges).
    real_up = {item: [] for item in up}
    for chain in chains:
        real_up[chain[-1]].append(chain[0])
    for row in rows:
        place(row, {item: real_up[item] if not isinstance(item, _Dummy) else up[item] for item in row})

    # Straighten long edges: one column for all of an edge's dummies where the
    # rows leave room for it.
    where = {}
    for row in rows:
        for i, item in enumerate(row):
            where[item] = (row, i)
    for chain in chains:
        dummies = chain[1:-1]
        if not dummies:
            continue
        lo, hi = -1e9, 1e9
        for d in dummies:
            row, i = where[d]
            g = gaps(row)
            if i > 0:
                lo = max(lo, u[row[i - 1]] + g[i - 1])
            if i + 1 < len(row):
                hi = min(hi, u[row[i + 1]] - g[i])
        if lo > hi:
            continue
        ends = sorted(u[d] for d in dummies)
        # Prefer lining up with the source or the target when possible.
        for want in (u[chain[0]], u[chain[-1]], ends[len(ends) // 2]):
            if lo <= want <= hi:
                break
        else:
            want = min(max(ends[len(ends) // 2], lo), hi)
        for d in dummies:
            u[d] = want

    # Coordinates along the rows.
    v = {}
    depth_of_row = []
    cursor = 0.0
    cluster_depth = [max((len(i.cluster) for i in row), default=0) for row in rows]
    for r, row in enumerate(rows):
        extent = max((size(i)[1] for i in row), default=0.0)
        if r:
            extra = abs(cluster_depth[r] - cluster_depth[r - 1]) * (_CLUSTER_PAD + _CLUSTER_LABEL_H)
            cursor += depth_of_row[-1] / 2 + _RANK_SEP + extra + extent / 2
        depth_of_row.append(extent)
        for item in row:
            v[item] = cursor
    return u, v, chains, depth_of_row


# ----------------------------------------------------------------------
# Drawing
# ----------------------------------------------------------------------
def _text_width_fn():
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    ttp = TextToPath()
    cache = {}

    def width(text, size, bold):
        k = (text, size, bold)
        if k not in cache:
            prop = FontProperties(family="DejaVu Sans", size=size, weight="bold" if bold else "normal")
            w, _, _ = ttp.get_text_width_height_descent(text, prop, ismath=False)
            cache[k] = w / 72.0  # points -> inches
        return cache[k]

    return width


def plot_model(
    model,
    to_file="model.png",
    show_shapes=False,
    show_dtype=False,
    show_layer_names=False,
    rankdir="TB",
    expand_nested=False,
    dpi=200,
    show_layer_activations=False,
    show_trainable=False,
    splines="ortho",
    **kwargs,
):
    """Draw ``model``'s graph of layers and save it to ``to_file``.

    Keras 3's ``keras.utils.plot_model``, drawn with matplotlib (no pydot or
    graphviz needed). Each layer is a box headed ``name (ClassName)``; edges
    follow the tensors from layer to layer.

    Args:
        model: a built kerasish model (functional, ``Sequential``; a
            subclassed model is drawn as one box, as Keras does).
        to_file: where to save the picture; the extension picks the format
            (``.png``, ``.pdf``, ``.svg``, ``.jpg``...), PNG without one.
        show_shapes: show each layer's input and output shapes.
        show_dtype: show each layer's output dtype.
        show_layer_names: head the boxes ``name (ClassName)`` rather than
            ``ClassName`` alone.
        rankdir: ``"TB"`` (top to bottom), ``"LR"`` (left to right), or
            ``"BT"`` / ``"RL"``.
        expand_nested: draw the layers of nested models inside a dashed frame
            named after the nested model, instead of one box per nested model.
        dpi: resolution of raster formats (PNG, JPEG), in dots per inch.
        show_layer_activations: show the activation of layers that have one.
        show_trainable: mark layers with weights ``Trainable`` (green) or
            ``Non-trainable`` (red).
        splines: how edges are drawn: ``"ortho"`` (right angles, the
            default), ``"line"`` / ``"polyline"`` (straight segments) or
            ``"spline"`` / ``"curved"`` (smooth curves).

    Returns:
        The matplotlib ``Figure``. ``figure.kerasish_layout`` maps each box's
        layer name to its centre ``(x, y)`` in inches (y grows upwards, so
        with ``"TB"`` a layer's y is below its parents'); layers of expanded
        nested models whose names clash with others' are keyed
        ``"outer_model/name"``.

    Raises:
        ValueError: ``model`` is not a kerasish model or is not built,
            ``rankdir`` / ``splines`` / the file extension is unknown, or an
            unknown keyword argument is given.

    Example:
        >>> import tempfile, os
        >>> from kerasish import Sequential, Input
        >>> from kerasish.layers import Dense
        >>> from kerasish.utils import plot_model
        >>> model = Sequential([Input((4,)), Dense(8, name="hidden"), Dense(1, name="out")])
        >>> path = os.path.join(tempfile.mkdtemp(), "model.png")
        >>> fig = plot_model(model, to_file=path, show_shapes=True)
        >>> fig.kerasish_layout["hidden"][1] > fig.kerasish_layout["out"][1]
        True
    """
    if kwargs.pop("layer_range", None) is not None:
        raise ValueError("Argument `layer_range` is no longer supported.")
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments: {kwargs}")
    if not isinstance(model, Model):
        raise ValueError(f"plot_model: `model` must be a kerasish Model; received {type(model).__name__}: {model!r:.80}")
    if not model.built:
        raise ValueError(
            f"plot_model: model '{model.name}' has not yet been built. Build the model first by calling "
            "`build()` or by calling the model on a batch of data."
        )
    if rankdir not in _RANKDIRS:
        raise ValueError(f"plot_model: `rankdir` must be one of {list(_RANKDIRS)}; received rankdir={rankdir!r}")
    if splines not in _SPLINES:
        raise ValueError(f"plot_model: `splines` must be one of {list(_SPLINES)}; received splines={splines!r}")
    to_file = os.fspath(to_file)
    ext = os.path.splitext(to_file)[1][1:].lower() or "png"

    try:
        from matplotlib.figure import Figure
        from matplotlib.patches import FancyBboxPatch, PathPatch, Rectangle
        from matplotlib.path import Path
    except ImportError as e:  # pragma: no cover - matplotlib is a dependency of this function
        raise ImportError("plot_model needs matplotlib: `pip install matplotlib`.") from e

    fig = Figure()
    supported = fig.canvas.get_supported_filetypes()
    if ext not in supported:
        raise ValueError(f"plot_model: cannot write {to_file!r}: unknown image format {ext!r}; use one of {sorted(supported)}")
    if dpi is None or dpi <= 0:
        raise ValueError(f"plot_model: `dpi` must be a positive number; received dpi={dpi!r}")

    opts = dict(
        show_shapes=show_shapes,
        show_dtype=show_dtype,
        show_layer_names=show_layer_names,
        show_layer_activations=show_layer_activations,
        show_trainable=show_trainable,
    )
    boxes, edges = _collect(model, expand_nested, opts)
    text_width = _text_width_fn()
    for b in boxes:
        b.measure(text_width)
    horizontal = rankdir in ("LR", "RL")
    u, v, chains, row_extent = _layout(boxes, edges, horizontal)

    def to_xy(uu, vv):
        if rankdir == "TB":
            return uu, -vv
        if rankdir == "BT":
            return uu, vv
        if rankdir == "LR":
            return vv, -uu
        return -vv, -uu

    centre = {b: to_xy(u[b], v[b]) for b in boxes}
    rect = {b: (centre[b][0] - b.width / 2, centre[b][1] - b.height / 2, b.width, b.height) for b in boxes}

    # Nested-model frames (innermost first, so outer frames contain inner ones).
    frames = {}
    clusters = sorted({b.cluster[:i] for b in boxes for i in range(1, len(b.cluster) + 1)}, key=len, reverse=True)
    for cl in clusters:
        parts = [rect[b] for b in boxes if b.cluster[: len(cl)] == cl]
        parts += [frames[c] for c in frames if c[: len(cl)] == cl and len(c) > len(cl)]
        x0 = min(p[0] for p in parts) - _CLUSTER_PAD
        y0 = min(p[1] for p in parts) - _CLUSTER_PAD
        x1 = max(p[0] + p[2] for p in parts) + _CLUSTER_PAD
        y1 = max(p[1] + p[3] for p in parts) + _CLUSTER_PAD + _CLUSTER_LABEL_H
        frames[cl] = (x0, y0, x1 - x0, y1 - y0)

    allrects = list(rect.values()) + list(frames.values())
    xmin = min(r[0] for r in allrects) - _MARGIN
    xmax = max(r[0] + r[2] for r in allrects) + _MARGIN
    ymin = min(r[1] for r in allrects) - _MARGIN
    ymax = max(r[1] + r[3] for r in allrects) + _MARGIN
    fig.set_size_inches(xmax - xmin, ymax - ymin)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    ax.set_axis_off()

    for cl, (x0, y0, w, h) in sorted(frames.items(), key=lambda kv: len(kv[0])):
        ax.add_patch(Rectangle((x0, y0), w, h, fill=True, facecolor="#f4f6fb", edgecolor="#6b7a99", linestyle="--", linewidth=1.0, zorder=0.5 + 0.01 * len(cl)))
        ax.text(x0 + 0.08, y0 + h - 0.06, cl[-1], ha="left", va="top", fontsize=_BODY_PT + 0.5, style="italic", color="#3b4a6b", zorder=1)

    # Edges: leave a box from its far side, enter the next from its near side,
    # ports spread when several edges share a side.
    side_out = {}
    side_in = {}
    for chain in chains:
        side_out.setdefault(chain[0], []).append(chain)
        side_in.setdefault(chain[-1], []).append(chain)

    def port_offsets(box, chains_, key):
        chains_ = sorted(chains_, key=key)
        k = len(chains_)
        span = (box.height if horizontal else box.width) * 0.6
        step = min(0.22, span / max(k - 1, 1)) if k > 1 else 0.0
        return {id(c): (i - (k - 1) / 2) * step for i, c in enumerate(chains_)}

    def snap(box, offsets, other_end):
        # An edge whose other end lies straight across from the box leaves /
        # enters there, so that it needs no bend; the others keep their ports.
        span = (box.height if horizontal else box.width) * 0.4
        taken = []
        for cid in sorted(other_end, key=lambda k: abs(other_end[k] - u[box])):
            want = other_end[cid] - u[box]
            if abs(want) <= span and all(abs(want - t) > 0.12 for t in taken):
                offsets[cid] = want
            taken.append(offsets[cid])
        return offsets

    out_port, in_port = {}, {}
    for box, cs in side_out.items():
        out_port[box] = snap(box, port_offsets(box, cs, key=lambda c: u[c[1]]), {id(c): u[c[1]] for c in cs})
    for box, cs in side_in.items():
        in_port[box] = snap(box, port_offsets(box, cs, key=lambda c: u[c[-2]]), {id(c): u[c[-2]] for c in cs})

    def half_extent(item):
        if isinstance(item, _Dummy):
            return 0.0
        return (item.width if horizontal else item.height) / 2

    routes = []
    for chain in chains:
        # Abstract (u, v) points: out of the source, through the dummies, into the target.
        src, dst = chain[0], chain[-1]
        pts = [(u[src] + out_port[src][id(chain)], v[src] + half_extent(src))]
        for d in chain[1:-1]:
            half = row_extent[d.rank] / 2
            pts.append((u[d], v[d] - half))
            pts.append((u[d], v[d] + half))
        pts.append((u[dst] + in_port[dst][id(chain)], v[dst] - half_extent(dst)))
        routes.append(pts)

    # Ortho routing: the horizontal runs crossing one gap between rows get
    # their own heights, so that runs of different edges do not overlap.
    levels = {}
    if splines == "ortho":
        by_gap = {}
        for pts in routes:
            for (ua, va), (ub, vb) in zip(pts, pts[1:]):
                if abs(ua - ub) > 1e-6:
                    by_gap.setdefault(round(vb, 4), []).append((ua, ub, va, vb))
        for gap, runs in by_gap.items():
            runs.sort(key=lambda r: (r[1] - r[0] > 0, r[0] if r[1] > r[0] else -r[0]))
            k = len(runs)
            for i, (ua, ub, va, vb) in enumerate(runs):
                frac = 0.5 if k == 1 else 0.25 + 0.5 * i / (k - 1)
                levels[(round(ua, 4), round(ub, 4), round(vb, 4))] = va + (vb - va) * frac

    for pts in routes:
        if splines == "ortho":
            route = [pts[0]]
            for (ua, va), (ub, vb) in zip(pts, pts[1:]):
                if abs(ua - ub) > 1e-6:
                    mid = levels.get((round(ua, 4), round(ub, 4), round(vb, 4)), (va + vb) / 2)
                    route += [(ua, mid), (ub, mid)]
                route.append((ub, vb))
            codes = [Path.MOVETO] + [Path.LINETO] * (len(route) - 1)
        elif splines in ("line", "polyline"):
            route = pts
            codes = [Path.MOVETO] + [Path.LINETO] * (len(route) - 1)
        else:  # smooth: one cubic Bezier per segment, vertical tangents
            route = [pts[0]]
            codes = [Path.MOVETO]
            for (ua, va), (ub, vb) in zip(pts, pts[1:]):
                mid = (va + vb) / 2
                route += [(ua, mid), (ub, mid), (ub, vb)]
                codes += [Path.CURVE4] * 3
        xy = [to_xy(a, b) for a, b in route]
        ax.add_patch(PathPatch(Path(xy, codes), fill=False, edgecolor="#444444", linewidth=1.2, zorder=2, capstyle="round", joinstyle="round"))
        # The arrow head at the target.
        tip = xy[-1]
        before = to_xy(route[-1][0], route[-1][1] - 0.12)
        ax.annotate("", xy=tip, xytext=before, arrowprops=dict(arrowstyle="-|>,head_length=0.5,head_width=0.22", color="#444444", lw=1.2, shrinkA=0, shrinkB=0), zorder=3)

    for b in boxes:
        x0, y0, w, h = rect[b]
        ax.add_patch(FancyBboxPatch((x0, y0), w, h, boxstyle="round,pad=0,rounding_size=0.04", facecolor="white", edgecolor="#222222", linewidth=1.0, zorder=4))
        top = y0 + h
        ax.add_patch(Rectangle((x0, top - _TITLE_H), w, _TITLE_H, facecolor="#1f2430", edgecolor="#222222", linewidth=1.0, zorder=5))
        ax.text(x0 + w / 2, top - _TITLE_H / 2, b.title, ha="center", va="center", fontsize=_TITLE_PT, fontweight="bold", color="white", family="DejaVu Sans", zorder=6)
        y = top - _TITLE_H
        for text, bg, fg in b.lines:
            ax.add_patch(Rectangle((x0, y - _ROW_H), w, _ROW_H, facecolor=bg, edgecolor="#bbbbbb" if bg == "white" else bg, linewidth=0.6, zorder=5))
            ax.text(x0 + w / 2, y - _ROW_H / 2, text, ha="center", va="center", fontsize=_BODY_PT, color=fg, family="DejaVu Sans", fontweight="bold" if bg != "white" else "normal", zorder=6)
            y -= _ROW_H
        ax.add_patch(FancyBboxPatch((x0, y0), w, h, boxstyle="round,pad=0,rounding_size=0.04", fill=False, edgecolor="#222222", linewidth=1.0, zorder=7))

    fig.kerasish_layout = {b.key: (float(centre[b][0]), float(centre[b][1])) for b in boxes}
    fig.kerasish_path = to_file
    directory = os.path.dirname(os.path.abspath(to_file))
    if not os.path.isdir(directory):
        raise ValueError(f"plot_model: cannot write {to_file!r}: the folder {directory!r} does not exist")
    fig.savefig(to_file, format=ext, dpi=dpi, facecolor="white")
    return fig

