"""keras.utils's small names: Progbar (as a utility), Config, get_source_inputs, is_keras_tensor,
standardize_dtype, clear_session and interactive logging."""

import logging

import numpy as np
import pytest

import kerasish
from kerasish import utils


@pytest.mark.parametrize("target,kwargs", [(None, {}), (5, {}), (None, {"stateful_metrics": ["acc"]}),
                                           (None, {"stateless_metrics": ["loss"]}), (None, {"stateless_metrics": []})])
def test_progbar_averages_as_keras(keras, target, kwargs):
    # verbose=1 on a non-terminal draws only finished lines; the values shown are compared with Keras's.
    ours = utils.Progbar(target, verbose=0, **kwargs)
    theirs = keras.utils.Progbar(target, verbose=0, **kwargs)
    for current, loss, acc in [(1, 0.5, 0.1), (3, 1.5, 0.2), (4, 2.0, 0.4)]:
        values = [("loss", loss), ("acc", acc)]
        ours.update(current, values=values)
        theirs.update(current, values=values)
        for key, last in (("loss", loss), ("acc", acc)):
            total, count = theirs._values[key]
            averaged = key in ours._sums
            assert (ours._shown(key) if averaged else last) == pytest.approx(total / count), (key, current)


def test_progbar_rejects_both_lists():
    with pytest.raises(ValueError, match="Progbar: give at most one"):
        utils.Progbar(3, stateful_metrics=["a"], stateless_metrics=["b"])


class _Lines(logging.Handler):
    def __init__(self):
        super().__init__(logging.INFO)
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def test_interactive_logging_sends_lines_to_the_logger(capsys):
    model = kerasish.Sequential([kerasish.Input((2,)), kerasish.layers.Dense(1)])
    model.compile("sgd", "mse")
    assert utils.is_interactive_logging_enabled()
    logger, handler = logging.getLogger("kerasish"), _Lines()
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    utils.disable_interactive_logging()
    try:
        model.fit(np.ones((4, 2), "float32"), np.ones((4, 1), "float32"), epochs=2, verbose=1)
    finally:
        utils.enable_interactive_logging()
        logger.removeHandler(handler)
        logger.setLevel(level)
    lines = handler.lines
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    assert lines[1].startswith("1/1") and "loss:" in lines[1]
    assert "loss:" not in capsys.readouterr().out
    assert kerasish.config.is_interactive_logging_enabled()


def test_config():
    config = utils.Config(learning_rate=0.1)
    config.momentum = 0.9
    config["seed"] = 3
    assert (config.learning_rate, config["momentum"], config.seed) == (0.1, 0.9, 3)
    assert list(config) == ["learning_rate", "momentum", "seed"] and len(config) == 3
    assert config.to_json() == '{"learning_rate": 0.1, "momentum": 0.9, "seed": 3}'
    with pytest.raises(AttributeError, match="Did you mean 'momentum'"):
        config.momentun
    config.freeze()
    assert config.frozen
    for change in (lambda: setattr(config, "x", 1), lambda: config.update(x=1), lambda: config.pop("seed")):
        with pytest.raises(ValueError, match="frozen"):
            change()
    config.unfreeze()
    config.x = 1
    assert config.as_dict()["x"] == 1


def test_get_source_inputs_and_is_keras_tensor(keras):
    a, b = kerasish.Input((3,)), kerasish.Input((3,))
    c = kerasish.layers.Dense(2)(kerasish.layers.Concatenate()([a, kerasish.layers.Dense(3)(b)]))
    assert utils.get_source_inputs(c) == [a, b]
    assert utils.get_source_inputs(a) == [a]
    assert utils.is_keras_tensor(c) and not utils.is_keras_tensor(np.ones(2))
    x = np.ones(2)
    assert utils.get_source_inputs(x) is x
    for dtype in ("float32", np.int64, np.dtype("int8"), "bfloat16", bool, float, int, None):
        assert utils.standardize_dtype(dtype) == keras.utils.standardize_dtype(dtype)


def test_clear_session_resets_names():
    kerasish.layers.Dense(1)
    utils.clear_session()
    assert kerasish.layers.Dense(1).name == "dense"
