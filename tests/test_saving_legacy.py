"""Keras 2's HDF5 files (``.h5``), whole models and weights only, both ways.

Every fixture file is made during the run: by Keras 3 (which still writes the
legacy whole-model ``.h5`` and can write the legacy weights layout), by hand in
Keras 2's exact layout, or by kerasish (and then read back by Keras 3).
"""

import json
import re
import warnings

import h5py
import numpy as np
import pytest

import kerasish
from kerasish import layers as L

from conftest import assert_close_f32, to_numpy
from seed_networks import fruit_classifier as _fruit, mnist_cnn as _mnist


def _kpredict(keras, model, x):
    return keras.ops.convert_to_numpy(model(x))


def _predict(model, x):
    return to_numpy(model(x))


def _assert_same_as_keras(got, expected, x):
    """Keras's and our predictions of the test networks (up to ~10 layers, the
    longest sum bounded by one sample's size)."""
    assert_close_f32(got, expected, terms=np.asarray(x)[0].size, depth=10)


def _quiet_keras_save(model, path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.save(str(path))


# ----------------------------------------------------------------------------
# Networks, written once for both libraries (K is keras or kerasish)
# ----------------------------------------------------------------------------
def _bn_net(K, names=False):
    n = (lambda s: s) if names else (lambda s: None)
    x0 = K.Input((13, 13, 3))  # conv -> 7x7 (odd), pool 'same' -> 4x4
    x = K.layers.Conv2D(6, 3, strides=2, padding="same", name=n("c1"))(x0)
    x = K.layers.BatchNormalization(name=n("bn"))(x)
    x = K.layers.Activation("relu")(x)
    x = K.layers.AveragePooling2D(3, strides=2, padding="same")(x)
    x = K.layers.Flatten()(x)
    x = K.layers.Dense(7, name=n("d1"))(x)
    return K.Model(x0, K.layers.Dense(4, activation="softmax", name=n("d2"))(x))


def _nested_net(K):
    """A Sequential block inside a functional model: its weights are one .h5
    group, all trainable weights first (Keras 2's order), which differs from
    model.weights' order here (a frozen BN, then a BN whose statistics follow
    the next layer's kernel)."""
    block = K.Sequential([
        K.Input((9, 9, 3)), K.layers.BatchNormalization(trainable=False), K.layers.Conv2D(4, 3, padding="same"),
        K.layers.BatchNormalization()], name="block")
    x0 = K.Input((9, 9, 3))
    x = block(x0)
    x = K.layers.GlobalAveragePooling2D()(x)
    return K.Model(x0, K.layers.Dense(3)(x))


def _randomize_bn(model, rng):
    """Non-trivial moving statistics (and gamma / beta), set with set_weights."""
    for layer in _all_layers(model):
        if type(layer).__name__ == "BatchNormalization":
            c = layer.get_weights()[0].shape[0]
            layer.set_weights([
                rng.uniform(0.5, 1.5, c).astype("float32"), rng.normal(0, 0.3, c).astype("float32"),
                rng.normal(0, 0.5, c).astype("float32"), rng.uniform(0.5, 2.0, c).astype("float32"),
            ])


def _all_layers(model):
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from _all_layers(layer)


NETS = {"fruit": (_fruit, 2), "mnist": (_mnist, 3), "bn": (_bn_net, 3), "nested": (_nested_net, 3)}


# ----------------------------------------------------------------------------
# 1. Keras 3's legacy whole-model .h5 -> kerasish.models.load_model
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("net", list(NETS))
def test_keras_whole_model_h5_loads(keras, tmp_path, rng, net):
    make, batch = NETS[net]
    km = make(keras)
    _randomize_bn(km, rng)
    path = tmp_path / "m.h5"
    _quiet_keras_save(km, path)
    om = kerasish.models.load_model(path)
    assert type(om).__name__ == type(km).__name__
    assert [l.name for l in om.layers] == [l.name for l in km.layers]
    for a, b in zip(om.get_weights(), km.get_weights()):
        assert np.array_equal(a, keras.ops.convert_to_numpy(b))
    x = rng.random((batch, *km.input_shape[1:]), dtype=np.float32)
    _assert_same_as_keras(_predict(om, x), _kpredict(keras, km, x), x)
    # Also through load_weights: the model_weights group of a whole-model file.
    om2 = make(kerasish)
    om2.load_weights(str(path))
    _assert_same_as_keras(_predict(om2, x), _kpredict(keras, km, x), x)


# ----------------------------------------------------------------------------
# 2. Keras's legacy weights-only layout -> model.load_weights
# ----------------------------------------------------------------------------
def _keras_legacy_weights(keras_model, path):
    from keras.src.legacy.saving import legacy_h5_format

    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, keras_model)


@pytest.mark.parametrize("net", ["bn", "nested", "mnist"])
def test_keras_legacy_weights_file_by_order(keras, tmp_path, rng, net):
    make, batch = NETS[net]
    km = make(keras)
    _randomize_bn(km, rng)
    path = str(tmp_path / "w.h5")
    _keras_legacy_weights(km, path)
    om = make(kerasish)
    om.load_weights(path)
    x = rng.random((batch, *km.input_shape[1:]), dtype=np.float32)
    _assert_same_as_keras(_predict(om, x), _kpredict(keras, km, x), x)


def test_keras_legacy_weights_file_by_name(keras, tmp_path, rng):
    km = _bn_net(keras, names=True)
    _randomize_bn(km, rng)
    path = str(tmp_path / "w.h5")
    _keras_legacy_weights(km, path)
    x = rng.random((2, 13, 13, 3), dtype=np.float32)

    om = _bn_net(kerasish, names=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every layer found: no warning
        om.load_weights(path, by_name=True)
    _assert_same_as_keras(_predict(om, x), _kpredict(keras, km, x), x)

    # Two same-shaped Dense layers in swapped positions: by order loads them
    # crosswise, by name puts each where its name is.
    def two_dense(K, first, second):
        i = K.Input((5,))
        return K.Model(i, K.layers.Dense(5, name=second)(K.layers.Dense(5, name=first)(i)))

    ksw = two_dense(keras, "a", "b")
    _keras_legacy_weights(ksw, str(tmp_path / "ab.h5"))
    osw = two_dense(kerasish, "b", "a")
    osw.load_weights(str(tmp_path / "ab.h5"), by_name=True)
    for name in "ab":
        for got, want in zip(osw.get_layer(name).get_weights(), ksw.get_layer(name).get_weights()):
            assert np.array_equal(got, keras.ops.convert_to_numpy(want))
    osw.load_weights(str(tmp_path / "ab.h5"))  # by order: crosswise
    assert np.array_equal(osw.get_layer("b").get_weights()[0], keras.ops.convert_to_numpy(ksw.get_layer("a").get_weights()[0]))

    # An extra layer and a layer whose shapes differ: skipped with warnings
    # naming them; the rest loads.
    i = kerasish.Input((13, 13, 3))
    y = L.Conv2D(6, 3, strides=2, padding="same", name="c1")(i)
    y = L.BatchNormalization(name="bn")(y)
    y = L.Flatten()(y)
    y = L.Dense(9, name="d1")(y)  # 9 units, 7 in the file
    y = L.Dense(4, name="extra")(y)
    other = kerasish.Model(i, y)
    d1_before = other.get_layer("d1").get_weights()
    with pytest.warns(UserWarning, match="'extra'"), pytest.raises(ValueError, match=r"d1.*\(294, 9\).*\(96, 7\)"):
        other.load_weights(path, by_name=True)
    with pytest.warns(UserWarning) as record:
        other.load_weights(path, by_name=True, skip_mismatch=True)
    messages = " | ".join(str(w.message) for w in record)
    assert "'extra'" in messages and "'d1'" in messages, messages
    assert not re.search(r"'(c1|bn)'", messages)
    for name in ("c1", "bn"):
        for got, want in zip(other.get_layer(name).get_weights(), km.get_layer(name).get_weights()):
            assert np.array_equal(got, keras.ops.convert_to_numpy(want))
    for got, want in zip(other.get_layer("d1").get_weights(), d1_before):
        assert np.array_equal(got, want)


# ----------------------------------------------------------------------------
# 3. kerasish writes Keras 2's layout; Keras 3 and kerasish read it
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("net", ["mnist", "bn", "nested"])
def test_kerasish_save_weights_h5_loads_in_keras(keras, tmp_path, rng, net):
    make, batch = NETS[net]
    om = make(kerasish)
    _randomize_bn(om, rng)
    path = str(tmp_path / "cnn.h5")
    om.save_weights(path)  # seed 000's idiom
    km = make(keras)
    km.load_weights(path)
    x = rng.random((batch, *om.input_shape[1:]), dtype=np.float32)
    _assert_same_as_keras(_kpredict(keras, km, x), _predict(om, x), x)
    back = make(kerasish)
    back.load_weights(path)
    assert all(np.array_equal(a, b) for a, b in zip(back.get_weights(), om.get_weights()))
    assert len(back.get_weights()) == len(om.get_weights())


def test_kerasish_weights_file_layout(tmp_path):
    kerasish.clear_session()
    model = _mnist(kerasish)
    path = str(tmp_path / "cnn.h5")
    model.save_weights(path)
    with h5py.File(path, "r") as f:
        assert [n.decode() for n in f.attrs["layer_names"]] == ["conv2d", "max_pooling2d", "flatten", "dense"]
        assert {"backend", "keras_version"} <= set(f.attrs)
        assert list(f["conv2d"].attrs["weight_names"]) == [b"conv2d/kernel:0"]
        assert list(f["dense"].attrs["weight_names"]) == [b"dense/kernel:0", b"dense/bias:0"]
        assert f["conv2d"]["conv2d"]["kernel:0"].shape == (3, 3, 1, 8)
        assert len(f["flatten"].attrs["weight_names"]) == 0


def test_kerasish_whole_model_h5_round_trip(keras, tmp_path, rng):
    om = _bn_net(kerasish)
    _randomize_bn(om, rng)
    path = str(tmp_path / "model.h5")
    om.save(path)
    with h5py.File(path, "r") as f:
        assert json.loads(f.attrs["model_config"])["class_name"] == "Functional"
        assert "layer_names" in f["model_weights"].attrs
    x = rng.random((3, 13, 13, 3), dtype=np.float32)
    back = kerasish.models.load_model(path)
    assert all(np.array_equal(a, b) for a, b in zip(back.get_weights(), om.get_weights()))
    assert np.array_equal(_predict(back, x), _predict(om, x))
    km = keras.models.load_model(path, compile=False)
    _assert_same_as_keras(_kpredict(keras, km, x), _predict(om, x), x)


# ----------------------------------------------------------------------------
# 4. A whole-model file in Keras 2's own format, written by hand
# ----------------------------------------------------------------------------
def _init(name):
    return {"class_name": name, "config": {"seed": None} if "Glorot" in name else {}}


def _k2_conv(name, filters, kernel, strides, activation):
    return {"name": name, "trainable": True, "dtype": "float32", "filters": filters, "kernel_size": [kernel, kernel],
            "strides": [strides, strides], "padding": "same", "data_format": "channels_last", "dilation_rate": [1, 1],
            "groups": 1, "activation": activation, "use_bias": True, "kernel_initializer": _init("GlorotUniform"),
            "bias_initializer": _init("Zeros"), "kernel_regularizer": {"class_name": "L2", "config": {"l2": 0.009999999776482582}},
            "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None}


def _k2_dense(name, units, activation):
    return {"name": name, "trainable": True, "dtype": "float32", "units": units, "activation": activation, "use_bias": True,
            "kernel_initializer": _init("GlorotUniform"), "bias_initializer": _init("Zeros"), "kernel_regularizer": None,
            "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None}


def _k2_layer(class_name, config, inbound):
    return {"class_name": class_name, "config": config, "name": config["name"],
            "inbound_nodes": [] if inbound is None else [[[n, i, 0, {}] for n, i in inbound]]}


def _keras2_functional(class_name="Model"):
    """The Keras 2 config of: input -> conv(s2) -> BN -> (+ 1x1 conv(s2) shortcut)
    -> max pool -> dropout -> flatten -> dense softmax."""
    layers = [
        _k2_layer("InputLayer", {"batch_input_shape": [None, 11, 11, 3], "dtype": "float32", "sparse": False, "ragged": False, "name": "input_1"}, None),
        _k2_layer("Conv2D", _k2_conv("conv2d", 4, 3, 2, "relu"), [("input_1", 0)]),
        _k2_layer("BatchNormalization", {"name": "batch_normalization", "trainable": True, "dtype": "float32", "axis": [3], "momentum": 0.99,
                                         "epsilon": 0.001, "center": True, "scale": True, "beta_initializer": _init("Zeros"),
                                         "gamma_initializer": _init("Ones"), "moving_mean_initializer": _init("Zeros"),
                                         "moving_variance_initializer": _init("Ones"), "beta_regularizer": None, "gamma_regularizer": None,
                                         "beta_constraint": None, "gamma_constraint": None}, [("conv2d", 0)]),
        _k2_layer("Conv2D", _k2_conv("conv2d_1", 4, 1, 2, "linear"), [("input_1", 0)]),
        _k2_layer("Add", {"name": "add", "trainable": True, "dtype": "float32"}, [("batch_normalization", 0), ("conv2d_1", 0)]),
        _k2_layer("MaxPooling2D", {"name": "max_pooling2d", "trainable": True, "dtype": "float32", "pool_size": [2, 2], "padding": "valid",
                                   "strides": [2, 2], "data_format": "channels_last"}, [("add", 0)]),
        _k2_layer("Dropout", {"name": "dropout", "trainable": True, "dtype": "float32", "rate": 0.5, "noise_shape": None, "seed": None}, [("max_pooling2d", 0)]),
        _k2_layer("Flatten", {"name": "flatten", "trainable": True, "dtype": "float32", "data_format": "channels_last"}, [("dropout", 0)]),
        _k2_layer("Dense", _k2_dense("dense", 5, "softmax"), [("flatten", 0)]),
    ]
    return {"class_name": class_name, "config": {"name": "model", "layers": layers, "input_layers": [["input_1", 0, 0]], "output_layers": [["dense", 0, 0]]}}


def _same_in_kerasish():
    i = kerasish.Input((11, 11, 3))
    a = L.BatchNormalization()(L.Conv2D(4, 3, strides=2, padding="same", activation="relu")(i))
    b = L.Conv2D(4, 1, strides=2, padding="same")(i)
    y = L.Flatten()(L.Dropout(0.5)(L.MaxPooling2D()(L.Add()([a, b]))))
    return kerasish.Model(i, L.Dense(5, activation="softmax")(y))


def _keras2_weights(rng):
    """{layer name: [(weight name, array)]} in Keras 2's order (BN: gamma, beta, mean, variance)."""
    r = lambda *s: rng.normal(0, 0.5, s).astype("float32")
    return {
        "input_1": [],
        "conv2d": [("conv2d/kernel:0", r(3, 3, 3, 4)), ("conv2d/bias:0", r(4))],
        "batch_normalization": [("batch_normalization/gamma:0", r(4) + 1), ("batch_normalization/beta:0", r(4)),
                                ("batch_normalization/moving_mean:0", r(4)), ("batch_normalization/moving_variance:0", np.abs(r(4)) + 0.5)],
        "conv2d_1": [("conv2d_1/kernel:0", r(1, 1, 3, 4)), ("conv2d_1/bias:0", r(4))],
        "add": [], "max_pooling2d": [], "dropout": [], "flatten": [],
        "dense": [("dense/kernel:0", r(36, 5)), ("dense/bias:0", r(5))],
    }


def _write_keras2_file(path, model_config, weights, training_config=None):
    """Exactly what Keras 2 (tf.keras 2.x) wrote for model.save('x.h5')."""
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = b"2.13.1"
        f.attrs["backend"] = b"tensorflow"
        f.attrs["model_config"] = json.dumps(model_config).encode("utf8")
        if training_config is not None:
            f.attrs["training_config"] = json.dumps(training_config).encode("utf8")
        g = f.create_group("model_weights")
        g.attrs["layer_names"] = [n.encode("utf8") for n in weights]
        g.attrs["backend"] = b"tensorflow"
        g.attrs["keras_version"] = b"2.13.1"
        for name, items in weights.items():
            lg = g.create_group(name)
            lg.attrs["weight_names"] = [w.encode("utf8") for w, _ in items]
            for w, value in items:
                lg.create_dataset(w, data=value)


@pytest.mark.parametrize("class_name", ["Model", "Functional"])
def test_keras2_whole_model_file(keras, tmp_path, rng, class_name):
    weights = _keras2_weights(rng)
    training = {"loss": "categorical_crossentropy", "metrics": ["accuracy"], "weighted_metrics": None, "loss_weights": None,
                "optimizer_config": {"class_name": "Adam", "config": {"name": "Adam", "learning_rate": 0.001}}}
    path = str(tmp_path / "keras2.h5")
    _write_keras2_file(path, _keras2_functional(class_name), weights, training)

    model = kerasish.models.load_model(path)
    assert [l.name for l in model.layers] == list(weights)
    assert model._legacy_training_config == training
    assert model.get_layer("batch_normalization").axis == -1 or model.get_layer("batch_normalization").axis == 3
    same = _same_in_kerasish()
    same.set_weights([a for items in weights.values() for _, a in items])
    x = rng.random((3, 11, 11, 3), dtype=np.float32)
    np.testing.assert_allclose(_predict(model, x), _predict(same, x), atol=1e-6, rtol=0)
    # Keras 3 reads the same hand-written file the same way.
    km = keras.models.load_model(path, compile=False)
    _assert_same_as_keras(_predict(model, x), _kpredict(keras, km, [x]), x)
    assert not hasattr(kerasish.models.load_model(path, compile=False), "_legacy_training_config")


def test_keras2_sequential_and_nested_model_files(tmp_path, rng):
    # seed 000's Sequential as Keras 2 wrote it: input shape on the first layer.
    conv = _k2_conv("conv2d", 8, 3, 1, "linear")
    conv.update(padding="valid", use_bias=False, batch_input_shape=[None, 28, 28, 1])
    seq = {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
        {"class_name": "Conv2D", "config": conv},
        {"class_name": "MaxPooling2D", "config": {"name": "max_pooling2d", "trainable": True, "dtype": "float32", "pool_size": [2, 2],
                                                  "padding": "valid", "strides": [2, 2], "data_format": "channels_last"}},
        {"class_name": "Flatten", "config": {"name": "flatten", "trainable": True, "dtype": "float32", "data_format": "channels_last"}},
        {"class_name": "Dense", "config": _k2_dense("dense", 10, "softmax")}]}}
    w = {"conv2d": [("conv2d/kernel:0", rng.normal(0, 0.3, (3, 3, 1, 8)).astype("float32"))], "max_pooling2d": [], "flatten": [],
         "dense": [("dense/kernel:0", rng.normal(0, 0.1, (1352, 10)).astype("float32")), ("dense/bias:0", rng.normal(0, 0.1, 10).astype("float32"))]}
    _write_keras2_file(str(tmp_path / "seq.h5"), seq, w)
    model = kerasish.models.load_model(str(tmp_path / "seq.h5"))
    assert isinstance(model, kerasish.Sequential)
    same = _mnist(kerasish)
    same.set_weights([a for items in w.values() for _, a in items])
    x = rng.random((2, 28, 28, 1), dtype=np.float32)
    np.testing.assert_allclose(_predict(model, x), _predict(same, x), atol=1e-6, rtol=0)

    # A functional model used as a layer: Keras 2 numbered its first call 1
    # (node 0 being its construction), both in inbound nodes and outputs.
    inner = {"class_name": "Functional", "config": {"name": "inner", "layers": [
        _k2_layer("InputLayer", {"batch_input_shape": [None, 6], "dtype": "float32", "sparse": False, "ragged": False, "name": "input_1"}, None),
        _k2_layer("Dense", _k2_dense("dense", 4, "relu"), [("input_1", 0)])],
        "input_layers": [["input_1", 0, 0]], "output_layers": [["dense", 0, 0]]}, "name": "inner",
        "inbound_nodes": [[["input_2", 0, 0, {}]]]}
    for head in (True, False):  # the nested model feeds a Dense, or is the output
        outer_layers = [_k2_layer("InputLayer", {"batch_input_shape": [None, 6], "dtype": "float32", "sparse": False, "ragged": False, "name": "input_2"}, None), inner]
        if head:
            outer_layers.append(_k2_layer("Dense", _k2_dense("dense_1", 2, "linear"), [("inner", 1)]))
        out = [["dense_1", 0, 0]] if head else [["inner", 1, 0]]
        outer = {"class_name": "Functional", "config": {"name": "outer", "layers": outer_layers, "input_layers": [["input_2", 0, 0]], "output_layers": out}}
        r = lambda *s: rng.normal(0, 0.5, s).astype("float32")
        w = {"input_2": [], "inner": [("dense/kernel:0", r(6, 4)), ("dense/bias:0", r(4))]}
        if head:
            w["dense_1"] = [("dense_1/kernel:0", r(4, 2)), ("dense_1/bias:0", r(2))]
        path = str(tmp_path / f"nested{head}.h5")
        _write_keras2_file(path, outer, w)
        model = kerasish.models.load_model(path)
        x = rng.random((3, 6), dtype=np.float32)
        expect = np.maximum(x @ w["inner"][0][1] + w["inner"][1][1], 0)
        if head:
            expect = expect @ w["dense_1"][0][1] + w["dense_1"][1][1]
        assert_close_f32(_predict(model, x), expect, terms=6)
        # (Keras 3 itself cannot load these files: it does not shift the
        # nested model's node indices; keras-team/keras#19509, #19669.)


# ----------------------------------------------------------------------------
# 5. Bad input
# ----------------------------------------------------------------------------
def _small(K, units=3, extra=False):
    i = K.Input((4,))
    y = K.layers.Dense(5)(i)
    if extra:
        y = K.layers.Dense(5)(y)
    return K.Model(i, K.layers.Dense(units)(y))


def test_missing_random_and_truncated_files(tmp_path):
    model = _small(kerasish)
    missing = str(tmp_path / "nope.h5")
    with pytest.raises(FileNotFoundError, match=re.escape(missing)):
        kerasish.models.load_model(missing)
    with pytest.raises(FileNotFoundError, match=re.escape(missing)):
        model.load_weights(missing)

    garbage = tmp_path / "garbage.h5"
    garbage.write_bytes(np.random.default_rng(1).bytes(4096))
    for call in (lambda: kerasish.models.load_model(str(garbage)), lambda: model.load_weights(str(garbage))):
        with pytest.raises((OSError, ValueError), match=re.escape(str(garbage))):
            call()

    good = tmp_path / "good.h5"
    model.save(str(good))
    data = good.read_bytes()
    for cut in (len(data) // 2, 600):
        truncated = tmp_path / f"truncated{cut}.h5"
        truncated.write_bytes(data[:cut])
        for call in (lambda: kerasish.models.load_model(str(truncated)), lambda: model.load_weights(str(truncated))):
            with pytest.raises((OSError, ValueError), match=re.escape(str(truncated))):
                call()


def test_hdf5_without_weights_or_config(tmp_path):
    model = _small(kerasish)
    path = str(tmp_path / "empty.h5")
    with h5py.File(path, "w") as f:
        f.create_dataset("something", data=np.arange(3))
    with pytest.raises(ValueError, match=re.escape(path) + ".*no Keras weights"):
        model.load_weights(path)
    with pytest.raises(ValueError, match="No model config.*" + re.escape(path) + ".*load_weights"):
        kerasish.models.load_model(path)
    weights_only = str(tmp_path / "weights_only.h5")
    model.save_weights(weights_only)
    with pytest.raises(ValueError, match="No model config.*" + re.escape(weights_only) + ".*load_weights"):
        kerasish.models.load_model(weights_only)


def test_shape_mismatch_leaves_model_unchanged(tmp_path):
    path = str(tmp_path / "w.h5")
    _small(kerasish, units=3).save_weights(path)
    target = _small(kerasish, units=6)
    before = target.get_weights()
    name = target.layers[-1].name
    with pytest.raises(ValueError, match=rf"{name}.*\(5, 6\).*\(5, 3\)"):
        target.load_weights(path)
    after = target.get_weights()  # the first Dense (which fits) was not written either
    assert all(np.array_equal(a, b) for a, b in zip(before, after))
    with pytest.warns(UserWarning, match=name):
        target.load_weights(path, skip_mismatch=True)
    assert not np.array_equal(target.get_weights()[0], before[0])  # the fitting layer loaded


def test_layer_count_mismatch(tmp_path):
    path = str(tmp_path / "w.h5")
    _small(kerasish).save_weights(path)
    target = _small(kerasish, extra=True)
    before = target.get_weights()
    with pytest.raises(ValueError, match=r"3 layers with weights.*2 layers.*|" + re.escape(path)) as info:
        target.load_weights(path)
    assert path in str(info.value) and "3" in str(info.value) and "2" in str(info.value)
    assert all(np.array_equal(a, b) for a, b in zip(before, target.get_weights()))


def test_links_in_weights_files_are_refused(tmp_path):
    model = _small(kerasish)
    path = str(tmp_path / "w.h5")
    model.save_weights(path)
    other = str(tmp_path / "other.h5")
    with h5py.File(other, "w") as f:
        f.create_dataset("x", data=np.zeros((4, 5), "float32"))
    name = model.layers[1].name
    with h5py.File(path, "a") as f:
        del f[name][f"{name}/kernel:0"]
        f[name][name]["kernel:0"] = h5py.ExternalLink(other, "x")
    with pytest.raises(ValueError, match="link"):
        model.load_weights(path)


def _keras2_lambda_config(code):
    return {"class_name": "Functional", "config": {"name": "model", "layers": [
        _k2_layer("InputLayer", {"batch_input_shape": [None, 3], "dtype": "float32", "sparse": False, "ragged": False, "name": "input_1"}, None),
        _k2_layer("Lambda", {"name": "lambda", "trainable": True, "dtype": "float32", "function": [code, None, None], "function_type": "lambda",
                             "module": "__main__", "output_shape": None, "output_shape_type": "raw", "output_shape_module": None, "arguments": {}},
                  [("input_1", 0)])], "input_layers": [["input_1", 0, 0]], "output_layers": [["lambda", 0, 0]]}}


def test_lambda_model_needs_safe_mode_off(keras, tmp_path):
    i = keras.Input((3,))
    km = keras.Model(i, keras.layers.Lambda(lambda t: t * 2.0 + 1.0)(i))
    keras3 = str(tmp_path / "lambda3.h5")
    _quiet_keras_save(km, keras3)
    with h5py.File(keras3, "r") as f:
        code = json.loads(f.attrs["model_config"])["config"]["layers"][1]["config"]["function"]["config"]["code"]
    keras2 = str(tmp_path / "lambda2.h5")
    _write_keras2_file(keras2, _keras2_lambda_config(code), {"input_1": [], "lambda": []})
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    for path in (keras3, keras2):
        with pytest.raises(ValueError, match="safe_mode"):
            kerasish.models.load_model(path)
        model = kerasish.models.load_model(path, safe_mode=False)
        np.testing.assert_allclose(_predict(model, x), x * 2.0 + 1.0)


def test_long_attribute_lists_are_chunked(tmp_path):
    from kerasish.saving.legacy_h5 import load_attribute_list, save_attribute_list

    names = [f"layer_with_a_long_name_{i}".encode() for i in range(5000)]
    with h5py.File(tmp_path / "a.h5", "w") as f:
        save_attribute_list(f, "layer_names", names)
        assert "layer_names" not in f.attrs and "layer_names0" in f.attrs  # over 64 KiB: split
        save_attribute_list(f, "weight_names", [])
        assert load_attribute_list(f, "layer_names") == [n.decode() for n in names]
        assert load_attribute_list(f, "weight_names") == []
