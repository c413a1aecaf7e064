"""Custom layers, models, losses, metrics and callbacks in Keras 3 idiom
(Keras's guide "Making new layers and models via subclassing")."""

import numpy as np
import pytest
import torch

import kerasish

from conftest import assert_close_f32

L = kerasish.layers


# ----------------------------------------------------------------------
# The guide's classes, written once for kerasish and once for Keras.
# ----------------------------------------------------------------------
def make_classes(k, matmul):
    class Linear(k.layers.Layer):
        def __init__(self, units=32, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal", trainable=True, name="kernel")
            self.b = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True, name="bias")

        def call(self, inputs):
            return matmul(inputs, self.w) + self.b

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    class MLPBlock(k.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.linear_1 = Linear(8)
            self.linear_2 = Linear(1)

        def call(self, inputs):
            return self.linear_2(torch.relu(self.linear_1(inputs)))

    class ActivityRegularizationLayer(k.layers.Layer):
        def __init__(self, rate=1e-2, **kwargs):
            super().__init__(**kwargs)
            self.rate = rate

        def call(self, inputs):
            self.add_loss(self.rate * torch.sum(inputs))
            return inputs

    class MyModel(k.Model):
        def __init__(self, hidden=4, **kwargs):
            super().__init__(**kwargs)
            self.hidden = hidden
            self.block = MLPBlock()
            self.dense = k.layers.Dense(hidden)

        def call(self, inputs, training=None):
            return self.block(self.dense(inputs))

    return Linear, MLPBlock, ActivityRegularizationLayer, MyModel


def _copy(kr_layer, ours):
    ours.set_weights([w.numpy() if hasattr(w, "numpy") else np.asarray(w) for w in kr_layer.get_weights()])


def test_linear_layer_matches_keras(keras):
    KLinear, *_ = make_classes(keras, lambda a, b: keras.ops.matmul(a, b))
    OLinear, *_ = make_classes(kerasish, torch.matmul)
    x = np.random.default_rng(0).normal(size=(3, 5)).astype("float32")
    kl, ol = KLinear(4), OLinear(4)
    ky = np.asarray(kl(x).detach().cpu())
    oy = ol(x)
    assert isinstance(oy, torch.Tensor) and tuple(oy.shape) == (3, 4)
    assert [w.shape for w in ol.weights] == [tuple(w.shape) for w in kl.weights]
    assert isinstance(ol._parameters["kernel"], torch.nn.Parameter)
    _copy(kl, ol)
    assert_close_f32(ol(x), ky, terms=5)
    assert ol.get_config()["units"] == 4 and type(ol).from_config(ol.get_config()).units == 4


def test_weight_is_variable_with_numpy_shape_assign():
    class ComputeSum(L.Layer):
        def __init__(self, input_dim):
            super().__init__()
            self.total = self.add_weight(initializer="zeros", shape=(input_dim,), trainable=False)

        def call(self, inputs):
            self.total.assign_add(torch.sum(inputs, dim=0))
            return self.total

    layer = ComputeSum(2)
    x = np.ones((2, 2), "float32")
    layer(x)
    y = layer(x)
    np.testing.assert_allclose(y.numpy(), [4.0, 4.0])
    assert layer.total.shape == (2,)
    np.testing.assert_allclose(layer.total.numpy(), [4.0, 4.0])
    assert len(layer.weights) == 1 and len(layer.non_trainable_weights) == 1 and not layer.trainable_weights
    assert "variable_0" in dict(layer.named_buffers())  # not trainable -> a buffer
    layer.total.assign(np.zeros(2, "float32"))
    assert layer.total.numpy().sum() == 0


def test_build_called_once_with_keras_shape():
    shapes = []

    class Rec(L.Layer):
        def build(self, input_shape):
            shapes.append(tuple(input_shape))
            self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones")

        def call(self, inputs):
            return inputs * self.scale

    inp = kerasish.Input((6, 6, 3))
    model = kerasish.Sequential([inp, L.Conv2D(2, 3), Rec(), L.Flatten(), L.Dense(1)])
    model.predict(np.zeros((2, 6, 6, 3), "float32"), verbose=0)
    model(np.zeros((1, 6, 6, 3), "float32"))
    assert shapes == [(None, 4, 4, 2)]  # channels_last, once


def test_sublayers_tracked_and_add_loss():
    _, MLPBlock, ActReg, _ = make_classes(kerasish, torch.matmul)
    block = MLPBlock()
    block(torch.ones(3, 16))
    assert len(block.weights) == 4 and len(block.trainable_weights) == 4

    class Outer(L.Layer):
        def __init__(self):
            super().__init__()
            self.activity_reg = ActReg(1e-2)

        def call(self, inputs):
            return self.activity_reg(inputs)

    layer = Outer()
    assert len(layer.losses) == 0
    layer(torch.ones(1, 2))
    layer(torch.ones(1, 2))
    assert len(layer.losses) == 1  # reset at each call
    assert float(layer.losses[0]) == pytest.approx(0.02)


def test_add_loss_reaches_fit_loss():
    _, _, ActReg, _ = make_classes(kerasish, torch.matmul)
    torch.manual_seed(0)
    inputs = kerasish.Input((3,))
    outputs = ActReg(rate=10.0)(L.Dense(1, kernel_initializer="ones", bias_initializer="zeros")(inputs))
    model = kerasish.Model(inputs, outputs)
    model.compile(optimizer=kerasish.optimizers.SGD(0.0), loss="mse")
    x = np.ones((4, 3), "float32")
    y = np.full((4, 1), 3.0, "float32")
    plain = 0.0  # Dense output is exactly 3
    extra = 10.0 * 3.0 * 4  # rate * sum(outputs) over the batch
    h = model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    assert h.history["loss"][0] == pytest.approx(plain + extra, rel=1e-5)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(extra, rel=1e-5)


def test_subclassed_model_fit_summary_save_load(tmp_path, capsys):
    Linear, MLPBlock, _, MyModel = make_classes(kerasish, torch.matmul)
    model = MyModel(hidden=4)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])  # before it is built, as in Keras
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(16, 5)).astype("float32"), rng.normal(size=(16, 1)).astype("float32")
    h = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert set(h.history) == {"loss", "mae"}
    model.summary()
    out = capsys.readouterr().out
    assert "MLPBlock" in out and "Dense" in out and f"{model.count_params():,}" in out
    path = tmp_path / "m.keras"
    model.save(path)
    with pytest.raises(ValueError, match="MyModel"):
        kerasish.models.load_model(path)
    loaded = kerasish.models.load_model(path, custom_objects={"MyModel": MyModel, "MLPBlock": MLPBlock, "Linear": Linear})
    assert loaded.hidden == 4
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    model.save_weights(tmp_path / "w.weights.h5")
    other = MyModel(hidden=4)
    other.build((None, 5))
    other.load_weights(tmp_path / "w.weights.h5")
    np.testing.assert_allclose(other.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


def test_registration_decorator_roundtrip(tmp_path):
    @kerasish.saving.register_keras_serializable(package="test_custom")
    class Scale(L.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, inputs):
            return inputs * self.factor

    model = kerasish.Sequential([kerasish.Input((3,)), L.Dense(2), Scale(3.0)])
    model.save(tmp_path / "s.keras")  # no get_config: the constructor's plain arguments are the config
    loaded = kerasish.models.load_model(tmp_path / "s.keras")
    assert loaded.layers[-1].factor == 3.0
    x = np.ones((2, 3), "float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


def test_model_weights_match_keras_after_copy(keras):
    _, _, _, KModel = make_classes(keras, lambda a, b: keras.ops.matmul(a, b))
    _, _, _, OModel = make_classes(kerasish, torch.matmul)
    x = np.random.default_rng(2).normal(size=(4, 5)).astype("float32")
    km, om = KModel(), OModel()
    ky = np.asarray(km(x).detach().cpu())
    om.build((None, 5))
    assert [tuple(w.shape) for w in om.weights] == [tuple(w.shape) for w in km.weights]
    om.set_weights(km.get_weights())
    assert_close_f32(om(x), ky, terms=5)


# ----------------------------------------------------------------------
# Custom losses, metrics, callbacks
# ----------------------------------------------------------------------
def custom_mse(y_true, y_pred):
    return torch.mean((y_true - y_pred) ** 2, dim=-1)


class HalfMSE(kerasish.losses.Loss):
    def call(self, y_true, y_pred):
        return 0.5 * torch.mean((y_true - y_pred) ** 2, dim=-1)


class MeanPred(kerasish.metrics.Metric):
    def __init__(self, name="mean_pred", **kwargs):
        super().__init__(name=name, **kwargs)
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, y_true, y_pred, sample_weight=None):
        # kerasish metric state is a plain torch tensor: update it in place.
        self.total.add_(torch.sum(y_pred))
        self.count.add_(y_pred.numel())

    def result(self):
        return self.total / self.count


class Recorder(kerasish.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.epochs, self.batches = [], 0

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append(dict(logs))


def test_custom_loss_metric_callback_in_fit_and_load(tmp_path):
    inputs = kerasish.Input((3,))
    model = kerasish.Model(inputs, L.Dense(1, kernel_initializer="zeros", bias_initializer="ones")(inputs))
    model.compile(optimizer=kerasish.optimizers.SGD(0.0), loss=HalfMSE(), metrics=[custom_mse, MeanPred()])
    x, y = np.zeros((6, 3), "float32"), np.full((6, 1), 3.0, "float32")
    rec = Recorder()
    h = model.fit(x, y, batch_size=3, epochs=2, verbose=0, callbacks=[rec])
    assert rec.batches == 4 and len(rec.epochs) == 2
    assert h.history["loss"][0] == pytest.approx(2.0)  # 0.5 * (3 - 1)^2
    assert h.history["custom_mse"][0] == pytest.approx(4.0)
    assert h.history["mean_pred"][0] == pytest.approx(1.0)
    model.save(tmp_path / "c.keras")
    objs = {"HalfMSE": HalfMSE, "custom_mse": custom_mse, "MeanPred": MeanPred}
    loaded = kerasish.models.load_model(tmp_path / "c.keras", custom_objects=objs)
    res = loaded.evaluate(x, y, verbose=0, return_dict=True)
    assert res["loss"] == pytest.approx(2.0) and res["custom_mse"] == pytest.approx(4.0)
    assert res["mean_pred"] == pytest.approx(1.0)
    model2 = kerasish.Model(inputs, model.outputs)
    model2.compile(optimizer="sgd", loss=custom_mse)
    assert model2.evaluate(x, y, verbose=0) == pytest.approx(4.0)


# ----------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------
def test_add_weight_bad_shape_and_initializer():
    layer = L.Layer()
    with pytest.raises(ValueError, match="shape"):
        layer.add_weight(shape=(None, 3))
    with pytest.raises(ValueError, match="nope"):
        layer.add_weight(shape=(2,), initializer="nope")


def test_call_returning_wrong_type():
    class ReturnsNumpy(L.Layer):
        def call(self, inputs):
            return np.zeros(3)

    with pytest.raises(TypeError, match="ReturnsNumpy.*numpy"):
        ReturnsNumpy(name="np_layer")(torch.ones(2, 3))

    class ReturnsList(L.Layer):
        def call(self, inputs):
            return [inputs, inputs]

        def compute_output_shape(self, input_shape):
            return input_shape

    inp = kerasish.Input((3,))
    model = kerasish.Model(inp, ReturnsList(name="lister")(inp))
    with pytest.raises(TypeError, match="lister.*single tensor"):
        model.predict(np.ones((2, 3), "float32"), verbose=0)


def test_compute_output_shape_used_when_call_cannot_trace():
    class NumpyRoundTrip(L.Layer):
        def call(self, inputs):
            return torch.as_tensor(inputs.detach().cpu().numpy() * 2.0)

        def compute_output_shape(self, input_shape):
            return input_shape

    inp = kerasish.Input((3,))
    out = NumpyRoundTrip()(inp)
    assert out.shape == (None, 3)


def test_unserializable_layer_save_error(tmp_path):
    class NeedsConfig(L.Layer):
        def __init__(self, table, **kwargs):
            super().__init__(**kwargs)
            self.table = table

        def call(self, inputs):
            return inputs

    model = kerasish.Sequential([kerasish.Input((3,)), NeedsConfig(np.arange(3))])
    with pytest.raises(NotImplementedError, match="NeedsConfig.*get_config"):
        model.save(tmp_path / "x.keras")


def test_unregistered_class_load_error(tmp_path):
    Linear, *_ = make_classes(kerasish, torch.matmul)
    model = kerasish.Sequential([kerasish.Input((3,)), Linear(2)])
    model.save(tmp_path / "l.keras")
    with pytest.raises(ValueError, match="Linear.*custom_objects"):
        kerasish.models.load_model(tmp_path / "l.keras")


def test_custom_layer_example_runs(capsys):
    import runpy
    from pathlib import Path

    ns = runpy.run_path(str(Path(__file__).parent.parent / "examples" / "custom_layer.py"))
    first, last, diff = ns["main"]()
    assert last < first * 0.2 and diff < 1e-6
    assert "Linear" in capsys.readouterr().out


def test_keras_guide_custom_metric_with_assign_add():
    """The Keras guide's metric, written with assign_add on add_variable's state."""
    import numpy as np

    import kerasish as keras
    from kerasish import ops

    class BinaryTruePositives(keras.metrics.Metric):
        def __init__(self, name="binary_true_positives", **kwargs):
            super().__init__(name=name, **kwargs)
            self.true_positives = self.add_variable(shape=(), initializer="zeros", name="true_positives")

        def update_state(self, y_true, y_pred, sample_weight=None):
            y_true = ops.cast(y_true, "bool")
            y_pred = ops.cast(y_pred, "bool")
            values = ops.cast(ops.logical_and(ops.equal(y_true, True), ops.equal(y_pred, True)), self.dtype)
            if sample_weight is not None:
                values = ops.multiply(values, ops.cast(sample_weight, self.dtype))
            self.true_positives.assign_add(ops.sum(values))

        def result(self):
            return self.true_positives

    m = BinaryTruePositives()
    m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    assert float(m.result()) == 2.0
    m.update_state([1, 1], [1, 1], sample_weight=[0.5, 0.25])
    assert float(m.result()) == 2.75
    m.reset_state()
    assert float(m.result()) == 0.0
    x = keras.Input((3,))
    model = keras.Model(x, keras.layers.Dense(1, activation="sigmoid")(x))
    model.compile("adam", "binary_crossentropy", metrics=[BinaryTruePositives()])
    h = model.fit(np.random.rand(16, 3), (np.random.rand(16, 1) > 0.5).astype("float32"), verbose=0, epochs=1)
    assert "binary_true_positives" in h.history


def test_plain_torch_modules_inside_a_custom_layer_are_trained_and_saved(tmp_path):
    import numpy as np
    import torch

    import kerasish as keras

    class TorchBlock(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
            self.bn = torch.nn.BatchNorm2d(4)
            self.scale = torch.nn.Parameter(torch.ones(()))

        def call(self, x):  # channels_last in and out, as in Keras
            y = self.bn(self.conv(x.permute(0, 3, 1, 2)))
            return (y * self.scale).permute(0, 2, 3, 1)

    x = keras.Input((6, 6, 3))
    block = TorchBlock()
    model = keras.Model(x, keras.layers.Dense(2)(keras.layers.Flatten()(block(x))))
    names = [w.name for w in block.weights]
    assert names == ["conv.weight", "conv.bias", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var", "scale"]
    assert block.count_params() == 3 * 3 * 3 * 4 + 4 + 4 + 4 + 4 + 4 + 1
    before = block.conv.weight.detach().clone()
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.random.rand(8, 6, 6, 3), np.random.rand(8, 2), epochs=1, verbose=0)
    assert not torch.equal(block.conv.weight, before)
    model.save_weights(tmp_path / "w.weights.h5")
    clone_block = TorchBlock()
    clone = keras.Model(x2 := keras.Input((6, 6, 3)), keras.layers.Dense(2)(keras.layers.Flatten()(clone_block(x2))))
    clone.load_weights(tmp_path / "w.weights.h5")
    assert torch.equal(clone_block.conv.weight, block.conv.weight)
