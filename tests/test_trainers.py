"""The trainers package: public step methods, compiled losses and metrics, strategies.

The keras.io guides themselves run in tests/test_guides_*.py; these tests pin
the contract underneath them.
"""

import numpy as np
import pytest
import torch

import kerasish
from kerasish import layers as L
from kerasish.trainers.compile_utils import CompileMetrics
from kerasish.trainers.strategies import DataParallelStrategy, SingleDevice


def _data(n=64, d=6, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, d)).astype("float32"), rng.integers(0, classes, n)


def _functional(cls=kerasish.Model, d=6, classes=3, seed=1):
    kerasish.utils.set_random_seed(seed)
    inputs = kerasish.Input((d,))
    hidden = L.Dense(8, activation="relu")(inputs)
    outputs = L.Dense(classes, activation="softmax")(hidden)
    return cls(inputs, outputs)


def test_metrics_lists_the_loss_tracker_compiled_metrics_and_attribute_metrics():
    class WithTracker(kerasish.Model):
        pass

    model = _functional(WithTracker)
    model.extra = kerasish.metrics.Mean(name="extra")
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = _data()
    model.fit(x, y, epochs=1, verbose=0)
    names = [m.name for m in model.metrics]
    assert names == ["loss", "compile_metrics", "extra"]
    assert isinstance(model.metrics[1], CompileMetrics)
    assert [m.name for m in model.metrics[1].metrics] == ["accuracy"]
    assert float(model.metrics[0].result()) > 0
    model.reset_metrics()
    assert float(model.metrics[0].result()) == 0.0
    assert float(model.metrics[1].metrics[0].count) == 0.0


def test_super_train_step_is_the_builtin_step_bit_for_bit():
    class Passthrough(kerasish.Model):
        calls = 0

        def train_step(self, data):
            type(self).calls += 1
            return super().train_step(data)

    x, y = _data()
    plain, over = _functional(), _functional(Passthrough)
    over.set_weights(plain.get_weights())
    for m in (plain, over):
        m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    h1 = plain.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0).history
    h2 = over.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0).history
    assert Passthrough.calls == 8
    assert h1 == h2
    for a, b in zip(plain.get_weights(), over.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_overridden_compute_loss_sees_probabilities_not_logits():
    seen = []

    class Recording(kerasish.Model):
        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
            seen.append(y_pred.detach().sum(-1))
            return super().compute_loss(x, y, y_pred, sample_weight, training)

    model = _functional(Recording)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x, y = _data()
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    model.evaluate(x, y, verbose=0)
    assert len(seen) == 4
    for sums in seen:  # softmax rows: a fused step would have handed over logits
        torch.testing.assert_close(sums, torch.ones_like(sums), rtol=1e-5, atol=1e-5)


def test_predict_step_override_returns_its_structure_concatenated():
    class TwoViews(kerasish.Model):
        def predict_step(self, data):
            probs = self(data, training=False)
            return {"probs": probs, "label": probs.argmax(-1)}

    model = _functional(TwoViews)
    x, _ = _data(n=50)
    out = model.predict(x, batch_size=16, verbose=0)
    assert set(out) == {"probs", "label"}
    assert out["probs"].shape == (50, 3) and out["label"].shape == (50,)
    np.testing.assert_array_equal(out["label"], out["probs"].argmax(-1))
    single = model.predict_on_batch(x[:5])
    np.testing.assert_allclose(single["probs"], out["probs"][:5], rtol=1e-6)


def test_test_step_override_drives_evaluate_and_validation():
    class Constant(kerasish.Model):
        def test_step(self, data):
            return {"loss": torch.tensor(7.0), "custom": torch.tensor(3.0)}

    model = _functional(Constant)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x, y = _data()
    assert model.evaluate(x, y, verbose=0, return_dict=True) == {"loss": 7.0, "custom": 3.0}
    assert model.evaluate(x, y, verbose=0) == [7.0, 3.0]  # the metrics' order, then the others sorted
    history = model.fit(x, y, epochs=1, validation_data=(x, y), verbose=0).history
    assert history["val_loss"] == [7.0] and history["val_custom"] == [3.0]
    assert history["loss"][0] != 7.0


def test_stop_training_set_in_a_step_stops_after_that_batch():
    class StopAtThird(kerasish.Model):
        steps = 0

        def train_step(self, data):
            type(self).steps += 1
            if type(self).steps == 3:
                self.stop_training = True
            return super().train_step(data)

    model = _functional(StopAtThird)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x, y = _data()
    history = model.fit(x, y, batch_size=8, epochs=5, verbose=0)
    assert StopAtThird.steps == 3 and len(history.epoch) == 1


@pytest.mark.parametrize("bad,match", [(lambda t: [t], "list"), (lambda t: {"loss": t.reshape(1, 1).repeat(2, 2)}, "shape"),
                                       (lambda t: {"loss": "high"}, "str")])
def test_a_step_returning_anything_but_a_dict_of_scalars_is_a_type_error(bad, match):
    class Bad(kerasish.Model):
        def train_step(self, data):
            super().train_step(data)
            return bad(torch.tensor(1.0))

    model = _functional(Bad)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x, y = _data()
    with pytest.raises(TypeError, match=f"train_step.*{match}"):
        model.fit(x, y, verbose=0)


@pytest.mark.slow
def test_jit_compile_compiles_an_overridden_step(monkeypatch):
    compiled = []
    real_compile = torch.compile

    def recording_compile(fn, *args, **kwargs):
        compiled.append(getattr(fn, "__name__", fn))
        return real_compile(fn, *args, **kwargs)

    class Custom(kerasish.Model):
        def train_step(self, data):
            x, y = data
            self.zero_grad()
            loss = self.compute_loss(y=y, y_pred=self(x, training=True))
            loss.backward()
            with torch.no_grad():
                self.optimizer.apply([v.value.grad for v in self.trainable_weights], self.trainable_weights)
            self.metrics[0].update_state(loss)
            return {"loss": self.metrics[0].result()}

    monkeypatch.setattr(torch, "compile", recording_compile)
    x, y = _data()
    eager, jit = _functional(Custom), _functional(Custom)
    jit.set_weights(eager.get_weights())
    eager.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    jit.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", jit_compile=True)
    h_eager = eager.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0).history["loss"]
    h_jit = jit.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0).history["loss"]
    assert "train_step" in compiled
    np.testing.assert_allclose(h_jit, h_eager, rtol=1e-5)


def test_compile_then_add_layers_then_fit_uses_the_new_output():
    model = kerasish.Sequential([kerasish.Input((6,)), L.Dense(8, activation="relu")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.add(L.Dense(3, activation="softmax"))
    x, y = _data()
    history = model.fit(x, y, epochs=1, verbose=0).history
    assert set(history) == {"loss", "accuracy"}
    assert model._compile_loss.output_names == [model.layers[-1].name]
    assert model.predict(x[:4], verbose=0).shape == (4, 3)


def test_a_model_whose_only_loss_is_add_loss_trains():
    class Penalised(kerasish.layers.Layer):
        def call(self, inputs):
            self.add_loss(torch.mean(inputs ** 2))
            return inputs

    inputs = kerasish.Input((6,))
    outputs = Penalised()(L.Dense(4)(inputs))
    model = kerasish.Model(inputs, outputs)
    model.compile(optimizer=kerasish.optimizers.SGD(0.1))
    x, _ = _data()
    history = model.fit(x, epochs=3, batch_size=16, verbose=0).history
    assert history["loss"][-1] < history["loss"][0]


def test_frozen_model_warns_instead_of_failing():
    model = _functional()
    model.trainable = False
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x, y = _data()
    before = model.get_weights()
    with pytest.warns(UserWarning, match="no trainable weights"):
        model.fit(x, y, epochs=1, verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_train_on_batch_runs_an_overridden_step():
    class Counting(kerasish.Model):
        calls = 0

        def train_step(self, data):
            type(self).calls += 1
            return super().train_step(data)

    model = _functional(Counting)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = _data()
    loss, acc = model.train_on_batch(x, y)
    assert Counting.calls == 1 and loss > 0 and 0 <= acc <= 1


def test_strategies_the_loop_calls():
    single = SingleDevice()
    loss = torch.tensor(2.0)
    assert single.weigh_loss(None, loss, loss, [loss]) == (loss, loss, [loss])
    assert single.agree_to_stop(True) is True

    class FakeDP:
        world_size, rank, auto_shard_dataset = 2, 0, True

    class Custom(kerasish.Model):
        def train_step(self, data):
            return {}

    with pytest.raises(NotImplementedError, match="train_step"):
        DataParallelStrategy(FakeDP()).begin_fit(_functional(Custom), [], 1)
