"""The transformer examples (keras.io scripts on generated data), run in-process
with tiny sizes; each model also built with Keras 3 on the same weights and
compared prediction by prediction.

examples/vision_transformer.py (Patches via ops.image.extract_patches,
PatchEncoder, MultiHeadAttention blocks, an MLP head, AdamW) and
examples/transformer_text_classification.py (TokenAndPositionEmbedding,
TransformerBlock, GlobalAveragePooling1D).
"""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import kerasish
from kerasish.testing.test_case import float32_tol
from guide_utils import assert_close, sync, to_np

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load_example(name):
    """An example as a module (its work sits under ``main()``)."""
    spec = importlib.util.spec_from_file_location(name[:-3], EXAMPLES / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def model_pair(keras, example, **sizes):
    """The example's model in Keras 3 and in kerasish, with Keras's initial weights in both."""
    models, init = {}, None
    for lib in (keras, kerasish):
        models[lib] = example.make_model(lib, **sizes)
        init = sync(models[lib], init)
    return models[keras], models[kerasish]


def test_vision_transformer_main_learns(capsys):
    example = load_example("vision_transformer.py")
    history = example.main(["--samples", "192", "--epochs", "4", "--batch-size", "32", "--image-size", "16",
                            "--patch-size", "4", "--projection-dim", "16", "--heads", "2", "--layers", "1",
                            "--head-units", "32"])
    out = capsys.readouterr().out
    assert "Patches per image: 16, elements per patch: 48" in out
    assert "Test accuracy:" in out and "Test top 5 accuracy:" in out
    model = history.model
    assert tuple(model.output.shape) == (None, 10)
    assert sorted(history.history) == ["accuracy", "loss", "top-5-accuracy", "val_accuracy", "val_loss",
                                       "val_top-5-accuracy"]
    losses = history.history["loss"]
    assert len(losses) == 4 and losses[-1] < losses[0]
    x, _ = example.make_data(5)
    assert model.predict(x, verbose=0).shape == (5, 10)


def test_vision_transformer_patches_match_keras(keras):
    """The script's Patches layer cuts the same patches in both libraries, in
    (rows, cols) order with each patch's values in (ph, pw, C) order."""
    images = np.random.default_rng(0).random((2, 12, 12, 3)).astype("float32")
    got = to_np(load_example("vision_transformer.py").make_layers(kerasish)[0](4)(images))
    want = to_np(load_example("vision_transformer.py").make_layers(keras)[0](4)(images))
    assert got.shape == (2, 9, 48)
    np.testing.assert_array_equal(got, want)
    # The second patch of the first row is pixels [0:4, 4:8].
    np.testing.assert_array_equal(got[0, 1], images[0, 0:4, 4:8].reshape(-1))


def test_vision_transformer_matches_keras(keras):
    """The script's model (augmentation included: Normalization adapted on the
    data, Resizing; the random layers act only in training) on Keras's weights
    predicts as Keras 3 does."""
    example = load_example("vision_transformer.py")
    x, _ = example.make_data(16, num_classes=10)
    sizes = dict(num_classes=10, image_size=16, patch_size=4, projection_dim=16, num_heads=2, transformer_layers=2,
                 mlp_head_units=(32,), x_train=x)
    theirs, ours = model_pair(keras, example, **sizes)
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    assert ours.count_params() == theirs.count_params()
    got, want = ours.predict(x, verbose=0), to_np(theirs.predict(x, verbose=0))
    assert got.shape == (16, 10)
    # Longest chain: the Flatten -> Dense of 16 patches x 16 features, after two blocks.
    assert_close(got, want, rtol=float32_tol(terms=256, depth=8))


def test_transformer_text_classification_main_learns(capsys):
    example = load_example("transformer_text_classification.py")
    history = example.main(["--reviews", "160", "--epochs", "3", "--vocab-size", "1000", "--maxlen", "32",
                            "--embed-dim", "16", "--ff-dim", "16"])
    out = capsys.readouterr().out
    assert "160 Training sequences" in out and "160 Validation sequences" in out
    model = history.model
    assert tuple(model.input.shape) == (None, 32) and tuple(model.output.shape) == (None, 2)
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    losses = history.history["loss"]
    assert len(losses) == 3 and losses[0] > losses[1] > losses[2]
    probs = model.predict(np.ones((4, 32), "int32"), verbose=0)
    assert probs.shape == (4, 2)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-6)


def test_transformer_text_classification_matches_keras(keras):
    example = load_example("transformer_text_classification.py")
    sizes = dict(vocab_size=500, maxlen=24, embed_dim=16, num_heads=2, ff_dim=16)
    theirs, ours = model_pair(keras, example, **sizes)
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    seqs, _ = example.make_reviews(16, 500, seed=3)
    x = kerasish.utils.pad_sequences(seqs, maxlen=24)
    np.testing.assert_array_equal(x, keras.utils.pad_sequences(seqs, maxlen=24))
    got, want = ours.predict(x, verbose=0), to_np(theirs.predict(x, verbose=0))
    assert got.shape == (16, 2)
    # Attention's projections sum 16 x 2 heads x 16 terms; a few such chained.
    assert_close(got, want, rtol=float32_tol(terms=512, depth=6))


@pytest.mark.parametrize("name, argv, message", [
    ("vision_transformer.py", ["--image-size", "30", "--patch-size", "8"], "not a multiple of --patch-size"),
    ("transformer_text_classification.py", ["--vocab-size", "2"], "--vocab-size must be at least 4"),
])
def test_examples_reject_bad_sizes(name, argv, message, capsys):
    with pytest.raises(SystemExit):
        load_example(name).main(argv)
    assert message in capsys.readouterr().err
