"""Keras variables on built-in layers, gradients in Keras layout through
``v.value.grad``, ``optimizer.apply``'s checks, and keras.io's custom training
loop in PyTorch ("Writing a training loop from scratch in PyTorch") against
Keras 3 on the same weights."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")  # the Keras oracle runs on torch

import numpy as np
import pytest
import torch

import kerasish
from kerasish.engine.variable import KerasLayoutTensor, Variable
from conftest import assert_close_f32, to_numpy

BATCH, FEATURES, CLASSES = 32, 784, 10


def guide_model(lib):
    """The guide's MNIST model: Dense 64-relu, 64-relu, 10 logits."""
    inputs = lib.Input(shape=(FEATURES,), name="digits")
    x1 = lib.layers.Dense(64, activation="relu")(inputs)
    x2 = lib.layers.Dense(64, activation="relu")(x1)
    outputs = lib.layers.Dense(CLASSES, name="predictions")(x2)
    return lib.Model(inputs=inputs, outputs=outputs)


def guide_data(n=256, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, FEATURES)).astype("float32")
    labels = rng.integers(0, CLASSES, size=n)
    y = np.eye(CLASSES, dtype="float32")[labels]
    return x, y


def guide_loop(lib, model, optimizer, x, y, epochs=1):
    """The guide's loop with a Keras optimizer, loss and metric; returns the
    per-step losses and the per-epoch accuracies."""
    loss_fn = lib.losses.CategoricalCrossentropy(from_logits=True)
    train_acc_metric = lib.metrics.CategoricalAccuracy()
    losses, accuracies = [], []
    for _ in range(epochs):
        for start in range(0, len(x), BATCH):
            inputs, targets = torch.from_numpy(x[start:start + BATCH]), torch.from_numpy(y[start:start + BATCH])
            logits = model(inputs, training=True)
            loss = loss_fn(targets, logits)
            if model.losses:
                loss = loss + torch.sum(*model.losses)
            model.zero_grad()
            trainable_weights = [v for v in model.trainable_weights]
            loss.backward()
            gradients = [v.value.grad for v in trainable_weights]
            with torch.no_grad():
                optimizer.apply(gradients, trainable_weights)
            train_acc_metric.update_state(targets, logits)
            losses.append(float(loss.detach().numpy()))
        accuracies.append(float(train_acc_metric.result()))
        train_acc_metric.reset_state()
        assert float(train_acc_metric.result()) == 0.0  # reset_state cleared it
    return losses, accuracies


# ----------------------------------------------------------------------
# The guide's loop, against Keras 3
# ----------------------------------------------------------------------
def test_guide_loop_with_sgd_matches_keras_and_trains_every_weight(keras):
    """Same initial weights, same batches, SGD: the same losses and final
    weights as Keras 3. Every kernel moves (before, ``v.value.grad`` of a
    transposed kernel was None, so only the biases trained)."""
    x, y = guide_data()
    km, om = guide_model(keras), guide_model(kerasish)
    om.set_weights(km.get_weights())
    initial = om.get_weights()
    k_losses, k_acc = guide_loop(keras, km, keras.optimizers.SGD(learning_rate=0.1), x, y, epochs=2)
    o_losses, o_acc = guide_loop(kerasish, om, kerasish.optimizers.SGD(learning_rate=0.1), x, y, epochs=2)
    steps = len(o_losses)
    # a kernel gradient sums BATCH samples of 784-long products; steps chain them
    tol = {"terms": BATCH * FEATURES, "depth": steps}
    assert_close_f32(o_losses, k_losses, **tol)
    np.testing.assert_allclose(o_acc, k_acc, rtol=1e-6)
    for v, ours, theirs in zip(om.weights, om.get_weights(), km.get_weights()):
        assert_close_f32(ours, theirs, err_msg=v.path, **tol)
    for v, before, after in zip(om.weights, initial, om.get_weights()):
        assert not np.array_equal(before, after), f"{v.path} was not trained"
    assert np.mean(o_losses[-8:]) < np.mean(o_losses[:8])


class ActivityRegularizationLayer(kerasish.layers.Layer):
    """The guide's layer adding a loss in ``call``."""

    def call(self, inputs):
        self.add_loss(1e-2 * torch.sum(inputs))
        return inputs


def test_guide_loop_with_adam_metrics_and_added_losses_trains_every_weight():
    """The guide's last loop (Adam, a metric, ``model.losses``) on kerasish
    alone: every weight changes and the loss goes down."""
    kerasish.utils.set_random_seed(0)
    inputs = kerasish.Input(shape=(FEATURES,), name="digits")
    h = kerasish.layers.Dense(64, activation="relu")(inputs)
    h = ActivityRegularizationLayer()(h)
    h = kerasish.layers.Dense(64, activation="relu")(h)
    model = kerasish.Model(inputs, kerasish.layers.Dense(CLASSES, name="predictions")(h))
    x, y = guide_data()
    initial = model.get_weights()
    losses, accuracies = guide_loop(kerasish, model, kerasish.optimizers.Adam(learning_rate=1e-3), x, y, epochs=3)
    assert len(model.losses) == 1
    for v, before, after in zip(model.weights, initial, model.get_weights()):
        assert not np.array_equal(before, after), f"{v.path} was not trained"
    assert np.mean(losses[-8:]) < np.mean(losses[:8])
    assert len(accuracies) == 3 and all(0.0 <= a <= 1.0 for a in accuracies)


def test_torch_optimizer_on_model_parameters_trains_every_weight():
    """The guide's first loop: ``torch.optim.Adam(model.parameters())``."""
    kerasish.utils.set_random_seed(0)
    model = guide_model(kerasish)
    x, y = guide_data(n=128)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    initial = model.get_weights()
    for start in range(0, len(x), BATCH):
        logits = model(torch.from_numpy(x[start:start + BATCH]))
        loss = loss_fn(logits, torch.from_numpy(y[start:start + BATCH]))
        model.zero_grad()
        loss.backward()
        optimizer.step()
    for v, before, after in zip(model.weights, initial, model.get_weights()):
        assert not np.array_equal(before, after), f"{v.path} was not trained"


# ----------------------------------------------------------------------
# v.value.grad in Keras layout
# ----------------------------------------------------------------------
def conv_model(lib):
    L = lib.layers
    return lib.Sequential([
        lib.Input((7, 7, 3)),
        L.Conv2D(4, 3, padding="same", name="conv"),
        L.DepthwiseConv2D(3, depth_multiplier=2, name="depthwise"),
        L.SeparableConv2D(3, 2, name="separable"),
        L.Conv2DTranspose(2, 2, strides=2, name="transpose"),
        L.PReLU(name="prelu"),
        # after a nonlinearity: a bias right before it would get a zero gradient
        L.BatchNormalization(name="bn"),
        L.Flatten(name="flatten"),
        L.LayerNormalization(name="ln"),
        L.Dense(3, name="dense"),
    ])


def test_value_grad_matches_keras_for_every_layout(keras):
    """Conv, depthwise, separable, transposed-conv, PReLU and Dense kernels are
    kept in torch layouts; ``v.value.grad`` (and ``v.grad``) still give each
    gradient in Keras layout, equal to Keras's on the same weights."""
    rng = np.random.default_rng(1)
    x = torch.from_numpy(rng.normal(size=(4, 7, 7, 3)).astype("float32"))
    km, om = conv_model(keras), conv_model(kerasish)
    om.set_weights(km.get_weights())
    for model in (km, om):
        model.zero_grad()
        model(x, training=True).square().mean().backward()
    kweights, oweights = km.trainable_weights, om.trainable_weights
    assert [(v.name, v.shape) for v in oweights] == [(v.name, tuple(v.shape)) for v in kweights]
    for o, k in zip(oweights, kweights):
        g = o.value.grad
        assert g is not None, f"{o.path}: no gradient through v.value.grad"
        assert tuple(g.shape) == o.shape
        expected = to_numpy(k.value.grad)
        assert_close_f32(g, expected, terms=4 * 7 * 7 * 3 * 9, depth=10, err_msg=o.path)
        assert torch.equal(o.grad, g)
    om.zero_grad()
    assert all(v.value.grad is None and v.grad is None for v in oweights)


def test_value_grad_is_the_parameters_gradient_permuted():
    """A conv kernel's ``value.grad`` is ``conv.weight.grad`` in (kh, kw, in,
    out); writes through it (``.grad = g``, ``zero_()``, ``None``) reach the
    torch parameter."""
    layer = kerasish.layers.Conv2D(5, (3, 2))
    x = torch.randn(2, 6, 6, 4)
    layer(x).sum().backward()
    weight = layer.torch_module.weight
    value = layer.kernel.value
    assert isinstance(value, KerasLayoutTensor) and tuple(value.shape) == (3, 2, 4, 5)
    assert torch.equal(value.grad, weight.grad.permute(2, 3, 1, 0))
    value.grad.zero_()  # a view of the parameter's gradient
    assert not weight.grad.any()
    g = torch.randn(3, 2, 4, 5)
    value.grad = g
    assert torch.equal(weight.grad, g.permute(3, 2, 0, 1))
    with pytest.raises(ValueError, match=r"\(5, 4, 3, 2\)"):
        value.grad = torch.randn(5, 4, 3, 2)
    value.grad = None
    assert weight.grad is None and layer.kernel.grad is None
    layer.kernel.grad = g
    assert torch.equal(layer.kernel.value.grad, g)


def test_value_stays_differentiable_and_plain_in_ops():
    """``v.value`` is used inside custom calls and regularizers: it back-
    propagates into the parameter, and ops on it give plain tensors."""
    dense = kerasish.layers.Dense(3)
    dense.build((None, 4))
    kernel = dense.kernel.value
    penalty = (kernel * torch.arange(3.0)).sum()  # column j weighted by j
    assert type(penalty) is torch.Tensor
    penalty.backward()
    expected = torch.arange(3.0).expand(4, 3)
    assert torch.equal(dense.torch_module.weight.grad, expected.t())
    assert torch.equal(dense.kernel.value.grad, expected)
    assert type(kernel.detach()) is torch.Tensor and type(kernel + 1) is torch.Tensor
    assert repr(kernel).startswith("tensor(")
    # identity layouts give the parameter itself, as Keras's torch backend does
    assert dense.bias.value is dense.torch_module.bias


# ----------------------------------------------------------------------
# layer.kernel, layer.gamma, ... as Keras variables
# ----------------------------------------------------------------------
KERAS_ATTRS = ("kernel", "bias", "gamma", "beta", "moving_mean", "moving_variance", "alpha",
               "depthwise_kernel", "pointwise_kernel")


def test_builtin_layers_expose_their_variables_as_keras_does(keras):
    km, om = conv_model(keras), conv_model(kerasish)
    for kl, ol in zip(km.layers, om.layers):
        theirs = [a for a in KERAS_ATTRS if getattr(kl, a, None) is not None and hasattr(getattr(kl, a), "path")]
        ours = [a for a in KERAS_ATTRS if isinstance(getattr(ol, a, None), Variable)]
        assert ours == theirs, ol.name
        for a in ours:
            var = getattr(ol, a)
            assert any(var is w for w in ol.weights), f"{ol.name}.{a} is not one of its weights"
            assert var.shape == tuple(getattr(kl, a).shape), f"{ol.name}.{a}"
            assert var.path == f"{ol.name}/{a}"
    # the attributes are plain Python ones: torch's state_dict keys are its own
    assert list(om.state_dict()) == [
        "conv.weight", "conv.bias", "depthwise.weight", "depthwise.bias", "separable.depthwise.weight",
        "separable.pointwise.weight", "separable.pointwise.bias", "transpose.weight", "transpose.bias",
        "prelu.weight", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked",
        "ln.weight", "ln.bias", "dense.weight", "dense.bias",
    ]


def test_dense_conv_and_batchnorm_attributes():
    dense = kerasish.layers.Dense(3)
    assert not hasattr(dense, "kernel")  # not before build, as in Keras
    dense(np.zeros((2, 5), "float32"))
    assert isinstance(dense.kernel, Variable) and dense.kernel.shape == (5, 3) and dense.bias.shape == (3,)
    assert dense.kernel.trainable and dense.kernel.tensor is dense.torch_module.weight
    conv = kerasish.layers.Conv2D(4, (3, 2), use_bias=False)
    conv(np.zeros((1, 6, 6, 2), "float32"))
    assert conv.kernel.shape == (3, 2, 2, 4) and not hasattr(conv, "bias")
    bn = kerasish.layers.BatchNormalization(momentum=0.5)
    x = np.random.default_rng(0).normal(2.0, 3.0, size=(64, 4)).astype("float32")
    bn(x, training=True)
    assert [v.name for v in bn.non_trainable_weights] == ["moving_mean", "moving_variance"]
    assert bn.moving_mean is bn.non_trainable_weights[0] and not bn.moving_mean.trainable
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.5 * x.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.numpy(), 0.5 + 0.5 * x.var(axis=0), rtol=1e-4)
    assert bn.gamma.trainable and bn.beta.shape == (4,)
    assert list(bn.state_dict()) == ["module.weight", "module.bias", "module.running_mean", "module.running_var",
                                     "module.num_batches_tracked"]
    ln = kerasish.layers.LayerNormalization()
    ln(x)
    assert ln.gamma.shape == (4,) and ln.beta.shape == (4,)


def test_user_attributes_are_never_shadowed():
    class MyDense(kerasish.layers.Dense):
        def __init__(self, units, **kwargs):
            super().__init__(units, **kwargs)
            self.bias = "my bias"  # a user attribute with a weight's name

        @property
        def kernel(self):
            return "my kernel"

    layer = MyDense(2)
    layer(np.zeros((1, 3), "float32"))
    assert layer.kernel == "my kernel" and layer.bias == "my bias"
    assert [v.name for v in layer.weights] == ["kernel", "bias"]

    class Custom(kerasish.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], 2), name="kernel")
            self.add_weight(shape=(2,), name="scale", initializer="ones")

        def call(self, inputs):
            return torch.matmul(inputs, self.w) * self.scale

    custom = Custom()
    out = custom(np.ones((1, 3), "float32"))
    assert isinstance(custom.w, Variable) and isinstance(custom.scale, torch.nn.Parameter)
    assert "kernel" in custom._parameters and custom.kernel is custom._parameters["kernel"]
    assert tuple(out.shape) == (1, 2)


# ----------------------------------------------------------------------
# optimizer.apply / apply_gradients
# ----------------------------------------------------------------------
def small_dense_model():
    model = kerasish.Sequential([kerasish.Input((5,)), kerasish.layers.Dense(3), kerasish.layers.Dense(2)])
    return model


def test_apply_rejects_mismatched_lengths():
    model = small_dense_model()
    weights = model.trainable_weights
    opt = kerasish.optimizers.SGD(0.1)
    grads = [np.ones(v.shape, "float32") for v in weights]
    with pytest.raises(ValueError, match="3 gradients for 4 variables"):
        opt.apply(grads[:3], weights)
    with pytest.raises(ValueError, match="4 gradients for 3 variables"):
        opt.apply(grads, weights[:3])
    opt.build(weights)
    with pytest.raises(ValueError, match="3 gradients for 4 variables"):
        opt.apply(grads[:3])  # against the variables it was built with


def test_apply_rejects_a_gradient_of_neither_shape():
    model = small_dense_model()
    weights = model.trainable_weights
    opt = kerasish.optimizers.SGD(0.1)
    grads = [np.ones(v.shape, "float32") for v in weights]
    grads[0] = np.ones((4, 4), "float32")
    before = model.get_weights()
    with pytest.raises(ValueError) as err:
        opt.apply(grads, weights)
    msg = str(err.value)
    assert weights[0].path in msg and "(4, 4)" in msg and "(5, 3)" in msg and "(3, 5)" in msg, msg
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)  # nothing was applied


def test_apply_and_apply_gradients_take_keras_and_torch_layouts_alike():
    """``value.grad`` (Keras layout), the parameter's ``.grad`` (torch layout)
    and ``apply_gradients(zip(...))`` give the same update; the parameters'
    own ``.grad`` is left as it was."""
    x = torch.randn(8, 5)
    results = []
    for how in ("keras", "torch", "pairs"):
        kerasish.utils.set_random_seed(3)
        model = small_dense_model()
        opt = kerasish.optimizers.SGD(0.1, momentum=0.9)
        for _ in range(2):
            model.zero_grad()
            model(x).square().mean().backward()
            weights = model.trainable_weights
            if how == "torch":
                grads = [v.tensor.grad for v in weights]
            else:
                grads = [v.value.grad for v in weights]
            kept = [v.tensor.grad.clone() for v in weights]
            with torch.no_grad():
                if how == "pairs":
                    opt.apply_gradients(zip(grads, weights))
                else:
                    opt.apply(grads, weights)
            for v, g in zip(weights, kept):
                assert torch.equal(v.tensor.grad, g)
        results.append(model.get_weights())
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_array_equal(a, b)


def test_variable_arithmetic_is_on_the_keras_value():
    """As Keras's variables: ``1e-3 * ops.sum(layer.kernel ** 2)`` (the
    regularization guide) and the other operators act on the Keras-layout
    value; ``==`` stays identity, so Variables live in lists."""
    dense = kerasish.layers.Dense(2, kernel_regularizer=kerasish.regularizers.l2(1e-3))
    dense(np.ones((1, 3), "float32"))
    k = dense.kernel
    value = k.value.detach()
    np.testing.assert_allclose(to_numpy(1e-3 * torch.sum(k ** 2)), to_numpy(dense.losses[0]), rtol=1e-6)
    for got, want in ((k / 2, value / 2), (1 / k, 1 / value), (2 ** k, 2 ** value), (k // 0.5, value // 0.5),
                      (k % 0.3, value % 0.3), (abs(k), value.abs()), (k > 0, value > 0), (k <= 0, value <= 0),
                      (k - 1, value - 1), (1 - k, 1 - value), (torch.ones(4, 3) @ k, torch.ones(4, 3) @ value)):
        assert torch.equal(got.detach(), want)
    assert k == k and k != dense.bias and k in dense.weights


@pytest.mark.slow
def test_kernel_value_inside_a_custom_layer_under_compile_and_export():
    """``kernel.value`` read in a custom layer's call: trained under
    ``jit_compile=True``, exported with torch.export, compiled with aot_eager."""

    class Projection(kerasish.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = kerasish.layers.Dense(4)

        def build(self, input_shape):
            self.dense.build(input_shape)

        def call(self, x):
            return x @ self.dense.kernel.value + self.dense.bias.value

    inputs = kerasish.Input((6,))
    model = kerasish.Model(inputs, kerasish.layers.Dense(2)(Projection()(inputs)))
    model.compile(optimizer="sgd", loss="mse", jit_compile=True)
    rng = np.random.default_rng(0)
    x, y = rng.random((64, 6)).astype("float32"), rng.random((64, 2)).astype("float32")
    kernel = model.layers[1].dense.kernel
    before = kernel.numpy()
    model.fit(x, y, epochs=1, verbose=0)
    assert not np.allclose(before, kernel.numpy())
    sample = torch.rand(3, 6)
    expected = model(sample)
    exported = torch.export.export(model, (sample,)).module()
    torch.testing.assert_close(exported(sample), expected)
    torch.testing.assert_close(torch.compile(model, backend="aot_eager")(sample), expected)
