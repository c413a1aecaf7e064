"""The docstring examples of every kerasish module run as doctests.

One test per module that has examples, so ``pytest`` from the repository root
runs them with the rest of the suite (and ``-k doctest`` runs only them). An
example that cannot run offline or in the test's time is marked
``# doctest: +SKIP`` in its docstring, with the reason beside it.
"""

import doctest
import importlib
import pkgutil

import numpy as np
import pytest

import kerasish

# Entry points run their command when imported; they have no examples.
NOT_IMPORTED = {"kerasish.__main__"}
OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _module_names():
    names = ["kerasish"]
    for info in pkgutil.walk_packages(kerasish.__path__, prefix="kerasish."):
        if info.name not in NOT_IMPORTED:
            names.append(info.name)
    return sorted(names)


def _modules_with_examples():
    found = []
    finder = doctest.DocTestFinder(exclude_empty=True)
    for name in _module_names():
        module = importlib.import_module(name)
        tests = [t for t in finder.find(module, name) if t.examples and _defined_in(t, module)]
        if tests:
            found.append(pytest.param(name, id=name))
    return found


def _defined_in(test, module):
    # A name re-exported by a package would run its module's examples twice.
    return test.filename is None or test.filename == getattr(module, "__file__", None)


MODULES = _modules_with_examples()


def test_the_package_has_examples():
    assert len(MODULES) >= 20, [m.values[0] for m in MODULES]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that save a file write it here
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    failures = []
    state = np.random.get_state()
    try:
        for test in finder.find(module, name):
            if test.examples and _defined_in(test, module):
                runner.run(test, out=failures.append)  # out receives the failure reports
    finally:
        np.random.set_state(state)
    assert not failures, "".join(failures)
