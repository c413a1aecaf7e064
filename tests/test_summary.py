"""``model.summary()`` against Keras 3: the same models built in both libraries
(with the same explicit names) must print the same text, character for
character; and the seed 001 fruit network must print the post's shapes and
parameter counts."""

import contextlib
import io

import numpy as np
import pytest

import kerasish
from kerasish.models.summary import get_layer_index_bound_by_layer_name, readable_memory_size

from seed_networks import fruit_classifier, mnist_cnn


@pytest.fixture(autouse=True)
def _fixed_console(monkeypatch):
    # Keras and rich size the table from the terminal; fix it so both libraries
    # (and every run of this file) see an 80-column, non-interactive console.
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("LINES", "24")
    for var in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(var, raising=False)


def summary_text(model, **kwargs):
    out = []
    model.summary(print_fn=out.append, **kwargs)
    assert len(out) == 1, "print_fn must receive the whole summary in one call, as in Keras 3"
    return out[0]


def rows(text):
    """The table's data rows as [name (type), output shape, params, ...] cells."""
    body = text.split("┡", 1)[1]
    return [[c.strip() for c in line.strip("│").split("│")] for line in body.splitlines() if line.startswith("│")]


# ----------------------------------------------------------------------
# Models, built the same way with either library (`lib` is kerasish or keras)
# ----------------------------------------------------------------------
def fruit(lib, named=True):
    """Seed 001's network; `named` gives every layer an explicit name."""
    return fruit_classifier(lib, named=named)


def mnist(lib):
    """Seed 000's network, every layer named."""
    return mnist_cnn(lib, named=True)


def two_towers(lib):
    """Two inputs through one shared Dense, two heads: not sequential-like."""
    L = lib.layers
    a, b = L.Input((4,), name="left"), L.Input((4,), name="right")
    shared = L.Dense(3, name="shared")
    ya, yb = shared(a), shared(b)
    return lib.Model([a, b], [L.Dense(2, name="head_a")(ya), L.Dense(1, name="head_b")(yb)], name="towers")


def fork(lib):
    """One input, two output heads returned as a dict."""
    L = lib.layers
    x = L.Input((10,), name="x")
    h = L.Dense(6, activation="relu", name="trunk")(x)
    return lib.Model(x, {"o1": L.Dense(2, name="o1")(h), "o2": L.Dense(3, name="o2")(h)}, name="fork")


def shared_on_two_shapes(lib):
    """A stateless layer called twice on different shapes: Keras 3 shows the
    shape of its latest call (Keras 2 printed 'multiple')."""
    L = lib.layers
    a, b = L.Input((4,), name="a"), L.Input((6,), name="b")
    act = L.Activation("relu", name="act")
    return lib.Model([a, b], [act(a), act(b)], name="shared_act")


def nested(lib):
    L = lib.layers
    inner_in = L.Input((8,), name="inner_in")
    inner = lib.Model(inner_in, L.Dense(2, name="inner_d2")(L.Dense(4, name="inner_d1")(inner_in)), name="inner")
    block = lib.Sequential([lib.Input((2,), name="block_in"), L.Dense(5, name="block_d1"), L.Dense(3, name="block_d2")], name="block")
    x = L.Input((6,), name="x")
    y = block(inner(L.Dense(8, name="pre")(x)))
    model = lib.Model(x, y, name="outer")
    model.get_layer("pre").trainable = False
    return model


def unbuilt(lib):
    L = lib.layers
    return lib.Sequential([L.Dense(2, name="u1"), L.Dense(3, name="u2")], name="unbuilt")


def subclassed(lib):
    L = lib.layers

    class Net(lib.Model):
        def __init__(self):
            super().__init__(name="net")
            self.d1 = L.Dense(4, name="sub_d1")
            self.d2 = L.Dense(2, name="sub_d2")

        def call(self, x):
            return self.d2(self.d1(x))

    net = Net()
    net(np.zeros((3, 5), "float32"))
    return net


# ----------------------------------------------------------------------
# Seed 001: the post's table
# ----------------------------------------------------------------------
POST_TABLE = [  # (Keras 3 type, output shape, params) from the post, seed 001
    ("InputLayer", "(None, 100, 100, 3)", 0),
    ("Conv2D", "(None, 100, 100, 32)", 896),
    ("Conv2D", "(None, 100, 100, 32)", 9248),
    ("Conv2D", "(None, 100, 100, 32)", 9248),
    ("MaxPooling2D", "(None, 50, 50, 32)", 0),
    ("Conv2D", "(None, 50, 50, 64)", 18496),
    ("Conv2D", "(None, 50, 50, 64)", 36928),
    ("Conv2D", "(None, 50, 50, 64)", 36928),
    ("MaxPooling2D", "(None, 25, 25, 64)", 0),
    ("Conv2D", "(None, 25, 25, 128)", 73856),
    ("Conv2D", "(None, 25, 25, 128)", 147584),
    ("Conv2D", "(None, 25, 25, 128)", 147584),
    ("MaxPooling2D", "(None, 12, 12, 128)", 0),
    ("Conv2D", "(None, 12, 12, 256)", 295168),
    ("Conv2D", "(None, 12, 12, 256)", 590080),
    ("MaxPooling2D", "(None, 6, 6, 256)", 0),
    ("Flatten", "(None, 9216)", 0),
    ("Dense", "(None, 1024)", 9438208),
    ("Dense", "(None, 60)", 61500),
]


def test_fruit_summary_matches_the_post():
    text = summary_text(fruit(kerasish, named=False))
    got = rows(text)
    assert len(got) == len(POST_TABLE)
    for (name_type, shape, params), (cls, post_shape, post_params) in zip(got, POST_TABLE):
        assert name_type.endswith(f"({cls})")
        assert shape == post_shape
        assert int(params.replace(",", "")) == post_params
    assert text.startswith('Model: "functional')
    assert " Total params: 10,865,724 (41.45 MB)\n" in text
    assert " Trainable params: 10,865,724 (41.45 MB)\n" in text
    assert text.endswith(" Non-trainable params: 0 (0.00 B)\n")
    assert "Connected to" not in text  # a plain chain is sequential-like


# ----------------------------------------------------------------------
# Same text as Keras 3
# ----------------------------------------------------------------------
def assert_same_text(keras, build, **kwargs):
    ours = summary_text(build(kerasish), **kwargs)
    theirs = summary_text(build(keras), **kwargs)
    assert ours == theirs, f"kerasish:\n{ours}\nkeras:\n{theirs}"
    return ours


@pytest.mark.parametrize("kwargs", [{}, {"line_length": 64}, {"show_trainable": True}, {"positions": [0.5, 0.75, 1.0]}])
def test_fruit_text_equals_keras(keras, kwargs):
    assert_same_text(keras, fruit, **kwargs)


@pytest.mark.parametrize("kwargs", [{}, {"line_length": 72}, {"show_trainable": True}])
def test_mnist_text_equals_keras(keras, kwargs):
    text = assert_same_text(keras, mnist, **kwargs)
    assert "(None, 26, 26, 8)" in text and " Total params: 13,602 (53.13 KB)" in text


@pytest.mark.parametrize("build", [two_towers, fork, shared_on_two_shapes])
@pytest.mark.parametrize("kwargs", [{}, {"line_length": 80}, {"show_trainable": True}, {"positions": [0.25, 0.5, 0.7, 1.0]}])
def test_graph_text_equals_keras(keras, build, kwargs):
    text = assert_same_text(keras, build, **kwargs)
    assert "Connected to" in text


def test_connected_to_lists_every_call_of_a_shared_layer(keras):
    assert_same_text(keras, two_towers)
    text = summary_text(two_towers(kerasish), line_length=120)  # wide enough not to wrap a cell
    by_name = {r[0].split(" ")[0]: r for r in rows(text)}
    assert by_name["shared"][3] == "left[0][0], right[0][0]"
    assert by_name["head_b"][3] == "shared[1][0]"
    assert by_name["left"][3] == "-"


def test_shared_layer_shows_its_latest_call_shape(keras):
    text = assert_same_text(keras, shared_on_two_shapes)
    act = [r for r in rows(text) if r[0].startswith("act ")]
    assert act[0][1] == "(None, 6)"


@pytest.mark.parametrize("kwargs", [{}, {"show_trainable": True}])
def test_branching_add_concatenate_text_equals_keras(keras, kwargs):
    def branching(lib):
        L = lib.layers
        x = L.Input((8, 8, 3), name="img")
        a = L.Conv2D(4, 3, padding="same", name="branch_a")(x)
        b = L.Conv2D(4, 1, name="branch_b")(x)
        s = L.Add(name="add")([a, b])
        c = L.Concatenate(name="concat")([s, a])
        y = L.Dense(2, name="out")(L.Flatten(name="flat")(c))
        return lib.Model(x, y, name="branching")

    assert_same_text(keras, branching, **kwargs)
    text = summary_text(branching(kerasish), line_length=150, **kwargs)  # wide enough not to wrap a cell
    by_name = {r[0].split(" ")[0]: r for r in rows(text)}
    assert by_name["add"][1:4] == ["(None, 8, 8, 4)", "0", "branch_a[0][0], branch_b[0][0]"]
    assert by_name["concat"][1:4] == ["(None, 8, 8, 8)", "0", "add[0][0], branch_a[0][0]"]


@pytest.mark.parametrize("kwargs", [{}, {"expand_nested": True}, {"expand_nested": True, "show_trainable": True}, {"show_trainable": True, "line_length": 70}])
def test_nested_models_text_equals_keras(keras, kwargs):
    text = assert_same_text(keras, nested, **kwargs)
    assert ("   └ inner_d1 (Dense)" in text) == bool(kwargs.get("expand_nested"))
    assert " Non-trainable params: 56 (224.00 B)" in text  # the frozen `pre` Dense


def test_show_trainable_marks_frozen_layers(keras):
    text = assert_same_text(keras, nested, show_trainable=True)
    marks = {r[0].split(" ")[0]: r[-1] for r in rows(text)}
    assert marks == {"x": "-", "pre": "N", "inner": "Y", "block": "Y"}


def built_later(lib):
    L = lib.layers
    model = lib.Sequential([L.Dense(2, name="b1"), L.Dense(3, name="b2")], name="built_later")
    model.build((None, 7))
    return model


def with_input_frozen(lib):
    L = lib.layers
    model = lib.Sequential([lib.Input((5,), name="inp"), L.Dense(2, name="f1"), L.Dense(3, name="f2")], name="with_input")
    model.layers[0].trainable = False
    return model


@pytest.mark.parametrize("build", [built_later, with_input_frozen])
@pytest.mark.parametrize("kwargs", [{}, {"show_trainable": True}])
def test_sequential_text_equals_keras(keras, build, kwargs):
    text = assert_same_text(keras, build, **kwargs)
    assert "InputLayer" not in text  # Sequential's layers exclude its input


def test_unbuilt_sequential_text_equals_keras(keras):
    text = assert_same_text(keras, unbuilt)
    assert rows(text) == [["u1 (Dense)", "?", "0 (unbuilt)"], ["u2 (Dense)", "?", "0 (unbuilt)"]]
    assert " Total params: 0 (0.00 B)" in text


def test_subclassed_model_text_equals_keras(keras):
    text = assert_same_text(keras, subclassed, show_trainable=True)
    # Layers called eagerly have no graph node: the shape is the one they were built for.
    assert [r[:3] for r in rows(text)] == [["sub_d1 (Dense)", "(3, 4)", "24"], ["sub_d2 (Dense)", "(3, 2)", "10"]]


def test_batchnorm_non_trainable_params_equal_keras(keras):
    def bn_net(lib):
        L = lib.layers
        x = L.Input((8, 8, 3), name="img")
        y = L.BatchNormalization(name="bn")(L.Conv2D(4, 3, name="conv")(x))
        return lib.Model(x, y, name="bn_net")

    text = assert_same_text(keras, bn_net, show_trainable=True)
    assert " Non-trainable params: 8 (32.00 B)" in text


@pytest.mark.parametrize("layer_range", [["conv2d_2", "conv2d_5"], ["max.*", "dense_1"], ["dense_2", "conv2d_10"]])
def test_layer_range_equals_keras(keras, layer_range):
    text = assert_same_text(keras, fruit, layer_range=layer_range)
    names = [r[0].split(" ")[0] for r in rows(text)]
    assert len(names) < len(POST_TABLE)
    assert " Total params: 10,865,724 (41.45 MB)" in text  # the footer counts the whole model


# ----------------------------------------------------------------------
# Output plumbing and formatting
# ----------------------------------------------------------------------
def test_print_fn_receives_plain_text_once():
    calls = []
    mnist(kerasish).summary(print_fn=lambda *a, **k: calls.append((a, k)))
    assert len(calls) == 1
    (text,), kwargs = calls[0]
    assert kwargs == {} and isinstance(text, str)
    assert "\x1b" not in text and text.endswith("\n")
    assert text.splitlines()[0] == 'Model: "mnist"'


def test_stdout_is_plain_text_when_not_a_terminal():
    model = mnist(kerasish)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        model.summary()
    assert "\x1b" not in buf.getvalue()
    assert buf.getvalue() == summary_text(model)


def test_terminal_output_is_coloured_like_keras(keras, monkeypatch, capsys):
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich then treats stdout as a terminal
    nested(kerasish).summary(expand_nested=True, show_trainable=True)
    ours = capsys.readouterr().out
    nested(keras).summary(expand_nested=True, show_trainable=True)
    theirs = capsys.readouterr().out
    assert "\x1b[" in ours
    assert ours == theirs


def test_default_width_follows_the_console():
    lines = summary_text(mnist(kerasish)).splitlines()
    assert len(lines[1]) == 76  # min(88, 80 - 4), as in Keras
    lines = summary_text(two_towers(kerasish)).splitlines()
    assert len(lines[1]) == 76  # min(108, 80 - 4)


@pytest.mark.parametrize("line_length", [50, 76, 100, 130])
def test_line_length_is_the_table_width(line_length):
    lines = summary_text(two_towers(kerasish), line_length=line_length).splitlines()
    table = [l for l in lines if l[:1] in "┏┃┡│├└"]
    assert table and all(len(l) == line_length for l in table)  # wide tables are not cropped at 80


def test_absolute_positions_equal_fractional_ones():
    model = fruit(kerasish)
    assert summary_text(model, line_length=100, positions=[40, 70, 100]) == summary_text(model, line_length=100, positions=[0.4, 0.7, 1.0])
    lines = summary_text(model, line_length=108, positions=[40, 80, 100], show_trainable=True).splitlines()
    assert len(lines[1]) == 108 and "Trainable" in lines[2]
    # Keras 3 reads [40, 70, 100] as fractions too (40 x line_length) and squashes the table:
    assert summary_text(model, line_length=100, positions=[40, 70, 100]) != summary_text(model, line_length=100, positions=[0.3, 0.5, 1.0])


def test_too_narrow_raises():
    with pytest.raises(ValueError, match="Insufficient console width"):
        summary_text(mnist(kerasish), line_length=10)


def test_too_few_positions_raises():
    with pytest.raises(ValueError, match="positions"):
        summary_text(two_towers(kerasish), positions=[0.4, 0.7, 1.0])  # four columns here


def test_layer_range_errors():
    model = fruit(kerasish)
    with pytest.raises(ValueError, match="layer_range must be a list or tuple of length 2"):
        summary_text(model, layer_range=["conv2d_1"])
    with pytest.raises(ValueError, match="layer_range should contain string type only"):
        summary_text(model, layer_range=[0, 3])
    with pytest.raises(ValueError, match="do not match the layer names"):
        summary_text(model, layer_range=["nope", "dense_1"])
    assert get_layer_index_bound_by_layer_name(model.layers) == [0, len(model.layers)]


@pytest.mark.parametrize("size, text", [(0, "0.00 B"), (1023, "1023.00 B"), (1024, "1.00 KB"), (54408, "53.13 KB"), (43462896, "41.45 MB"), (3 * 1024**3, "3.00 GB")])
def test_readable_memory_size(keras, size, text):
    from keras.src.utils.summary_utils import readable_memory_size as keras_readable

    assert readable_memory_size(size) == text == keras_readable(size)
    assert readable_memory_size(2 * 1024**6) == keras_readable(2 * 1024**6)  # Keras's quirk above 1024 PB kept


def test_weights_are_sized_by_their_dtype(keras):
    def mixed(lib):
        class Mixed(lib.layers.Layer):
            def build(self, input_shape):
                self.wide = self.add_weight(shape=(5,), dtype="float64", name="w64")
                self.narrow = self.add_weight(shape=(3, 2), dtype="float16", name="w16")
                self.counter = self.add_weight(shape=(), dtype="int64", initializer="zeros", trainable=False, name="step")

            def call(self, x):
                return x

        x = lib.layers.Input((4,), name="x")
        return lib.Model(x, Mixed(name="mixed")(x), name="dtypes")

    text = assert_same_text(keras, mixed, show_trainable=True)
    assert " Trainable params: 11 (52.00 B)" in text  # 5 x 8 bytes + 6 x 2 bytes
    assert " Non-trainable params: 1 (8.00 B)" in text
