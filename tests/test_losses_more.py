"""kerasish.losses' Circle, CTC and CategoricalGeneralizedCrossEntropy (and
the focal losses' look-ups) against keras.losses (torch backend): values for
every reduction with sample weights, functions, configs, names, gradients,
bad input, and a fit with each."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import pytest
import torch

import kerasish
from kerasish import losses as L
from kerasish.testing import float32_tol
from tests.conftest import assert_config_like_keras, to_numpy

RNG = np.random.default_rng(1919)
REDUCTIONS = ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None]


def _close(got, expected, rtol=float32_tol(terms=64, depth=4), atol=1e-5):
    got, expected = to_numpy(got), to_numpy(expected)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol)


def _embeddings(n=8, d=6):
    x = RNG.normal(size=(n, d)).astype("float32")
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def _ctc_data(batch=4, steps=7, classes=5, max_len=3):
    labels = np.zeros((batch, max_len), "int32")
    for i in range(batch):
        n = RNG.integers(1, max_len + 1)
        labels[i, :n] = RNG.integers(1, classes, n)  # 0 is the blank and the padding
    return labels, RNG.normal(size=(batch, steps, classes)).astype("float32")


def _data(name):
    if name == "Circle":
        return RNG.integers(0, 3, 8).astype("int32"), _embeddings()
    if name == "CTC":
        return _ctc_data()
    if name == "CategoricalGeneralizedCrossEntropy":
        p = RNG.random((8, 4)).astype("float32") + 0.05
        return RNG.integers(0, 4, 8).astype("int32"), p / p.sum(-1, keepdims=True)
    raise KeyError(name)


CASES = [
    ("Circle", {}),
    ("Circle", {"gamma": 16.0, "margin": 0.25}),
    ("Circle", {"remove_diagonal": False}),
    ("CTC", {}),
    ("CategoricalGeneralizedCrossEntropy", {}),
    ("CategoricalGeneralizedCrossEntropy", {"q": 0.8}),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_loss_classes_match_keras_every_reduction_and_weights(keras, case, reduction):
    name, kwargs = case
    y_true, y_pred = _data(name)
    ours = getattr(L, name)(reduction=reduction, **kwargs)
    ref = getattr(keras.losses, name)(reduction=reduction, **kwargs)
    for sw in (None, RNG.random(len(y_true)).astype("float32")):
        got = ours(torch.as_tensor(y_true), torch.as_tensor(y_pred), sample_weight=None if sw is None else torch.as_tensor(sw))
        assert got.dtype == torch.float32
        _close(got, ref(y_true, y_pred, sample_weight=sw))
    assert_config_like_keras(ours, ref)
    assert ours.get_config() == ref.get_config()
    back = type(ours).from_config(ours.get_config())
    assert back.get_config() == ours.get_config()


def test_functions_are_per_sample_and_match_keras(keras):
    y, e = _data("Circle")
    ref_e = _embeddings(5)
    ref_y = RNG.integers(0, 3, 5)
    _close(L.circle(y, e), keras.losses.circle(y, e))
    _close(L.circle(y, e, ref_labels=ref_y, ref_embeddings=ref_e, gamma=30), keras.losses.circle(y, e, ref_labels=ref_y, ref_embeddings=ref_e, gamma=30))
    got = L.circle(torch.as_tensor(y), torch.as_tensor(e))
    assert got.shape == (8,) and got._keras_mask.tolist() == (to_numpy(got) > 0).tolist()
    labels, logits = _ctc_data()
    out = L.ctc(labels, logits)
    assert out.shape == (4,)
    _close(out, keras.losses.ctc(labels, logits))
    y, p = _data("CategoricalGeneralizedCrossEntropy")
    # Keras's function wants tensors (it multiplies y_pred by a tensor)
    ref = keras.losses.categorical_generalized_cross_entropy(torch.as_tensor(y), torch.as_tensor(p), q=0.3)
    _close(L.categorical_generalized_cross_entropy(y, p, q=0.3), ref)


def test_ctc_padding_is_the_blank_and_matches_torch_on_lengths():
    labels = torch.tensor([[2, 1, 0, 0], [3, 3, 1, 2]])
    logits = torch.randn(2, 9, 4, dtype=torch.float64).float()
    expected = torch.nn.functional.ctc_loss(
        torch.log_softmax(logits, -1).transpose(0, 1),
        torch.tensor([2, 1, 3, 3, 1, 2]),
        torch.tensor([9, 9]),
        torch.tensor([2, 4]),
        blank=0,
        reduction="none",
    )
    _close(L.ctc(labels, logits), expected, rtol=1e-6)
    # float labels (as Keras's Loss makes them) are class ids too
    _close(L.CTC(reduction="none")(labels.float(), logits), expected, rtol=1e-6)


def test_gradients_are_finite_and_match_keras(keras):
    for name in ("Circle", "CTC", "CategoricalGeneralizedCrossEntropy"):
        y_true, y_pred = _data(name)
        ours = torch.tensor(y_pred, requires_grad=True)
        getattr(L, name)()(torch.as_tensor(y_true), ours).backward()
        ref = torch.tensor(y_pred, requires_grad=True)
        getattr(keras.losses, name)()(torch.as_tensor(y_true), ref).backward()
        assert torch.isfinite(ours.grad).all()
        _close(ours.grad, ref.grad)
    # a batch where nobody has a positive pair: zero loss, zero (not NaN) gradient
    e = torch.tensor(_embeddings(4), requires_grad=True)
    loss = L.Circle()(torch.tensor([0, 1, 2, 3]), e)
    loss.backward()
    assert float(loss.detach()) == 0.0 and torch.equal(e.grad, torch.zeros_like(e))


@pytest.mark.parametrize(
    "name",
    ["ctc", "CTC", "circle", "Circle", "binary_focal_crossentropy", "BinaryFocalCrossentropy",
     "categorical_focal_crossentropy", "CategoricalFocalCrossentropy", "dice", "Tversky"],
)
def test_lookup_by_name_as_keras(keras, name):
    ours, ref = L.get(name), keras.losses.get(name)
    if callable(ref) and not hasattr(ref, "get_config"):
        assert ours.__name__ == ref.__name__
    else:
        assert type(ours).__name__ == type(ref).__name__
        assert_config_like_keras(ours, ref)


def test_serialize_round_trip_and_keras_configs(keras):
    for ours in (L.Circle(gamma=32.0, remove_diagonal=False), L.CTC(reduction="sum"), L.CategoricalGeneralizedCrossEntropy(q=0.2)):
        cfg = L.serialize(ours)
        assert cfg["module"] == "keras.losses" and cfg["class_name"] == type(ours).__name__
        assert L.deserialize(cfg).get_config() == ours.get_config()
        kref = getattr(keras.losses, type(ours).__name__).from_config(ours.get_config())
        assert L.deserialize(keras.losses.serialize(kref)).get_config() == ours.get_config()
    for fn in (L.ctc, L.circle, L.categorical_generalized_cross_entropy):
        assert L.deserialize(L.serialize(fn)) is fn


def test_bad_input_raises_naming_the_argument():
    with pytest.raises(ValueError, match=r"q. must be in the interval"):
        L.CategoricalGeneralizedCrossEntropy(q=1.0)
    with pytest.raises(ValueError, match=r"ctc: targets `y_true`.*y_true.shape=\(2, 3, 1\)"):
        L.ctc(np.ones((2, 3, 1)), np.ones((2, 5, 4)))
    with pytest.raises(ValueError, match=r"ctc: logits `y_pred`.*y_pred.shape=\(2, 5\)"):
        L.ctc(np.ones((2, 3)), np.ones((2, 5)))
    with pytest.raises(ValueError, match="same batch size"):
        L.ctc(np.ones((3, 3)), np.ones((2, 5, 4)))
    with pytest.raises(ValueError, match="circle: `y_pred`"):
        L.circle(np.zeros(4), np.ones((4, 2, 3)))


def test_fit_with_ctc_circle_and_focal_losses():
    kerasish.utils.set_random_seed(3)
    labels, _ = _ctc_data(batch=16, steps=7, classes=5)
    x = RNG.normal(size=(16, 7, 3)).astype("float32")
    model = kerasish.Sequential([kerasish.Input((7, 3)), kerasish.layers.Dense(5)])
    model.compile(optimizer=kerasish.optimizers.Adam(0.05), loss="ctc")
    hist = model.fit(x, labels, batch_size=8, epochs=5, verbose=0).history["loss"]
    assert np.isfinite(hist).all() and hist[-1] < hist[0]

    x = RNG.normal(size=(32, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")
    emb = kerasish.Sequential([kerasish.Input((4,)), kerasish.layers.Dense(8), kerasish.layers.Lambda(lambda t: torch.nn.functional.normalize(t, dim=-1))])
    emb.compile(optimizer=kerasish.optimizers.Adam(0.05), loss=kerasish.losses.Circle(gamma=16.0))
    hist = emb.fit(x, y, batch_size=16, epochs=5, verbose=0).history["loss"]
    assert np.isfinite(hist).all() and hist[-1] < hist[0]

    clf = kerasish.Sequential([kerasish.Input((4,)), kerasish.layers.Dense(1, activation="sigmoid")])
    clf.compile(optimizer="adam", loss="binary_focal_crossentropy", metrics=["binary_focal_crossentropy"])
    logs = clf.fit(x, y[:, None].astype("float32"), batch_size=16, epochs=1, verbose=0).history
    assert np.isfinite(logs["loss"]).all() and "binary_focal_crossentropy" in logs
