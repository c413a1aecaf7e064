"""compile / fit / evaluate / predict against Keras 3 and on their own."""

import warnings

import numpy as np
import pytest
import torch

import kerasish
from kerasish import layers as L
from kerasish.utils import set_random_seed
from conftest import assert_close_f32

# small_cnn's gradients sum a batch of 8 over 5x5x4 = 100 features; fit
# chains 16 SGD steps. The float32 tolerance for two libraries' fits.
CNN_FIT = {"terms": 8 * 100, "depth": 16}



def mnist_like(lib, n=96, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 12, 12, 1)).astype("float32")
    labels = (x[:, :6].mean(axis=(1, 2, 3)) > x[:, 6:].mean(axis=(1, 2, 3))).astype("int64") + 2 * (x[..., :6, :].mean(axis=(1, 2, 3)) > 0.5)
    return x, labels


def small_cnn(lib, name=None):
    K = lib.layers
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lib.Sequential([K.Conv2D(4, 3, input_shape=(12, 12, 1)), K.MaxPooling2D(2), K.Flatten(), K.Dense(4, activation="softmax")], name=name)


def test_fit_lowers_loss_and_returns_history():
    set_random_seed(1)
    x, y = mnist_like(kerasish)
    model = small_cnn(kerasish)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=16, epochs=4, validation_split=0.25, verbose=0)
    assert history.epoch == [0, 1, 2, 3]
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.params["epochs"] == 4 and history.params["steps"] == 5
    assert model.history is history
    # validation_split takes the LAST quarter, before shuffling
    val = model.evaluate(x[72:], y[72:], verbose=0, return_dict=True)
    assert val["loss"] == pytest.approx(history.history["val_loss"][-1], rel=1e-5)
    assert model.metrics_names == ["loss", "accuracy"]


def test_fit_matches_keras_step_for_step(keras):
    """Same weights, same batches (no shuffling), SGD: same weights after fit."""
    x, y = mnist_like(kerasish, n=64)
    km, om = small_cnn(keras), small_cnn(kerasish)
    om.set_weights(km.get_weights())
    for m, lib in ((km, keras), (om, kerasish)):
        m.compile(optimizer=lib.optimizers.SGD(learning_rate=0.1, momentum=0.9), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    kh = km.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    oh = om.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(om.get_weights(), km.get_weights()):
        assert_close_f32(a, b, **CNN_FIT)
    assert_close_f32(oh.history["loss"], kh.history["loss"], **CNN_FIT)
    np.testing.assert_allclose(oh.history["accuracy"], kh.history["accuracy"], rtol=1e-6)
    ke = km.evaluate(x, y, verbose=0)
    oe = om.evaluate(x, y, verbose=0)
    assert_close_f32(oe, ke, **CNN_FIT)
    assert_close_f32(om.predict(x, verbose=0), keras.ops.convert_to_numpy(km.predict(x, verbose=0)), **CNN_FIT)


def test_categorical_labels_weights_and_evaluate_parity(keras):
    x, y = mnist_like(kerasish, n=40)
    onehot = np.eye(4, dtype="float32")[y]
    sw = np.linspace(0.1, 2.0, 40).astype("float32")
    km, om = small_cnn(keras), small_cnn(kerasish)
    om.set_weights(km.get_weights())
    for m in (km, om):
        m.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"], weighted_metrics=["accuracy"])
    k = km.evaluate(x, onehot, sample_weight=sw, verbose=0, return_dict=True)
    o = om.evaluate(x, onehot, sample_weight=sw, verbose=0, return_dict=True)
    assert_close_f32(o["loss"], k["loss"], terms=40 * 100)  # a weighted mean over 40 samples of 100-term logits
    kh = km.fit(x, onehot, class_weight={0: 1.0, 1: 3.0, 2: 0.5, 3: 2.0}, batch_size=40, epochs=1, shuffle=False, verbose=0)
    oh = om.fit(x, onehot, class_weight={0: 1.0, 1: 3.0, 2: 0.5, 3: 2.0}, batch_size=40, epochs=1, shuffle=False, verbose=0)
    assert_close_f32(oh.history["loss"][0], kh.history["loss"][0], terms=40 * 100)


def test_softmax_output_trains_from_logits_without_log_of_zero():
    """Saturated softmax: the probability path would take log(0); ours is finite."""
    x = kerasish.Input((2,))
    model = kerasish.Model(x, L.Dense(3, activation="softmax")(x))
    model.set_weights([np.array([[100.0, -100.0, 0.0], [0.0, 0.0, 0.0]], "float32"), np.zeros(3, "float32")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    data = np.array([[1.0, 0.0]], "float32")
    target = np.array([[0.0, 1.0, 0.0]], "float32")
    loss = model.train_on_batch(data, target)
    assert np.isfinite(loss) and loss == pytest.approx(200.0, rel=1e-4)  # the exact crossentropy, not a clipped one
    assert np.all(np.isfinite(model.get_weights()[0]))


def test_multiple_outputs_lists_and_dicts():
    a = kerasish.Input((5,), name="a")
    h = L.Dense(8, activation="relu")(a)
    cls = L.Dense(3, activation="softmax", name="cls")(h)
    reg = L.Dense(1, name="reg")(h)
    model = kerasish.Model(a, [cls, reg])
    model.compile(optimizer="adam", loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"}, loss_weights={"cls": 1.0, "reg": 0.5},
                  metrics={"cls": ["accuracy"], "reg": ["mae"]})
    rng = np.random.default_rng(0)
    x = rng.random((32, 5)).astype("float32")
    y = {"cls": rng.integers(0, 3, 32), "reg": rng.random((32, 1)).astype("float32")}
    hist = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert {"loss", "cls_loss", "reg_loss", "cls_accuracy", "reg_mae"} <= set(hist.history)
    logs = model.evaluate(x, [y["cls"], y["reg"]], verbose=0, return_dict=True)
    assert logs["loss"] == pytest.approx(logs["cls_loss"] + 0.5 * logs["reg_loss"], rel=1e-5)
    p_cls, p_reg = model.predict(x, verbose=0)
    assert p_cls.shape == (32, 3) and p_reg.shape == (32, 1) and isinstance(p_cls, np.ndarray)


def test_data_sources_datasets_loaders_generators():
    from torch.utils.data import DataLoader, TensorDataset

    x, y = mnist_like(kerasish, n=48)
    model = small_cnn(kerasish)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["acc"])
    ds = TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
    h1 = model.fit(ds, batch_size=16, epochs=1, verbose=0)
    h2 = model.fit(DataLoader(ds, batch_size=12), epochs=1, verbose=0)
    assert h2.params["steps"] == 4 and "acc" in h1.history

    def gen():
        while True:
            for i in range(0, 48, 16):
                yield x[i : i + 16], y[i : i + 16]

    h3 = model.fit(gen(), steps_per_epoch=3, epochs=2, verbose=0)
    assert len(h3.history["loss"]) == 2
    assert model.predict(DataLoader(TensorDataset(torch.from_numpy(x)), batch_size=10), verbose=0).shape == (48, 4)


def test_named_inputs_dict():
    a = kerasish.Input((3,), name="left")
    b = kerasish.Input((2,), name="right")
    out = L.Dense(1)(L.Concatenate()([a, b]))
    model = kerasish.Model({"left": a, "right": b}, out)
    model.compile(optimizer="sgd", loss="mse")
    x = {"left": np.random.rand(20, 3).astype("float32"), "right": np.random.rand(20, 2).astype("float32")}
    model.fit(x, np.random.rand(20, 1), epochs=1, verbose=0)
    assert model.predict(x, verbose=0).shape == (20, 1)


def test_seeded_fit_repeats_exactly():
    x, y = mnist_like(kerasish)

    def run():
        set_random_seed(123)
        model = small_cnn(kerasish)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(x, y, batch_size=16, epochs=2, verbose=0)
        return model.get_weights()

    for a, b in zip(run(), run()):
        np.testing.assert_array_equal(a, b)


def test_on_batch_methods_and_learning_rate():
    x, y = mnist_like(kerasish, n=16)
    model = small_cnn(kerasish)
    model.compile(optimizer=kerasish.optimizers.Adam(learning_rate=0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    loss, acc = model.train_on_batch(x, y)
    logs = model.test_on_batch(x, y, return_dict=True)
    assert set(logs) == {"loss", "accuracy"} and 0 <= acc <= 1
    assert model.predict_on_batch(x).shape == (16, 4)
    assert model.optimizer.learning_rate == pytest.approx(0.01)
    model.optimizer.learning_rate = 0.001
    assert model.optimizer.learning_rate == pytest.approx(0.001)


def test_keras_file_keeps_compile_and_optimizer_state(tmp_path):
    x, y = mnist_like(kerasish, n=32)
    set_random_seed(0)
    a = small_cnn(kerasish)
    a.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    b = small_cnn(kerasish)
    b.set_weights(a.get_weights())
    b.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    a.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    b.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    b.save(tmp_path / "half.keras")
    resumed = kerasish.models.load_model(tmp_path / "half.keras")
    assert resumed.optimizer.iterations == 4 and resumed.metrics_names[0] == "loss"
    resumed.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for p, q in zip(resumed.get_weights(), a.get_weights()):
        np.testing.assert_allclose(p, q, rtol=1e-5, atol=1e-6)


def test_frozen_layers_do_not_move_and_bn_keeps_statistics():
    x = kerasish.Input((6,))
    base = L.Dense(5, name="base")
    bn = L.BatchNormalization(name="bn")
    model = kerasish.Model(x, L.Dense(2, name="head")(bn(base(x))))
    base.trainable = False
    bn.trainable = False
    model.compile(optimizer="adam", loss="mse")
    before = [w.copy() for w in model.get_weights()]
    model.fit(np.random.rand(32, 6), np.random.rand(32, 2), epochs=2, batch_size=8, verbose=0)
    after = model.get_weights()
    for i in range(6):  # base kernel, bias; bn gamma, beta, moving mean, moving variance
        np.testing.assert_array_equal(after[i], before[i])
    assert not np.array_equal(after[6], before[6])


@pytest.mark.slow
def test_jit_compile_trains_like_eager_with_torchs_pooling_kernels():
    x, y = mnist_like(kerasish, n=32)
    weights = {}
    for jit in (False, True):
        set_random_seed(3)
        model = small_cnn(kerasish)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", jit_compile=jit)
        h = model.fit(x, y, batch_size=8, epochs=3, verbose=0, shuffle=False)
        assert h.history["loss"][-1] < h.history["loss"][0]
        weights[jit] = model.get_weights()
    for a, b in zip(weights[False], weights[True]):
        assert_close_f32(a, b, terms=8 * 100, depth=12)  # inductor's fused kernels round differently
    # on a CPU the compiled step calls torch's max-pool kernels (kerasish::max_pool2d), not inductor's slower loops
    with torch.profiler.profile() as prof:
        model.fit(x[:8], y[:8], batch_size=8, epochs=1, verbose=0)
    names = {e.key for e in prof.key_averages()}
    assert "kerasish::max_pool2d" in names and "kerasish::max_pool2d_backward" in names


@pytest.mark.slow
def test_jit_compile_models_of_different_input_sizes_in_one_process():
    # torch.compile's automatic dynamic shapes made the second and third model's
    # step fail inside inductor; each model now compiles for its own sizes
    for size in (8, 12, 10):
        inp = kerasish.Input((size, size, 3))
        y = L.MaxPooling2D()(L.Conv2D(4, 3, activation="relu", padding="same")(inp))
        model = kerasish.Model(inp, L.Dense(2)(L.Flatten()(y)))
        model.compile(optimizer="sgd", loss="mse", jit_compile=True)
        rng = np.random.default_rng(size)
        h = model.fit(rng.standard_normal((12, size, size, 3)).astype("float32"), rng.standard_normal((12, 2)).astype("float32"),
                      batch_size=8, epochs=1, verbose=0, shuffle=False)
        assert np.isfinite(h.history["loss"][0])


def test_max_pool_custom_op_matches_torch_with_padding():
    from kerasish.layers.pooling.max_pool_kernels import opaque_max_pool

    x = torch.randn(2, 3, 7, 8).contiguous(memory_format=torch.channels_last).requires_grad_()
    x2 = x.detach().clone().requires_grad_()
    got, ref = opaque_max_pool(x, (3, 3), (2, 2), (1, 1)), torch.nn.functional.max_pool2d(x2, 3, 2, 1)
    assert torch.equal(got, ref)
    g = torch.randn_like(ref)
    got.backward(g), ref.backward(g)
    assert torch.equal(x.grad, x2.grad)
    torch.library.opcheck(torch.ops.kerasish.max_pool2d.default, (x.detach(), [3, 3], [2, 2], [1, 1]))


def test_mixed_bfloat16_policy_trains_on_cpu():
    from kerasish import mixed_precision

    x, y = mnist_like(kerasish, n=32)
    mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = small_cnn(kerasish)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        h = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    finally:
        mixed_precision.set_global_policy("float32")
    assert np.isfinite(h.history["loss"]).all()
    assert model.get_weights()[0].dtype == np.float32


def test_device_selection(monkeypatch):
    from kerasish import config

    config.set_device("cpu")
    try:
        assert config.get_device() == torch.device("cpu")
    finally:
        config.set_device(None)
    monkeypatch.setenv("KERASISH_DEVICE", "cpu")
    assert config.get_device() == torch.device("cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA"):
            config.set_device("cuda")
    with pytest.raises(ValueError, match="Unknown device"):
        config.set_device("toaster")


# ----------------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------------
def test_bad_input_is_caught_before_any_step():
    x, y = mnist_like(kerasish, n=16)
    model = small_cnn(kerasish, name="cnn")
    with pytest.raises(ValueError, match="compile"):
        model.fit(x, y)
    with pytest.raises(ValueError, match="(?i)unknown.*nope"):
        model.compile(optimizer="nope", loss="mse")
    with pytest.raises(ValueError, match="(?i)nope"):
        model.compile(optimizer="adam", loss="nope")
    with pytest.raises(ValueError, match="(?i)nope"):
        model.compile(optimizer="adam", loss="mse", metrics=["nope"])
        model.fit(x, np.eye(4)[y], verbose=0)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"cnn.*\(None, 12, 12, 1\)"):
        model.fit(np.concatenate([x, x], axis=-1), y, verbose=0)
    with pytest.raises(ValueError, match="channels_first"):
        model.fit(x.transpose(0, 3, 1, 2), y, verbose=0)
    with pytest.raises(ValueError, match="(?i)cardinality|same number"):
        model.fit(x, y[:10], verbose=0)
    with pytest.raises(ValueError, match="range|\\[0, 4\\)|out of"):
        model.fit(x, y + 10, verbose=0)
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    with pytest.raises(ValueError, match="5"):
        model.fit(x, np.eye(5, dtype="float32")[y], verbose=0)
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def test_base_called_with_training_false_keeps_bn_statistics_after_unfreezing():
    """Keras's transfer-learning rule: BatchNormalization inside a base called
    with training=False stays in inference mode, even once the base is unfrozen."""
    inp = kerasish.Input((6,))
    base = kerasish.Model(inp, L.BatchNormalization(name="bn")(L.Dense(5, name="d")(inp)), name="base")
    x = kerasish.Input((6,))
    model = kerasish.Model(x, L.Dense(1, name="head")(base(x, training=False)))
    data, target = np.random.rand(64, 6) * 3 + 1, np.random.rand(64, 1)
    base.trainable = False
    model.compile(optimizer="adam", loss="mse")
    frozen = base.get_weights()
    model.fit(data, target, epochs=1, batch_size=16, verbose=0)
    for a, b in zip(base.get_weights(), frozen):
        np.testing.assert_array_equal(a, b)
    base.trainable = True
    model.compile(optimizer=kerasish.optimizers.Adam(1e-3), loss="mse")
    model.fit(data, target, epochs=1, batch_size=16, verbose=0)
    after = base.get_weights()
    assert not np.array_equal(after[0], frozen[0])  # the Dense kernel trains now
    np.testing.assert_array_equal(after[4], frozen[4])  # moving mean untouched
    np.testing.assert_array_equal(after[5], frozen[5])  # moving variance untouched


def test_plain_lists_and_unusable_data_get_clear_answers():
    model = kerasish.Sequential([L.Dense(2, input_shape=(3,))])
    model.compile(optimizer="sgd", loss="mse")
    assert model.predict([[1, 2, 3], [4, 5, 6]], verbose=0).shape == (2, 2)
    model.fit([[1.0, 2.0, 3.0]], [[0.0, 1.0]], verbose=0)
    with pytest.raises(TypeError, match="must hold numbers"):
        model.predict(np.array(["a", "b"]), verbose=0)
    with pytest.raises(ValueError, match="`y` is required"):
        model.fit(np.zeros((4, 3)), None, verbose=0)
    with pytest.raises(TypeError, match="metrics"):
        model.compile(optimizer="sgd", loss="mse", metrics="accuracy")


# ----------------------------------------------------------------------
# loss="crossentropy": Keras's alias resolved from the shapes
# ----------------------------------------------------------------------
@pytest.mark.parametrize("units,targets,expected", [
    (1, "binary", "BinaryCrossentropy"),
    (4, "sparse", "SparseCategoricalCrossentropy"),
    (4, "sparse_column", "SparseCategoricalCrossentropy"),
    (4, "onehot", "CategoricalCrossentropy"),
])
def test_crossentropy_alias_matches_keras(keras, units, targets, expected):
    rng = np.random.default_rng(0)
    x = rng.random((40, 3)).astype("float32")
    labels = rng.integers(0, 2 if units == 1 else units, 40)
    y = {"binary": lambda: labels[:, None].astype("float32"), "sparse": lambda: labels, "sparse_column": lambda: labels[:, None],
         "onehot": lambda: np.eye(units, dtype="float32")[labels]}[targets]()
    act = "sigmoid" if units == 1 else "softmax"
    ours = kerasish.Sequential([kerasish.Input((3,)), L.Dense(units, activation=act)])
    theirs = keras.Sequential([keras.Input((3,)), keras.layers.Dense(units, activation=act)])
    ours.set_weights(theirs.get_weights())
    for m, mod in ((ours, kerasish), (theirs, keras)):
        m.compile(optimizer=mod.optimizers.SGD(0.1), loss="crossentropy", metrics=["accuracy"])
    got = ours.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    want = theirs.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    assert_close_f32(got["loss"], want["loss"], terms=40 * 3)
    assert got["accuracy"] == pytest.approx(want["accuracy"], abs=1e-6)
    assert type(ours._compile_loss.logits_losses[0]).__name__ == expected  # resolved, then fused with the output activation
    ours.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    theirs.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        assert_close_f32(a, b, terms=8 * 3, depth=10)


def test_crossentropy_alias_with_dataset_and_subclassed_model():
    class Net(kerasish.Model):
        def __init__(self):
            super().__init__()
            self.dense = L.Dense(3, activation="softmax")

        def call(self, x):
            return self.dense(x)

    set_random_seed(0)
    data = torch.utils.data.TensorDataset(torch.rand(32, 5), torch.randint(0, 3, (32,)))
    net = Net()
    net.compile(optimizer="adam", loss="ce", metrics=["accuracy"])
    history = net.fit(data, batch_size=8, epochs=1, verbose=0)
    assert net._compile_loss.losses[0].fn.__name__ == "sparse_categorical_crossentropy"
    assert np.isfinite(history.history["loss"][0]) and "accuracy" in history.history
    assert net.get_compile_config()["loss"] == "ce"


def test_activity_regularizer_in_a_functional_model_matches_keras(keras):
    """Keras divides an activity regularizer's value by the batch size."""
    x = np.random.default_rng(0).random((8, 3)).astype("float32")
    y = np.zeros((8, 2), "float32")
    models = []
    for mod in (kerasish, keras):
        i = mod.Input((3,))
        o = mod.layers.Dense(2, activity_regularizer=mod.regularizers.L1(0.5))(i)
        m = mod.Model(i, o)
        m.compile(optimizer=mod.optimizers.SGD(0.1), loss="mse")
        models.append(m)
    models[0].set_weights(models[1].get_weights())
    got, want = (m.evaluate(x, y, batch_size=4, verbose=0) for m in models)
    assert_close_f32(got, want, terms=8 * 3)
    for m in models:
        m.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(*(m.get_weights() for m in models)):
        assert_close_f32(a, b, terms=4 * 3, depth=4)


def test_generator_without_steps_runs_until_it_ends():
    set_random_seed(0)
    model = kerasish.Sequential([kerasish.Input((2,)), L.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")

    def batches():
        for _ in range(5):
            yield np.ones((4, 2), "float32"), np.ones((4, 1), "float32")

    history = model.fit(batches(), epochs=1, verbose=0)
    assert len(history.history["loss"]) == 1 and model._steps_done == 5
    assert model.evaluate(batches(), verbose=0) > 0
    assert model.predict((b[0] for b in batches()), verbose=0).shape == (20, 1)


def test_metric_with_several_thresholds_gives_a_vector(keras):
    rng = np.random.default_rng(0)
    x = rng.random((32, 3)).astype("float32")
    y = (rng.random((32, 1)) > 0.5).astype("float32")
    ours = kerasish.Sequential([kerasish.Input((3,)), L.Dense(1, activation="sigmoid")])
    theirs = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid")])
    ours.set_weights(theirs.get_weights())
    ours.compile(optimizer="sgd", loss="binary_crossentropy", metrics=[kerasish.metrics.Recall(thresholds=[0.3, 0.5])])
    theirs.compile(optimizer="sgd", loss="binary_crossentropy", metrics=[keras.metrics.Recall(thresholds=[0.3, 0.5])])
    got = ours.evaluate(x, y, verbose=0)[1]  # [loss, recall] (names may carry a suffix in a long test run)
    want = theirs.evaluate(x, y, verbose=0)[1]
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), atol=1e-6)
    history = ours.fit(x, y, batch_size=8, epochs=1, verbose=2)
    name = ours.metrics_names[1]
    assert np.asarray(history.history[name][0]).shape == (2,)
