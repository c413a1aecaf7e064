"""The package as a user meets it: every public subpackage is an attribute of ``kerasish``."""

import importlib
import pkgutil
import subprocess
import sys

import pytest

import kerasish

PRIVATE = {"cli", "engine"}  # the command line and the shared machinery: not Keras API


def test_every_public_subpackage_is_an_attribute_after_import():
    names = [m.name for m in pkgutil.iter_modules(kerasish.__path__) if m.ispkg and m.name not in PRIVATE]
    assert {"layers", "models", "trainers", "visualization"} <= set(names)
    for name in names:
        assert getattr(kerasish, name) is importlib.import_module(f"kerasish.{name}"), name
        assert name in dir(kerasish)
    with pytest.raises(AttributeError, match="nope"):
        kerasish.nope


def test_import_does_not_pull_optional_dependencies():
    code = "import sys, kerasish; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
