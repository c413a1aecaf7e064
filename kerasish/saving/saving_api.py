"""Which file format a path means, and the public save / load entry points.

| path                         | save_model              | save_weights            |
|------------------------------|-------------------------|-------------------------|
| ``*.keras``                  | Keras 3 zip             | -                       |
| ``*.weights.h5``             | -                       | Keras 3 weights layout  |
| ``*.h5`` / ``*.hdf5``        | Keras 2 (legacy) HDF5   | Keras 2 (legacy) layout |

Loading sniffs the file's content too, so a Keras 3 weights file named
``x.h5`` and a Keras 2 one both load through ``load_weights``.
"""

from __future__ import annotations

import os
import zipfile

from . import keras_format, legacy_h5, weights_h5

_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def _path(filepath) -> str:
    if isinstance(filepath, os.PathLike):
        filepath = os.fspath(filepath)
    if not isinstance(filepath, str):
        raise TypeError(f"Expected a file path (str or os.PathLike), got {type(filepath).__name__}: {filepath!r:.80}")
    return filepath


def _check_readable(filepath: str) -> None:
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"No such file: '{filepath}'")
    if os.path.isdir(filepath):
        raise IsADirectoryError(f"Expected a file, but '{filepath}' is a directory")


def _check_writable(filepath: str, overwrite: bool) -> None:
    if os.path.exists(filepath) and not overwrite:
        raise FileExistsError(f"'{filepath}' exists and overwrite=False")
    parent = os.path.dirname(os.path.abspath(filepath))
    if not os.path.isdir(parent):
        raise FileNotFoundError(f"Cannot write '{filepath}': the folder '{parent}' does not exist")


def sniff(filepath: str) -> str:
    """``"zip"``, ``"hdf5"`` or ``"unknown"`` from the file's first bytes."""
    with open(filepath, "rb") as f:
        head = f.read(8)
    if head == _HDF5_MAGIC:
        return "hdf5"
    if head[:4] == b"PK\x03\x04" or zipfile.is_zipfile(filepath):
        return "zip"
    return "unknown"


def is_h5_name(filepath: str) -> bool:
    return filepath.endswith((".h5", ".hdf5"))


def save_model(model, filepath, overwrite: bool = True, **kwargs) -> None:
    """Save a whole model: ``.keras`` (Keras 3) or ``.h5`` (Keras 2 layout)."""
    filepath = _path(filepath)
    if filepath.endswith(".keras"):
        _check_writable(filepath, overwrite)
        keras_format.save_model(model, filepath)
    elif is_h5_name(filepath) and not filepath.endswith(".weights.h5"):
        _check_writable(filepath, overwrite)
        legacy_h5.save_model(model, filepath)
    else:
        raise ValueError(
            f"Invalid filepath extension for saving '{filepath}': use '.keras' (Keras 3's format) or '.h5' "
            "(the Keras 2 HDF5 format). For weights only, use `save_weights('....weights.h5')`."
        )


def load_model(filepath, custom_objects=None, compile: bool = True, safe_mode: bool = True):
    """Load a model saved by kerasish, Keras 3 (``.keras``) or Keras 2 (``.h5``)."""
    filepath = _path(filepath)
    _check_readable(filepath)
    kind = sniff(filepath)
    if kind == "zip":
        return keras_format.load_model(filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode)
    if kind == "hdf5":
        return legacy_h5.load_model(filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode)
    raise ValueError(
        f"'{filepath}' is not a model file kerasish can read: expected a .keras zip archive or an HDF5 (.h5) file."
    )


def save_weights(model, filepath, overwrite: bool = True) -> None:
    """Save the weights: ``.weights.h5`` (Keras 3 layout) or ``.h5`` (Keras 2 layout,
    which Keras 2 scripts write as ``model.save_weights('cnn.h5')``)."""
    filepath = _path(filepath)
    _check_writable(filepath, overwrite)
    if filepath.endswith(".weights.h5"):
        weights_h5.save_weights(model, filepath)
    elif is_h5_name(filepath):
        legacy_h5.save_weights(model, filepath)
    else:
        raise ValueError(
            f"Invalid filepath extension for saving weights '{filepath}': use '.weights.h5' (Keras 3) or '.h5' (Keras 2)."
        )


def load_weights(model, filepath, skip_mismatch: bool = False, by_name: bool = False, **kwargs) -> None:
    """Load weights from ``.weights.h5``, ``.h5`` (either layout) or a ``.keras`` file.

    A failed load leaves the model's weights untouched.
    """
    filepath = _path(filepath)
    _check_readable(filepath)
    kind = sniff(filepath)
    if kind == "zip":
        return keras_format.load_weights_from_archive(model, filepath, skip_mismatch=skip_mismatch)
    if kind != "hdf5":
        raise ValueError(f"'{filepath}' is not a weights file: expected HDF5 (.weights.h5 / .h5) or a .keras archive.")
    if weights_h5.is_keras3_layout(filepath):
        if by_name:
            raise ValueError(f"`by_name=True` applies to Keras 2 (legacy) .h5 weights; '{filepath}' is in Keras 3's layout.")
        return weights_h5.load_weights(model, filepath, skip_mismatch=skip_mismatch)
    return legacy_h5.load_weights(model, filepath, skip_mismatch=skip_mismatch, by_name=by_name)
