"""kerasish.initializers: Keras formulas, statistics, configs and lookup."""

import math
import os

os.environ["KERAS_BACKEND"] = "torch"

import pytest
import torch

import keras  # noqa: E402  (the test oracle, in the dev extra)

from kerasish import initializers as I  # noqa: E402

CONV = (3, 3, 16, 32)  # Keras-layout conv kernel: fan_in 144, fan_out 288


# --------------------------------------------------------------- fans


@pytest.mark.parametrize("shape", [(), (7,), (3, 4), (5, 20), CONV, (2, 3, 4, 5, 6), (3, 8, 4)])
def test_compute_fans_matches_keras(shape):
    from keras.src.initializers.random_initializers import compute_fans

    assert I.compute_fans(shape) == compute_fans(shape)


def test_compute_fans_explicit_axes():
    from keras.src.initializers.random_initializers import compute_fans

    shape = (4, 5, 6)
    assert I.compute_fans(shape, (0, 1), (2,)) == compute_fans(shape, (0, 1), (2,)) == (20, 6)
    assert I.compute_fans(CONV) == (144, 288)


# ------------------------------------------------------ shape / dtype

ALL_NAMES = [
    "zeros", "ones", "constant", "random_normal", "random_uniform",
    "truncated_normal", "glorot_uniform", "glorot_normal", "he_normal",
    "he_uniform", "lecun_normal", "lecun_uniform", "variance_scaling",
    "orthogonal",
]


@pytest.mark.parametrize("name", ALL_NAMES)
@pytest.mark.parametrize("shape", [(5, 7), CONV])
def test_shape_and_dtype(name, shape):
    init = I.get(name)
    t = init(shape)
    assert isinstance(t, torch.Tensor)
    assert tuple(t.shape) == shape and t.dtype == torch.float32
    assert not t.requires_grad
    t64 = init(list(shape), dtype="float64")
    assert t64.dtype == torch.float64 and tuple(t64.shape) == shape
    assert init(shape, dtype=torch.float16).dtype == torch.float16


def test_new_tensor_each_call():
    init = I.Zeros()
    a, b = init((3,)), init((3,))
    a += 1
    assert b.sum().item() == 0


def test_constants():
    assert torch.equal(I.Zeros()((2, 3)), torch.zeros(2, 3))
    assert torch.equal(I.Ones()((2, 3)), torch.ones(2, 3))
    assert torch.equal(I.Constant(3.5)((4,)), torch.full((4,), 3.5))
    assert I.Constant(2)((2, 2), dtype="int32").dtype == torch.int32
    assert torch.equal(I.Identity()((3, 3)), torch.eye(3))
    assert torch.equal(I.Identity(gain=2.0)((3, 5)), 2.0 * torch.eye(3, 5))
    with pytest.raises(ValueError, match="2D"):
        I.Identity()((3, 3, 3))


# ------------------------------------------------- distribution statistics


def _big(init, shape=(400, 500)):
    return init(shape).double()


@pytest.mark.parametrize(
    "cls,scale,fan",
    [
        (I.GlorotUniform, 1.0, lambda fi, fo: (fi + fo) / 2),
        (I.HeUniform, 2.0, lambda fi, fo: fi),
        (I.LecunUniform, 1.0, lambda fi, fo: fi),
    ],
)
def test_uniform_variance_scaling_bounds(cls, scale, fan):
    torch.manual_seed(0)
    shape = (3, 3, 160, 320)  # conv kernel, large enough for statistics
    fi, fo = 3 * 3 * 160, 3 * 3 * 320
    limit = math.sqrt(3.0 * scale / fan(fi, fo))
    t = cls()(shape).double()
    assert t.abs().max() <= limit
    # The spread fills the whole interval.
    assert t.max() > 0.999 * limit and t.min() < -0.999 * limit
    assert abs(t.mean().item()) < 0.01 * limit
    assert t.var().item() == pytest.approx(limit**2 / 3, rel=0.01)


def test_glorot_uniform_conv_kernel_bound():
    torch.manual_seed(1)
    t = I.GlorotUniform()(CONV)
    limit = math.sqrt(6.0 / (144 + 288))
    assert t.abs().max().item() <= limit
    assert t.max().item() > 0.97 * limit and t.min().item() < -0.97 * limit
    # A bound computed with torch's (out, in, kh, kw) convention would differ.
    assert abs(limit - math.sqrt(6.0 / (3 * 3 * 16 + 3 * 3 * 32))) < 1e-12


@pytest.mark.parametrize(
    "cls,scale,mode",
    [
        (I.GlorotNormal, 1.0, "fan_avg"),
        (I.HeNormal, 2.0, "fan_in"),
        (I.LecunNormal, 1.0, "fan_in"),
    ],
)
def test_truncated_variance_scaling(cls, scale, mode):
    torch.manual_seed(2)
    shape = (300, 700)
    n = {"fan_in": 300, "fan_avg": 500}[mode]
    target_std = math.sqrt(scale / n)  # std after truncation
    pre_std = target_std / 0.87962566103423978
    t = _big(cls(), shape)
    assert t.abs().max() <= 2 * pre_std * (1 + 1e-6)
    assert t.abs().max() > 1.99 * pre_std
    assert t.std().item() == pytest.approx(target_std, rel=0.01)
    assert abs(t.mean().item()) < 0.01 * target_std


def test_variance_scaling_modes_and_distributions():
    torch.manual_seed(3)
    shape = (3, 3, 40, 80)
    fi, fo = 360, 720
    t = I.VarianceScaling(2.0, "fan_out", "untruncated_normal")(shape).double()
    assert t.std().item() == pytest.approx(math.sqrt(2.0 / fo), rel=0.02)
    assert t.abs().max() > 3 * math.sqrt(2.0 / fo)  # not truncated
    t = I.VarianceScaling(0.5, "fan_avg", "uniform")(shape).double()
    lim = math.sqrt(3 * 0.5 / ((fi + fo) / 2))
    assert t.abs().max() <= lim and t.abs().max() > 0.99 * lim
    t = I.VarianceScaling(1.0, "fan_in", "normal")(shape).double()
    assert t.std().item() == pytest.approx(math.sqrt(1.0 / fi), rel=0.02)
    # rank-1 shape: fan_in = fan_out = n
    t = I.VarianceScaling(1.0, "fan_in", "uniform")((100000,))
    assert t.abs().max() <= math.sqrt(3 / 100000)


def test_random_normal_and_uniform():
    torch.manual_seed(4)
    t = _big(I.RandomNormal(mean=1.0, stddev=2.0))
    assert t.mean().item() == pytest.approx(1.0, abs=0.02)
    assert t.std().item() == pytest.approx(2.0, rel=0.01)
    t = _big(I.RandomNormal())
    assert t.std().item() == pytest.approx(0.05, rel=0.01)
    t = _big(I.RandomUniform(-1.0, 3.0))
    assert t.min() >= -1.0 and t.max() < 3.0
    assert t.min() < -0.999 and t.max() > 2.999
    assert t.mean().item() == pytest.approx(1.0, abs=0.01)
    t = _big(I.RandomUniform())
    assert t.abs().max() <= 0.05 and t.abs().max() > 0.0499


def test_truncated_normal_inside_two_stddevs():
    torch.manual_seed(5)
    t = _big(I.TruncatedNormal(mean=0.5, stddev=0.1), (1000, 1000))
    assert t.min() >= 0.3 - 1e-7 and t.max() <= 0.7 + 1e-7
    assert t.min() < 0.301 and t.max() > 0.699
    assert t.mean().item() == pytest.approx(0.5, abs=1e-3)
    assert t.std().item() == pytest.approx(0.1 * 0.87962566103423978, rel=0.01)


# --------------------------------------------------------- orthogonal


@pytest.mark.parametrize("shape", [(64, 32), (32, 64), (40, 40), (3, 3, 4, 8)])
def test_orthogonal(shape):
    t = I.Orthogonal()(shape).double()
    m = t.reshape(-1, shape[-1])
    rows, cols = m.shape
    gram = m.T @ m if rows >= cols else m @ m.T
    assert torch.allclose(gram, torch.eye(min(rows, cols), dtype=torch.float64), atol=1e-5)
    t2 = I.Orthogonal(gain=2.0, seed=1)(shape).double().reshape(rows, cols)
    gram2 = t2.T @ t2 if rows >= cols else t2 @ t2.T
    assert torch.allclose(gram2, 4 * torch.eye(min(rows, cols), dtype=torch.float64), atol=1e-4)


def test_orthogonal_needs_rank_2():
    with pytest.raises(ValueError, match="two-dimensional"):
        I.Orthogonal()((5,))


# -------------------------------------------------------------- seeds


@pytest.mark.parametrize(
    "cls", [I.RandomNormal, I.RandomUniform, I.TruncatedNormal, I.GlorotUniform,
            I.HeNormal, I.Orthogonal, I.VarianceScaling]
)
def test_seeded_reproducible(cls):
    a = cls(seed=7)((20, 30))
    b = cls(seed=7)((20, 30))
    c = cls(seed=8)((20, 30))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    # Like Keras with an int seed, repeated calls give the same values.
    init = cls(seed=7)
    assert torch.equal(init((20, 30)), a)
    # A seeded draw leaves the global generator alone.
    torch.manual_seed(0)
    x1 = torch.rand(3)
    torch.manual_seed(0)
    cls(seed=3)((4, 4))
    assert torch.equal(torch.rand(3), x1)


def test_unseeded_uses_global_generator():
    torch.manual_seed(11)
    a = I.GlorotNormal()((10, 10))
    b = I.GlorotNormal()((10, 10))
    torch.manual_seed(11)
    assert torch.equal(I.GlorotNormal()((10, 10)), a)
    assert not torch.equal(a, b)


def test_seed_validation():
    with pytest.raises(ValueError, match="seed"):
        I.RandomNormal(seed="abc")
    with pytest.raises(ValueError, match="scale"):
        I.VarianceScaling(scale=-1.0)
    with pytest.raises(ValueError, match="mode"):
        I.VarianceScaling(mode="fan_middle")
    with pytest.raises(ValueError, match="distribution"):
        I.VarianceScaling(distribution="cauchy")


# ------------------------------------------------------------- configs

CONFIG_CASES = [
    ("Zeros", {}),
    ("Ones", {}),
    ("Constant", {}),
    ("Constant", {"value": 3.5}),
    ("Identity", {}),
    ("Identity", {"gain": 0.5}),
    ("RandomNormal", {}),
    ("RandomNormal", {"mean": 1.0, "stddev": 2.0, "seed": 4}),
    ("RandomUniform", {}),
    ("RandomUniform", {"minval": -1, "maxval": 1, "seed": 2}),
    ("TruncatedNormal", {}),
    ("TruncatedNormal", {"mean": 0.1, "stddev": 0.2, "seed": 9}),
    ("VarianceScaling", {}),
    ("VarianceScaling", {"scale": 2.0, "mode": "fan_out", "distribution": "uniform", "seed": 1}),
    ("VarianceScaling", {"distribution": "normal"}),
    ("VarianceScaling", {"distribution": "untruncated_normal", "input_axes": [0], "output_axes": [1]}),
    ("GlorotUniform", {}),
    ("GlorotUniform", {"seed": 5}),
    ("GlorotNormal", {}),
    ("HeNormal", {"seed": 1}),
    ("HeUniform", {}),
    ("LecunNormal", {}),
    ("LecunUniform", {"seed": 3}),
    ("Orthogonal", {}),
    ("Orthogonal", {"gain": 2.0, "seed": 6}),
]


@pytest.mark.parametrize("name,kwargs", CONFIG_CASES, ids=[f"{n}-{k}" for n, k in CONFIG_CASES])
def test_config_matches_keras(name, kwargs):
    ours = getattr(I, name)(**kwargs)
    ref = getattr(keras.initializers, name)(**kwargs)
    if name == "Identity":
        # keras 3.15 Identity drops `gain` from its config ({}); we keep it,
        # and keras reads our config back fine.
        assert ref.get_config() == {}
        assert ours.get_config() == {"gain": kwargs.get("gain", 1.0)}
        ref = keras.initializers.Identity.from_config(ours.get_config())
        assert ref.gain == ours.gain
    else:
        assert ours.get_config() == ref.get_config()
        assert I.serialize(ours) == keras.initializers.serialize(ref)
    # Round trips: from_config, serialize -> get, and keras's own dict.
    again = type(ours).from_config(ours.get_config())
    assert type(again) is type(ours) and again.get_config() == ours.get_config()
    got = I.get(keras.initializers.serialize(ref))
    assert type(got) is type(ours)
    if name != "Identity":  # keras's dict for Identity has no gain
        assert got.get_config() == ours.get_config()
    assert I.get(I.serialize(ours)).get_config() == ours.get_config()
    assert ours.clone().get_config() == ours.get_config()


def test_serialize_form():
    assert I.serialize(I.GlorotUniform()) == {
        "module": "keras.initializers",
        "class_name": "GlorotUniform",
        "config": {"seed": None, "input_axes": None, "output_axes": None},
        "registered_name": None,
    }


def test_seeded_config_round_trip_reproduces_values():
    a = I.HeUniform(seed=42)
    b = I.get(I.serialize(a))
    assert torch.equal(a((6, 6)), b((6, 6)))


# --------------------------------------------------------------- get


def test_get_accepts_every_keras_name():
    from keras.src.initializers import ALL_OBJECTS_DICT

    names = [n for n in ALL_OBJECTS_DICT if "stft" not in n.lower() and n.lower() != "initializer"]
    assert len(names) >= 35
    for name in names:
        ours = I.get(name)
        if name.lower() == "constant":
            # keras.initializers.get("constant") itself raises KeyError('value').
            assert isinstance(ours, I.Constant) and ours.get_config() == {"value": 0.0}
            continue
        ref = keras.initializers.get(name)
        assert type(ours).__name__ == type(ref).__name__, name
        if name.lower().startswith("identity"):
            assert ours.get_config() == {"gain": 1.0}
        else:
            assert ours.get_config() == ref.get_config(), name


def test_get_other_identifiers():
    assert I.get(None) is None
    inst = I.HeNormal(seed=1)
    assert I.get(inst) is inst
    assert isinstance(I.get(I.Orthogonal), I.Orthogonal)
    got = I.get({"class_name": "RandomNormal", "config": {"stddev": 1.0}})
    assert isinstance(got, I.RandomNormal) and got.stddev == 1.0

    def fn(shape, dtype=None):
        return torch.full(tuple(shape), 7.0)

    assert I.get(fn) is fn
    direct = I.get(torch.arange(6.0).reshape(2, 3))
    assert torch.equal(direct((2, 3)), torch.arange(6.0).reshape(2, 3))
    with pytest.raises(ValueError, match="shape"):
        direct((3, 2))
    assert I.glorot_uniform is I.GlorotUniform and I.he_normal is I.HeNormal


def test_get_errors():
    with pytest.raises(ValueError, match=r"Unknown initializer: 'glorot_uniformz'"):
        I.get("glorot_uniformz")
    with pytest.raises(ValueError, match="Unknown initializer: 'Nope'"):
        I.get({"module": "keras.initializers", "class_name": "Nope", "config": {}, "registered_name": None})
    with pytest.raises(ValueError):
        I.get(3.5)
