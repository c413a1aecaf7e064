"""Model semantics the keras.io guides rely on, against Keras 3 where it is
deterministic (shapes, parameter counts, configs):

1. a ``Model`` subclass given ``(inputs, outputs)`` is a functional model with
   the subclass's methods, and its config round-trips;
2. a ``Sequential`` without an input shape builds later (``build``, first call),
   and takes a built model's input shape when that model comes first;
3. ``add`` / ``pop`` after ``compile`` leave nothing derived from the old graph;
4. a layer called on several tensors (positional, ``mask=``) in a graph;
5. data one axis off its ``Input``'s rank, as Keras's Functional takes it;
6. ``from_config(config, custom_objects=...)`` for custom layers without a name
   in their config.
"""

import numpy as np
import pytest
import torch

import kerasish
from conftest import assert_close_f32, to_numpy
from guide_utils import custom_dense_class
from kerasish.models.functional import Functional


@pytest.fixture(autouse=True)
def _fixed_console(monkeypatch):
    # Both libraries size the summary from the terminal: fix it at 80 columns.
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("LINES", "24")


def summary_rows(model):
    """The summary's data rows (name column left out: auto names differ) and footer."""
    out = []
    model.summary(print_fn=out.append)
    text = out[0]
    body = text.split("┡", 1)[1]
    rows = [[c.strip() for c in line.strip("│").split("│")][1:] for line in body.splitlines() if line.startswith("│")]
    footer = [line for line in text.splitlines() if "params:" in line]
    return rows, footer


def copy_weights(ours, theirs):
    ours.set_weights([to_numpy(w) for w in theirs.get_weights()])


# ----------------------------------------------------------------------
# 1. A Model subclass in functional form
# ----------------------------------------------------------------------
def _subclass_classes(lib):
    class CustomModel(lib.Model):
        def train_step(self, data):
            self.steps_seen = getattr(self, "steps_seen", 0) + 1
            return super().train_step(data)

    class WithInit(lib.Model):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.extra = "set in __init__"

    return CustomModel, WithInit


def _small_graph(lib):
    inputs = lib.Input(shape=(32,))
    x = lib.layers.Dense(8, activation="relu")(inputs)
    return inputs, lib.layers.Dense(1)(x)


def test_model_subclass_with_inputs_and_outputs_is_functional(keras):
    CustomModel, WithInit = _subclass_classes(kerasish)
    KCustomModel, _ = _subclass_classes(keras)
    model = CustomModel(*_small_graph(kerasish))
    kmodel = KCustomModel(*_small_graph(keras))
    assert isinstance(model, Functional) and isinstance(model, CustomModel)
    assert type(model).train_step is CustomModel.train_step  # the subclass's methods stay
    assert model.output_shape == tuple(kmodel.output_shape) == (None, 1)
    assert model.count_params() == kmodel.count_params()
    assert [type(l).__name__ for l in model.layers] == [type(l).__name__ for l in kmodel.layers]
    x = np.random.default_rng(0).random((4, 32)).astype("float32")
    copy_weights(model, kmodel)
    assert_close_f32(model(x), to_numpy(kmodel(x)), terms=32, depth=2)

    # Its own __init__(*args, **kwargs), positional or keyword, runs.
    for args, kwargs in [(_small_graph(kerasish), {}), ((), dict(zip(("inputs", "outputs"), _small_graph(kerasish))))]:
        m = WithInit(*args, name="with_init", **kwargs) if args else WithInit(name="with_init", **kwargs)
        assert isinstance(m, Functional) and m.extra == "set in __init__" and m.output_shape == (None, 1)
        assert m.name == "with_init"


def test_functional_subclass_fit_runs_its_train_step():
    CustomModel, _ = _subclass_classes(kerasish)
    model = CustomModel(*_small_graph(kerasish))
    model.compile(optimizer="sgd", loss="mse")
    rng = np.random.default_rng(1)
    model.fit(rng.random((16, 32)).astype("float32"), rng.random((16, 1)).astype("float32"), batch_size=8, epochs=1, verbose=0)
    assert model.steps_seen == 2


def test_functional_subclass_config_round_trip(keras):
    _, WithInit = _subclass_classes(kerasish)
    _, KWithInit = _subclass_classes(keras)
    model = WithInit(*_small_graph(kerasish), name="sub")
    kmodel = KWithInit(*_small_graph(keras), name="sub")
    config, kconfig = model.get_config(), kmodel.get_config()
    assert set(config) == set(kconfig) >= {"layers", "input_layers", "output_layers"}
    assert [l["class_name"] for l in config["layers"]] == [l["class_name"] for l in kconfig["layers"]]

    clone = WithInit.from_config(config)
    assert type(clone) is WithInit and isinstance(clone, Functional)
    assert clone.extra == "set in __init__"  # revived through the subclass's constructor
    assert clone.name == "sub" and clone.output_shape == (None, 1) and clone.count_params() == model.count_params()
    assert [type(l).__name__ for l in clone.layers] == [type(l).__name__ for l in model.layers]
    # Keras's config of the same subclass revives here too.
    revived = WithInit.from_config(kconfig)
    assert type(revived) is WithInit and revived.count_params() == kmodel.count_params()


def test_model_with_only_inputs_is_refused():
    inputs, _ = _small_graph(kerasish)
    with pytest.raises(TypeError, match="inputs"):
        kerasish.Model(inputs=inputs)


# ----------------------------------------------------------------------
# 2. Sequential built later
# ----------------------------------------------------------------------
def test_sequential_built_by_build_matches_keras(keras):
    def make(lib):
        m = lib.Sequential(name="late")
        m.add(lib.layers.Dense(8, activation="relu"))
        m.add(lib.layers.Dense(2))
        return m

    model, kmodel = make(kerasish), make(keras)
    assert not model.built
    with pytest.raises(ValueError, match="not been built"):
        model.output_shape  # noqa: B018
    model.build((None, 16))
    kmodel.build((None, 16))
    assert model.built and isinstance(model.inputs[0], kerasish.KerasTensor)
    assert model.output_shape == tuple(kmodel.output_shape) == (None, 2)
    assert model.count_params() == kmodel.count_params() == 154
    assert [tuple(w.shape) for w in model.weights] == [tuple(w.shape) for w in kmodel.weights]
    assert len(model._program.steps) == 2 and list(dict(model.named_children())) == [l.name for l in model.layers]
    assert summary_rows(model) == summary_rows(kmodel)
    x = np.random.default_rng(0).random((3, 16)).astype("float32")
    copy_weights(model, kmodel)
    assert_close_f32(model(x), to_numpy(kmodel(x)), terms=16, depth=2)


def test_sequential_built_on_first_call(keras):
    model = kerasish.Sequential([kerasish.layers.Dense(8, activation="relu"), kerasish.layers.Dense(2)])
    kmodel = keras.Sequential([keras.layers.Dense(8, activation="relu"), keras.layers.Dense(2)])
    x = np.random.default_rng(0).random((3, 16)).astype("float32")
    kout = to_numpy(kmodel(x))
    y = model(x)
    assert model.built and tuple(y.shape) == kout.shape == (3, 2)
    # The batch axis stays unknown (Keras keeps the first batch's size: docs/differences.md).
    assert model.input_shape == (None, 16) and model.output_shape == (None, 2)
    assert model.count_params() == kmodel.count_params()
    assert [o.name for o in model.outputs] and model.output_names == [model.layers[-1].name]
    copy_weights(model, kmodel)
    assert_close_f32(model(x), kout, terms=16, depth=2)
    assert tuple(model(np.zeros((5, 16), "float32")).shape) == (5, 2)  # any batch size afterwards


def test_sequential_built_on_integer_data_takes_an_integer_input():
    class OneHot(kerasish.layers.Layer):
        def call(self, inputs):
            assert not inputs.is_floating_point(), "token ids arrive as integers"
            return torch.nn.functional.one_hot(inputs.long(), 5).float()

    model = kerasish.Sequential([OneHot(), kerasish.layers.Flatten()])
    ids = np.array([[1, 2, 4], [0, 0, 3]])
    y = model(ids)
    assert tuple(y.shape) == (2, 15) and model.inputs[0].dtype == "int64"
    np.testing.assert_array_equal(to_numpy(y).reshape(2, 3, 5).argmax(-1), ids)


def test_sequential_starting_with_a_built_model_takes_its_input_shape(keras):
    def make(lib):
        x = lib.Input((8,))
        base = lib.Model(x, lib.layers.Dense(4, activation="relu")(x), name="base")
        return lib.Sequential([base, lib.layers.Dense(2)], name="head")

    model, kmodel = make(kerasish), make(keras)
    assert model.built and kmodel.built
    assert model.input_shape == tuple(kmodel.input_shape) == (None, 8)
    assert model.output_shape == tuple(kmodel.output_shape) == (None, 2)
    assert model.count_params() == kmodel.count_params() == 46
    assert summary_rows(model) == summary_rows(kmodel)
    x = np.random.default_rng(2).random((3, 8)).astype("float32")
    copy_weights(model, kmodel)
    assert_close_f32(model(x), to_numpy(kmodel(x)), terms=8, depth=2)


def test_sequential_build_refuses_another_shape():
    model = kerasish.Sequential([kerasish.Input((4,)), kerasish.layers.Dense(2)])
    model.build((None, 4))  # the same shape: nothing to do
    with pytest.raises(ValueError, match="input shape"):
        model.build((None, 5))
    with pytest.raises(ValueError, match="one input"):
        kerasish.Sequential([kerasish.layers.Dense(2)]).build([(None, 4), (None, 4)])


# ----------------------------------------------------------------------
# 3. add / pop after compile: nothing stale
# ----------------------------------------------------------------------
def test_add_and_pop_after_compile_refresh_the_graph():
    model = kerasish.Sequential([kerasish.Input((6,)), kerasish.layers.Dense(4, name="hidden")])
    model.compile(optimizer="sgd", loss="mse")
    version = model._graph_version
    x = np.random.default_rng(0).random((8, 6)).astype("float32")

    model.add(kerasish.layers.Dense(3, activation="softmax", name="head"))
    assert model._graph_version > version
    assert model.output_shape == (None, 3) and model.output_names == ["head"]
    assert [s.layer.name for s in model._program.steps] == ["hidden", "head"]
    assert "head" in dict(model.named_children())
    assert tuple(model(x).shape) == (8, 3)
    logits_steps = model._program_for((model.layers[-1],)).steps
    assert [s.layer for s in logits_steps] == [s.layer for s in model._program.steps]
    assert [s.call is not None for s in logits_steps] == [False, True]  # the head stops before its softmax
    model.fit(x, np.random.default_rng(1).random((8, 3)).astype("float32"), epochs=1, verbose=0)

    popped = model.pop()
    assert popped.name == "head"
    assert model.output_shape == (None, 4) and model.output_names == ["hidden"]
    assert [s.layer.name for s in model._program.steps] == ["hidden"]
    assert "head" not in dict(model.named_children())
    assert model._program_for((popped,)).steps == model._program.steps  # nothing of the old graph
    assert tuple(model(x).shape) == (8, 4)
    model.fit(x, np.random.default_rng(1).random((8, 4)).astype("float32"), epochs=1, verbose=0)

    model.train()  # a rebuild keeps torch's train / eval mode, for the new layer too
    model.add(kerasish.layers.Dropout(0.5, name="drop"))
    assert model.training and all(m.training for m in model.modules())
    model.pop()
    model.eval()

    model.pop()
    assert not model.built and not dict(model.named_children())
    with pytest.raises(ValueError, match="no graph"):
        model._program  # nothing of the old graph can be run
    assert model._outputs_flat is None  # reads as "no graph", like a subclassed model


def test_add_of_an_incompatible_layer_leaves_the_model_as_it_was():
    model = kerasish.Sequential([kerasish.Input((6,)), kerasish.layers.Dense(4)])
    program = model._program
    with pytest.raises(ValueError, match="Sequential model"):
        model.add(kerasish.layers.Conv2D(2, 3))
    assert len(model.layers) == 1 and model._program is program and model.output_shape == (None, 4)


# ----------------------------------------------------------------------
# 4. Layers called on several tensors
# ----------------------------------------------------------------------
def _logistic_endpoint(lib):
    class LogisticEndpoint(lib.layers.Layer):
        def __init__(self, name=None):
            super().__init__(name=name)
            self.loss_fn = lib.losses.BinaryCrossentropy(from_logits=True)

        def call(self, targets, logits, sample_weights=None):
            self.add_loss(self.loss_fn(targets, logits, sample_weights))
            return lib.ops.softmax(logits)

    inputs = lib.Input(shape=(3,), name="inputs")
    targets = lib.Input(shape=(10,), name="targets")
    logits = lib.layers.Dense(10)(inputs)
    predictions = LogisticEndpoint(name="predictions")(targets, logits)
    return LogisticEndpoint, lib.Model(inputs=[inputs, targets], outputs=predictions)


def test_layer_on_two_positional_tensors(keras):
    LogisticEndpoint, model = _logistic_endpoint(kerasish)
    _, kmodel = _logistic_endpoint(keras)
    assert model.output_shape == tuple(kmodel.output_shape) == (None, 10)
    assert model.get_layer("predictions").losses == []  # shape inference adds no loss
    rng = np.random.default_rng(0)
    data = {"inputs": rng.random((3, 3)).astype("float32"), "targets": rng.random((3, 10)).astype("float32")}
    copy_weights(model, kmodel)
    kout = to_numpy(kmodel(data))
    assert_close_f32(model(data), kout, terms=3, depth=2)
    assert len(model.losses) == 1
    assert_close_f32(model.losses[0], to_numpy(kmodel.losses[0]), terms=30, depth=3)

    config = model.get_config()
    node = next(l for l in config["layers"] if l["name"] == "predictions")["inbound_nodes"][0]
    knode = next(l for l in kmodel.get_config()["layers"] if l["name"] == "predictions")["inbound_nodes"][0]
    # (targets, logits): the Input's and the Dense's first call (auto names differ between the libraries)
    assert [a["config"]["keras_history"][1:] for a in node["args"]] == [list(a["config"]["keras_history"][1:]) for a in knode["args"]]
    assert [a["config"]["keras_history"][0] for a in node["args"]][0] == "targets"
    clone = kerasish.Model.from_config(config, custom_objects={"LogisticEndpoint": LogisticEndpoint})
    copy_weights(clone, kmodel)
    assert_close_f32(clone(data), kout, terms=3, depth=2)

    model.compile(optimizer="adam")  # no loss: the layer's add_loss is the loss
    model.fit(data, verbose=0)


def _masked_scale(lib):
    class MaskedScale(lib.layers.Layer):
        def build(self, input_shape):
            self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="scale")

        def call(self, inputs, mask=None):
            return inputs * self.scale * lib.ops.expand_dims(lib.ops.cast(mask, inputs.dtype), -1)

    x = lib.Input((5, 4))
    m = lib.Input((5,), dtype="bool")
    return lib.Model([x, m], MaskedScale()(x, mask=m))


@pytest.mark.filterwarnings("ignore:Layer .masked_scale.:UserWarning")
def test_layer_with_a_tensor_keyword_argument(keras):
    model, kmodel = _masked_scale(kerasish), _masked_scale(keras)
    assert model.output_shape == tuple(kmodel.output_shape) == (None, 5, 4)
    rng = np.random.default_rng(0)
    x = rng.random((2, 5, 4)).astype("float32")
    mask = np.array([[1, 1, 0, 1, 0], [0, 1, 1, 1, 1]], dtype=bool)
    model.layers[-1].set_weights([np.arange(1, 5, dtype="float32")])
    y = to_numpy(model([x, mask]))
    np.testing.assert_allclose(y, x * np.arange(1, 5) * mask[..., None], rtol=1e-6)


def test_builtin_softmax_with_a_mask_tensor_in_a_graph(keras):
    def make(lib):
        x = lib.Input((6,))
        m = lib.Input((6,), dtype="bool")
        return lib.Model([x, m], lib.layers.Softmax()(x, mask=m))

    model, kmodel = make(kerasish), make(keras)
    rng = np.random.default_rng(3)
    x = rng.normal(size=(3, 6)).astype("float32")
    mask = rng.random((3, 6)) > 0.4
    mask[:, 0] = True
    assert_close_f32(model([x, mask]), to_numpy(kmodel([x, mask])))


def _attend(lib):
    class Attend(lib.layers.Layer):
        def build(self, query_shape, value_shape):
            self.proj = self.add_weight(shape=(value_shape[-1], query_shape[-1]), initializer="ones", name="proj")

        def call(self, query, value):
            scores = lib.ops.matmul(query, lib.ops.transpose(lib.ops.matmul(value, self.proj), (0, 2, 1)))
            return lib.ops.matmul(lib.ops.softmax(scores), value)

    q, v = lib.Input((4, 3)), lib.Input((7, 5))
    return lib.Model([q, v], Attend()(q, v))


def test_layer_with_a_build_per_argument(keras):
    model, kmodel = _attend(kerasish), _attend(keras)
    assert model.output_shape == tuple(kmodel.output_shape) == (None, 4, 5)
    assert model.count_params() == kmodel.count_params() == 15
    rng = np.random.default_rng(4)
    q, v = rng.random((2, 4, 3)).astype("float32"), rng.random((2, 7, 5)).astype("float32")
    copy_weights(model, kmodel)
    assert_close_f32(model([q, v]), to_numpy(kmodel([q, v])), terms=15, depth=3)


# ----------------------------------------------------------------------
# 5. Rank adjustment at the model's inputs
# ----------------------------------------------------------------------
def test_missing_trailing_axis_is_added(keras):
    def make(lib):
        x = lib.Input((28, 28, 1))
        return lib.Model(x, lib.layers.Conv2D(2, 3)(x))

    model, kmodel = make(kerasish), make(keras)
    x = np.random.default_rng(0).random((2, 28, 28)).astype("float32")
    copy_weights(model, kmodel)
    kout = to_numpy(kmodel(x))
    got = model(x)
    assert tuple(got.shape) == kout.shape == (2, 26, 26, 2)
    assert_close_f32(got, kout, terms=9)
    assert_close_f32(model(x[..., None]), kout, terms=9)
    # What the trainer checks its data with accepts it too.
    flat = model._flat_model_inputs((torch.as_tensor(x),))
    model._check_inputs(flat)
    assert tuple(flat[0].shape) == (2, 28, 28, 1)


def test_extra_trailing_axis_of_one_is_dropped(keras):
    def make(lib):
        x = lib.Input(())
        return lib.Model(x, lib.layers.Dense(3)(lib.layers.Reshape((1,))(x)))

    model, kmodel = make(kerasish), make(keras)
    x = np.arange(4, dtype="float32").reshape(4, 1)
    copy_weights(model, kmodel)
    kout = to_numpy(kmodel(x))
    assert tuple(model(x).shape) == kout.shape == (4, 3)
    assert_close_f32(model(x), kout)


def test_rank_off_by_more_than_one_axis_is_refused():
    x = kerasish.Input((28, 28, 1))
    model = kerasish.Model(x, kerasish.layers.Flatten()(x))
    with pytest.raises(ValueError, match="expected shape"):
        model(np.zeros((2, 28), "float32"))
    with pytest.raises(ValueError, match="expected shape"):
        model(np.zeros((2, 28, 28, 3), "float32"))


# ----------------------------------------------------------------------
# 6. from_config with custom objects
# ----------------------------------------------------------------------
def test_model_from_config_with_a_custom_layer_without_name(keras):
    CustomDense = custom_dense_class(kerasish)
    inputs = kerasish.Input((4,))
    model = kerasish.Model(inputs, CustomDense(10)(inputs))
    new_model = kerasish.Model.from_config(model.get_config(), custom_objects={"CustomDense": CustomDense})
    assert new_model.output_shape == model.output_shape == (None, 10)
    assert new_model.layers[1].name != model.layers[1].name  # a fresh name, as Keras gives it
    copy_weights(new_model, model)
    x = np.random.default_rng(0).random((2, 4)).astype("float32")
    assert_close_f32(new_model(x), model(x), terms=4)

    # Keras's config of the same model revives here too.
    KCustomDense = custom_dense_class(keras)
    kinputs = keras.Input((4,))
    kmodel = keras.Model(kinputs, KCustomDense(10)(kinputs))
    revived = kerasish.Model.from_config(kmodel.get_config(), custom_objects={"CustomDense": CustomDense})
    copy_weights(revived, kmodel)
    assert_close_f32(revived(x), to_numpy(kmodel(x)), terms=4)


def test_sequential_from_config_with_custom_objects():
    CustomDense = custom_dense_class(kerasish)
    model = kerasish.Sequential([kerasish.Input((4,)), CustomDense(3), kerasish.layers.Dense(2)])
    clone = kerasish.Sequential.from_config(model.get_config(), custom_objects={"CustomDense": CustomDense})
    assert type(clone.layers[0]) is CustomDense and clone.output_shape == (None, 2)
    copy_weights(clone, model)
    x = np.random.default_rng(0).random((2, 4)).astype("float32")
    assert_close_f32(clone(x), model(x), terms=4, depth=2)
    # and through JSON
    json_clone = kerasish.models.model_from_json(model.to_json(), custom_objects={"CustomDense": CustomDense})
    assert json_clone.output_shape == (None, 2) and json_clone.count_params() == model.count_params()


def test_dict_inputs_and_outputs_in_unsorted_key_order_keep_their_shapes():
    """Flat inputs and outputs follow sorted keys (Keras's tree); shapes and
    predictions must still come back under their own keys."""
    b = kerasish.Input((3,), name="b")
    a = kerasish.Input((5,), name="a")
    model = kerasish.Model({"zeta": b, "alpha": a}, {"z": kerasish.layers.Dense(2)(b), "y": kerasish.layers.Dense(7)(a)})
    assert model.input_shape == {"zeta": (None, 3), "alpha": (None, 5)}
    assert model.output_shape == {"z": (None, 2), "y": (None, 7)}
    out = model.predict({"zeta": np.ones((4, 3), "float32"), "alpha": np.ones((4, 5), "float32")}, verbose=0)
    assert list(out) == ["z", "y"] and out["z"].shape == (4, 2) and out["y"].shape == (4, 7)
