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
