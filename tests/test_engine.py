"""The symbolic graph, functional / Sequential models and their translation
into native torch modules."""

import json

import numpy as np
import pytest
import torch
from torch import nn

import kerasish
from kerasish import Input, Model, Sequential
from kerasish.layers import Conv2D, Dense, Flatten, InputLayer, MaxPool2D, MaxPooling2D

from conftest import assert_close_f32, to_numpy
from seed_networks import FRUIT_PARAMS, fruit_classifier, mnist_cnn


def small_cnn(name=None):
    x0 = Input((12, 12, 3))
    x = Conv2D(4, 3, padding="same", activation="relu")(x0)
    x = MaxPool2D()(x)
    x = Flatten()(x)
    out = Dense(5, activation="softmax")(x)
    return Model(x0, out, name=name)


# ----------------------------------------------------------------------------
# Symbolic tensors, names
# ----------------------------------------------------------------------------
def test_input_shape_and_name():
    kerasish.clear_session()
    x = Input((100, 100, 3))
    assert x.shape == (None, 100, 100, 3)
    assert x._keras_history.layer.name == "input_layer"
    assert Input((3,), batch_size=8).shape == (8, 3)
    assert Input(shape=(5,))._keras_history.layer.name == "input_layer_2"


def test_auto_names_follow_keras():
    kerasish.clear_session()
    a, b = Conv2D(2, 3), Conv2D(2, 3)
    assert (a.name, b.name) == ("conv2d", "conv2d_1")
    assert MaxPooling2D().name == "max_pooling2d"
    assert MaxPool2D is MaxPooling2D
    m1, m2 = small_cnn(), small_cnn()
    assert (m1.name, m2.name) == ("functional", "functional_1")
    assert Sequential().name == "sequential"
    assert Dense(3, name="head").name == "head"


def test_duplicate_names_rejected():
    x = Input((4,))
    y = Dense(3, name="same")(x)
    y = Dense(3, name="same")(y)
    with pytest.raises(ValueError, match="same"):
        Model(x, y)


# ----------------------------------------------------------------------------
# Functional models
# ----------------------------------------------------------------------------
def test_functional_layers_and_introspection():
    kerasish.clear_session()
    m = small_cnn()
    assert [l.name for l in m.layers] == ["input_layer", "conv2d", "max_pooling2d", "flatten", "dense"]
    assert isinstance(m.layers[0], InputLayer)
    assert m.get_layer("conv2d").output.shape == (None, 12, 12, 4)
    assert m.get_layer(index=3).name == "flatten"
    assert m.get_layer("flatten").input.shape == (None, 6, 6, 4)
    assert m.inputs[0].shape == (None, 12, 12, 3) and m.outputs[0].shape == (None, 5)
    assert m.input_shape == (None, 12, 12, 3) and m.output_shape == (None, 5)
    with pytest.raises(ValueError, match="No such layer: 'nope'"):
        m.get_layer("nope")
    with pytest.raises(ValueError, match="index 9"):
        m.get_layer(index=9)


def test_multiple_inputs_and_outputs_lists_and_dicts():
    a = Input((4,), name="a")
    b = Input((6,), name="b")
    h = kerasish.layers.Dense(3)(a)
    g = kerasish.layers.Dense(3)(b)
    out1 = kerasish.layers.Dense(2, name="o1")(h)
    out2 = kerasish.layers.Dense(1, name="o2")(g)
    m = Model([a, b], [out1, out2])
    xa, xb = np.random.rand(5, 4), np.random.rand(5, 6)
    y1, y2 = m([xa, xb])
    assert tuple(y1.shape) == (5, 2) and tuple(y2.shape) == (5, 1)
    z1, z2 = m(torch.tensor(xa, dtype=torch.float32), torch.tensor(xb, dtype=torch.float32))
    assert torch.allclose(y1, z1)
    w1, w2 = m({"a": xa, "b": xb})
    assert torch.allclose(y2, w2)
    md = Model({"a": a, "b": b}, {"first": out1, "second": out2})
    out = md({"a": xa, "b": xb})
    assert set(out) == {"first", "second"}
    assert torch.allclose(out["first"], y1)
    with pytest.raises(ValueError, match="expects 2 input"):
        m(xa)


def test_nested_models_and_state_dict_keys():
    kerasish.clear_session()
    inner = Sequential([Dense(4, activation="relu", input_shape=(3,)), Dense(2)], name="block")
    x = Input((3,))
    y = inner(x)
    y = Dense(1, name="head")(y)
    outer = Model(x, y)
    assert y.shape == (None, 1)
    keys = list(outer.state_dict())
    assert keys == ["block.dense.weight", "block.dense.bias", "block.dense_1.weight", "block.dense_1.bias", "head.weight", "head.bias"]
    data = np.random.rand(7, 3).astype("float32")
    expected = outer.get_layer("head")(inner(data))
    np.testing.assert_allclose(to_numpy(outer(data)), to_numpy(expected), atol=1e-6)
    # a functional model nested twice (shared weights)
    x2 = Input((3,))
    twice = Model(x2, [inner(x2), inner(x2)])
    p, q = twice(data)
    assert torch.equal(p, q)


def test_state_dict_and_print_show_native_modules():
    kerasish.clear_session()
    m = small_cnn()
    assert list(m.state_dict()) == ["conv2d.weight", "conv2d.bias", "dense.weight", "dense.bias"]
    assert isinstance(m.conv2d, nn.Conv2d) and isinstance(m.dense, nn.Linear)
    assert isinstance(m.max_pooling2d, nn.MaxPool2d)
    text = repr(m)
    assert "(conv2d): Conv2d(3, 4, kernel_size=(3, 3)" in text and "(dense): Linear(in_features=144, out_features=5" in text


def test_layer_named_like_a_model_attribute():
    x = Input((3,))
    m = Model(x, Dense(2, name="output")(x))
    assert "output.weight" in m.state_dict()
    assert m.output.shape == (None, 2)


def test_images_stay_channels_last_in_memory_inside_the_model():
    kerasish.clear_session()
    m = small_cnn()
    seen = {}

    def hook(module, args):
        seen["cl"] = args[0].is_contiguous(memory_format=torch.channels_last)

    m.conv2d.register_forward_pre_hook(hook)
    m(np.random.rand(2, 12, 12, 3))
    assert seen["cl"] is True


def test_eager_calls_on_numpy_and_torch():
    conv = Conv2D(8, 3)
    y = conv(np.zeros((1, 28, 28, 1)))
    assert isinstance(y, torch.Tensor) and tuple(y.shape) == (1, 26, 26, 8)
    m = small_cnn()
    out = m(np.random.rand(3, 12, 12, 3))
    assert tuple(out.shape) == (3, 5)
    np.testing.assert_allclose(to_numpy(out).sum(1), 1.0, atol=1e-5)


# ----------------------------------------------------------------------------
# Sequential
# ----------------------------------------------------------------------------
def test_sequential_ways_to_give_the_input():
    kerasish.clear_session()
    a = Sequential([Conv2D(8, 3, input_shape=(28, 28, 1), use_bias=False), MaxPooling2D(pool_size=2), Flatten(), Dense(10, activation="softmax")])
    assert a.built and a.output_shape == (None, 10) and a.count_params() == 72 + 13530
    assert [l.name for l in a.layers] == ["conv2d", "max_pooling2d", "flatten", "dense"]
    b = Sequential([Input((28, 28, 1)), Conv2D(8, 3), Flatten()])
    assert b.output_shape == (None, 26 * 26 * 8)
    c = Sequential()
    c.add(Dense(4, input_shape=(3,)))
    c.add(Dense(2))
    assert c.output_shape == (None, 2) and len(c.layers) == 2
    d = Sequential([Dense(4), Dense(2)])
    assert not d.built
    with pytest.raises(ValueError, match="not been built"):
        d.output_shape
    out = d(np.zeros((5, 3)))
    assert tuple(out.shape) == (5, 2) and d.built and d.input_shape == (None, 3)
    e = Sequential([Dense(4), Dense(2)])
    e.build((None, 6))
    assert e.count_params() == 6 * 4 + 4 + 4 * 2 + 2
    popped = c.pop()
    assert popped.name and c.output_shape == (None, 4)


@pytest.mark.slow
def test_sequential_in_plain_torch_loop_and_compile():
    torch.manual_seed(0)
    model = Sequential([Conv2D(4, 3, input_shape=(8, 8, 1), activation="relu"), Flatten(), Dense(3)])
    x = torch.rand(16, 8, 8, 1)
    y = torch.randint(0, 3, (16,))
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for _ in range(30):
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] * 0.7
    model.eval()
    expected = model(x)
    compiled = torch.compile(model)
    torch.testing.assert_close(compiled(x), expected, atol=1e-5, rtol=1e-5)
    exported = torch.export.export(model, (x,))
    torch.testing.assert_close(exported.module()(x), expected, atol=1e-5, rtol=1e-5)


# ----------------------------------------------------------------------------
# Weights
# ----------------------------------------------------------------------------
def test_weights_in_keras_layout_and_round_trip():
    kerasish.clear_session()
    m = small_cnn()
    shapes = [w.shape for w in m.get_weights()]
    assert shapes == [(3, 3, 3, 4), (4,), (144, 5), (5,)]
    assert [w.path for w in m.weights] == [f"{m.layers[1].name}/kernel", f"{m.layers[1].name}/bias", f"{m.layers[4].name}/kernel", f"{m.layers[4].name}/bias"]
    new = [np.random.rand(*s).astype("float32") for s in shapes]
    m.set_weights(new)
    for a, b in zip(m.get_weights(), new):
        np.testing.assert_array_equal(a, b)
    # the torch side holds the same numbers in torch layout
    np.testing.assert_array_equal(m.conv2d.weight.detach().numpy(), new[0].transpose(3, 2, 0, 1))
    np.testing.assert_array_equal(m.dense.weight.detach().numpy(), new[2].T)


def test_set_weights_mismatch_leaves_weights_untouched():
    m = small_cnn()
    before = m.get_weights()
    bad = [np.zeros(w.shape) for w in before]
    bad[2] = np.zeros((5, 144))
    with pytest.raises(ValueError, match=r"kernel.*\(144, 5\).*\(5, 144\)"):
        m.set_weights(bad)
    for a, b in zip(m.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="expects 2 weights"):
        m.layers[1].set_weights([before[0]])


def test_trainable_false_freezes():
    kerasish.clear_session()
    m = small_cnn()
    conv = m.layers[1]
    conv.trainable = False
    assert conv.trainable_weights == [] and len(conv.non_trainable_weights) == 2
    assert not m.conv2d.weight.requires_grad
    assert len(m.trainable_weights) == 2 and len(m.non_trainable_weights) == 2
    m.trainable = False
    assert m.trainable_weights == [] and not m.dense.weight.requires_grad
    m.trainable = True
    assert len(m.trainable_weights) == 4 and m.conv2d.weight.requires_grad
    assert m.count_params() == 3 * 3 * 3 * 4 + 4 + 144 * 5 + 5


def test_count_params_unbuilt_raises():
    with pytest.raises(ValueError, match="isn't built"):
        Dense(3).count_params()


# ----------------------------------------------------------------------------
# Config round trips
# ----------------------------------------------------------------------------
def test_functional_config_round_trip():
    m = small_cnn(name="rt")
    cfg = m.get_config()
    json.dumps(cfg)
    clone = Model.from_config(cfg)
    assert clone.name == "rt" and [l.name for l in clone.layers] == [l.name for l in m.layers]
    clone.set_weights(m.get_weights())
    x = np.random.rand(2, 12, 12, 3)
    np.testing.assert_allclose(to_numpy(clone(x)), to_numpy(m(x)), atol=1e-6)
    assert clone.get_config() == cfg


def test_branching_config_round_trip():
    x = Input((6,))
    a = Dense(4, name="a")(x)
    b = Dense(4, name="b")(x)
    s = kerasish.layers.Dense(2, name="c")(a)
    t = kerasish.layers.Dense(2, name="d")(b)
    m = Model(x, [s, t], name="branchy")
    clone = Model.from_config(json.loads(json.dumps(m.get_config())))
    clone.set_weights(m.get_weights())
    data = np.random.rand(3, 6)
    for p, q in zip(clone(data), m(data)):
        torch.testing.assert_close(p, q)


def test_sequential_config_round_trip():
    m = Sequential([Conv2D(8, 3, input_shape=(28, 28, 1), use_bias=False), MaxPooling2D(2), Flatten(), Dense(10, activation="softmax")], name="seq_rt")
    cfg = json.loads(json.dumps(m.get_config()))
    clone = Sequential.from_config(cfg)
    assert clone.output_shape == (None, 10) and clone.name == "seq_rt"
    clone.set_weights(m.get_weights())
    x = np.random.rand(2, 28, 28, 1)
    np.testing.assert_allclose(to_numpy(clone(x)), to_numpy(m(x)), atol=1e-6)


# ----------------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------------
def test_wrong_input_to_model_names_model_and_shapes():
    m = small_cnn(name="cnn")
    with pytest.raises(ValueError, match=r"model 'cnn'.*\(None, 12, 12, 3\).*\(2, 12, 12\)"):
        m(np.zeros((2, 12, 12)))
    with pytest.raises(ValueError, match="channels_first"):
        m(np.zeros((2, 3, 12, 12)))


def test_graph_errors():
    with pytest.raises(ValueError, match="Conv2D"):
        Conv2D(4, 3)(Input((10,)))
    with pytest.raises(ValueError, match="larger than the input"):
        Conv2D(4, 5)(Input((3, 3, 1)))
    a, b = Input((3,)), Input((3,))
    y = Dense(2)(b)
    with pytest.raises(ValueError, match="disconnected"):
        Model(a, y)
    x = Input((3,))
    h = Dense(2)(x)
    with pytest.raises(ValueError, match="Input"):
        Model(h, Dense(1)(h))
    with pytest.raises(ValueError, match="padding"):
        Conv2D(4, 3, padding="middle")
    with pytest.raises(ValueError, match="units"):
        Dense(0)
    with pytest.raises(ValueError, match="Unrecognized keyword"):
        Dense(3, foo=1)


# ----------------------------------------------------------------------------
# Parity with Keras on whole seed networks
# ----------------------------------------------------------------------------
def test_seed_001_fruit_network_matches_keras(keras):
    km = fruit_classifier(keras)
    om = fruit_classifier(kerasish)
    assert om.count_params() == km.count_params() == FRUIT_PARAMS
    assert [tuple(l.output.shape) for l in om.layers] == [tuple(l.output.shape) for l in km.layers]
    om.set_weights(km.get_weights())
    x = np.random.rand(2, 100, 100, 3).astype("float32")
    # 13 chained layers; the longest sum is the Dense layer's 6x6x256 flattened inputs
    assert_close_f32(om(x), keras.ops.convert_to_numpy(km(x)), terms=6 * 6 * 256, depth=13)


def test_seed_000_mnist_network_matches_keras(keras):
    km = mnist_cnn(keras)
    om = mnist_cnn(kerasish)
    assert om.count_params() == km.count_params() == 13_602
    om.set_weights(km.get_weights())
    x = np.random.rand(3, 28, 28, 1).astype("float32")
    assert_close_f32(om(x), keras.ops.convert_to_numpy(km(x)), terms=13 * 13 * 8, depth=2)


def test_configs_interchange_with_keras(keras):
    """A Keras 3 config builds the same model here, and ours builds in Keras."""
    a = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, strides=2, padding="same", activation="relu")(a)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Flatten()(x)
    km = keras.Model(a, keras.layers.Dense(3, activation="softmax")(x))
    om = Model.from_config(json.loads(json.dumps(km.get_config())))
    assert [l.name for l in om.layers] == [l.name for l in km.layers]
    om.set_weights(km.get_weights())
    data = np.random.rand(2, 8, 8, 3).astype("float32")
    assert_close_f32(om(data), keras.ops.convert_to_numpy(km(data)), terms=data[0].size)
    back = keras.Model.from_config(json.loads(json.dumps(om.get_config())))
    back.set_weights(om.get_weights())
    assert_close_f32(keras.ops.convert_to_numpy(back(data)), om(data), terms=data[0].size)

    ks = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(8, 3, use_bias=False), keras.layers.MaxPooling2D(2), keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])
    os_ = Sequential.from_config(json.loads(json.dumps(ks.get_config())))
    os_.set_weights(ks.get_weights())
    digits = np.random.rand(2, 28, 28, 1).astype("float32")
    assert_close_f32(os_(digits), keras.ops.convert_to_numpy(ks(digits)), terms=13 * 13 * 8, depth=2)
    ks2 = keras.Sequential.from_config(json.loads(json.dumps(os_.get_config())))
    assert ks2.count_params() == os_.count_params() == 13_602


def test_regularization_losses_collected_by_model(keras):
    def make(L, M, I, R):
        x = I((6, 6, 2))
        y = L.Conv2D(3, 3, kernel_regularizer=R.l2(0.01), bias_regularizer=R.l1(0.1), name="c")(x)
        y = L.Flatten(name="f")(y)
        return M(x, L.Dense(2, kernel_regularizer=R.L1L2(l1=0.01, l2=0.02), name="d")(y))

    km = make(keras.layers, keras.Model, keras.Input, keras.regularizers)
    om = make(kerasish.layers, kerasish.Model, kerasish.Input, kerasish.regularizers)
    weights = [w + 0.1 for w in km.get_weights()]
    km.set_weights(weights)
    om.set_weights(weights)
    ours = sum(float(l) for l in om.losses)
    theirs = sum(float(keras.ops.convert_to_numpy(l)) for l in km.losses)
    assert len(om.losses) == len(km.losses) == 3
    assert ours == pytest.approx(theirs, rel=1e-5)


def test_backend_helpers():
    assert kerasish.backend.image_data_format() == "channels_last"
    kerasish.backend.clear_session()
    assert Dense(2).name == "dense"


def test_arithmetic_on_symbolic_tensors():
    x = Input((3,))
    y = Dense(3)(x)
    z = -(1 - ((y + x) * 2 - 1) / 4) + y**2
    m = Model(x, z)
    d = np.random.rand(2, 3).astype("float32")
    Y = to_numpy(m.layers[1](d))
    np.testing.assert_allclose(to_numpy(m(d)), -(1 - ((Y + d) * 2 - 1) / 4) + Y**2, rtol=1e-6)
    clone = Model.from_config(json.loads(json.dumps(m.get_config())))
    clone.set_weights(m.get_weights())
    np.testing.assert_allclose(to_numpy(clone(d)), to_numpy(m(d)), rtol=1e-6)
    with pytest.raises(TypeError, match="Lambda"):
        y / x


def test_layer_call_on_lists_of_arrays():
    from kerasish.layers import Add

    out = Add()([np.ones((2, 2)), np.full((2, 2), 2.0)])
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
    np.testing.assert_array_equal(to_numpy(out), np.full((2, 2), 3.0))


def test_lambda_in_model_config_needs_safe_mode_off():
    from kerasish.layers import Lambda

    x = Input((3,))
    m = Model(x, Lambda(lambda t: t * 3.0)(Dense(2)(x)))
    cfg = json.loads(json.dumps(m.get_config()))
    with pytest.raises(ValueError, match="safe_mode"):
        Model.from_config(cfg)
    clone = Model.from_config(cfg, safe_mode=False)
    clone.set_weights(m.get_weights())
    d = np.random.rand(2, 3)
    torch.testing.assert_close(clone(d), m(d))


def test_layer_state_dict_has_no_duplicate_keys():
    from kerasish.layers import BatchNormalization

    conv = Conv2D(2, 3)
    conv(np.zeros((1, 5, 5, 1)))
    assert list(conv.state_dict()) == ["module.weight", "module.bias"]
    bn = BatchNormalization()
    bn(np.zeros((2, 3)))
    assert sorted(bn.state_dict()) == sorted(f"module.{k}" for k in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked"))


def test_device_cache_follows_moves():
    kerasish.clear_session()
    m = small_cnn()
    x = np.random.rand(2, 12, 12, 3)
    y = m(x)
    assert m._device() == torch.device("cpu")
    m.to(torch.float64)
    assert m.conv2d.weight.dtype == torch.float64
    m.to(torch.float32)
    torch.testing.assert_close(m(x), y)


def test_graph_drops_each_activation_after_its_last_use():
    # A hand-written forward frees an activation when its variable is rebound;
    # the translated graph must not hold every activation of the batch until
    # the end (memory, and the allocator's page faults on the next batch).
    import weakref

    from kerasish import layers as L

    seen = {}

    class Tag(L.Layer):
        """Passes a copy through and remembers it weakly under its name."""

        def call(self, x):
            y = x * 1.0
            seen[self.name] = weakref.ref(y)
            return y

    class Check(L.Layer):
        """Records which tagged tensors are still alive when it runs."""

        def call(self, x):
            seen[self.name] = sorted(k for k, r in list(seen.items()) if isinstance(r, weakref.ref) and r() is not None)
            return x + 0.0

    inp = Input((4,))
    a = Tag(name="a")(inp)
    b = Tag(name="b")(a)
    branch = Tag(name="c")(a)  # `a` is read twice: it lives until `c` has run
    d = Check(name="check_1")(L.Add()([b, branch]))
    out = Check(name="check_2")(Tag(name="e")(d))
    model = Model(inp, [out, b])  # `b` is a model output: never dropped
    x = np.ones((2, 4), "float32")
    with torch.no_grad():
        res = model(torch.from_numpy(x))
    assert seen["check_1"] == ["b"]  # `a` was dropped after `c`, `c` after Add
    assert seen["check_2"] == ["b", "e"]  # `e` is check_2's own input
    np.testing.assert_allclose(res[0].numpy(), 2 * x)
    np.testing.assert_allclose(model.predict(x, verbose=0)[1], x)


# ----------------------------------------------------------------------------
# dtypes: each input in its Input's dtype, each layer with weights fed its own
# ----------------------------------------------------------------------------
def _dense_reference(model, x):
    """The model's Dense stack (ReLU between, none at the end) in float64 numpy."""
    for layer in model.layers:
        if isinstance(layer, Dense):
            kernel, bias = (w.astype(np.float64) for w in layer.get_weights())
            x = x @ kernel + bias
            if layer is not model.layers[-1]:
                x = np.maximum(x, 0)
    return x


def test_a_float64_model_computes_in_float64_from_call_to_predict():
    x0 = Input((4,), dtype="float64")
    out = Dense(3, dtype="float64")(Dense(8, activation="relu", dtype="float64")(x0))
    model = Model(x0, out)
    x = np.random.default_rng(0).standard_normal((10, 4))  # float64
    y = model(x)
    assert y.dtype == torch.float64
    # unrounded: float32 anywhere on the way would miss by ~1e-7
    np.testing.assert_allclose(to_numpy(y), _dense_reference(model, x), rtol=0, atol=1e-12)
    got = model.predict(x, batch_size=4, verbose=0)
    assert got.dtype == np.float64 and model.predict_on_batch(x).dtype == np.float64
    # predict reads its data as Keras does (float64 arrays as float32, then the Input's dtype)
    np.testing.assert_allclose(got, _dense_reference(model, x.astype(np.float32).astype(np.float64)), rtol=0, atol=1e-12)
    model.compile("adam", "mse")
    history = model.fit(x, np.zeros((10, 3)), epochs=2, verbose=0).history
    assert len(history["loss"]) == 2 and np.isfinite(history["loss"]).all()
    assert np.isfinite(model.evaluate(x, np.zeros((10, 3)), verbose=0))


@pytest.mark.parametrize("first, second", [("float32", "float64"), ("float64", "float32")])
def test_a_layer_casts_floats_of_another_dtype_to_its_own(first, second):
    # Keras casts a layer's floating inputs to its dtype; torch would refuse
    # to multiply a float32 batch by float64 weights
    x0 = Input((4,), dtype=first)
    out = Dense(3, dtype=second)(Dense(8, activation="relu", dtype=first)(x0))
    model = Model(x0, out)
    x = np.random.default_rng(1).standard_normal((6, 4)).astype(first)
    y = model(x)
    assert y.dtype == getattr(torch, second) and model.predict(x, verbose=0).dtype == np.dtype(second)
    np.testing.assert_allclose(to_numpy(y), _dense_reference(model, x.astype(np.float64)), rtol=1e-5, atol=1e-5)
    model.compile("sgd", "mse")
    model.fit(x, np.zeros((6, 3), second), epochs=1, verbose=0)
    assert all(p.grad is None or torch.isfinite(p.grad).all() for p in model.parameters())


def test_inputs_of_another_float_dtype_are_cast_to_the_input_dtype():
    model = small_cnn()
    x = np.random.default_rng(2).random((2, 12, 12, 3)).astype("float32")
    ref = to_numpy(model(x))
    for data in (torch.from_numpy(x).half(), torch.from_numpy(x).double(), (x * 255).astype("uint8")):
        y = model(data)
        assert y.dtype == torch.float32
        if data.dtype == torch.float64:
            np.testing.assert_allclose(to_numpy(y), ref, rtol=1e-6, atol=1e-7)
    assert model.predict(torch.from_numpy(x).half(), verbose=0).dtype == np.float32


def test_torch_to_float64_moves_the_whole_model_to_float64():
    # torch's model.to(torch.float64): the layers take their weights' dtype,
    # the inputs follow, and training goes on (optimizer state follows too)
    model = small_cnn()
    x = np.random.default_rng(3).random((4, 12, 12, 3))
    y32 = model(x)
    labels = np.arange(4) % 5
    model.compile("adam", "sparse_categorical_crossentropy")  # the trainer's logits steps exist before the move
    model.fit(x, labels, epochs=1, verbose=0)
    y32 = model(x)
    model.to(torch.float64)
    y = model(x)
    assert y.dtype == torch.float64 and model.predict(x, verbose=0).dtype == np.float64
    assert_close_f32(y32, y, terms=x[0].size)  # float32's rounding against float64
    assert model.layers[1].get_config()["dtype"]["config"]["name"] == "float64"
    history = model.fit(x, labels, epochs=2, verbose=0).history
    assert np.isfinite(history["loss"]).all()
    assert {v.numpy().dtype for v in model.optimizer.variables[2:]} == {np.dtype("float64")}  # the Adam slots
    model.to(torch.float32)
    assert model(x).dtype == torch.float32 and model.predict(x, verbose=0).dtype == np.float32
