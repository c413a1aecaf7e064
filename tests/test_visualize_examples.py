"""The examples/visualize_*.py scripts write their pictures (into a folder given
on the command line, so the tests never touch docs/images)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # four example scripts in fresh interpreters

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SCRIPTS = sorted(p.name for p in EXAMPLES.glob("visualize_*.py"))


def test_visualize_examples_write_pngs(tmp_path):
    assert len(SCRIPTS) == 4
    env = dict(os.environ, PYTHONWARNINGS="ignore", MPLBACKEND="Agg")
    procs = {name: subprocess.Popen([sys.executable, str(EXAMPLES / name), str(tmp_path / name)], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True, env=env) for name in SCRIPTS}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, f"{name}:\n{out}\n{err}"
        pngs = list((tmp_path / name).glob("*.png"))
        assert pngs and all(p.stat().st_size > 5000 for p in pngs), name
