"""``ProgbarLogger``: Keras 3's progress bar, drawn with ``rich``.

What it prints, for ``fit(..., epochs=3)``::

    Epoch 1/3
    1875/1875 ━━━━━━━━━━━━━━━━━━━━ 3s 2ms/step - accuracy: 0.8976 - loss: 0.3451

* verbose=1 in a terminal: the line is redrawn in place while the epoch runs
  (count, bar, ETA, time per step, the running metrics), at most every
  ``interval`` seconds (0.1 s); the finished epoch's line (elapsed time,
  time per step, final metrics with the ``val_`` ones) stays on screen.
* verbose=1 anywhere else (a log file, a pipe, a notebook, ``TERM=dumb``):
  only the finished line of each epoch is printed; no ANSI escapes, no
  carriage returns.
* verbose=2: one line per epoch, ``1875/1875 - 3s - 2ms/step - loss: ...``.
* Unknown steps (an iterable without a length): ``     12/Unknown 3s
  25ms/step - loss: ...`` while running; the first epoch's count becomes the
  target of the next ones.

Batch logs are read only when the line is redrawn: each read waits for the
device, so a fast GPU loop is synchronised about ten times a second at most,
and never in verbose 2 or non-interactive output. Numbers are formatted as
Keras does (``.4f``, or ``.4e`` for magnitudes up to 1e-3; ETA as ``Ns``,
``M:SS`` or ``H:MM:SS``; time per step in s, ms or us).

Args:
    console: (kerasish extension) a ``rich.console.Console`` to draw on;
        default: a new console on the current ``sys.stdout`` for each epoch.

Example:

    >>> model.fit(x, y, epochs=3, callbacks=[ProgbarLogger()])   # doctest: +SKIP
"""

from __future__ import annotations

import logging
import math
import time

import numpy as np
import torch

from kerasish import config
from kerasish.callbacks._utils import items_to_python, to_python
from kerasish.callbacks.callback import Callback

__all__ = ["ProgbarLogger", "Progbar"]

_BAR = "\u2501"  # ━, as Keras draws it


def _new_console():
    import rich.console

    return rich.console.Console(highlight=False, emoji=False, markup=False)


def _format_value(value, verbose2=False):
    value = to_python(value)
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        value = float(value.astype("float64").mean())  # a vector (several thresholds): Keras shows its mean
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return f"{value}"
    # Keras compares the magnitude in verbose 1 but the signed value in
    # verbose 2 (negative values print in e-notation there); kept as is.
    big = value > 1e-3 if verbose2 else abs(value) > 1e-3
    return f"{value:.4f}" if big else f"{value:.4e}"


def _format_time(time_per_unit, unit_name):
    if time_per_unit >= 1 or time_per_unit == 0:
        return f" {time_per_unit:.0f}s/{unit_name}"
    if time_per_unit >= 1e-3:
        return f" {time_per_unit * 1000.0:.0f}ms/{unit_name}"
    return f" {time_per_unit * 1000000.0:.0f}us/{unit_name}"


def _format_eta(eta):
    if eta > 3600:
        return "%d:%02d:%02d" % (eta // 3600, (eta % 3600) // 60, eta % 60)
    if eta > 60:
        return "%d:%02d" % (eta // 60, eta % 60)
    return "%ds" % eta


class Progbar:
    """One progress line (an epoch, an evaluation or a prediction).

    Args:
        target: total number of steps, or None when unknown.
        width: bar width in characters (20).
        verbose: 0 silent, 1 progress bar, 2 one line at the end.
        interval: least seconds between two redraws in a terminal (0.1).
        stateful_metrics: names shown as given; every other value is averaged
            over the steps (Keras's default for a Progbar of your own).
        stateless_metrics: the opposite: names averaged, every other shown as
            given (``set()``: all as given, what ``fit``'s progress bar uses).
            Give at most one of the two.
        unit_name: ``"step"``.
        console: the ``rich`` console to draw on (default: a new one on
            ``sys.stdout``).

    With every value shown as given, ``update(current, logs)`` is cheap when
    no redraw is due: ``logs`` (a Mapping, possibly of device tensors) is only
    remembered, and read at the next redraw. Averaged values are read at each
    update. With interactive logging off (``kerasish.config.disable_interactive_logging()``)
    the finished lines go to the ``kerasish`` logger.

    Example:
        >>> from kerasish.utils import Progbar
        >>> bar = Progbar(None, verbose=0)
        >>> for step in range(3):
        ...     bar.update(step + 1, values=[("loss", float(step))])
        >>> bar._shown("loss")  # averaged over the steps: (0 + 1 + 2) / 3 (the final update shows its own value, as Keras)
        1.0
    """

    def __init__(self, target, width=20, verbose=1, interval=0.1, stateful_metrics=None, stateless_metrics=None,
                 unit_name="step", console=None):
        if stateful_metrics is not None and stateless_metrics is not None:
            raise ValueError("Progbar: give at most one of `stateful_metrics` (names shown as given) and "
                             "`stateless_metrics` (names averaged).")
        self._stateful = None if stateful_metrics is None else set(stateful_metrics)
        self._stateless = None if stateless_metrics is None else set(stateless_metrics)
        if self._stateful is None and self._stateless is None:
            self._stateful = set()  # Keras: a Progbar of your own averages everything
        self._sums = {}
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.console = console if console is not None else _new_console()
        c = self.console
        self.dynamic = bool(c.is_terminal and not c.is_dumb_terminal and not c.is_jupyter
                            and config.is_interactive_logging_enabled())
        self._values = {}
        self._values_order = []
        self._start = time.time()
        self._last_update = 0.0
        self._time_after_first_step = None
        self._seen_so_far = 0

    # -- bookkeeping --------------------------------------------------
    def _averaged(self, key):
        return key not in self._stateful if self._stateful is not None else key in self._stateless

    def _average(self, values, current, finalize):
        """``values`` with the averaged names replaced by their running means
        (Keras weighs each update by the steps it covers)."""
        if not values or (self._stateless is not None and not self._stateless):
            return values
        out = {}
        for key in values:
            v = values[key]
            if v is None or not self._averaged(key):
                out[key] = v
                continue
            v = to_python(v)
            if isinstance(v, torch.Tensor):
                v = v.detach().cpu().numpy()
            v = float(np.mean(v))
            if finalize or key not in self._sums:
                base = 1 if finalize else max(current - self._seen_so_far, 1)
                self._sums[key] = [v * base, base]
            else:
                base = max(current - self._seen_so_far, 1)
                self._sums[key][0] += v * base
                self._sums[key][1] += base
            total, count = self._sums[key]
            out[key] = total / count
        return out

    def _shown(self, key):
        """The value the line shows for ``key`` (after the next redraw)."""
        if key in self._sums:
            total, count = self._sums[key]
            return total / count
        return self._values.get(key)

    def _absorb(self, logs, sort):
        if not logs:
            return
        keys = sorted(logs) if sort else list(logs)
        # .get: a lazy Mapping may list a name before it has a value
        items = [(k, v) for k in keys if (v := logs.get(k)) is not None]
        for key, value in items_to_python(items):
            if key not in self._values_order:
                self._values_order.append(key)
            self._values[key] = value

    def _estimate_step_duration(self, current, now):
        if not current:
            return 0
        if self._time_after_first_step is not None and current > 1:
            per_unit = (now - self._time_after_first_step) / (current - 1)
        else:
            per_unit = (now - self._start) / current
        if current == 1:
            self._time_after_first_step = now
        return per_unit

    # -- drawing ------------------------------------------------------
    def _line(self, current, now, time_per_unit, finalize):
        from rich.text import Text

        text = Text()
        if self.target is not None and self.target > 0:
            numdigits = int(math.log10(self.target)) + 1
            text.append(f"%{numdigits}d/%d" % (current, self.target), style="bold")
            text.append(" ")
            prog_width = int(self.width * float(current) / self.target)
            if prog_width > 0:
                text.append(_BAR * prog_width, style="green")
            text.append(_BAR * (self.width - prog_width), style="white")
        else:
            text.append("%7d/Unknown" % current)
        text.append(" ")
        if self.target is not None and self.target > 0 and not finalize:
            text.append(_format_eta(time_per_unit * (self.target - current)), style="bold")
        else:
            text.append(f"{now - self._start:.0f}s", style="bold")
        info = _format_time(time_per_unit, self.unit_name)
        for key in self._values_order:
            info += f" - {key}: {_format_value(self._values[key])}"
        text.append(info)
        return text

    def _line_verbose2(self, current, now, time_per_unit):
        numdigits = int(math.log10(self.target)) + 1
        info = f"%{numdigits}d/%d" % (current, self.target)
        info += f" - {now - self._start:.0f}s -{_format_time(time_per_unit, self.unit_name)}"
        for key in self._values_order:
            info += f" - {key}: {_format_value(self._values[key], verbose2=True)}"
        return info

    def _write(self, text, live):
        from rich.control import Control
        from rich.segment import ControlType

        c = self.console
        if not config.is_interactive_logging_enabled():
            if not live:
                logging.getLogger("kerasish").info(text.plain if hasattr(text, "plain") else str(text))
            return
        if self.dynamic:
            if live:
                text = text.copy()
                text.truncate(max(c.width - 1, 1))
            with c:
                c.control(Control(ControlType.CARRIAGE_RETURN))
                c.print(text, end="", soft_wrap=True)
                c.control(Control((ControlType.ERASE_IN_LINE, 0)))
                if not live:
                    c.print("", soft_wrap=True)
        else:
            c.print(text, soft_wrap=True)

    def update(self, current, values=None, finalize=None):
        """Record progress at step ``current`` (1-based) and redraw if due.

        Args:
            current: steps done.
            values: the logs: a Mapping (or list of pairs) of name -> value.
            finalize: last update of this line (default: ``current >= target``).
        """
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        values = self._average(dict(values) if isinstance(values, (list, tuple)) else values, current, finalize)
        self._seen_so_far = current
        now = time.time()
        if self.verbose == 1:
            if not finalize:
                # Step timing needs the time of step 1; the values are only
                # read when a redraw is due (the read syncs with the device).
                due = self.dynamic and now - self._last_update >= self.interval
                time_per_unit = self._estimate_step_duration(current, now) if (due or current == 1) else 0
                if not due:
                    return
                self._absorb(dict(values) if isinstance(values, (list, tuple)) else values, sort=True)
                self._write(self._line(current, now, time_per_unit, False), live=True)
                self._last_update = now
                return
            self._absorb(dict(values) if isinstance(values, (list, tuple)) else values, sort=False)
            time_per_unit = self._estimate_step_duration(current, now)
            self._write(self._line(current, now, time_per_unit, True), live=False)
        elif self.verbose == 2:
            if not finalize:
                return
            self._absorb(dict(values) if isinstance(values, (list, tuple)) else values, sort=False)
            time_per_unit = self._estimate_step_duration(current, now)
            if self.target is not None and self.target > 0:
                from rich.text import Text

                line = self._line_verbose2(current, now, time_per_unit)
                if config.is_interactive_logging_enabled():
                    self.console.print(Text(line), soft_wrap=True)
                else:
                    logging.getLogger("kerasish").info(line)
        self._last_update = now


    def add(self, n, values=None):
        """``update(steps so far + n, values)``."""
        self.update(self._seen_so_far + n, values)


class ProgbarLogger(Callback):
    """Callback that prints the progress bar and metrics (see module doc).

    ``fit`` adds one unless ``verbose=0``; inside ``fit`` the validation
    pass is silent (its results show on the epoch's final line).
    """

    _chief_only = True  # data-parallel: only rank 0 prints / writes

    def __init__(self, console=None):
        super().__init__()
        self.seen = 0
        self.progbar = None
        self.target = None
        self.verbose = 1
        self.epochs = 1
        self.console = console
        self._called_in_fit = False

    def set_params(self, params):
        params = params or {}
        verbose = params.get("verbose", 1)
        if verbose == "auto":
            verbose = 1
        self.verbose = verbose
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def _console(self):
        return self.console if self.console is not None else _new_console()

    def on_train_begin(self, logs=None):
        # Inside fit, validation is silent.
        self._called_in_fit = True

    def on_train_end(self, logs=None):
        self._called_in_fit = False

    def on_test_begin(self, logs=None):
        if not self._called_in_fit:
            self._reset_progbar()
            self._maybe_init_progbar()

    def on_predict_begin(self, logs=None):
        self._reset_progbar()
        self._maybe_init_progbar()

    def on_epoch_begin(self, epoch, logs=None):
        self._reset_progbar()
        self._maybe_init_progbar()
        if self.verbose and self.epochs > 1:
            from rich.text import Text

            if config.is_interactive_logging_enabled():
                self.progbar.console.print(Text(f"Epoch {epoch + 1}/{self.epochs}"), soft_wrap=True)
            else:
                logging.getLogger("kerasish").info(f"Epoch {epoch + 1}/{self.epochs}")

    def on_train_batch_end(self, batch, logs=None):
        self._update_progbar(batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        if not self._called_in_fit:
            self._update_progbar(batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._update_progbar(batch, None)  # prediction outputs are not shown

    def on_epoch_end(self, epoch, logs=None):
        self._finalize_progbar(logs)

    def on_test_end(self, logs=None):
        if not self._called_in_fit:
            self._finalize_progbar(logs)

    def on_predict_end(self, logs=None):
        self._finalize_progbar(logs)

    def _reset_progbar(self):
        self.seen = 0
        self.progbar = None

    def _maybe_init_progbar(self):
        if self.progbar is None:
            # fit's logs already hold running means: shown as given, as Keras's ProgbarLogger does.
            self.progbar = Progbar(target=self.target, verbose=self.verbose, stateless_metrics=set(), unit_name="step",
                                   console=self._console())

    def _update_progbar(self, batch, logs=None):
        self._maybe_init_progbar()
        self.seen = batch + 1  # one-based
        if self.verbose == 1:
            self.progbar.update(self.seen, logs, finalize=False)

    def _finalize_progbar(self, logs):
        self._maybe_init_progbar()
        if self.target is None:
            self.target = self.seen
            self.progbar.target = self.target
        self.progbar.update(self.target, logs or {}, finalize=True)
