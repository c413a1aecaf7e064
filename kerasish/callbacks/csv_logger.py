"""``CSVLogger``: stream each epoch's logs to a CSV file, in Keras's format.

Args:
    filename: the CSV file, e.g. ``"run/log.csv"``.
    separator: the field separator (``","``).
    append: add to an existing file (no second header) instead of
        overwriting it.

The columns are ``epoch`` (0-based) then the log keys sorted; when the first
epoch has no ``val_`` keys, ``val_`` twins of every key are added (filled with
``NA``), exactly as Keras does. Lines end in ``\\r\\n`` (the csv module's
default dialect).

Overwriting (``append=False``) replaces an existing file only once the new
log has its first row: the rows go to a hidden temporary file beside it
(``.<name>.<pid>.partial``), which is flushed, fsynced and renamed over the
old log at the first epoch's end, and then grows in place. A run that fails
or is killed before finishing an epoch leaves the old log as it was.

Example:

    >>> csv_logger = CSVLogger("training.log")
    >>> # model.fit(x, y, callbacks=[csv_logger])
"""

from __future__ import annotations

import collections
import collections.abc
import csv
import os

import numpy as np

from kerasish.callbacks.callback import Callback

__all__ = ["CSVLogger"]


class CSVLogger(Callback):
    """Callback that streams epoch results to a CSV file (see module doc)."""

    _chief_only = True  # data-parallel: only rank 0 prints / writes

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        if not isinstance(separator, str) or len(separator) != 1:
            raise ValueError(f"`separator` must be a one-character string. Received: separator={separator!r}")
        self.sep = separator
        self.filename = os.fspath(filename)
        self.append = append
        self.writer = None
        self.keys = None
        self.append_header = True
        self.csv_file = None
        self._pending = None  # the temporary file of a rewrite, until its first row

    def on_train_begin(self, logs=None):
        if self.append:
            if os.path.exists(self.filename):
                with open(self.filename, "r", newline="") as f:
                    self.append_header = not bool(len(f.readline()))
            mode = "a"
        else:
            mode = "w"
        if self.csv_file and not self.csv_file.closed:
            self.csv_file.close()
        self._discard_pending()
        if mode == "w":
            folder, name = os.path.split(self.filename)
            self._pending = os.path.join(folder, f".{name}.{os.getpid()}.partial")
            self.csv_file = open(self._pending, "w", newline="")
        else:
            self.csv_file = open(self.filename, mode, newline="")
        self.writer = None
        self.keys = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}

        def handle_value(k):
            is_zero_dim_ndarray = isinstance(k, np.ndarray) and k.ndim == 0
            if isinstance(k, str):
                return k
            if isinstance(k, collections.abc.Iterable) and not is_zero_dim_ndarray:
                return f'"[{", ".join(map(str, k))}]"'
            return k

        if self.keys is None:
            self.keys = sorted(logs.keys())
            if not any(key.startswith("val_") for key in self.keys) and self.keys:
                self.keys.extend([f"val_{k}" for k in self.keys])

        if not self.writer:
            sep = self.sep

            class CustomDialect(csv.excel):
                delimiter = sep

            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch"] + (self.keys or []), dialect=CustomDialect)
            if self.append_header:
                self.writer.writeheader()

        row = collections.OrderedDict({"epoch": epoch})
        row.update((key, handle_value(logs.get(key, "NA"))) for key in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()
        self._commit_pending()

    def _commit_pending(self):
        """Rename the rewrite's file over the old log (the open file follows)."""
        if self._pending is None:
            return
        os.fsync(self.csv_file.fileno())
        os.replace(self._pending, self.filename)
        self._pending = None

    def _discard_pending(self):
        if self._pending is not None and os.path.exists(self._pending):
            os.remove(self._pending)
        self._pending = None

    def on_train_end(self, logs=None):
        if self.csv_file and not self.csv_file.closed:
            # A fit that ran no epoch still replaces the old log, as Keras's truncation does.
            self.csv_file.flush()
            self._commit_pending()
            self.csv_file.close()
        self.writer = None
