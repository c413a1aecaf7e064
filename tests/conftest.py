"""Shared test helpers. Keras 3 (torch backend) is the oracle: the same
weights and inputs go through both libraries and the outputs are compared."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest
import torch


@pytest.fixture(scope="session")
def keras():
    """Keras 3 on its torch backend, imported only by the tests that compare."""
    keras = pytest.importorskip("keras") if os.environ.get("KERASISH_ALLOW_NO_KERAS") else __import__("keras")
    return keras


def to_numpy(x):
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    if hasattr(x, "numpy"):
        return np.asarray(x.numpy() if not hasattr(x, "detach") else x.detach().cpu().numpy())
    return np.asarray(x)


def assert_layer_parity(kl, kr, x, atol=1e-5, training=False, rtol=1e-5):
    """Build both layers on ``x``, copy Keras's weights into ours, compare.

    ``kl`` is the kerasish layer, ``kr`` the Keras layer made with the same
    arguments. Checks output values, output shape (also through
    ``compute_output_shape``) and parameter counts. Returns both outputs.
    """
    x = np.asarray(x, dtype="float32")
    expected = to_numpy(kr(x, training=training) if training else kr(x))
    kl(x)  # build
    kl.set_weights([to_numpy(w) for w in kr.get_weights()])
    got = to_numpy(kl(x, training=training) if training else kl(x))
    assert got.shape == expected.shape, f"shape {got.shape} != keras {expected.shape}"
    np.testing.assert_allclose(got, expected, atol=atol, rtol=rtol)
    shape_in = (None,) + x.shape[1:]
    assert tuple(kl.compute_output_shape(shape_in)) == tuple(kr.compute_output_shape(shape_in))
    assert kl.count_params() == kr.count_params()
    assert [tuple(w.shape) for w in kl.weights] == [tuple(w.shape) for w in kr.weights]
    return got, expected


def _plain(v):
    if isinstance(v, (list, tuple)):
        return [_plain(a) for a in v]
    if isinstance(v, dict):
        return {k: _plain(a) for k, a in v.items()}
    return v


def assert_config_like_keras(ours, theirs, extra=()):
    """Our config has Keras's keys (plus ``extra``) and the same values.

    Takes configs or layers. ``dtype`` (a policy object in Keras) and ``name``
    (auto-name counters run separately in the two libraries) are left out.
    """
    ours = dict(ours.get_config() if hasattr(ours, "get_config") else ours)
    theirs = dict(theirs.get_config() if hasattr(theirs, "get_config") else theirs)
    for key in ("dtype", "name"):
        ours.pop(key, None)
        theirs.pop(key, None)
    assert set(ours) - set(extra) == set(theirs), (sorted(ours), sorted(theirs))
    for k, v in theirs.items():
        assert _plain(ours[k]) == _plain(v), (k, ours[k], v)


@pytest.fixture
def rng():
    return np.random.default_rng(0)
