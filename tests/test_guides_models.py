"""keras.io "The Sequential model", "The Functional API" and "Making new layers
and models via subclassing", as a Keras 3 user runs them with
``import kerasish as keras``, on small random data. Outputs and training are
compared with Keras 3 (torch backend) on the same weights where they are
deterministic; the subclassed VAE (random sampling) is checked for behaviour.
"""

import warnings

import numpy as np
import pytest
import torch

import kerasish
from guide_utils import (assert_close, assert_history_close, assert_weights_close, changed, custom_dense_class, rng, sampling_class,
                         sync, to_np)


# ----------------------------------------------------------------------
# The Sequential model
# ----------------------------------------------------------------------
def test_sequential_named_layers_call_and_pop(keras):
    out, init = {}, None
    for lib in (keras, kerasish):
        layers, ops = lib.layers, lib.ops
        model = lib.Sequential([
            layers.Dense(2, activation="relu", name="layer1"),
            layers.Dense(3, activation="relu", name="layer2"),
            layers.Dense(4, name="layer3"),
        ])
        x = ops.ones((3, 3))
        model(x)  # builds
        init = sync(model, init)
        y = to_np(model(x))
        assert [l.name for l in model.layers] == ["layer1", "layer2", "layer3"]
        model.pop()
        assert len(model.layers) == 2
        out[lib] = (y, to_np(model(x)))
    assert out[kerasish][0].shape == (3, 4)
    assert_close(out[kerasish][0], out[keras][0])
    assert_close(out[kerasish][1], out[keras][1])


def test_sequential_add_without_input_builds_on_first_call(keras):
    counts = {}
    for lib in (keras, kerasish):
        layers, ops = lib.layers, lib.ops
        layer = layers.Dense(3)
        assert layer.weights == []  # no weights before the first call
        layer(ops.ones((1, 4)))
        assert [tuple(w.shape) for w in layer.weights] == [(4, 3), (3,)]

        model = lib.Sequential(name="my_sequential")
        model.add(layers.Dense(2, activation="relu", name="layer1"))
        model.add(layers.Dense(3, activation="relu", name="layer2"))
        model.add(layers.Dense(4, name="layer3"))
        assert model.name == "my_sequential"
        assert not model.built
        y = model(ops.ones((1, 4)))
        counts[lib] = (len(model.weights), tuple(y.shape))
    assert counts[kerasish] == counts[keras] == (6, (1, 4))


def test_sequential_with_input_summary_and_output_shapes(keras, capsys):
    shapes = {}
    for lib in (keras, kerasish):
        layers = lib.layers
        model = lib.Sequential()
        model.add(lib.Input(shape=(4,)))
        model.add(layers.Dense(2, activation="relu"))
        assert len(model.layers) == 1 and len(model.weights) == 2  # the Input is not a layer
        model.summary()

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model2 = lib.Sequential()
            model2.add(layers.Dense(2, activation="relu", input_shape=(4,)))
        assert len(model2.weights) == 2

        model = lib.Sequential()
        model.add(lib.Input(shape=(40, 40, 3)))
        model.add(layers.Conv2D(8, 5, strides=2, activation="relu"))
        model.add(layers.Conv2D(8, 3, activation="relu"))
        model.add(layers.MaxPooling2D(3))
        got = [tuple(model.output_shape)]
        model.add(layers.Conv2D(8, 3, activation="relu"))
        model.add(layers.MaxPooling2D(2))
        got.append(tuple(model.output_shape))
        model.summary()
        model.add(layers.GlobalMaxPooling2D())
        model.add(layers.Dense(10))
        got.append(tuple(model.output_shape))
        shapes[lib] = got
    assert shapes[kerasish] == shapes[keras]


def test_sequential_feature_extraction_and_transfer_learning(keras):
    x = rng(0).random((16, 20, 20, 3)).astype("float32")
    y = rng(1).integers(0, 10, 16)
    out, init = {}, None
    for lib in (keras, kerasish):
        layers = lib.layers
        initial_model = lib.Sequential([
            lib.Input(shape=(20, 20, 3)),
            layers.Conv2D(8, 5, strides=2, activation="relu"),
            layers.Conv2D(8, 3, activation="relu", name="my_intermediate_layer"),
            layers.Conv2D(8, 3, activation="relu"),
            layers.GlobalMaxPooling2D(),
            layers.Dense(10),
        ])
        init = sync(initial_model, init)
        feature_extractor = lib.Model(inputs=initial_model.inputs, outputs=[layer.output for layer in initial_model.layers])
        features = [to_np(f) for f in feature_extractor(x)]
        intermediate = lib.Model(inputs=initial_model.inputs,
                                 outputs=initial_model.get_layer(name="my_intermediate_layer").output)
        mid = to_np(intermediate(x))

        # Transfer learning: freeze all layers except the last one.
        for layer in initial_model.layers[:-1]:
            layer.trainable = False
        frozen_before = [to_np(w) for l in initial_model.layers[:-1] for w in l.get_weights()]
        initial_model.compile(optimizer=lib.optimizers.SGD(learning_rate=0.1),
                              loss=lib.losses.SparseCategoricalCrossentropy(from_logits=True))
        history = initial_model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
        frozen_after = [to_np(w) for l in initial_model.layers[:-1] for w in l.get_weights()]
        assert not changed(frozen_before, frozen_after), f"{lib.__name__}: a frozen layer changed"
        out[lib] = (features, mid, history, initial_model)
    (of, om, oh, omod), (kf, km, kh, kmod) = out[kerasish], out[keras]
    assert len(of) == len(kf) == 5
    for a, b in zip(of, kf):
        assert_close(a, b)
    assert_close(om, km)
    assert_history_close(oh, kh)
    assert_weights_close(omod, kmod)


# ----------------------------------------------------------------------
# The Functional API
# ----------------------------------------------------------------------
def mnist_model(lib):
    layers = lib.layers
    inputs = lib.Input(shape=(784,))
    x = layers.Dense(64, activation="relu")(inputs)
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(10)(x)
    return lib.Model(inputs=inputs, outputs=outputs, name="mnist_model")


def test_functional_mnist_train_evaluate_save_load(keras, tmp_path):
    r = rng(2)
    x_train = r.random((256, 784)).astype("float32")
    y_train = r.integers(0, 10, 256)
    out, init = {}, None
    for lib in (keras, kerasish):
        model = mnist_model(lib)
        init = sync(model, init)
        assert model.name == "mnist_model"
        model.compile(loss=lib.losses.SparseCategoricalCrossentropy(from_logits=True),
                      optimizer=lib.optimizers.SGD(learning_rate=0.05), metrics=["accuracy"])
        history = model.fit(x_train, y_train, batch_size=64, epochs=2, validation_split=0.2, shuffle=False, verbose=0)
        test_scores = model.evaluate(x_train[:64], y_train[:64], verbose=0)
        path = tmp_path / f"{lib.__name__}_model.keras"
        model.save(str(path))
        predictions = to_np(model.predict(x_train[:8], verbose=0))
        del model
        model = lib.models.load_model(str(path))
        assert_close(model.predict(x_train[:8], verbose=0), predictions, rtol=1e-6)
        out[lib] = (history, test_scores, predictions)
    assert sorted(out[kerasish][0].history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert_history_close(out[kerasish][0], out[keras][0])
    assert_close(out[kerasish][1], out[keras][1])
    assert_close(out[kerasish][2], out[keras][2])


def test_functional_autoencoder_and_models_called_like_layers(keras):
    img = rng(3).random((4, 28, 28, 1)).astype("float32")
    out, init = {}, None
    for lib in (keras, kerasish):
        layers = lib.layers
        encoder_input = lib.Input(shape=(28, 28, 1), name="original_img")
        x = layers.Conv2D(16, 3, activation="relu")(encoder_input)
        x = layers.Conv2D(32, 3, activation="relu")(x)
        x = layers.MaxPooling2D(3)(x)
        x = layers.Conv2D(32, 3, activation="relu")(x)
        x = layers.Conv2D(16, 3, activation="relu")(x)
        encoder_output = layers.GlobalMaxPooling2D()(x)
        encoder = lib.Model(encoder_input, encoder_output, name="encoder")

        decoder_input = lib.Input(shape=(16,), name="encoded_img")
        x = layers.Reshape((4, 4, 1))(decoder_input)
        x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
        x = layers.Conv2DTranspose(32, 3, activation="relu")(x)
        x = layers.UpSampling2D(3)(x)
        x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
        decoder_output = layers.Conv2DTranspose(1, 3, activation="relu")(x)
        decoder = lib.Model(decoder_input, decoder_output, name="decoder")

        autoencoder_input = lib.Input(shape=(28, 28, 1), name="img")
        encoded_img = encoder(autoencoder_input)
        decoded_img = decoder(encoded_img)
        autoencoder = lib.Model(autoencoder_input, decoded_img, name="autoencoder")
        init = sync(autoencoder, init)
        assert [l.name for l in autoencoder.layers] == ["img", "encoder", "decoder"]
        out[lib] = to_np(autoencoder(img))
    assert out[kerasish].shape == (4, 28, 28, 1)
    assert_close(out[kerasish], out[keras])


def test_functional_ensemble_average(keras):
    x = rng(4).random((8, 128)).astype("float32")
    out, init = {}, None
    for lib in (keras, kerasish):
        def get_model():
            inputs = lib.Input(shape=(128,))
            outputs = lib.layers.Dense(1)(inputs)
            return lib.Model(inputs, outputs)

        model1, model2, model3 = get_model(), get_model(), get_model()
        inputs = lib.Input(shape=(128,))
        y1, y2, y3 = model1(inputs), model2(inputs), model3(inputs)
        outputs = lib.layers.average([y1, y2, y3])
        ensemble_model = lib.Model(inputs=inputs, outputs=outputs)
        init = sync(ensemble_model, init)
        out[lib] = to_np(ensemble_model(x))
    assert_close(out[kerasish], out[keras])


def ticket_model(lib, num_tags=12, num_departments=4, dict_outputs=True):
    """The guide's ticket model; its Embedding + LSTM text branches (layers
    kerasish does not have) are Dense layers on bag-of-words vectors here.
    With a list of losses the outputs are a list (Keras flattens a dict of
    outputs in sorted-key order, which a positional loss list would not match)."""
    layers = lib.layers
    title_input = lib.Input(shape=(20,), name="title")
    body_input = lib.Input(shape=(30,), name="body")
    tags_input = lib.Input(shape=(num_tags,), name="tags")
    title_features = layers.Dense(16, activation="relu")(title_input)
    body_features = layers.Dense(8, activation="relu")(body_input)
    x = layers.concatenate([title_features, body_features, tags_input])
    priority_pred = layers.Dense(1, name="priority")(x)
    department_pred = layers.Dense(num_departments, name="department")(x)
    outputs = {"priority": priority_pred, "department": department_pred} if dict_outputs else [priority_pred, department_pred]
    return lib.Model(inputs=[title_input, body_input, tags_input], outputs=outputs)


@pytest.mark.parametrize("form", ["lists", "dicts"])
def test_functional_multi_input_multi_output_loss_weights(keras, form):
    r = rng(5)
    title_data = r.random((128, 20)).astype("float32")
    body_data = r.random((128, 30)).astype("float32")
    tags_data = r.integers(2, size=(128, 12)).astype("float32")
    priority_targets = r.random(size=(128, 1)).astype("float32")
    dept_targets = r.integers(2, size=(128, 4)).astype("float32")
    out, init = {}, None
    for lib in (keras, kerasish):
        model = ticket_model(lib, dict_outputs=form == "dicts")
        init = sync(model, init)
        if form == "lists":
            model.compile(optimizer=lib.optimizers.SGD(learning_rate=0.05),
                          loss=[lib.losses.BinaryCrossentropy(from_logits=True),
                                lib.losses.CategoricalCrossentropy(from_logits=True)],
                          loss_weights=[1.0, 0.2])
            history = model.fit([title_data, body_data, tags_data], [priority_targets, dept_targets],
                                epochs=2, batch_size=32, shuffle=False, verbose=0)
        else:
            model.compile(optimizer=lib.optimizers.SGD(learning_rate=0.05),
                          loss={"priority": lib.losses.BinaryCrossentropy(from_logits=True),
                                "department": lib.losses.CategoricalCrossentropy(from_logits=True)},
                          loss_weights={"priority": 1.0, "department": 0.2})
            history = model.fit({"title": title_data, "body": body_data, "tags": tags_data},
                                {"priority": priority_targets, "department": dept_targets},
                                epochs=2, batch_size=32, shuffle=False, verbose=0)
        out[lib] = (model, history)
    assert_history_close(out[kerasish][1], out[keras][1])
    assert_weights_close(out[kerasish][0], out[keras][0])


def test_functional_toy_resnet(keras):
    r = rng(6)
    x_train = r.random((32, 16, 16, 3)).astype("float32")
    y_train = np.eye(10, dtype="float32")[r.integers(0, 10, 32)]
    out, init = {}, None
    for lib in (keras, kerasish):
        layers = lib.layers
        inputs = lib.Input(shape=(16, 16, 3), name="img")
        x = layers.Conv2D(8, 3, activation="relu")(inputs)
        x = layers.Conv2D(16, 3, activation="relu")(x)
        block_1_output = layers.MaxPooling2D(3)(x)
        x = layers.Conv2D(16, 3, activation="relu", padding="same")(block_1_output)
        x = layers.Conv2D(16, 3, activation="relu", padding="same")(x)
        block_2_output = layers.add([x, block_1_output])
        x = layers.Conv2D(16, 3, activation="relu", padding="same")(block_2_output)
        x = layers.Conv2D(16, 3, activation="relu", padding="same")(x)
        block_3_output = layers.add([x, block_2_output])
        x = layers.Conv2D(16, 3, activation="relu")(block_3_output)
        x = layers.GlobalAveragePooling2D()(x)
        x = layers.Dense(32, activation="relu")(x)
        x = layers.Dropout(0.5)(x)
        outputs = layers.Dense(10)(x)
        model = lib.Model(inputs, outputs, name="toy_resnet")
        init = sync(model, init)
        predictions = to_np(model.predict(x_train, verbose=0))
        model.compile(optimizer=lib.optimizers.RMSprop(1e-3),
                      loss=lib.losses.CategoricalCrossentropy(from_logits=True), metrics=["acc"])
        history = model.fit(x_train[:24], y_train[:24], batch_size=8, epochs=1, validation_split=0.25, verbose=0)
        out[lib] = (predictions, history)
    assert_close(out[kerasish][0], out[keras][0])
    # Dropout draws differ between the libraries: the log's keys, not values.
    assert sorted(out[kerasish][1].history) == sorted(out[keras][1].history) == ["acc", "loss", "val_acc", "val_loss"]


def test_functional_custom_layer_from_config_with_custom_objects(keras):
    x = rng(7).random((5, 4)).astype("float32")
    out, init = {}, None
    for lib in (keras, kerasish):
        CustomDense = custom_dense_class(lib)
        inputs = lib.Input((4,))
        outputs = CustomDense(10)(inputs)
        model = lib.Model(inputs, outputs)
        init = sync(model, init)
        config = model.get_config()
        new_model = lib.Model.from_config(config, custom_objects={"CustomDense": CustomDense})
        assert type(new_model.layers[-1]).__name__ == "CustomDense" and new_model.layers[-1].units == 10
        new_model.set_weights(model.get_weights())
        assert_close(new_model(x), model(x), rtol=1e-6)
        out[lib] = to_np(new_model(x))
    assert_close(out[kerasish], out[keras])


def test_functional_model_inside_a_subclassed_layer_and_back(keras):
    """Mixing styles: a subclassed RNN-like layer holding a functional model,
    and a functional model (batch_shape Input) calling a subclassed layer on a
    rank-3 tensor. The guide's GlobalAveragePooling1D / Conv1D (not in
    kerasish) are a Flatten and a rank-3 Dense here."""
    units, timesteps, input_dim, batch_size = 8, 5, 3, 4
    x = rng(8).random((batch_size, timesteps, input_dim)).astype("float32")
    out, init_a, init_b = {}, None, None
    for lib in (keras, kerasish):
        layers, ops = lib.layers, lib.ops
        inputs = lib.Input((timesteps, units))
        flat = layers.Flatten()(inputs)
        classifier = lib.Model(inputs, layers.Dense(1)(flat))

        class CustomRNN(layers.Layer):
            def __init__(self, head):
                super().__init__()
                self.units = units
                self.projection_1 = layers.Dense(units=units, activation="tanh")
                self.projection_2 = layers.Dense(units=units, activation="tanh")
                self.classifier = head

            def call(self, inputs):
                outputs = []
                state = ops.zeros(shape=(inputs.shape[0], self.units))
                for t in range(inputs.shape[1]):
                    x = inputs[:, t, :]
                    h = self.projection_1(x)
                    y = h + self.projection_2(state)
                    state = y
                    outputs.append(y)
                features = ops.stack(outputs, axis=1)
                return self.classifier(features)

        rnn_model = CustomRNN(classifier)
        rnn_model(ops.zeros((1, timesteps, units)))
        init_a = sync(rnn_model, init_a)
        first = to_np(rnn_model(ops.convert_to_tensor(np.tile(x, (1, 1, 3))[..., :units])))

        inputs = lib.Input(batch_shape=(batch_size, timesteps, input_dim))
        h = layers.Dense(units)(inputs)
        outputs = CustomRNN(layers.Dense(1))(h)
        model = lib.Model(inputs, outputs)
        init_b = sync(model, init_b)
        out[lib] = (first, to_np(model(x)))
    assert out[kerasish][1].shape == (batch_size, timesteps, 1)
    assert_close(out[kerasish][0], out[keras][0])
    assert_close(out[kerasish][1], out[keras][1])


# ----------------------------------------------------------------------
# Making new layers and models via subclassing
# ----------------------------------------------------------------------
def test_linear_layer_weights_are_its_attributes(keras):
    out, init = {}, None
    for lib in (keras, kerasish):
        ops = lib.ops

        class Linear(lib.layers.Layer):
            def __init__(self, units=32, input_dim=32):
                super().__init__()
                self.w = self.add_weight(shape=(input_dim, units), initializer="random_normal", trainable=True)
                self.b = self.add_weight(shape=(units,), initializer="zeros", trainable=True)

            def call(self, inputs):
                return ops.matmul(inputs, self.w) + self.b

        x = ops.ones((2, 2))
        linear_layer = Linear(4, 2)
        init = sync(linear_layer, init)
        y = linear_layer(x)
        assert len(linear_layer.weights) == 2
        assert linear_layer.weights[0] is linear_layer.w and linear_layer.weights[1] is linear_layer.b
        assert_close(y, ops.matmul(x, linear_layer.w) + linear_layer.b, rtol=1e-6)
        out[lib] = to_np(y)
    assert out[kerasish].shape == (2, 4)
    assert_close(out[kerasish], out[keras])


def test_non_trainable_weight_assign_add(keras):
    for lib in (keras, kerasish):
        ops = lib.ops

        class ComputeSum(lib.layers.Layer):
            def __init__(self, input_dim):
                super().__init__()
                self.total = self.add_weight(initializer="zeros", shape=(input_dim,), trainable=False)

            def call(self, inputs):
                self.total.assign_add(ops.sum(inputs, axis=0))
                return self.total

        x = ops.ones((2, 2))
        my_sum = ComputeSum(2)
        np.testing.assert_array_equal(to_np(my_sum(x)), [2.0, 2.0])
        np.testing.assert_array_equal(to_np(my_sum(x)), [4.0, 4.0])
        assert len(my_sum.weights) == 1 and len(my_sum.non_trainable_weights) == 1
        assert my_sum.trainable_weights == []


def test_lazy_build_and_nested_layers(keras):
    out, init = {}, None
    for lib in (keras, kerasish):
        ops = lib.ops

        class Linear(lib.layers.Layer):
            def __init__(self, units=32):
                super().__init__()
                self.units = units

            def build(self, input_shape):
                self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal", trainable=True)
                self.b = self.add_weight(shape=(self.units,), initializer="random_normal", trainable=True)

            def call(self, inputs):
                return ops.matmul(inputs, self.w) + self.b

        class MLPBlock(lib.layers.Layer):
            def __init__(self):
                super().__init__()
                self.linear_1 = Linear(32)
                self.linear_2 = Linear(32)
                self.linear_3 = Linear(1)

            def call(self, inputs):
                x = self.linear_1(inputs)
                x = lib.activations.relu(x)
                x = self.linear_2(x)
                x = lib.activations.relu(x)
                return self.linear_3(x)

        mlp = MLPBlock()
        assert mlp.weights == []
        x = ops.ones(shape=(3, 64))
        mlp(x)  # the first call creates the weights
        assert len(mlp.weights) == 6 and len(mlp.trainable_weights) == 6
        init = sync(mlp, init)
        out[lib] = to_np(mlp(x))
    assert_close(out[kerasish], out[keras])


def test_add_loss_losses_reset_and_kernel_regularizer(keras):
    for lib in (keras, kerasish):
        ops = lib.ops

        class ActivityRegularizationLayer(lib.layers.Layer):
            def __init__(self, rate=1e-2):
                super().__init__()
                self.rate = rate

            def call(self, inputs):
                self.add_loss(self.rate * ops.mean(inputs))
                return inputs

        class OuterLayer(lib.layers.Layer):
            def __init__(self):
                super().__init__()
                self.activity_reg = ActivityRegularizationLayer(1e-2)

            def call(self, inputs):
                return self.activity_reg(inputs)

        layer = OuterLayer()
        assert len(layer.losses) == 0  # never called yet
        _ = layer(ops.zeros((1, 1)))
        assert len(layer.losses) == 1
        _ = layer(ops.zeros((1, 1)))
        assert len(layer.losses) == 1  # reset at the start of each top-level __call__

        class OuterLayerWithKernelRegularizer(lib.layers.Layer):
            def __init__(self):
                super().__init__()
                self.dense = lib.layers.Dense(32, kernel_regularizer=lib.regularizers.l2(1e-3))

            def call(self, inputs):
                return self.dense(inputs)

        layer = OuterLayerWithKernelRegularizer()
        _ = layer(ops.zeros((1, 1)))
        assert len(layer.losses) == 1
        # This is `1e-3 * sum(layer.dense.kernel ** 2)`, created by the kernel_regularizer.
        assert_close(layer.losses[0], 1e-3 * ops.sum(layer.dense.kernel ** 2), rtol=1e-5)


@pytest.mark.parametrize("with_loss", [True, False], ids=["loss_mse", "add_loss_only"])
def test_add_loss_in_fit_with_and_without_compiled_loss(keras, with_loss):
    r = rng(9)
    x, y = r.random((64, 3)).astype("float32"), r.random((64, 3)).astype("float32")
    out, init = {}, None
    for lib in (keras, kerasish):
        ops = lib.ops

        class ActivityRegularizationLayer(lib.layers.Layer):
            def call(self, inputs):
                self.add_loss(1e-2 * ops.mean(inputs))
                return inputs

        inputs = lib.Input(shape=(3,))
        outputs = ActivityRegularizationLayer()(lib.layers.Dense(3)(inputs))
        model = lib.Model(inputs, outputs)
        init = sync(model, init)
        if with_loss:
            model.compile(optimizer=lib.optimizers.SGD(learning_rate=0.1), loss="mse")
        else:
            model.compile(optimizer=lib.optimizers.SGD(learning_rate=0.1))
        out[lib] = (model, model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0))
    assert_history_close(out[kerasish][1], out[keras][1])
    assert_weights_close(out[kerasish][0], out[keras][0])


def test_layer_config_round_trip_and_training_argument(keras):
    for lib in (keras, kerasish):
        ops = lib.ops

        class Linear(lib.layers.Layer):
            def __init__(self, units=32, **kwargs):
                super().__init__(**kwargs)
                self.units = units

            def build(self, input_shape):
                self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal", trainable=True)
                self.b = self.add_weight(shape=(self.units,), initializer="random_normal", trainable=True)

            def call(self, inputs):
                return ops.matmul(inputs, self.w) + self.b

            def get_config(self):
                config = super().get_config()
                config.update({"units": self.units})
                return config

        layer = Linear(64, name="my_linear")
        config = layer.get_config()
        assert config["units"] == 64 and config["name"] == "my_linear"
        new_layer = Linear.from_config(config)
        assert new_layer.units == 64 and new_layer.name == "my_linear"

        class CustomDropout(lib.layers.Layer):
            def __init__(self, rate, **kwargs):
                super().__init__(**kwargs)
                self.rate = rate
                self.seed_generator = lib.random.SeedGenerator(1337)

            def call(self, inputs, training=None):
                if training:
                    return lib.random.dropout(inputs, rate=self.rate, seed=self.seed_generator)
                return inputs

        inputs = lib.Input(shape=(100,))
        model = lib.Model(inputs, CustomDropout(0.5)(inputs))
        x = np.ones((4, 100), "float32")
        np.testing.assert_array_equal(to_np(model(x)), x)
        dropped = to_np(model(x, training=True))
        assert set(np.unique(dropped)) <= {0.0, 2.0} and 0 < (dropped == 0).mean() < 1


def subclassed_vae(lib, original_dim=64):
    layers, ops = lib.layers, lib.ops

    Sampling = sampling_class(lib)

    class Encoder(layers.Layer):
        def __init__(self, latent_dim=32, intermediate_dim=64, name="encoder", **kwargs):
            super().__init__(name=name, **kwargs)
            self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
            self.dense_mean = layers.Dense(latent_dim)
            self.dense_log_var = layers.Dense(latent_dim)
            self.sampling = Sampling()

        def call(self, inputs):
            x = self.dense_proj(inputs)
            z_mean = self.dense_mean(x)
            z_log_var = self.dense_log_var(x)
            z = self.sampling((z_mean, z_log_var))
            return z_mean, z_log_var, z

    class Decoder(layers.Layer):
        def __init__(self, original_dim, intermediate_dim=64, name="decoder", **kwargs):
            super().__init__(name=name, **kwargs)
            self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
            self.dense_output = layers.Dense(original_dim, activation="sigmoid")

        def call(self, inputs):
            return self.dense_output(self.dense_proj(inputs))

    class VariationalAutoEncoder(lib.Model):
        def __init__(self, original_dim, intermediate_dim=64, latent_dim=32, name="autoencoder", **kwargs):
            super().__init__(name=name, **kwargs)
            self.original_dim = original_dim
            self.encoder = Encoder(latent_dim=latent_dim, intermediate_dim=intermediate_dim)
            self.decoder = Decoder(original_dim, intermediate_dim=intermediate_dim)

        def call(self, inputs):
            z_mean, z_log_var, z = self.encoder(inputs)
            reconstructed = self.decoder(z)
            kl_loss = -0.5 * ops.mean(z_log_var - ops.square(z_mean) - ops.exp(z_log_var) + 1)
            self.add_loss(kl_loss)
            return reconstructed

    return VariationalAutoEncoder(original_dim, 32, 8)


@pytest.mark.parametrize("libname", ["keras", "kerasish"])
def test_subclassed_vae_with_add_loss_in_fit(keras, libname):
    lib = keras if libname == "keras" else kerasish
    x_train = rng(10).random((128, 64)).astype("float32")
    vae = subclassed_vae(lib)
    optimizer = lib.optimizers.Adam(learning_rate=1e-3)
    vae.compile(optimizer, loss=lib.losses.MeanSquaredError())
    history = vae.fit(x_train, x_train, epochs=2, batch_size=32, verbose=0)
    assert sorted(history.history) == ["loss"]
    assert np.all(np.isfinite(history.history["loss"]))
    assert len(vae.trainable_weights) == 10
    recon = vae(x_train[:4])
    assert tuple(recon.shape) == (4, 64)
    assert len(vae.losses) == 1  # the KL term of the last call
    # The loss logged includes the KL term: evaluate > plain reconstruction MSE.
    mse = float(np.mean((to_np(vae.predict(x_train, verbose=0)) - x_train) ** 2))
    assert vae.evaluate(x_train, x_train, verbose=0) > 0.5 * mse
