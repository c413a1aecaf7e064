"""plot_model: drawn with matplotlib (no graphviz), laid out legibly.

The layout is checked on ``figure.kerasish_layout`` (layer name -> box centre
in inches, y upwards): every layer lies below (TB) / right of (LR) the layers
feeding it, and a merge sits between the branches it joins.
"""

import os

import numpy as np
import pytest


import kerasish as K
from kerasish import layers as L
from kerasish.utils import plot_model
from test_summary import fruit


def _png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def _edges(model):
    """(parent name, child name) for each connection in a functional model."""
    out = []
    for layer in model.layers:
        for node in layer._inbound_nodes:
            if node in model._node_set:
                out += [(t._keras_history.layer.name, layer.name) for t in node.input_tensors]
    return out


def branchy():
    a, b = L.Input((4,), name="left"), L.Input((6,), name="right")
    x = L.Dense(8, name="a1")(a)
    x = L.Dense(8, activation="relu", name="a2")(x)
    y = L.Dense(8, name="b1")(b)
    s = L.Add(name="add")([x, y])
    c = L.Concatenate(name="concat")([s, x, y])
    return K.Model([a, b], [L.Dense(2, name="head1")(c), L.Dense(1, name="head2")(s)], name="branchy")


def nested():
    inner = K.Sequential([L.Input((4,)), L.Dense(5, name="in_d1"), L.Dense(4, name="in_d2")], name="inner")
    i = L.Input((4,), name="x")
    h = L.Add(name="res")([inner(i), i])
    return K.Model(i, L.Dense(3, name="after")(h), name="outer")


def test_sequential_png(tmp_path):
    model = K.Sequential([L.Input((4,)), L.Dense(8, activation="relu", name="hidden"), L.Dense(1, name="out")])
    path = tmp_path / "seq.png"
    fig = plot_model(model, to_file=path, show_shapes=True, show_layer_names=True, show_trainable=True, dpi=100)
    w, h = _png_size(path)
    assert 150 < w < 1000 and 200 < h < 1500, (w, h)
    # Keras draws no InputLayer box for a Sequential model.
    assert set(fig.kerasish_layout) == {"hidden", "out"}
    assert fig.kerasish_layout["hidden"][1] > fig.kerasish_layout["out"][1]
    assert fig.kerasish_layout["hidden"][0] == pytest.approx(fig.kerasish_layout["out"][0])


def test_fruit_network_is_one_column(tmp_path):
    model = fruit(K)
    path = tmp_path / "fruit.png"
    fig = plot_model(model, to_file=str(path), show_shapes=True, show_layer_names=True, dpi=72)
    w, h = _png_size(path)
    assert h > 4 * w and 100 < w < 600, (w, h)
    pos = fig.kerasish_layout
    assert list(pos) == [l.name for l in model.layers]
    ys = [pos[l.name][1] for l in model.layers]
    assert all(a > b for a, b in zip(ys, ys[1:]))
    assert len({round(pos[l.name][0], 6) for l in model.layers}) == 1


@pytest.mark.parametrize("rankdir", ["TB", "LR"])
def test_branching_layout(tmp_path, rankdir):
    model = branchy()
    path = tmp_path / f"branchy_{rankdir}.png"
    fig = plot_model(model, path, show_shapes=True, show_dtype=True, show_layer_names=True,
                     show_layer_activations=True, rankdir=rankdir, dpi=80)
    w, h = _png_size(path)
    assert w > 200 and h > 200
    pos = fig.kerasish_layout
    assert set(pos) == {l.name for l in model.layers}
    flow, across = (1, 0) if rankdir == "TB" else (0, 1)
    sign = -1 if rankdir == "TB" else 1  # TB: y falls downwards; LR: x grows rightwards
    for parent, child in _edges(model):
        assert sign * (pos[child][flow] - pos[parent][flow]) > 0.5, (parent, child, pos[parent], pos[child])
    # Merges lie between the branches they join.
    for merge, parents in [("add", ["a2", "b1"]), ("concat", ["add", "a2", "b1"])]:
        ps = [pos[p][across] for p in parents]
        assert min(ps) - 1e-6 <= pos[merge][across] <= max(ps) + 1e-6, (merge, pos)
    # The two branches sit side by side, boxes do not overlap in a row.
    assert abs(pos["a1"][across] - pos["b1"][across]) > 1.0


def test_boxes_do_not_overlap(tmp_path):
    fig = plot_model(branchy(), tmp_path / "b.png", show_shapes=True, show_layer_names=True, dpi=50)
    ax = fig.axes[0]
    from matplotlib.patches import FancyBboxPatch

    boxes = [p.get_bbox().bounds for p in ax.patches if isinstance(p, FancyBboxPatch) and p.get_fill()]
    assert len(boxes) == 9
    for i, (x0, y0, w0, h0) in enumerate(boxes):
        for x1, y1, w1, h1 in boxes[i + 1:]:
            apart = x0 + w0 <= x1 or x1 + w1 <= x0 or y0 + h0 <= y1 or y1 + h1 <= y0
            assert apart, ((x0, y0, w0, h0), (x1, y1, w1, h1))


def test_labels_match_keras_content(tmp_path):
    model = branchy()
    fig = plot_model(model, tmp_path / "b.png", show_shapes=True, show_dtype=True, show_layer_names=True,
                     show_layer_activations=True, show_trainable=True, dpi=50)
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert "a2 (Dense)" in texts and "left (InputLayer)" in texts
    assert "Activation: relu" in texts
    assert "Input shape: [(None, 8), (None, 8)]" in texts  # the Add layer
    assert "Output shape: (None, 24)" in texts
    assert "Output dtype: float32" in texts
    assert "Trainable" in texts
    assert not any(t.startswith("Input shape") and "(None, 4)" == t[13:] for t in texts if "left" in t)
    # Keras's defaults: class names only, no shapes.
    fig = plot_model(model, tmp_path / "c.png", dpi=50)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "Dense" in texts and not any("shape" in t for t in texts)


def test_non_trainable_mark(tmp_path):
    model = branchy()
    model.get_layer("a1").trainable = False
    fig = plot_model(model, tmp_path / "b.png", show_trainable=True, dpi=50)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts.count("Non-trainable") == 1 and texts.count("Trainable") == 4  # Add, Concatenate, inputs: no weights


def test_expand_nested(tmp_path):
    model = nested()
    fig = plot_model(model, tmp_path / "collapsed.png", show_layer_names=True, dpi=50)
    assert set(fig.kerasish_layout) == {"x", "inner", "res", "after"}
    fig = plot_model(model, tmp_path / "nested.png", show_layer_names=True, show_shapes=True, expand_nested=True, dpi=50)
    pos = fig.kerasish_layout
    assert set(pos) == {"x", "in_d1", "in_d2", "res", "after"}
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "in_d1 (Dense)" in texts and "inner" in texts  # the frame is labelled
    assert pos["x"][1] > pos["in_d1"][1] > pos["in_d2"][1] > pos["res"][1] > pos["after"][1]


def test_formats_and_subclassed(tmp_path):
    model = branchy()
    for ext, magic in [("pdf", b"%PDF"), ("svg", b"<?xml")]:
        path = tmp_path / f"m.{ext}"
        plot_model(model, path, splines="spline")
        assert path.read_bytes()[:len(magic)] == magic
    noext = tmp_path / "model"
    plot_model(model, noext, splines="line", dpi=40)
    _png_size(noext)

    class Sub(K.Model):
        def __init__(self):
            super().__init__(name="sub")
            self.d = L.Dense(2)

        def call(self, x):
            return self.d(x)

    sub = Sub()
    sub(np.zeros((1, 3), "float32"))
    fig = plot_model(sub, tmp_path / "sub.png", show_layer_names=True, dpi=40)
    assert list(fig.kerasish_layout) == ["sub"]


def test_bad_input(tmp_path):
    with pytest.raises(ValueError, match="`model` must be a kerasish Model.*Dense"):
        plot_model(L.Dense(2), tmp_path / "x.png")
    with pytest.raises(ValueError, match="`model` must be a kerasish Model.*str"):
        plot_model("model", tmp_path / "x.png")
    with pytest.raises(ValueError, match="'unbuilt' has not yet been built"):
        plot_model(K.Sequential([L.Dense(2)], name="unbuilt"), tmp_path / "x.png")
    model = branchy()
    with pytest.raises(ValueError, match="rankdir='XY'"):
        plot_model(model, tmp_path / "x.png", rankdir="XY")
    with pytest.raises(ValueError, match="splines='zigzag'"):
        plot_model(model, tmp_path / "x.png", splines="zigzag")
    with pytest.raises(ValueError, match="unknown image format 'bmpx'"):
        plot_model(model, tmp_path / "x.bmpx")
    with pytest.raises(ValueError, match="layer_range"):
        plot_model(model, tmp_path / "x.png", layer_range=["a", "b"])
    with pytest.raises(ValueError, match="Unrecognized keyword arguments"):
        plot_model(model, tmp_path / "x.png", colour="red")
    with pytest.raises(ValueError, match="does not exist"):
        plot_model(model, tmp_path / "missing" / "x.png")
    assert not os.path.exists(tmp_path / "x.png")


def test_expand_nested_model_used_twice(tmp_path):
    """A nested model called in two places is drawn once, both callers feeding it."""
    ii = L.Input((4,), name="ii")
    enc = K.Model(ii, L.Dense(3, name="enc_d")(ii), name="encoder")
    deep_in = L.Input((4,), name="deep_in")
    deep = K.Model(deep_in, enc(deep_in), name="deep")
    a, b = L.Input((4,), name="a"), L.Input((4,), name="b")
    shared = L.Dense(2, name="shared")
    model = K.Model([a, b], [shared(enc(a)), shared(deep(b))], name="siamese")
    fig = plot_model(model, tmp_path / "s.png", show_layer_names=True, expand_nested=True, dpi=40)
    pos = fig.kerasish_layout
    assert set(pos) == {"a", "b", "deep_in", "ii", "enc_d", "shared"}
    for parent, child in [("a", "ii"), ("b", "deep_in"), ("deep_in", "ii"), ("ii", "enc_d"), ("enc_d", "shared")]:
        assert pos[parent][1] > pos[child][1], (parent, child)
