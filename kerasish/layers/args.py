"""Argument checks shared by the layers: every bad value is refused when the
layer is made, with an error naming the layer class, the argument and the value."""

from __future__ import annotations

import math


def normalize_tuple(value, n: int, arg: str, layer: str, allow_zero: bool = False) -> tuple:
    """``3`` -> ``(3, 3)``; checks ``n`` positive ints (non-negative if ``allow_zero``)."""
    if isinstance(value, bool):
        raise ValueError(f"{layer}: `{arg}` must be an int or a tuple of {n} ints, got {value!r}")
    if isinstance(value, int):
        out = (value,) * n
    else:
        try:
            out = tuple(value)
        except TypeError:
            raise ValueError(f"{layer}: `{arg}` must be an int or a tuple of {n} ints, got {value!r}") from None
        if len(out) != n:
            raise ValueError(f"{layer}: `{arg}` must be an int or a tuple of {n} ints, got {value!r}")
    for v in out:
        if isinstance(v, bool) or not isinstance(v, int) or v < 0 or (v == 0 and not allow_zero):
            kind = "non-negative" if allow_zero else "positive"
            raise ValueError(f"{layer}: `{arg}` must contain {kind} ints, got {value!r}")
    return tuple(int(v) for v in out)


def normalize_padding(value, layer: str, allowed=("valid", "same")) -> str:
    if not isinstance(value, str) or value.lower() not in allowed:
        raise ValueError(f"{layer}: `padding` must be one of {list(allowed)}, got {value!r}")
    return value.lower()


def normalize_data_format(value, layer: str) -> str:
    if value is None:
        return "channels_last"
    if not isinstance(value, str) or value.lower() not in ("channels_last", "channels_first"):
        raise ValueError(f"{layer}: `data_format` must be 'channels_last' or 'channels_first', got {value!r}")
    return value.lower()


def positive_int(value, arg: str, layer: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        try:
            if float(value) == int(value) and int(value) > 0 and not isinstance(value, bool):
                return int(value)
        except (TypeError, ValueError):
            pass
        raise ValueError(f"{layer}: received an invalid value for `{arg}`, expected a positive integer. Received: {arg}={value!r}")
    return value


def rate(value, arg: str, layer: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{layer}: `{arg}` must be a float in [0, 1), got {value!r}") from None
    if not 0 <= v < 1 or isinstance(value, bool):
        raise ValueError(f"{layer}: `{arg}` must be a float in [0, 1), got {value!r}")
    return v


def same_padding(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow's 'same' rule: pad so out = ceil(size / stride), the odd pixel
    going to the end (bottom / right)."""
    effective = (kernel - 1) * dilation + 1
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


def conv_output_length(size, kernel, stride, padding, dilation=1):
    """Output length of a conv/pool along one axis (None stays None)."""
    if size is None:
        return None
    effective = (kernel - 1) * dilation + 1
    if padding == "same":
        return math.ceil(size / stride)
    return (size - effective) // stride + 1


def deconv_output_length(size, kernel, stride, padding, output_padding=None, dilation=1):
    """Output length of a transposed convolution along one axis (Keras's rule)."""
    if size is None:
        return None
    kernel = (kernel - 1) * dilation + 1
    if output_padding is None:
        if padding == "valid":
            return size * stride + max(kernel - stride, 0)
        return size * stride
    pad = 0 if padding == "valid" else kernel // 2
    return (size - 1) * stride + kernel - 2 * pad + output_padding
