"""keras.io's data-pipeline scripts as kerasish examples, run as a user runs them
on generated offline data with small sizes, plus their models built in Keras 3
and compared.

examples/image_classification_from_scratch.py (PetImages folder with broken
files, image_dataset_from_directory(subset="both"), augmentation in
``train_ds.map``, the small Xception, ModelCheckpoint, load_img + predict),
examples/text_classification_from_scratch.py (get_file on a tar.gz,
text_dataset_from_directory, TextVectorization with a custom standardization
adapted on ``map(lambda x, y: x)``, the Conv1D model) and
examples/mixup_cutmix_folder.py (MixUp / CutMix layers in ``train_ds.map`` on
one-hot batches).
"""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import kerasish
from guide_utils import assert_close, sync, to_np

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# Small settings for each script: a few seconds each.
RUNS = {
    "image_classification_from_scratch.py": ["--images-per-class", "40", "--image-size", "32", "--batch-size", "16", "--epochs", "3"],
    "text_classification_from_scratch.py": ["--reviews", "300", "--max-features", "500", "--embedding-dim", "32",
                                            "--sequence-length", "64", "--epochs", "4"],
    "mixup_cutmix_folder.py": ["--images-per-class", "40", "--image-size", "32", "--batch-size", "16", "--epochs", "4"],
}


def load_example(name):
    """An example as a module (its work sits under ``main()``)."""
    spec = importlib.util.spec_from_file_location(name[:-3], EXAMPLES / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_with(lib, fn, *args):
    """Call an example's model function with ``keras`` / ``layers`` bound to ``lib``:
    the script's own lines build the model in Keras 3 as well."""
    g = fn.__globals__
    saved = g["keras"], g["layers"]
    g["keras"], g["layers"] = lib, lib.layers
    try:
        return fn(*args)
    finally:
        g["keras"], g["layers"] = saved


@pytest.fixture(scope="module")
def started(tmp_path_factory):
    """Start every script at once, each in its own folder."""
    env = dict(os.environ, COLUMNS="80", OMP_NUM_THREADS="1", PYTHONWARNINGS="default")
    env.pop("FORCE_COLOR", None)
    env.pop("KERAS_HOME", None)
    procs = {}
    for name, argv in RUNS.items():
        cwd = tmp_path_factory.mktemp(name[:-3])
        procs[name] = (cwd, subprocess.Popen([sys.executable, str(EXAMPLES / name), *argv], stdout=subprocess.PIPE,
                                             stderr=subprocess.PIPE, text=True, env=env, cwd=cwd))
    yield procs
    for _, proc in procs.values():
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.fixture
def run_example(started):
    def run(name):
        cwd, proc = started[name]
        try:
            stdout, stderr = proc.communicate(timeout=240)
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, stderr = proc.communicate()
            pytest.fail(f"{name} timed out:\n{stdout}\n{stderr}")
        assert proc.returncode == 0, f"{name} failed:\n{stdout}\n{stderr}"
        return cwd, stdout, stderr

    return run


def epoch_metric(out, key):
    """``key``'s value at the end of each epoch (the lines with val_ metrics)."""
    return [float(v) for v in re.findall(rf"step - .*?\b{key}: ([\d.]+) .*val_", out)]


def test_image_classification_from_scratch_script(run_example, keras):
    cwd, out, err = run_example("image_classification_from_scratch.py")
    # The JFIF check deletes the PNG named .jpg; the truncated JPEG passes it and is skipped with a warning.
    assert "Deleted 1 images." in out
    assert "Found 81 files belonging to 2 classes." in out and "Using 65 files for training." in out
    assert "skipping file 'PetImages/Dog/11702.jpg', which could not be decoded" in err
    assert not (cwd / "PetImages" / "Cat" / "666.jpg").exists()
    assert "Epoch 3/3" in out and "Epoch 4/3" not in out
    for name in ("save_at_1.keras", "save_at_2.keras", "save_at_3.keras", "model.png", "samples.png", "augmented.png"):
        assert (cwd / name).is_file(), name
    acc = epoch_metric(out, "acc")
    assert len(acc) == 3 and acc[-1] > 0.75  # warm vs cool images: learnable through the flips and rotations

    # The last checkpoint is the final model: reloaded in kerasish it gives the script's printed score,
    # and Keras 3 reads the same file to the same predictions.
    ours = kerasish.models.load_model(cwd / "save_at_3.keras")
    img = kerasish.utils.img_to_array(kerasish.utils.load_img(cwd / "PetImages" / "Cat" / "6779.jpg", target_size=(32, 32)))
    logit = float(ours.predict(img[None], verbose=0)[0, 0])
    dog = float(re.search(r"This image is ([\d.]+)% cat and ([\d.]+)% dog\.", out).group(2))
    assert dog == pytest.approx(100 / (1 + np.exp(-logit)), abs=0.006)
    theirs = keras.saving.load_model(cwd / "save_at_3.keras")
    batch = np.stack([kerasish.utils.img_to_array(kerasish.utils.load_img(p, target_size=(32, 32)))
                      for p in [cwd / "PetImages" / "Dog" / f"{i}.jpg" for i in range(4)]])
    assert_close(ours.predict(batch, verbose=0), to_np(theirs.predict(batch, verbose=0)), rtol=1e-4)


def test_image_classification_xception_matches_keras(keras):
    """The script's small Xception built by its own ``make_model`` in both libraries:
    same layers (kinds, output shapes, weights) and, on Keras's weights, the same logits."""
    make_model = load_example("image_classification_from_scratch.py").make_model
    theirs = build_with(keras, make_model, (32, 32, 3), 2)
    ours = build_with(kerasish, make_model, (32, 32, 3), 2)
    assert [type(l).__name__ for l in ours.layers] == [type(l).__name__ for l in theirs.layers]
    assert [tuple(l.output.shape) for l in ours.layers[1:]] == [tuple(l.output.shape) for l in theirs.layers[1:]]
    assert [l.count_params() for l in ours.layers] == [l.count_params() for l in theirs.layers]
    assert ours.count_params() == theirs.count_params()
    sync(ours, sync(theirs, None))
    x = np.random.default_rng(0).uniform(0, 255, size=(2, 32, 32, 3)).astype("float32")
    assert_close(ours.predict(x, verbose=0), to_np(theirs.predict(x, verbose=0)), rtol=1e-4)
    # Five classes: a softmax-free Dense(5) head.
    assert build_with(kerasish, make_model, (32, 32, 3), 5).output.shape == (None, 5)


def test_text_classification_from_scratch_script(run_example):
    cwd, out, _ = run_example("text_classification_from_scratch.py")
    assert "Downloading data from file:" in out  # get_file fetched and extracted the archive
    assert "['test', 'train']" in out and "['neg', 'pos', 'unsup']" in out
    assert (cwd / "keras_home" / "datasets").is_dir()
    # 600 training files (unsup removed), 480 / 120 split, batches of 32.
    assert out.count("Found 600 files belonging to 2 classes.") == 3
    assert "Number of batches in raw_train_ds: 15" in out and "Number of batches in raw_val_ds: 4" in out
    assert "Number of batches in raw_test_ds: 19" in out
    assert "<br />" in out  # the raw preview still has the tags the standardization removes
    vocab_size = int(re.search(r"Vocabulary size: (\d+)", out).group(1))
    assert 50 < vocab_size <= 500
    assert len(epoch_metric(out, "accuracy")) == 4
    test_acc = float(re.search(r"Test accuracy: ([\d.]+)", out).group(1))
    assert test_acc > 0.7  # praise vs complaint words
    # The end-to-end model (a string Input, the adapted vectorizer, the trained model) scores the
    # raw test strings as the model scores the vectorized test set.
    e2e = float(re.search(r"End-to-end accuracy on raw strings: ([\d.]+)", out).group(1))
    assert e2e == pytest.approx(test_acc, abs=1e-4)
    # class_names=["pos", "neg"]: a praising review scores lower (pos = 0) than a complaining one
    pos, neg = map(float, re.search(r"End-to-end predictions: ([\d.]+) ([\d.]+)", out).groups())
    assert pos < 0.5 < neg


def test_text_custom_standardization_and_vectorizer():
    """The script's numpy standardization does what the original's tf.strings one does:
    lowercase, ``<br />`` to a space, punctuation removed; shape kept."""
    example = load_example("text_classification_from_scratch.py")
    raw = np.array([["Great film!<br /><br />Loved it."], ["WORST... movie, ever"]])
    got = example.custom_standardization(raw)
    assert got.shape == raw.shape
    assert got.tolist() == [["great film  loved it"], ["worst movie ever"]]
    vectorizer = kerasish.layers.TextVectorization(standardize=example.custom_standardization, max_tokens=20,
                                                   output_mode="int", output_sequence_length=6)
    vectorizer.adapt(["Great film!<br />Great.", "worst movie"])
    vocab = vectorizer.get_vocabulary()
    assert vocab[:3] == ["", "[UNK]", "great"] and not any("<" in t or "!" in t for t in vocab)
    ids = vectorizer(np.expand_dims(["GREAT, worst<br />ending"], -1))
    assert ids.tolist() == [[2, vocab.index("worst"), 1, 0, 0, 0]]


def test_text_model_matches_keras(keras):
    make_model = load_example("text_classification_from_scratch.py").make_model
    theirs = build_with(keras, make_model, 500, 32)
    ours = build_with(kerasish, make_model, 500, 32)
    assert [type(l).__name__ for l in ours.layers] == [type(l).__name__ for l in theirs.layers]
    assert ours.count_params() == theirs.count_params() == 500 * 32 + (7 * 32 * 128 + 128) + (7 * 128 * 128 + 128) + 128 * 129 + 129
    sync(ours, sync(theirs, None))
    x = np.random.default_rng(0).integers(0, 500, size=(3, 64))
    assert_close(ours.predict(x, verbose=0), to_np(theirs.predict(x, verbose=0)), rtol=1e-4)


def test_mixup_cutmix_folder_script(run_example):
    cwd, out, _ = run_example("mixup_cutmix_folder.py")
    assert "Found 160 files belonging to 4 classes." in out
    # Mixed one-hot labels stay distributions, and some of them are really mixed.
    for name in ("mixup", "cutmix"):
        m = re.search(rf"{name}: label rows sum to ([\d.]+)\.\.([\d.]+), (\d+)% of the first batch's labels mixed", out)
        assert m, name
        assert float(m.group(1)) == pytest.approx(1.0, abs=1e-4) and float(m.group(2)) == pytest.approx(1.0, abs=1e-4)
        assert int(m.group(3)) > 0
        assert (cwd / f"{name}_samples.png").is_file()
    assert (cwd / "initial.weights.h5").is_file()
    assert out.count("Epoch 4/4") == 3
    accs = {k: float(v) for k, v in re.findall(r"Validation accuracy \(([\w ]+)\): ([\d.]+)%", out)}
    assert sorted(accs) == ["CutMix", "MixUp", "no augmentation"]
    assert accs["no augmentation"] > 40 and max(accs["MixUp"], accs["CutMix"]) > 40  # 4 classes: chance is 25%
