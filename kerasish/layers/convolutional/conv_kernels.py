"""Where a convolution writes its output, in kerasish's CPU inference loops.

A convolution allocates its output on every call. The first layers of an
image network have large outputs (the fruit network's first three: 32 x 32 x
100 x 100 floats, 41 MB per batch of 32), and glibc hands blocks that large
back to the operating system when they are freed, so each batch page-faults
them in again as fresh zeroed memory. In ``predict`` and ``evaluate`` such an
output is instead written into a buffer the loop keeps from batch to batch
(``kerasish/engine/workspace.py``): oneDNN's in-place convolution, which adds
the convolution to the buffer it is given, run on a zeroed buffer. The values
are those of ``F.conv2d`` (the same oneDNN convolution; adding zero changes no
value, NaN and infinities included), and the fruit network's ``predict`` no
longer page-faults at all.

Small outputs keep torch's allocation: the allocator reuses their memory
anyway, and zeroing a buffer would be extra work.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from kerasish import backend_compat
from kerasish.engine import layout

# glibc's largest dynamic mmap threshold: blocks above it go back to the OS when freed.
LARGE_OUTPUT_BYTES = 32 * 2**20

# oneDNN's in-place "conv + add" (private: torch.ops.mkldnn._convolution_pointwise_.binary),
# None where this torch lacks it: then ``into_applies`` says no and the layer runs F.conv2d.
# The gate and its reason are in kerasish/backend_compat.py.
_conv_add_inplace = backend_compat.conv_add_inplace


def output_shape(x: Tensor, conv: nn.Conv2d) -> tuple:
    """NCHW shape of ``conv(x)`` (the module's own symmetric padding)."""
    size = [
        (s + 2 * p - d * (k - 1) - 1) // st + 1
        for s, p, d, k, st in zip(x.shape[2:], conv.padding, conv.dilation, conv.kernel_size, conv.stride)
    ]
    return (x.shape[0], conv.out_channels, *size)


def into_applies(x: Tensor, conv: nn.Conv2d) -> bool:
    """Whether ``conv(x)`` may be written into a reused buffer.

    Inference (no autograd, no autocast) on a CPU in float32 channels_last
    memory, where torch itself would run oneDNN, outside torch.compile /
    tracing / export, for an output of at least ``LARGE_OUTPUT_BYTES``, and a
    batch of two or more: for a single image ``F.conv2d`` takes another oneDNN
    route, whose sums differ in the last bits. The caller has checked that the
    padding is the module's own.
    """
    # the output's size (about: padding aside) first, the usual reason to say no
    return (x.shape[0] * conv.out_channels * x.shape[2] * x.shape[3] * 4 // (conv.stride[0] * conv.stride[1]) >= LARGE_OUTPUT_BYTES
            and _conv_add_inplace is not None and x.shape[0] > 1 and x.device.type == "cpu" and x.dtype == torch.float32
            and conv.weight.dtype == torch.float32 and not torch.is_grad_enabled()
            and not backend_compat.cpu_autocast_enabled() and torch.backends.mkldnn.is_available()
            and torch.backends.mkldnn.enabled and isinstance(conv.padding, tuple) and conv.padding_mode == "zeros"
            and layout.is_channels_last(x) and not torch.compiler.is_compiling() and not torch.jit.is_tracing())


def conv2d_into(buffer: Tensor, x: Tensor, conv: nn.Conv2d) -> Tensor:
    """``conv(x)`` written into ``buffer`` (channels_last, of the output's shape); returns it."""
    buffer.zero_()
    return _conv_add_inplace(buffer, x, conv.weight, conv.bias, list(conv.padding), list(conv.stride), list(conv.dilation),
                             conv.groups, "add", 1.0, None, [], None)
