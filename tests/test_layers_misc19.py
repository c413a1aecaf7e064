"""Issue 19's normalization, noise and adaptive pooling layers (GroupNormalization,
UnitNormalization, RMSNormalization, GaussianNoise, GaussianDropout, AlphaDropout,
ActivityRegularization, AdaptiveAverage/MaxPooling1D/2D/3D) through the layer
harness against Keras 3 (torch backend); the random layers by their statistics."""

import json

import h5py
import numpy as np
import pytest
import torch

import kerasish
from kerasish import layers as L
from kerasish.layers.normalization import rms_normalization

RNG = np.random.default_rng(19)


@pytest.fixture(autouse=True)
def _seeded_torch():
    # The statistical checks below hold with a wide margin; a fixed seed keeps them deterministic too.
    torch.manual_seed(19)


def _x(*shape):
    return RNG.standard_normal(shape).astype("float32")


def _random_weights(shapes):
    rng = np.random.default_rng(7)
    return [rng.standard_normal(s).astype("float32") * 0.5 + 1.0 for s in shapes]


# --- normalization ------------------------------------------------------

@pytest.mark.parametrize("kw,shape,n_weights", [
    (dict(groups=2), (2, 5, 6), 2),
    (dict(groups=3, center=False), (2, 4, 4, 6), 1),     # images: channels already at torch's axis 1
    (dict(groups=-1, scale=False), (2, 4, 6), 1),         # instance normalization
    (dict(groups=2, axis=1), (2, 4, 5), 2),               # channels not last
    (dict(groups=2, axis=-2, epsilon=1e-5), (2, 3, 4, 4, 5), 2),
    (dict(groups=4), (3, 8), 2),
])
def test_group_normalization_parity(layer_test, kw, shape, n_weights):
    result = layer_test(L.GroupNormalization, kw, input_data=_x(*shape), keras_parity=True, weights=_random_weights,
                        expected_num_trainable_weights=n_weights, expected_num_non_trainable_weights=0, supports_masking=True)
    assert isinstance(result.layer._torch_module, torch.nn.GroupNorm)
    assert all(tuple(w.shape) == (shape[kw.get("axis", -1)],) for w in result.layer.weights)


def test_group_normalization_minus_one_records_groups_and_rejects_bad_groups():
    layer = L.GroupNormalization(groups=-1)
    layer(np.zeros((1, 3, 5), "float32"))
    assert layer.get_config()["groups"] == 5
    with pytest.raises(ValueError, match="groups"):
        L.GroupNormalization(groups=0)
    with pytest.raises(ValueError, match="multiple"):
        L.GroupNormalization(groups=4)(np.zeros((1, 6), "float32"))
    with pytest.raises(ValueError, match="cannot be more"):
        L.GroupNormalization(groups=8)(np.zeros((1, 6), "float32"))


@pytest.mark.parametrize("axis,shape", [(-1, (2, 5)), (1, (2, 3, 4)), ([1, 2], (2, 3, 4)), ([-1, 1], (2, 3, 4, 5)), (-1, (2, 3, 4, 5))])
def test_unit_normalization_parity(layer_test, axis, shape):
    result = layer_test(L.UnitNormalization, dict(axis=axis), input_data=_x(*shape), keras_parity=True,
                        expected_num_trainable_weights=0, supports_masking=True)
    axes = tuple(a % len(shape) for a in (axis if isinstance(axis, list) else [axis]))
    norms = np.sqrt((result.output.detach().numpy() ** 2).sum(axis=axes))
    np.testing.assert_allclose(norms, 1.0, rtol=1e-5)


def test_unit_normalization_zero_vector_and_bad_axis():
    assert L.UnitNormalization()(np.zeros((1, 3), "float32")).tolist() == [[0.0, 0.0, 0.0]]
    with pytest.raises(TypeError, match="axis"):
        L.UnitNormalization(axis="x")
    with pytest.raises(ValueError, match="out of bounds"):
        L.UnitNormalization(axis=3)(np.zeros((1, 3), "float32"))


@pytest.mark.parametrize("kw,shape", [
    ({}, (2, 6)),
    (dict(epsilon=1e-3), (2, 3, 6)),
    (dict(axis=[-2, -1]), (2, 3, 4)),
    ({}, (2, 4, 4, 3)),  # images: normalized over the channels Keras names
    (dict(axis=[2, 3]), (2, 3, 4, 5)),
])
def test_rms_normalization_parity(layer_test, kw, shape):
    result = layer_test(L.RMSNormalization, kw, input_data=_x(*shape), keras_parity=True, weights=_random_weights,
                        expected_num_trainable_weights=1, expected_num_non_trainable_weights=0)
    axes = kw.get("axis", -1)
    axes = axes if isinstance(axes, list) else [axes]
    assert [w.name for w in result.layer.weights] == ["scale"]
    assert tuple(result.layer.weights[0].shape) == tuple(shape[a] for a in axes)


def test_rms_normalization_non_trailing_axis_matches_formula():
    # Keras's torch path mis-handles a non-trailing axis (it normalizes the last one): compared with the formula.
    x = _x(2, 3, 4)
    y = L.RMSNormalization(axis=1, epsilon=1e-6)(x).detach().numpy()
    expected = x / np.sqrt((x ** 2).mean(axis=1, keepdims=True) + 1e-6)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)


def test_rms_norm_fallback_matches_fused():
    x = torch.randn(3, 4, 5)
    w = torch.rand(4, 5)
    fused = rms_normalization.rms_norm(x, (4, 5), w, 1e-6, fused=rms_normalization.HAS_RMS_NORM)
    plain = rms_normalization.rms_norm(x, (4, 5), w, 1e-6, fused=False)
    torch.testing.assert_close(fused, plain)


def test_rms_normalization_float16_computes_in_float32():
    layer = L.RMSNormalization(dtype="float16")
    x = torch.tensor([[300.0, 400.0]], dtype=torch.float16)  # the squares overflow float16
    y = layer(x)
    assert y.dtype == torch.float16 and torch.isfinite(y).all()


# --- noise and regularization --------------------------------------------

@pytest.mark.parametrize("cls,kw", [
    (L.GaussianNoise, dict(stddev=0.3)), (L.GaussianDropout, dict(rate=0.3)),
    (L.AlphaDropout, dict(rate=0.3)), (L.AlphaDropout, dict(rate=0.2, noise_shape=(None, 1))),
])
def test_noise_layers_inference_parity(layer_test, cls, kw):
    x = _x(4, 5)
    result = layer_test(cls, kw, input_data=x, keras_parity=True, expected_num_trainable_weights=0, supports_masking=True)
    np.testing.assert_array_equal(result.output.detach().numpy(), x)


def test_gaussian_noise_statistics():
    x = torch.full((400, 500), 2.0)
    y = L.GaussianNoise(0.3)(x, training=True) - x
    assert abs(float(y.mean())) < 0.005 and abs(float(y.std()) - 0.3) < 0.005


def test_gaussian_dropout_statistics():
    x = torch.full((400, 500), 2.0)
    y = L.GaussianDropout(0.4)(x, training=True) / 2.0
    assert abs(float(y.mean()) - 1.0) < 0.01 and abs(float(y.std()) - (0.4 / 0.6) ** 0.5) < 0.01


@pytest.mark.parametrize("kw", [dict(rate=0.3), dict(rate=0.3, seed=4), dict(rate=0.3, noise_shape=(None, 1, None))])
def test_alpha_dropout_keeps_standard_normal_statistics(kw):
    x = torch.randn(200, 50, 40)
    y = L.AlphaDropout(**kw)(x, training=True)
    assert abs(float(y.mean())) < 0.02 and abs(float(y.std()) - 1.0) < 0.02
    # Dropped units all take one value: a * alpha' + b.
    alpha_p = -1.6732632423543772 * 1.0507009873554805
    a = ((1 - 0.3) * (1 + 0.3 * alpha_p ** 2)) ** -0.5
    dropped = float(a * alpha_p - a * alpha_p * 0.3)
    frac = float((y - dropped).abs().lt(1e-5).float().mean())
    assert abs(frac - 0.3) < 0.02
    if "noise_shape" in kw:  # the same pattern at every position of axis 1 (positive inputs: none lands on the dropped value)
        pattern = (L.AlphaDropout(**kw)(x.abs() + 0.1, training=True) - dropped).abs().lt(1e-5)
        assert bool((pattern == pattern[:, :1]).all())


@pytest.mark.parametrize("cls,kw", [(L.GaussianNoise, dict(stddev=0.2)), (L.GaussianDropout, dict(rate=0.2)), (L.AlphaDropout, dict(rate=0.2))])
def test_seeded_noise_is_reproducible(cls, kw):
    x = torch.ones(3, 7)
    a = cls(**kw, seed=5)(x, training=True)
    b = cls(**kw, seed=5)(x, training=True)
    c = cls(**kw, seed=6)(x, training=True)
    torch.testing.assert_close(a, b)
    assert not torch.equal(a, c)


def test_noise_layers_bad_arguments():
    with pytest.raises(ValueError, match="stddev"):
        L.GaussianNoise(1.5)
    with pytest.raises(ValueError, match="rate"):
        L.GaussianDropout(-0.1)
    with pytest.raises(ValueError, match="noise_shape"):
        L.AlphaDropout(0.2, noise_shape=(2, 3))(np.zeros((4, 3), "float32"))


def test_activity_regularization_parity_and_loss(layer_test, keras):
    x = _x(4, 6)
    result = layer_test(L.ActivityRegularization, dict(l1=0.1, l2=0.2), input_data=x, keras_parity=True,
                        expected_num_losses=1, expected_num_trainable_weights=0, supports_masking=True)
    expected = (0.1 * np.abs(x).sum() + 0.2 * (x ** 2).sum()) / 4
    np.testing.assert_allclose(float(result.layer.losses[0]), expected, rtol=1e-5)
    assert "activity_regularizer" not in result.layer.get_config()


def test_activity_regularization_adds_to_the_training_loss():
    inputs = kerasish.Input((3,))
    model = kerasish.Model(inputs, L.ActivityRegularization(l2=1.0)(L.Dense(2, kernel_initializer="ones")(inputs)))
    model.compile(loss="mse")
    x = np.ones((4, 3), "float32")
    y = model(x).detach().numpy()
    loss = model.evaluate(x, y, verbose=0)
    np.testing.assert_allclose(loss, (y ** 2).sum() / 4, rtol=1e-5)


# --- adaptive pooling ------------------------------------------------------

ADAPTIVE = [(f"Adaptive{k}Pooling{r}D", r) for k in ("Average", "Max") for r in (1, 2, 3)]


@pytest.mark.parametrize("name,rank", ADAPTIVE)
@pytest.mark.parametrize("df", ["channels_last", "channels_first"])
def test_adaptive_pooling_parity(layer_test, name, rank, df):
    spatial = (7, 5, 6)[:rank]
    x = _x(2, *spatial, 3)
    if df == "channels_first":
        x = np.ascontiguousarray(np.moveaxis(x, -1, 1))
    size = 3 if rank == 1 else (3, 2, 4)[:rank]
    result = layer_test(getattr(L, name), dict(output_size=size, data_format=df), input_data=x, keras_parity=True,
                        expected_num_trainable_weights=0)
    sizes = (size,) if rank == 1 else size
    out = tuple(result.output.shape)
    assert (out[1:-1] if df == "channels_last" else out[2:]) == sizes


def test_adaptive_pooling_int_size_and_errors():
    assert L.AdaptiveAveragePooling2D(4).output_size == (4, 4)
    assert tuple(L.AdaptiveMaxPooling2D(2)(np.zeros((1, 8, 8, 3), "float32")).shape) == (1, 2, 2, 3)
    with pytest.raises(TypeError, match="output_size"):
        L.AdaptiveAveragePooling2D((1, 2, 3))
    with pytest.raises(ValueError, match="data_format"):
        L.AdaptiveMaxPooling1D(2, data_format="nchw")
    with pytest.raises(ValueError, match="4-D"):
        L.AdaptiveMaxPooling2D(2)(np.zeros((1, 8, 3), "float32"))


def test_adaptive_pooling_in_a_conv_model_trains():
    model = kerasish.Sequential([kerasish.Input((9, 9, 2)), L.Conv2D(4, 3), L.AdaptiveAveragePooling2D(3),
                                 L.GroupNormalization(2), L.Flatten(), L.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(np.random.rand(8, 9, 9, 2).astype("float32"), np.zeros((8, 2), "float32"), epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert model.output_shape == (None, 2)


# --- Wrapper, SpectralNormalization, InputSpec ---------------------------------

def _keras_twin(keras, ours_layer):
    return keras.layers.deserialize(json.loads(json.dumps(kerasish.layers.serialize(ours_layer))))


@pytest.mark.parametrize("inner,shape", [
    (lambda: L.Dense(4), (3, 5)),
    (lambda: L.Conv2D(3, 2), (2, 5, 5, 2)),
    (lambda: L.Conv1D(3, 2), (2, 6, 2)),
    (lambda: L.Embedding(7, 3), None),
])
@pytest.mark.parametrize("power_iterations", [1, 3])
def test_spectral_normalization_matches_keras_in_training(keras, inner, shape, power_iterations):
    x = np.random.default_rng(2).integers(0, 7, (3, 4)) if shape is None else _x(*shape)
    ours = L.SpectralNormalization(inner(), power_iterations=power_iterations)
    ours.build(x.shape)
    theirs = keras.layers.SpectralNormalization(_keras_twin(keras, ours.layer), power_iterations=power_iterations)
    theirs.build(x.shape)
    assert [w.name for w in ours.weights] == [w.name for w in theirs.weights]  # kernel, vector_u, then the rest
    assert [w.trainable for w in ours.weights] == [w.trainable for w in theirs.weights]
    theirs.set_weights(ours.get_weights())
    for training in (True, True, False):
        y = ours(x, training=training).detach().numpy()
        theirs_y = keras.ops.convert_to_numpy(theirs(x, training=training))
        if shape is not None:  # Keras casts the output to the input's dtype: an Embedding's int ids give zeros
            np.testing.assert_allclose(y, theirs_y, rtol=1e-5, atol=1e-6)
    for a, b in zip(ours.get_weights(), theirs.weights):
        np.testing.assert_allclose(a, keras.ops.convert_to_numpy(b), rtol=1e-5, atol=1e-7)
    if shape is not None:  # power iteration underestimates sigma: the largest singular value is now >= 1, near it
        k = ours.layer.kernel.numpy().reshape(-1, ours.layer.kernel.shape[-1])
        top = np.linalg.svd(k, compute_uv=False)[0]
        assert top >= 1 - 1e-4 and (power_iterations == 1 or top < 1.3)


def test_spectral_normalization_config_and_errors(keras):
    layer = L.SpectralNormalization(L.Dense(3), power_iterations=2)
    layer(np.zeros((1, 4), "float32"))
    cfg = json.loads(json.dumps(layer.get_config()))
    theirs = keras.layers.SpectralNormalization(keras.layers.Dense(3), power_iterations=2)
    assert set(cfg) == set(theirs.get_config()) and cfg["power_iterations"] == 2
    clone = L.SpectralNormalization.from_config(cfg)
    assert isinstance(clone.layer, L.Dense) and clone.layer.units == 3
    keras.layers.SpectralNormalization.from_config(cfg)  # Keras reads ours
    with pytest.raises(ValueError, match="power_iterations"):
        L.SpectralNormalization(L.Dense(2), power_iterations=0)
    with pytest.raises(ValueError, match="kernel"):
        L.SpectralNormalization(L.Flatten())(np.zeros((1, 4), "float32"))
    with pytest.raises(ValueError, match="Wrapper"):
        L.SpectralNormalization("dense")
    zero = L.SpectralNormalization(L.Dense(2, kernel_initializer="zeros"))
    zero(np.ones((1, 3), "float32"), training=True)  # an all-zero kernel stays as it is
    assert not zero.layer.kernel.numpy().any()


def test_spectral_normalization_model_fits_and_files_interoperate(keras, tmp_path):
    x = np.random.rand(8, 6, 6, 2).astype("float32")
    y = np.random.rand(8, 3).astype("float32")
    model = kerasish.Sequential([kerasish.Input((6, 6, 2)), L.SpectralNormalization(L.Conv2D(4, 3)), L.Flatten(),
                                 L.SpectralNormalization(L.Dense(3))])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, epochs=2, verbose=0)
    path = str(tmp_path / "sn.keras")
    model.save(path)
    expected = model.predict(x, verbose=0)
    np.testing.assert_allclose(kerasish.models.load_model(path).predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)
    theirs = keras.models.load_model(path)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(theirs.predict(x, verbose=0)), expected, rtol=1e-5, atol=1e-6)
    theirs.fit(x, y, epochs=1, verbose=0)
    path2 = str(tmp_path / "sn_keras.keras")
    theirs.save(path2)
    np.testing.assert_allclose(kerasish.models.load_model(path2).predict(x, verbose=0),
                               keras.ops.convert_to_numpy(theirs.predict(x, verbose=0)), rtol=1e-5, atol=1e-6)


def test_wrapper_subclass_runs_builds_and_round_trips():
    @kerasish.saving.register_keras_serializable(package="misc19")
    class Twice(L.Wrapper):
        def call(self, inputs):
            return 2 * self.layer(inputs)

    layer = Twice(L.Dense(2, kernel_initializer="ones"))
    y = layer(np.ones((1, 3), "float32"))
    assert y.tolist() == [[6.0, 6.0]] and layer.layer.built and len(layer.weights) == 2
    clone = Twice.from_config(json.loads(json.dumps(layer.get_config())))
    assert isinstance(clone.layer, L.Dense)
    inputs = kerasish.Input((3,))
    model = kerasish.Model(inputs, Twice(L.Dense(2))(inputs))
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.ones((4, 3), "float32"), np.zeros((4, 2), "float32"), verbose=0)
    assert model.output_shape == (None, 2)


def test_input_spec_matches_keras(keras):
    from kerasish.layers.core.input_spec import assert_input_compatibility

    for kw in [dict(ndim=3, axes={-1: 8}), dict(shape=(None, 4), dtype="float32"), dict(min_ndim=2, max_ndim=4), {}]:
        ours, theirs = L.InputSpec(**kw), keras.layers.InputSpec(**kw)
        assert repr(ours) == repr(theirs)
        assert ours.get_config() == theirs.get_config()
        assert L.InputSpec.from_config(ours.get_config()).get_config() == ours.get_config()
    with pytest.raises(TypeError, match="axes"):
        L.InputSpec(axes={"a": 1})
    with pytest.raises(ValueError, match="maximum"):
        L.InputSpec(ndim=2, axes={3: 1})
    x = torch.zeros(2, 5, 8)
    assert_input_compatibility(L.InputSpec(ndim=3, axes={-1: 8}), x, "layer")
    for spec, match in [(L.InputSpec(ndim=2), "expected ndim=2"), (L.InputSpec(axes={-1: 4}), "axis -1"),
                        (L.InputSpec(dtype="float64"), "dtype=float64"), (L.InputSpec(shape=(None, 4, 8)), "shape"),
                        (L.InputSpec(max_ndim=2), "max_ndim")]:
        with pytest.raises(ValueError, match=match):
            assert_input_compatibility(spec, x, "layer")
    with pytest.raises(ValueError, match="expects 2 input"):
        assert_input_compatibility([L.InputSpec(), L.InputSpec()], x, "layer")


# --- TorchModuleWrapper -----------------------------------------------------------

def test_torch_module_wrapper_weights_are_the_modules_state():
    module = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.BatchNorm1d(5))
    module[0].bias.requires_grad_(False)
    layer = L.TorchModuleWrapper(module)
    assert [w.name for w in layer.trainable_weights] == ["0.weight", "1.weight", "1.bias"]
    assert [w.name for w in layer.non_trainable_weights] == ["0.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked"]
    layer.set_weights([np.full(w.shape, 0.5, dtype=w.numpy().dtype) for w in layer.weights])
    assert float(module[0].weight.detach()[0, 0]) == 0.5  # the weights are the module's own tensors


def test_torch_module_wrapper_in_a_model_fits_saves_and_infers_shapes(tmp_path):
    module = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.BatchNorm1d(5), torch.nn.ReLU())
    wrapper = L.TorchModuleWrapper(module)
    inputs = kerasish.Input((4,))
    hidden = wrapper(inputs)
    assert hidden.shape == (None, 5)  # inferred by running the module
    model = kerasish.Model(inputs, L.Dense(2)(hidden))
    x = np.random.rand(16, 4).astype("float32")
    y = np.random.rand(16, 2).astype("float32")
    before = module[0].weight.detach().clone()
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=2, verbose=0)
    assert not torch.equal(before, module[0].weight)  # trained by fit
    assert float(module[1].running_mean.abs().sum()) > 0  # ran in train mode during fit
    assert not module.training  # and in eval mode for predict
    expected = model.predict(x, verbose=0)
    weights = str(tmp_path / "t.weights.h5")
    model.save_weights(weights)
    twin_module = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.BatchNorm1d(5), torch.nn.ReLU())
    twin_inputs = kerasish.Input((4,))
    twin = kerasish.Model(twin_inputs, L.Dense(2)(L.TorchModuleWrapper(twin_module)(twin_inputs)))
    twin.load_weights(weights)
    np.testing.assert_allclose(twin.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(twin_module[1].running_var, module[1].running_var)  # buffers saved too


def test_torch_module_wrapper_refuses_unpickling_unless_unsafe(tmp_path, keras):
    inputs = kerasish.Input((4,))
    model = kerasish.Model(inputs, L.TorchModuleWrapper(torch.nn.Linear(4, 3))(inputs))
    path = str(tmp_path / "t.keras")
    model.save(path)
    with pytest.raises(ValueError, match="safe_mode=False"):
        kerasish.models.load_model(path)
    with pytest.raises(ValueError, match="safe_mode=False"):
        L.TorchModuleWrapper.from_config(model.layers[1].get_config())
    x = np.random.rand(2, 4).astype("float32")
    again = kerasish.models.load_model(path, safe_mode=False)
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    clone = L.TorchModuleWrapper.from_config(model.layers[1].get_config(), safe_mode=False)
    assert isinstance(clone.module, torch.nn.Linear)
    # Keras reads our config (its keys are Keras's) and we read Keras's.
    theirs = keras.layers.TorchModuleWrapper(torch.nn.Linear(4, 3), output_shape=(None, 3))
    cfg = json.loads(json.dumps(theirs.get_config()))
    assert set(cfg) == set(model.layers[1].get_config())
    mine = L.TorchModuleWrapper.from_config(cfg, safe_mode=False)
    assert mine.compute_output_shape((None, 4)) == (None, 3)
    keras.layers.TorchModuleWrapper.from_config(json.loads(json.dumps(model.layers[1].get_config())), safe_mode=False)


def test_torch_module_wrapper_weight_files_swap_with_keras(keras, tmp_path):
    # Keras stores a wrapped module's weights under its state_dict keys; so do we, so files swap both ways.
    def make_module():
        torch.manual_seed(0)
        return torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.BatchNorm1d(5), torch.nn.Linear(5, 2))

    x = np.random.default_rng(0).random((6, 4)).astype("float32")
    ours_module = make_module()
    inputs = kerasish.Input((4,))
    ours = kerasish.Model(inputs, L.TorchModuleWrapper(ours_module)(inputs))
    ours.set_weights([np.random.default_rng(i).random(w.shape).astype(w.numpy().dtype) for i, w in enumerate(ours.weights)])
    with torch.no_grad():
        ours_module[1].running_var.fill_(2.0)
    path = str(tmp_path / "ours.weights.h5")
    ours.save_weights(path)
    with h5py.File(path) as f:
        assert sorted(f["layers/torch_module_wrapper/vars"]) == sorted(ours_module.state_dict())
    k_in = keras.Input((4,))
    theirs = keras.Model(k_in, keras.layers.TorchModuleWrapper(make_module(), output_shape=(None, 2))(k_in))
    theirs.load_weights(path)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(theirs(x, training=False)), ours.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    theirs.layers[1].module[2].bias.data.add_(1.0)
    back = str(tmp_path / "theirs.weights.h5")
    theirs.save_weights(back)
    ours.load_weights(back)
    np.testing.assert_allclose(ours.predict(x, verbose=0), keras.ops.convert_to_numpy(theirs(x, training=False)),
                               rtol=1e-5, atol=1e-6)


def test_torch_module_wrapper_bad_arguments():
    with pytest.raises(TypeError, match="torch.nn.Module"):
        L.TorchModuleWrapper(lambda x: x)
    with pytest.raises(ValueError, match="LazyModules"):
        L.TorchModuleWrapper(torch.nn.LazyLinear(3))


@pytest.mark.parametrize("make", [lambda: L.GaussianNoise(0.1), lambda: L.GaussianDropout(0.1), lambda: L.AlphaDropout(0.1),
                                  lambda: L.ActivityRegularization(l1=0.01), lambda: L.UnitNormalization(),
                                  lambda: L.GroupNormalization(2)])  # RMSNormalization drops masks, as Keras's
def test_masks_pass_through(make):
    inputs = kerasish.Input((None,), dtype="int64")
    x = L.Embedding(10, 4, mask_zero=True)(inputs)
    layer = make()
    y = layer(x)
    assert y._keras_mask is not None
    if isinstance(layer, L.GroupNormalization):
        return  # its statistics cover every step, masked or not, as Keras's
    model = kerasish.Model(inputs, L.LSTM(3)(y))
    ids = np.array([[1, 2, 0, 0, 0], [3, 4, 5, 6, 0]])
    out = model.predict(ids, verbose=0)
    short = model.predict(ids[:, :2], verbose=0)  # the masked steps change nothing
    np.testing.assert_allclose(out[0], short[0], rtol=1e-5, atol=1e-6)
