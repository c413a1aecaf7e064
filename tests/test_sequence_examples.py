"""The sequence-model examples (keras.io scripts on offline data), run as a
user runs them, with small sizes; the Functional API guide's multi-input,
multi-output model also compared with Keras 3 on the same weights.

examples/timeseries_classification.py (Conv1D / BatchNormalization /
GlobalAveragePooling1D with three callbacks), examples/text_classification_lstm.py
(Embedding, two Bidirectional LSTMs, keras.datasets.imdb through its download
path) and examples/functional_multi_io.py (Embedding, LSTM, concatenate, two
named heads, loss dicts).
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
from kerasish.testing.test_case import float32_tol
from guide_utils import assert_close, assert_history_close, sync, to_np

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# Small settings for each script: a few seconds each (mostly interpreter start-up).
RUNS = {
    "timeseries_classification.py": ["--train-samples", "240", "--test-samples", "64", "--length", "64", "--epochs", "5"],
    "text_classification_lstm.py": ["--reviews", "200", "--max-features", "2000", "--maxlen", "40",
                                    "--embedding-dim", "16", "--units", "8", "--epochs", "3"],
    "functional_multi_io.py": ["--samples", "128", "--epochs", "3"],
}


def load_example(name):
    """An example as a module (its work sits under ``main()``)."""
    spec = importlib.util.spec_from_file_location(name[:-3], EXAMPLES / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def started(tmp_path_factory):
    """Start every script at once, each in its own folder, so the wall time
    is about that of the slowest one."""
    env = dict(os.environ, COLUMNS="80", PYTHONWARNINGS="ignore", OMP_NUM_THREADS="1")
    env.pop("FORCE_COLOR", None)
    env.pop("KERASISH_HOME", None)
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
        return cwd, stdout

    return run


def table_rows(out):
    """Data rows of the summary table (continuation lines of wrapped cells skipped)."""
    rows = [[c.strip() for c in line.strip("│").split("│")] for line in out.splitlines() if line.startswith("│")]
    return [r for r in rows if r[1]]


def epoch_losses(out):
    return [float(v) for v in re.findall(r"step - .*?\bloss: ([\d.]+)", out)]


def total_params(out):
    return int(re.search(r"Total params: ([\d,]+)", out).group(1).replace(",", ""))


@pytest.mark.slow
def test_timeseries_classification(run_example, keras):
    cwd, out = run_example("timeseries_classification.py")
    assert [r[1] for r in table_rows(out)] == ["(None, 64, 1)"] + ["(None, 64, 64)"] * 9 + ["(None, 64)", "(None, 2)"]
    # 3 x (Conv1D + BatchNormalization) + Dense, Keras's counts: 256 + 12,352 x 2 + 256 x 3 + 130.
    assert total_params(out) == 25_858 and "Non-trainable params: 384" in out
    losses = epoch_losses(out)
    assert len(losses) == 5 + 1 and losses[4] < losses[0]  # 5 epochs, then the evaluate line
    assert "learning_rate: 0.0010" in out  # ReduceLROnPlateau logs the rate
    for name in ("best_model.keras", "model.png", "accuracy.png", "classes.png", "FordA_TRAIN.tsv"):
        assert (cwd / name).is_file(), name

    # The checkpoint is the best epoch's model: reloaded, it gives the script's test figures,
    # and Keras 3 reads the same file to the same predictions.
    data = np.loadtxt(cwd / "FordA_TEST.tsv", delimiter="\t")
    x_test, y_test = data[:, 1:, None].astype("float32"), (data[:, 0] == 1).astype("int64")
    best = kerasish.models.load_model(cwd / "best_model.keras")
    test_loss, test_acc = best.evaluate(x_test, y_test, verbose=0)
    assert float(re.search(r"Test accuracy ([\d.]+)", out).group(1)) == pytest.approx(test_acc, rel=1e-5)
    assert float(re.search(r"Test loss ([\d.]+)", out).group(1)) == pytest.approx(test_loss, rel=1e-5)
    assert test_acc > 0.5
    # The validation split as the script made it (seeded shuffle, the last 20%): the
    # checkpoint's loss there is the lowest val_loss of the run (printed to 4 places).
    train = np.loadtxt(cwd / "FordA_TRAIN.tsv", delimiter="\t")
    np.random.seed(0)
    train = train[np.random.permutation(len(train))]
    val = train[int(np.ceil(len(train) * 0.8)):]
    val_loss, _ = best.evaluate(val[:, 1:, None].astype("float32"), (val[:, 0] == 1).astype("int64"), verbose=0)
    val_losses = [float(v) for v in re.findall(r"val_loss: ([\d.]+)", out)]
    assert len(val_losses) == 5 and val_loss == pytest.approx(min(val_losses), abs=6e-5)
    theirs = keras.saving.load_model(cwd / "best_model.keras")
    assert_close(best.predict(x_test, verbose=0), to_np(theirs.predict(x_test, verbose=0)), rtol=1e-4)


@pytest.mark.slow
def test_text_classification_lstm(run_example, keras):
    _, out = run_example("text_classification_lstm.py")
    assert "200 Training sequences" in out and "200 Validation sequences" in out
    assert "Padded: (200, 40) (200, 40)" in out
    assert "Downloading data from file:" in out  # load_data went through get_file's download and check
    assert [r[1] for r in table_rows(out)] == ["(None, None)", "(None, None, 16)", "(None, None, 16)", "(None, 16)", "(None, 1)"]
    # Keras 3's model of the same sizes has as many weights.
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = keras.layers.Embedding(2000, 16)(inputs)
    x = keras.layers.Bidirectional(keras.layers.LSTM(8, return_sequences=True))(x)
    x = keras.layers.Bidirectional(keras.layers.LSTM(8))(x)
    assert total_params(out) == keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(x)).count_params()
    losses = epoch_losses(out)
    assert len(losses) == 3 and losses[0] > losses[1] > losses[2]


@pytest.mark.slow
def test_functional_multi_io_script(run_example):
    cwd, out = run_example("functional_multi_io.py")
    assert total_params(out) == 1_392_097
    losses = [float(v) for v in re.search(r"loss per epoch: ([\d. ]+)", out).group(1).split()]
    assert len(losses) == 3 and losses[0] > losses[-1]
    assert "prediction shapes: {'department': (4, 4), 'priority': (4, 1)}" in out
    assert (cwd / "multi_input_and_output_model.png").is_file()


def multi_io_pair(keras, **sizes):
    example = load_example("functional_multi_io.py")
    models, init = {}, None
    for lib in (keras, kerasish):
        models[lib] = example.make_model(lib, **sizes)
        init = sync(models[lib], init)
    return example, models[keras], models[kerasish]


def test_functional_multi_io_matches_keras(keras):
    sizes = dict(num_tags=12, num_words=500, num_departments=4)
    example, theirs, ours = multi_io_pair(keras, **sizes)
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    (title, body, tags), _ = example.dummy_data(16, **sizes)
    inputs = {"title": title, "body": body, "tags": tags}
    got, want = ours.predict(inputs, verbose=0), theirs.predict(inputs, verbose=0)
    assert sorted(got) == sorted(want) == ["department", "priority"]
    # The widest accumulation is an LSTM gate (64 inputs + 128 recurrent units); the
    # recurrence's tanh / sigmoid squash rounding step by step rather than chaining it.
    for key in got:
        assert_close(got[key], to_np(want[key]), rtol=float32_tol(terms=64 + 128), what=key)


def test_functional_multi_io_fit_matches_keras_and_learns(keras):
    """The guide's second compile (loss and loss_weights dicts), fit on dicts:
    same per-output losses as Keras epoch by epoch, and the loss goes down."""
    sizes = dict(num_tags=12, num_words=300, num_departments=4)
    example, theirs, ours = multi_io_pair(keras, **sizes)
    (title, body, tags), (priority, dept) = example.dummy_data(64, **sizes)
    body = body[:, :20]  # shorter bodies: the test stays fast
    history = {}
    for lib, model in ((keras, theirs), (kerasish, ours)):
        model.compile(
            optimizer=lib.optimizers.RMSprop(1e-3),
            loss={"priority": lib.losses.BinaryCrossentropy(from_logits=True),
                  "department": lib.losses.CategoricalCrossentropy(from_logits=True)},
            loss_weights={"priority": 1.0, "department": 0.2},
        )
        history[lib] = model.fit({"title": title, "body": body, "tags": tags}, {"priority": priority, "department": dept},
                                 epochs=3, batch_size=32, shuffle=False, verbose=0)
    assert sorted(history[kerasish].history) == ["department_loss", "loss", "priority_loss"]
    assert_history_close(history[kerasish], history[keras], rtol=1e-4)
    losses = history[kerasish].history["loss"]
    assert losses[0] > losses[1] > losses[2]


def test_masking_guide_example_runs_and_its_masks_match_keras(keras, capsys):
    """examples/masking_and_padding.py (keras.io's masking guide) in-process: it prints the
    guide's masks, the masked LSTM models run, and TemporalSoftmax gets its mask."""
    y = load_example("masking_and_padding.py").main()
    printed = capsys.readouterr().out
    assert tuple(y.shape) == (32, 100, 1)
    assert y._keras_mask.shape == (32, 100)
    # the guide's softmax over a last axis of size 1: 1 where a step counts, and 0 / 0 (NaN, as in
    # Keras) where it is masked
    values, mask = to_np(y)[..., 0], to_np(y._keras_mask)
    assert mask.any() and (~mask).any()
    np.testing.assert_array_equal(values[mask], 1.0)
    assert np.isnan(values[~mask]).all()
    padded = keras.utils.pad_sequences([[711, 632, 71], [73, 8, 3215, 55, 927], [83, 91, 1, 645, 1253, 927]],
                                       padding="post")
    assert str(padded) in printed
    assert "Mask found: <KerasTensor shape=(None, None), dtype=bool" in printed
    assert printed.count("[ True,  True,  True, False, False, False]") >= 2  # Embedding's and Masking's
