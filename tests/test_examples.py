"""The example scripts run as a user would run them (a fresh interpreter each)
and print the numbers the seed posts print."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # each test starts fresh interpreters

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


NAMES = ["fruit_classifier.py", "mnist_cnn.py", "conv_basics.py", "cifar_cnn.py"]


@pytest.fixture(scope="module")
def started(tmp_path_factory):
    """Start every example at once (each is mostly interpreter start-up and
    imports), so the file's wall time is about that of the slowest one."""
    env = dict(os.environ, COLUMNS="80", PYTHONWARNINGS="ignore")
    env.pop("FORCE_COLOR", None)
    procs = {
        name: subprocess.Popen([sys.executable, str(EXAMPLES / name)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path_factory.mktemp("examples"))
        for name in NAMES
    }
    yield procs
    for proc in procs.values():
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.fixture
def run_example(started):
    def run(name):
        proc = started[name]
        try:
            stdout, stderr = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, stderr = proc.communicate()
            pytest.fail(f"{name} timed out:\n{stdout}\n{stderr}")
        assert proc.returncode == 0, f"{name} failed:\n{stdout}\n{stderr}"
        assert "\x1b" not in stdout  # plain text when stdout is a pipe
        return stdout

    return run


def table_rows(out):
    """Data rows of the summary table (continuation lines of wrapped cells skipped)."""
    rows = [[c.strip() for c in line.strip("│").split("│")] for line in out.splitlines() if line.startswith("│")]
    return [r for r in rows if r[1]]


def test_fruit_classifier(run_example):
    source = (EXAMPLES / "fruit_classifier.py").read_text()
    # The post's network, as written.
    for line in [
        "INPUT_SHAPE = [100, 100, 3]",
        "N_CLASSES = 60",
        "x0 = Input(INPUT_SHAPE)",
        "x = Conv2D(32, kernel_size=(3, 3), strides=(1, 1), padding='same', activation='relu')(x0)",
        "x = Conv2D(256, kernel_size=(3, 3), strides=(1, 1), padding='same', activation='relu')(x)",
        "x = MaxPool2D()(x)",
        "x = Flatten()(x)",
        "x = Dense(1024, activation='relu')(x)",
        "preds = Dense(N_CLASSES, activation='softmax')(x)",
        "model = Model(inputs=x0, outputs=preds)",
        "model.summary()",
    ]:
        assert line in source
    assert source.count("Conv2D(") == 11 and source.count("MaxPool2D()(x)") == 4

    out = run_example("fruit_classifier.py")
    rows = table_rows(out)
    assert [r[1] for r in rows][-4:] == ["(None, 6, 6, 256)", "(None, 9216)", "(None, 1024)", "(None, 60)"]
    assert [r[2] for r in rows] == ["0", "896", "9,248", "9,248", "0", "18,496", "36,928", "36,928", "0", "73,856", "147,584", "147,584", "0", "295,168", "590,080", "0", "0", "9,438,208", "61,500"]
    assert " Total params: 10,865,724 (41.45 MB)" in out
    assert " Non-trainable params: 0 (0.00 B)" in out
    preds = re.findall(r"image (\d): class +(\d+) +p=([0-9.]+)", out)
    assert len(preds) == 4
    assert all(0 <= int(c) < 60 and 0 < float(p) <= 1 for _, c, p in preds)


def test_mnist_cnn(run_example):
    out = run_example("mnist_cnn.py")
    rows = table_rows(out)
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("conv2d (Conv2D)", "(None, 26, 26, 8)", "72"),
        ("max_pooling2d (MaxPooling2D)", "(None, 13, 13, 8)", "0"),
        ("flatten (Flatten)", "(None, 1352)", "0"),
        ("dense (Dense)", "(None, 10)", "13,530"),
    ]
    assert " Total params: 13,602 (53.13 KB)" in out
    assert "kernel: (3, 3, 1, 8)" in out
    epochs = re.findall(r"accuracy: ([\d.]+) - loss: [\d.]+ - val_accuracy: ([\d.]+)", out)
    assert len(epochs) == 3, out
    assert float(epochs[-1][1]) > 0.8  # ten distinct patterns: learnable in 3 epochs
    reloaded = float(re.search(r"reloaded from cnn.h5: test accuracy ([\d.]+)", out).group(1))
    assert reloaded == pytest.approx(float(epochs[-1][1]), abs=0.002)


def test_conv_basics(run_example):
    out = run_example("conv_basics.py")
    assert "top-left value: 29" in out
    assert "[[  29 -192]\n [ -35  -22]]" in out
    assert "output shape: (5, 5)" in out
    assert out.count("matches numpy: True") == 2
    # Edge kernel on a linear ramp: no edges inside, zero padding lights the border.
    assert "[-50   0   0   0 250]" in out


def test_cifar_cnn(run_example):
    out = run_example("cifar_cnn.py")
    shapes = [r[1] for r in table_rows(out)]
    assert shapes == [
        "(None, 32, 32, 3)", "(None, 15, 15, 5)", "(None, 15, 15, 5)", "(None, 15, 15, 5)", "(None, 14, 14, 5)",
        "(None, 6, 6, 7)", "(None, 6, 6, 7)", "(None, 6, 6, 7)", "(None, 5, 5, 7)", "(None, 1, 1, 10)", "(None, 10)", "(None, 10)",
    ]
    assert " Total params: 2,620 (10.23 KB)" in out
    assert " Non-trainable params: 24 (96.00 B)" in out
    assert len(re.findall(r"image \d: \w+ +p=0\.\d+", out)) == 6
