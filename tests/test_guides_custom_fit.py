"""keras.io "Customizing what happens in fit() with PyTorch" and "Writing a
training loop from scratch in PyTorch", as a Keras 3 user runs them, on small
random data. Where the result is deterministic it is compared with Keras 3
(torch backend) on the same initial weights; the GAN is checked for behaviour.
Also: the rules for a model that has no loss, a ``train_step`` that returns
something other than a dict, and the step overrides of fit / evaluate / predict.
"""

import numpy as np
import pytest
import torch

import kerasish
from guide_utils import (assert_close, assert_history_close, assert_logs_close, assert_weights_close, changed,
                         rng, sync, to_np)

N, D = 256, 32


def regression_data(seed=0):
    r = rng(seed)
    return (r.random((N, D)).astype("float32"), r.random((N, 1)).astype("float32"),
            r.random((N, 1)).astype("float32"))


# ----------------------------------------------------------------------
# "A first simple example": train_step with compute_loss and the compiled metrics
# ----------------------------------------------------------------------
def first_custom_model_class(lib):
    class CustomModel(lib.Model):
        steps = 0

        def train_step(self, data):
            type(self).steps += 1
            x, y = data
            # torch.nn.Module.zero_grad() clears the previous step's gradients.
            self.zero_grad()
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
            loss.backward()
            trainable_weights = [v for v in self.trainable_weights]
            gradients = [v.value.grad for v in trainable_weights]
            with torch.no_grad():
                self.optimizer.apply(gradients, trainable_weights)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    return CustomModel


def dense_model(lib, cls):
    inputs = lib.Input(shape=(D,))
    outputs = lib.layers.Dense(1)(inputs)
    return cls(inputs, outputs)


def test_train_step_with_compute_loss_and_compiled_metrics(keras):
    x, y, _ = regression_data()
    models, hist, init = {}, {}, None
    for lib in (keras, kerasish):
        cls = first_custom_model_class(lib)
        model = dense_model(lib, cls)
        init = sync(model, init)
        model.compile(optimizer=lib.optimizers.SGD(learning_rate=0.05), loss="mse", metrics=["mae"])
        hist[lib] = model.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0)
        assert cls.steps == 16, f"{lib.__name__}: the overridden train_step ran {cls.steps} times, not 16"
        models[lib] = model
    assert sorted(hist[kerasish].history) == ["loss", "mae"]
    assert_history_close(hist[kerasish], hist[keras])
    assert_weights_close(models[kerasish], models[keras])
    assert_close(models[kerasish].predict(x, verbose=0), models[keras].predict(x, verbose=0))


# ----------------------------------------------------------------------
# "Going lower-level": own loss_tracker / mae_metric, a `metrics` property,
# compile() with the optimizer only
# ----------------------------------------------------------------------
def lower_level_model_class(lib):
    class CustomModel(lib.Model):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.loss_tracker = lib.metrics.Mean(name="loss")
            self.mae_metric = lib.metrics.MeanAbsoluteError(name="mae")
            self.loss_fn = lib.losses.MeanSquaredError()

        def train_step(self, data):
            x, y = data
            self.zero_grad()
            y_pred = self(x, training=True)
            loss = self.loss_fn(y, y_pred)
            loss.backward()
            trainable_weights = [v for v in self.trainable_weights]
            gradients = [v.value.grad for v in trainable_weights]
            with torch.no_grad():
                self.optimizer.apply(gradients, trainable_weights)
            self.loss_tracker.update_state(loss)
            self.mae_metric.update_state(y, y_pred)
            return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

        @property
        def metrics(self):
            # Listed here, so fit() resets them at each epoch and evaluate() at its start.
            return [self.loss_tracker, self.mae_metric]

    return CustomModel


def test_lower_level_train_step_with_own_metrics(keras):
    x, y, _ = regression_data(1)
    models, hist, init = {}, {}, None
    for lib in (keras, kerasish):
        model = dense_model(lib, lower_level_model_class(lib))
        init = sync(model, init)
        model.compile(optimizer=lib.optimizers.SGD(learning_rate=0.05))  # no loss, no metrics
        hist[lib] = model.fit(x, y, batch_size=32, epochs=3, shuffle=False, verbose=0)
        models[lib] = model
    # Per-epoch values (the trackers are reset at each epoch, through `metrics`).
    assert_history_close(hist[kerasish], hist[keras])
    assert_weights_close(models[kerasish], models[keras])
    assert [m.name for m in models[kerasish].metrics] == ["loss", "mae"]


# ----------------------------------------------------------------------
# "Supporting sample_weight & class_weight"
# ----------------------------------------------------------------------
def sample_weight_model_class(lib):
    class CustomModel(lib.Model):
        seen = []

        def train_step(self, data):
            if len(data) == 3:
                x, y, sample_weight = data
            else:
                sample_weight = None
                x, y = data
            type(self).seen.append(len(data))
            self.zero_grad()
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred, sample_weight=sample_weight)
            loss.backward()
            trainable_weights = [v for v in self.trainable_weights]
            gradients = [v.value.grad for v in trainable_weights]
            with torch.no_grad():
                self.optimizer.apply(gradients, trainable_weights)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred, sample_weight=sample_weight)
            return {m.name: m.result() for m in self.metrics}

    return CustomModel


def test_train_step_with_sample_weight(keras):
    x, y, sw = regression_data(2)
    models, hist, init = {}, {}, None
    for lib in (keras, kerasish):
        cls = sample_weight_model_class(lib)
        model = dense_model(lib, cls)
        init = sync(model, init)
        model.compile(optimizer=lib.optimizers.SGD(learning_rate=0.05), loss="mse", metrics=["mae"])
        hist[lib] = model.fit(x, y, sample_weight=sw, batch_size=64, epochs=2, shuffle=False, verbose=0)
        assert cls.seen == [3] * 8, f"{lib.__name__}: train_step got data of lengths {cls.seen}"
        models[lib] = model
    assert_history_close(hist[kerasish], hist[keras])
    assert_weights_close(models[kerasish], models[keras])


# ----------------------------------------------------------------------
# "Providing your own evaluation step"
# ----------------------------------------------------------------------
def custom_test_step_class(lib):
    class CustomModel(lib.Model):
        steps = 0

        def test_step(self, data):
            type(self).steps += 1
            x, y = data
            y_pred = self(x, training=False)
            loss = self.compute_loss(y=y, y_pred=y_pred)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    return CustomModel


def test_custom_test_step_in_evaluate(keras):
    x, y, _ = regression_data(3)
    models, res, init = {}, {}, None
    for lib in (keras, kerasish):
        cls = custom_test_step_class(lib)
        model = dense_model(lib, cls)
        init = sync(model, init)
        model.compile(loss="mse", metrics=["mae"])  # the default optimizer, never used
        res[lib] = model.evaluate(x, y, batch_size=32, verbose=0, return_dict=True)
        assert cls.steps == 8, f"{lib.__name__}: the overridden test_step ran {cls.steps} times, not 8"
        models[lib] = model
    assert_logs_close(res[kerasish], res[keras])
    # evaluate() without return_dict: the list in metrics_names' order.
    listed = models[kerasish].evaluate(x, y, batch_size=32, verbose=0)
    assert_close(listed, [res[keras]["loss"], res[keras]["mae"]])


# ----------------------------------------------------------------------
# "Wrapping up: an end-to-end GAN example" (28x28 shrunk to 8x8, random "digits")
# ----------------------------------------------------------------------
LATENT = 16


def gan_parts(lib):
    layers = lib.layers
    discriminator = lib.Sequential([
        lib.Input(shape=(8, 8, 1)),
        layers.Conv2D(8, (3, 3), strides=(2, 2), padding="same"),
        layers.LeakyReLU(negative_slope=0.2),
        layers.Conv2D(16, (3, 3), strides=(2, 2), padding="same"),
        layers.LeakyReLU(negative_slope=0.2),
        layers.GlobalMaxPooling2D(),
        layers.Dense(1),
    ], name="discriminator")
    generator = lib.Sequential([
        lib.Input(shape=(LATENT,)),
        layers.Dense(2 * 2 * 16),
        layers.LeakyReLU(negative_slope=0.2),
        layers.Reshape((2, 2, 16)),
        layers.Conv2DTranspose(16, (4, 4), strides=(2, 2), padding="same"),
        layers.LeakyReLU(negative_slope=0.2),
        layers.Conv2DTranspose(16, (4, 4), strides=(2, 2), padding="same"),
        layers.LeakyReLU(negative_slope=0.2),
        layers.Conv2D(1, (3, 3), padding="same", activation="sigmoid"),
    ], name="generator")

    class GAN(lib.Model):
        steps = 0

        def __init__(self, discriminator, generator, latent_dim):
            super().__init__()
            self.discriminator = discriminator
            self.generator = generator
            self.latent_dim = latent_dim
            self.d_loss_tracker = lib.metrics.Mean(name="d_loss")
            self.g_loss_tracker = lib.metrics.Mean(name="g_loss")
            self.seed_generator = lib.random.SeedGenerator(1337)
            self.built = True

        @property
        def metrics(self):
            return [self.d_loss_tracker, self.g_loss_tracker]

        def compile(self, d_optimizer, g_optimizer, loss_fn):
            super().compile()
            self.d_optimizer = d_optimizer
            self.g_optimizer = g_optimizer
            self.loss_fn = loss_fn

        def train_step(self, real_images):
            type(self).steps += 1
            device = "cuda" if torch.cuda.is_available() else "cpu"
            # The guide tests for a tuple only; Keras 3.15 hands a DataLoader's
            # batch over as the list the DataLoader yields.
            if isinstance(real_images, (tuple, list)):
                real_images = real_images[0]
            batch_size = real_images.shape[0]
            random_latent_vectors = lib.random.normal(shape=(batch_size, self.latent_dim), seed=self.seed_generator)
            generated_images = self.generator(random_latent_vectors)
            real_images = torch.as_tensor(real_images, device=device)
            combined_images = torch.concat([generated_images, real_images], axis=0)
            labels = torch.concat([torch.ones((batch_size, 1), device=device),
                                   torch.zeros((batch_size, 1), device=device)], axis=0)
            labels += 0.05 * lib.random.uniform(labels.shape, seed=self.seed_generator)

            # Train the discriminator.
            self.zero_grad()
            predictions = self.discriminator(combined_images)
            d_loss = self.loss_fn(labels, predictions)
            d_loss.backward()
            grads = [v.value.grad for v in self.discriminator.trainable_weights]
            with torch.no_grad():
                self.d_optimizer.apply(grads, self.discriminator.trainable_weights)

            # Train the generator, not the discriminator.
            random_latent_vectors = lib.random.normal(shape=(batch_size, self.latent_dim), seed=self.seed_generator)
            misleading_labels = torch.zeros((batch_size, 1), device=device)
            self.zero_grad()
            predictions = self.discriminator(self.generator(random_latent_vectors))
            g_loss = self.loss_fn(misleading_labels, predictions)
            g_loss.backward()
            grads = [v.value.grad for v in self.generator.trainable_weights]
            with torch.no_grad():
                self.g_optimizer.apply(grads, self.generator.trainable_weights)

            self.d_loss_tracker.update_state(d_loss)
            self.g_loss_tracker.update_state(g_loss)
            return {"d_loss": self.d_loss_tracker.result(), "g_loss": self.g_loss_tracker.result()}

    return discriminator, generator, GAN


@pytest.mark.parametrize("libname", ["keras", "kerasish"])
def test_gan_fit_on_a_dataloader(keras, libname):
    lib = keras if libname == "keras" else kerasish
    digits = rng(4).random((128, 8, 8, 1)).astype("float32")
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(digits), torch.from_numpy(digits))
    dataloader = torch.utils.data.DataLoader(dataset, batch_size=32, shuffle=True)
    discriminator, generator, GAN = gan_parts(lib)
    d_before, g_before = discriminator.get_weights(), generator.get_weights()
    gan = GAN(discriminator=discriminator, generator=generator, latent_dim=LATENT)
    gan.compile(d_optimizer=lib.optimizers.Adam(learning_rate=0.0003),
                g_optimizer=lib.optimizers.Adam(learning_rate=0.0003),
                loss_fn=lib.losses.BinaryCrossentropy(from_logits=True))
    history = gan.fit(dataloader, epochs=2, verbose=0)
    assert GAN.steps == 8
    assert sorted(history.history) == ["d_loss", "g_loss"]
    assert all(np.isfinite(history.history["d_loss"])) and all(np.isfinite(history.history["g_loss"]))
    assert changed(d_before, discriminator.get_weights()) and changed(g_before, generator.get_weights())
    # Each optimizer built its state for its own network only.
    assert gan.d_optimizer.iterations is not None
    assert int(to_np(gan.d_optimizer.iterations)) == 8 and int(to_np(gan.g_optimizer.iterations)) == 8


# ----------------------------------------------------------------------
# "Writing a training loop from scratch in PyTorch"
# ----------------------------------------------------------------------
def mnist_like(seed=5, n=N):
    r = rng(seed)
    x = r.random((n, 784)).astype("float32")
    labels = r.integers(0, 10, n)
    return x, np.eye(10, dtype="float32")[labels]


def get_model(lib, regularized=False):
    class ActivityRegularizationLayer(lib.layers.Layer):
        def call(self, inputs):
            self.add_loss(1e-2 * torch.sum(inputs))
            return inputs

    inputs = lib.Input(shape=(784,), name="digits")
    x = lib.layers.Dense(64, activation="relu")(inputs)
    if regularized:
        x = ActivityRegularizationLayer()(x)
    x = lib.layers.Dense(64, activation="relu")(x)
    outputs = lib.layers.Dense(10, name="predictions")(x)
    return lib.Model(inputs=inputs, outputs=outputs)


def loaders(x, y, batch_size=32):
    train = torch.utils.data.TensorDataset(torch.from_numpy(x[:192]), torch.from_numpy(y[:192]))
    val = torch.utils.data.TensorDataset(torch.from_numpy(x[192:]), torch.from_numpy(y[192:]))
    return (torch.utils.data.DataLoader(train, batch_size=batch_size, shuffle=False),
            torch.utils.data.DataLoader(val, batch_size=batch_size, shuffle=False))


def test_loop_with_torch_optimizer_and_torch_loss(keras):
    x, y = mnist_like()
    train_dataloader, _ = loaders(x, y)
    models, losses, init = {}, {}, None
    for lib in (keras, kerasish):
        model = get_model(lib)
        init = sync(model, init)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = torch.nn.CrossEntropyLoss()
        losses[lib] = []
        for epoch in range(2):
            for step, (inputs, targets) in enumerate(train_dataloader):
                logits = model(inputs)
                loss = loss_fn(logits, targets)
                model.zero_grad()
                loss.backward()
                optimizer.step()
                losses[lib].append(float(loss.detach().numpy()))
        models[lib] = model
    assert_close(losses[kerasish], losses[keras], rtol=1e-4)
    assert_weights_close(models[kerasish], models[keras], rtol=1e-3)


def keras_optimizer_loop(lib, model, train_dataloader, val_dataloader, epochs=2):
    """The guide's loop with a Keras optimizer, loss and metrics; returns what it prints."""
    optimizer = lib.optimizers.SGD(learning_rate=0.01, momentum=0.5)
    loss_fn = lib.losses.CategoricalCrossentropy(from_logits=True)
    train_acc_metric = lib.metrics.CategoricalAccuracy()
    val_acc_metric = lib.metrics.CategoricalAccuracy()
    printed = {"loss": [], "train_acc": [], "val_acc": [], "extra": []}
    for epoch in range(epochs):
        for step, (inputs, targets) in enumerate(train_dataloader):
            logits = model(inputs)
            loss = loss_fn(targets, logits)
            if model.losses:
                printed["extra"].append(float(to_np(sum(model.losses))))
                loss = loss + torch.sum(*model.losses)
            model.zero_grad()
            trainable_weights = [v for v in model.trainable_weights]
            loss.backward()
            gradients = [v.value.grad for v in trainable_weights]
            with torch.no_grad():
                optimizer.apply(gradients, trainable_weights)
            train_acc_metric.update_state(targets, logits)
            printed["loss"].append(float(loss.detach().numpy()))
        printed["train_acc"].append(float(train_acc_metric.result()))
        train_acc_metric.reset_state()
        for x_batch_val, y_batch_val in val_dataloader:
            val_logits = model(x_batch_val, training=False)
            val_acc_metric.update_state(y_batch_val, val_logits)
        printed["val_acc"].append(float(val_acc_metric.result()))
        val_acc_metric.reset_state()
    return printed


@pytest.mark.parametrize("regularized", [False, True], ids=["metrics", "add_loss"])
def test_loop_with_keras_optimizer_apply_and_metrics(keras, regularized):
    """``v.value.grad`` and ``optimizer.apply`` in a hand-written loop; with
    ``regularized`` the model has the guide's activity-regularization layer
    (``add_loss`` in ``call``), whose ``model.losses`` join the loss."""
    x, y = mnist_like(6)
    train_dataloader, val_dataloader = loaders(x, y)
    models, printed, init = {}, {}, None
    for lib in (keras, kerasish):
        model = get_model(lib, regularized=regularized)
        init = sync(model, init)
        printed[lib] = keras_optimizer_loop(lib, model, train_dataloader, val_dataloader)
        models[lib] = model
    if regularized:
        assert len(printed[kerasish]["extra"]) == 12
        assert len(models[kerasish].losses) == 1  # the last forward pass's, not accumulated
    for key in printed[keras]:
        assert_close(printed[kerasish][key], printed[keras][key], rtol=1e-4, what=key)
    assert_weights_close(models[kerasish], models[keras])


# ----------------------------------------------------------------------
# The rules: no loss at all; train_step returning a non-dict; step overrides
# ----------------------------------------------------------------------
def test_fit_without_any_loss_says_how_to_give_one():
    inputs = kerasish.Input(shape=(4,))
    model = kerasish.Model(inputs, kerasish.layers.Dense(1)(inputs))
    model.compile(optimizer="sgd")  # as in Keras, compile() alone accepts no loss
    x, y = np.ones((8, 4), "float32"), np.ones((8, 1), "float32")
    with pytest.raises(ValueError) as err:
        model.fit(x, y, epochs=1, verbose=0)
    msg = str(err.value)
    assert "loss" in msg and "compile" in msg, msg


def test_train_step_returning_a_non_dict_is_a_type_error():
    class Model(kerasish.Model):
        def train_step(self, data):
            x, y = data
            return torch.mean(self(x))

    inputs = kerasish.Input(shape=(4,))
    model = Model(inputs, kerasish.layers.Dense(1)(inputs))
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(TypeError) as err:
        model.fit(np.ones((8, 4), "float32"), np.ones((8, 1), "float32"), epochs=1, verbose=0)
    msg = str(err.value)
    assert "train_step" in msg and "Tensor" in msg, msg


def overriding_class(lib):
    class Overrides(lib.Model):
        def train_step(self, data):
            x, y = data
            return {"seen": float(x.shape[0])}

        def test_step(self, data):
            x, y = data
            return {"checked": float(torch.sum(y))}

        def predict_step(self, data):
            x = data[0] if isinstance(data, (tuple, list)) else data
            return self(x) * 0.0 + 7.0

    return Overrides


def test_step_overrides_change_fit_evaluate_predict(keras):
    x = np.ones((16, 4), "float32")
    y = np.arange(16, dtype="float32").reshape(16, 1)
    out = {}
    for lib in (keras, kerasish):
        inputs = lib.Input(shape=(4,))
        model = overriding_class(lib)(inputs, lib.layers.Dense(1)(inputs))
        model.compile(optimizer="sgd", loss="mse")
        before = model.get_weights()
        history = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
        assert not changed(before, model.get_weights()), "train_step does no update, so no weight may change"
        out[lib] = (history.history, model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True),
                    np.asarray(to_np(model.predict(x, batch_size=8, verbose=0))))
    (oh, oe, op), (kh, ke, kp) = out[kerasish], out[keras]
    assert oh == kh == {"seen": [8.0, 8.0]}
    assert oe.keys() == ke.keys() == {"checked"}
    assert_close(oe["checked"], ke["checked"])
    assert op.shape == kp.shape == (16, 1) and np.all(op == 7.0)
