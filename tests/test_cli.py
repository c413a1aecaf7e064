"""The kerasish command: demo, predict, summary, finetune, and its errors."""

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # each test starts fresh interpreters


def run(*args, cwd=None, timeout=400):
    env = dict(os.environ, COLUMNS="100", PYTHONWARNINGS="ignore")
    return subprocess.run([sys.executable, "-m", "kerasish", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout)


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    proc = run("demo", "--out", str(out), "--epochs", "2", "--per-class", "24", "--image-size", "32")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out, proc.stdout


def test_demo_runs_the_whole_workflow(demo_dir):
    out, stdout = demo_dir
    for text in ("Found 96 files belonging to 4 classes.", "Using 77 files for training.", "Total params:", "Epoch 2/2",
                 "Saved the trained model", "Fine-tuned validation accuracy", "grape", "plum"):
        assert text in stdout, text
    assert (out / "fruit_classifier.keras").exists() and (out / "fine_tuned.keras").exists()
    assert len(os.listdir(out / "fruits" / "apple")) == 24
    assert "\x1b" not in stdout  # plain text into a pipe


def test_predict_and_summary_on_the_demo_model(demo_dir):
    out, _ = demo_dir
    model = str(out / "fine_tuned.keras")
    proc = run("predict", model, str(out / "more_fruits" / "grape"), "--top-k", "2")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 24 and all(line.count(":") >= 3 for line in lines)
    assert any(name in lines[0] for name in ("apple", "grape", "orange", "plum"))
    proc = run("summary", model)
    assert proc.returncode == 0 and "Total params" in proc.stdout and "Classes: apple, grape, orange, plum" in proc.stdout


def test_errors_are_short_and_name_the_culprit(tmp_path):
    proc = run("predict", str(tmp_path / "missing.keras"), "x.jpg")
    assert proc.returncode == 1 and "missing.keras" in proc.stderr and "Traceback" not in proc.stderr
    proc = run("summary", str(tmp_path))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    proc = run()
    assert proc.returncode == 2 and "demo" in proc.stdout


def test_finetune_command_runs_the_recipe(demo_dir, tmp_path):
    out, _ = demo_dir
    target = tmp_path / "ft.keras"
    proc = run("finetune", str(out / "more_fruits"), "--arch", "MobileNetV2", "--weights", "none", "--image-size", "32",
               "--epochs", "1", "--fine-tune-epochs", "1", "--batch-size", "16", "--out", str(target))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert target.exists() and "Validation accuracy per class" in proc.stdout
    proc = run("finetune", str(out / "more_fruits"), "--arch", "NoSuchNet", "--weights", "none")
    assert proc.returncode == 1 and "NoSuchNet" in proc.stderr
