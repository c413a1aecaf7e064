"""Shared test helpers. Keras 3 (torch backend) is the oracle: the same
weights and inputs go through both libraries and the outputs are compared."""

import functools
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest
import torch

from kerasish.testing import run_layer_test
from kerasish.testing.test_case import assert_close_f32, float32_tol  # noqa: F401 (the tests import them from here)


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


F32_EPS = float(np.finfo(np.float32).eps)  # 1.19e-7, one unit in the last place at 1.0


def assert_layer_parity(kl, kr, x, training=False, terms=None, atol=None, rtol=None):
    """Build both layers on ``x``, copy Keras's weights into ours, compare.

    ``kl`` is the kerasish layer, ``kr`` the Keras layer made with the same
    arguments. Checks output values, output shape (also through
    ``compute_output_shape``) and parameter counts. Returns both outputs.

    Args:
        kl: the kerasish layer.
        kr: the Keras layer.
        x: the input batch.
        training: call both layers in training mode.
        terms: the longest accumulation behind one output value (see
            :func:`float32_tol`); default: one sample's size, an upper bound
            for any per-sample layer.
        atol: absolute tolerance instead of the float32 one (with ``rtol``),
            for outputs that are not float32 sums, e.g. interpolated pixels.
        rtol: relative tolerance instead of the float32 one.
    """
    x = np.asarray(x, dtype="float32")
    expected = to_numpy(kr(x, training=training) if training else kr(x))
    kl(x)  # build
    kl.set_weights([to_numpy(w) for w in kr.get_weights()])
    got = to_numpy(kl(x, training=training) if training else kl(x))
    assert got.shape == expected.shape, f"shape {got.shape} != keras {expected.shape}"
    if atol is None and rtol is None:
        assert_close_f32(got, expected, terms=x[0].size if terms is None else terms)
    else:
        np.testing.assert_allclose(got, expected, atol=atol or 0.0, rtol=rtol or 0.0)
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
def layer_test(keras):
    """``kerasish.testing.run_layer_test`` with this session's Keras as the parity oracle.

    Use as ``layer_test(Conv2D, {"filters": 4, "kernel_size": 3}, input_shape=(2, 8, 8, 3),
    expected_num_trainable_weights=2, keras_parity=True)``.
    """
    return functools.partial(run_layer_test, keras_module=keras)


@pytest.fixture
def rng():
    return np.random.default_rng(0)
