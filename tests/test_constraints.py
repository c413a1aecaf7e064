"""kerasish.constraints against keras.constraints (torch backend): the
projections, configs, their use by layers and the optimizer, and saving."""

import os

os.environ["KERAS_BACKEND"] = "torch"

import numpy as np
import pytest
import torch

import keras  # noqa: E402  (the test oracle, in the dev extra)

import kerasish  # noqa: E402
from kerasish import constraints as C  # noqa: E402
from kerasish import layers as L  # noqa: E402

from conftest import assert_close_f32, to_numpy  # noqa: E402

_G = torch.Generator().manual_seed(0)
W2 = torch.randn(7, 5, generator=_G) * 2.0  # a Dense kernel (in, out)
W4 = torch.randn(3, 3, 4, 6, generator=_G) * 0.7  # a Conv2D kernel (kh, kw, in, out)
W1 = torch.randn(9, generator=_G)  # a BatchNormalization gamma

CASES = [
    ("MaxNorm", {}, W2),
    ("MaxNorm", {"max_value": 1.5, "axis": 1}, W2),
    ("MaxNorm", {"max_value": 0.5, "axis": [0, 1, 2]}, W4),
    ("MaxNorm", {"max_value": 3, "axis": 3}, W4),
    ("MaxNorm", {"max_value": 1.0}, W1),
    ("MinMaxNorm", {}, W2),
    ("MinMaxNorm", {"min_value": 2.0, "max_value": 3.0, "axis": 1}, W2),
    ("MinMaxNorm", {"min_value": 0.5, "max_value": 1.0, "rate": 0.3, "axis": [0, 1, 2]}, W4),
    ("MinMaxNorm", {"min_value": 4.0, "max_value": 5.0, "rate": 0.5, "axis": 0}, W1),
    ("NonNeg", {}, W2),
    ("NonNeg", {}, W4),
    ("UnitNorm", {}, W2),
    ("UnitNorm", {"axis": 1}, W2),
    ("UnitNorm", {"axis": [0, 1, 2]}, W4),
    ("UnitNorm", {"axis": -1}, W4),
]


@pytest.mark.parametrize("name,kwargs,w", CASES, ids=[f"{n}-{k}-{tuple(w.shape)}" for n, k, w in CASES])
def test_value_and_config_match_keras(name, kwargs, w):
    ours = getattr(C, name)(**kwargs)
    ref = getattr(keras.constraints, name)(**kwargs)
    got = ours(w.clone())
    assert isinstance(got, torch.Tensor) and got.shape == w.shape and got.dtype == w.dtype
    assert_close_f32(got, keras.ops.convert_to_numpy(ref(w.clone())), terms=w.numel())  # norms sum over up to all of w
    assert ours.get_config() == ref.get_config()
    assert C.serialize(ours) == keras.constraints.serialize(ref)
    # Keras's config reads back here, and ours in Keras.
    back = C.deserialize(keras.constraints.serialize(ref))
    assert type(back) is type(ours) and back.get_config() == ours.get_config()
    theirs = keras.constraints.deserialize(C.serialize(ours))
    assert type(theirs).__name__ == name and theirs.get_config() == ref.get_config()


def test_base_constraint_is_identity_and_aliases():
    w = torch.randn(3, 4)
    assert torch.equal(C.Constraint()(w), w)
    assert C.Constraint().get_config() == {}
    assert C.max_norm is C.MaxNorm and C.min_max_norm is C.MinMaxNorm
    assert C.non_neg is C.NonNeg and C.unit_norm is C.UnitNorm
    assert kerasish.constraints is C


@pytest.mark.parametrize("name", ["max_norm", "MaxNorm", "min_max_norm", "MinMaxNorm", "non_neg", "NonNeg", "unit_norm", "UnitNorm"])
def test_get_by_name_like_keras(name):
    ours, ref = C.get(name), keras.constraints.get(name)
    assert type(ours).__name__ == type(ref).__name__
    assert ours.get_config() == ref.get_config()


def test_get_other_identifiers():
    assert C.get(None) is None and C.serialize(None) is None and C.deserialize(None) is None
    c = C.MaxNorm(3)
    assert C.get(c) is c
    assert isinstance(C.get(C.NonNeg), C.NonNeg)
    got = C.get({"class_name": "MaxNorm", "config": {"max_value": 3, "axis": 1}})  # Keras 2 form
    assert isinstance(got, C.MaxNorm) and got.get_config() == {"max_value": 3, "axis": 1}

    def clip(w):
        return torch.clamp(w, -1, 1)

    assert C.get(clip) is clip
    assert C.serialize(clip)["config"] == "clip"
    assert C.deserialize(C.serialize(clip), custom_objects={"clip": clip}) is clip


@pytest.mark.parametrize("bad", ["nope", {"class_name": "Nope", "config": {}}])
def test_unknown_name_raises(bad):
    with pytest.raises(ValueError, match="Nope|nope"):
        C.get(bad)
    with pytest.raises(ValueError, match="nope"):
        L.Dense(3, kernel_constraint="nope")


def test_custom_constraint_with_custom_objects():
    class Clip(C.Constraint):
        def __init__(self, limit=1.0):
            self.limit = limit

        def __call__(self, w):
            return torch.clamp(w, -self.limit, self.limit)

        def get_config(self):
            return {"limit": self.limit}

    cfg = C.serialize(Clip(0.5))
    assert cfg["class_name"] == "Clip" and cfg["config"] == {"limit": 0.5}
    with pytest.raises(ValueError):
        C.deserialize(cfg)
    back = C.deserialize(cfg, custom_objects={"Clip": Clip})
    assert isinstance(back, Clip) and back.limit == 0.5
    with kerasish.saving.custom_object_scope({"Clip": Clip}):
        assert isinstance(C.get(cfg), Clip)


# -- layers ------------------------------------------------------------------
LAYER_CASES = [
    ("Dense", (3,), {"kernel_constraint": "max_norm", "bias_constraint": "non_neg"}),
    ("Conv2D", (4, 3), {"kernel_constraint": "unit_norm", "bias_constraint": "non_neg"}),
    ("Conv2DTranspose", (4, 3), {"kernel_constraint": "max_norm", "bias_constraint": "non_neg"}),
    ("DepthwiseConv2D", (3,), {"depthwise_constraint": "max_norm", "bias_constraint": "non_neg"}),
    ("SeparableConv2D", (4, 3), {"depthwise_constraint": "unit_norm", "pointwise_constraint": "max_norm", "bias_constraint": "non_neg"}),
    ("BatchNormalization", (), {"beta_constraint": "non_neg", "gamma_constraint": "unit_norm"}),
    ("LayerNormalization", (), {"beta_constraint": "non_neg", "gamma_constraint": "max_norm"}),
    ("PReLU", (), {"alpha_constraint": "non_neg"}),
]


@pytest.mark.parametrize("name,args,kwargs", LAYER_CASES, ids=[c[0] for c in LAYER_CASES])
def test_layer_configs_round_trip_with_keras(name, args, kwargs):
    ours = getattr(L, name)(*args, **kwargs)
    ref = getattr(keras.layers, name)(*args, **kwargs)
    ours_cfg, ref_cfg = ours.get_config(), ref.get_config()
    for key in kwargs:
        assert ours_cfg[key] == ref_cfg[key], key
    # Keras's config -> kerasish -> Keras.
    again = getattr(L, name).from_config(ref_cfg)
    for key in kwargs:
        assert again.get_config()[key] == ref_cfg[key]
    theirs = getattr(keras.layers, name).from_config(again.get_config())
    for key in kwargs:
        assert theirs.get_config()[key] == ref_cfg[key]


def test_dense_from_keras_config_and_back():
    ref = keras.layers.Dense(3, kernel_constraint=keras.constraints.MaxNorm(2))
    cfg = ref.get_config()
    assert cfg["kernel_constraint"]["class_name"] == "MaxNorm"
    ours = L.Dense.from_config(cfg)
    assert isinstance(ours.kernel_constraint, C.MaxNorm) and ours.kernel_constraint.get_config() == {"max_value": 2, "axis": 0}
    assert ours.bias_constraint is None
    back = keras.layers.Dense.from_config(ours.get_config())
    assert back.get_config()["kernel_constraint"] == cfg["kernel_constraint"]
    assert back.get_config()["bias_constraint"] is None


@pytest.mark.parametrize("name,args,kwargs", LAYER_CASES, ids=[c[0] for c in LAYER_CASES])
def test_layer_variables_carry_the_constraint(name, args, kwargs):
    layer = getattr(L, name)(*args, **kwargs)
    x = np.random.default_rng(0).normal(size=(2, 6, 6, 3) if "Conv" in name else (2, 5)).astype("float32")
    layer(x)
    by_name = {w.name: w for w in layer.trainable_weights}
    expect = {
        "kernel_constraint": "depthwise_kernel" if name == "DepthwiseConv2D" else "kernel",
        "bias_constraint": "bias", "depthwise_constraint": "depthwise_kernel" if name != "DepthwiseConv2D" else "kernel",
        "pointwise_constraint": "pointwise_kernel", "beta_constraint": "beta", "gamma_constraint": "gamma",
        "alpha_constraint": "alpha",
    }
    for key, ident in kwargs.items():
        var = by_name[expect[key]]
        assert var.constraint is getattr(layer, key)
        assert type(var.constraint) is type(C.get(ident))


def test_add_weight_constraint_is_applied_by_the_optimizer():
    class Scale(L.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", constraint="non_neg", name="w")

        def call(self, x):
            return x * self.w

    layer = Scale()
    layer(np.ones((1, 4), "float32"))
    assert isinstance(layer.weights[0].constraint, C.NonNeg)
    opt = kerasish.optimizers.SGD(learning_rate=1.0)
    opt.apply([np.array([3.0, -1.0, 0.5, 2.0], "float32")], layer.trainable_weights)
    np.testing.assert_allclose(layer.get_weights()[0], [0.0, 2.0, 0.5, 0.0])


# -- training ----------------------------------------------------------------
def _data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(64, 6)).astype("float32")
    y = (x @ rng.normal(size=(6, 2)) * 3.0 - 1.0).astype("float32")
    return x, y


def _model(lib, constraint):
    return lib.Sequential([
        lib.Input((6,)),
        lib.layers.Dense(8, activation="tanh", kernel_constraint=constraint()),
        lib.layers.Dense(2, kernel_constraint=constraint(), bias_constraint=constraint()),
    ])


@pytest.mark.parametrize("which", ["NonNeg", "MaxNorm", "UnitNorm", "MinMaxNorm"])
def test_fit_matches_keras(which):
    args = {"MaxNorm": {"max_value": 0.8}, "MinMaxNorm": {"min_value": 0.5, "max_value": 0.9, "rate": 0.7}}.get(which, {})
    keras.utils.set_random_seed(1)
    km = _model(keras, lambda: getattr(keras.constraints, which)(**args))
    om = _model(kerasish, lambda: getattr(C, which)(**args))
    rng = np.random.default_rng(3)
    init = [rng.normal(scale=0.8, size=w.shape).astype("float32") for w in km.get_weights()]
    km.set_weights(init)
    om.set_weights(init)
    x, y = _data()
    km.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05), loss="mse")
    om.compile(optimizer=kerasish.optimizers.SGD(learning_rate=0.05), loss="mse")
    km.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    om.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    for got, want in zip(om.get_weights(), km.get_weights()):
        np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-5)
    kernel = om.layers[0].get_weights()[0]
    if which == "NonNeg":
        assert (kernel >= 0).all() and (om.layers[1].get_weights()[1] >= 0).all()
    elif which == "MaxNorm":
        assert (np.linalg.norm(kernel, axis=0) <= 0.8 + 1e-5).all()
    elif which == "UnitNorm":
        np.testing.assert_allclose(np.linalg.norm(kernel, axis=0), 1.0, atol=1e-5)
    # The initial weights broke the constraint: training changed them.
    assert not np.allclose(kernel, init[0])


def test_no_constraints_means_nothing_to_apply():
    model = kerasish.Sequential([kerasish.Input((6,)), L.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = _data()
    model.fit(x, y, epochs=1, verbose=0)
    assert model.optimizer._constrained == []


# -- saving ------------------------------------------------------------------
def test_keras_file_keeps_constraints_both_ways(tmp_path):
    om = _model(kerasish, lambda: C.MaxNorm(1.5, axis=0))
    om.save(tmp_path / "o.keras")
    again = kerasish.models.load_model(tmp_path / "o.keras")
    for layer in again.layers:
        assert isinstance(layer.kernel_constraint, C.MaxNorm) and layer.kernel_constraint.max_value == 1.5
        assert layer.weights[0].constraint is layer.kernel_constraint
    theirs = keras.models.load_model(tmp_path / "o.keras")
    assert isinstance(theirs.layers[0].kernel_constraint, keras.constraints.MaxNorm)

    km = _model(keras, lambda: keras.constraints.NonNeg())
    km.save(tmp_path / "k.keras")
    ours = kerasish.models.load_model(tmp_path / "k.keras")
    assert isinstance(ours.layers[1].bias_constraint, C.NonNeg)
    np.testing.assert_allclose(ours.layers[0].get_weights()[0], km.layers[0].get_weights()[0])
