"""Small helpers shared by the callbacks: printing messages the way Keras
does (``io_utils.print_msg``) and turning epoch logs into plain Python values.

Batch logs are never converted here: the trainer passes them as a lazy
``Mapping`` of 0-d torch tensors, and reading a value forces a host-device
sync, so each callback converts only the values it needs, when it needs them.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping

import numpy as np
import torch

from kerasish.distribution import is_chief


def print_msg(message, line_break=True):
    """Write ``message`` to the current ``sys.stdout`` and flush (as Keras's
    ``io_utils.print_msg``)."""
    if not is_chief():
        return  # data-parallel: one message, from rank 0
    message = str(message)
    if line_break:
        message += "\n"
    stream = sys.stdout
    try:
        stream.write(message)
    except UnicodeEncodeError:
        encoding = getattr(stream, "encoding", None) or "utf-8"
        stream.write(message.encode(encoding, errors="ignore").decode(encoding))
    stream.flush()


def to_python(value):
    """A log value as a Python float where it is a number (a scalar tensor,
    numpy scalar or 0-d array, int, float); anything else unchanged."""
    if isinstance(value, (bool, str)) or value is None:
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            return value
        return float(value.detach())
    if isinstance(value, (int, np.integer, np.floating)):
        return float(value)
    if isinstance(value, np.ndarray) and value.size == 1:
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


def items_to_python(items):
    """``[(key, value)]`` with every value made plain Python (``to_python``);
    the scalar tensors are copied to the host together, one transfer per
    device and dtype, so reading a whole set of logs waits for the device
    once, not once per value."""
    items = list(items)
    groups = {}
    for i, (_, value) in enumerate(items):
        if isinstance(value, torch.Tensor) and value.numel() == 1 and value.dtype is not torch.bool:
            groups.setdefault((value.device, value.dtype), []).append(i)
    values = [None] * len(items)
    for indices in groups.values():
        if len(indices) == 1:
            values[indices[0]] = float(items[indices[0]][1].detach())
            continue
        stacked = torch.stack([items[i][1].detach().reshape(()) for i in indices])
        for i, v in zip(indices, stacked.cpu().tolist()):
            values[i] = float(v)
    grouped = {i for indices in groups.values() for i in indices}
    return [(key, values[i] if i in grouped else to_python(value)) for i, (key, value) in enumerate(items)]


def pythonify_logs(logs):
    """Keras's ``pythonify_logs``: a new dict with the keys sorted, nested
    dicts flattened into it and number-like values made Python floats."""
    if not logs:
        return {}
    result = {}
    flat = []
    for key in sorted(logs.keys()):
        value = logs[key]
        if isinstance(value, Mapping):
            flat.extend(pythonify_logs(value).items())
        else:
            flat.append((key, value))
    for key, value in items_to_python(flat):
        result[key] = value
    return result


def is_nan_or_inf(value) -> bool:
    value = to_python(value)
    try:
        return math.isnan(value) or math.isinf(value)
    except TypeError:
        return bool(np.any(~np.isfinite(np.asarray(value, dtype="float64"))))
