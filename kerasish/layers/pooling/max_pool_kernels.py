"""Which kernel runs a max pool, where torch's default is not the fastest.

MaxPooling2D normally runs ``nn.MaxPool2d``. Two situations get another
kernel with the same results:

- **Inference on a CPU** (predict, evaluate, a call under ``no_grad``) of the
  default 2x2 window with stride 2: ``halving_max_pool``, two element-wise
  maxima over views, 1.5x to 3x faster than ``max_pool2d`` in channels_last
  memory, bit for bit the same values.
- **Training under torch.compile on a CPU** (``jit_compile=True``):
  ``opaque_max_pool``, torch's own pooling kernels wrapped as a custom op so
  that inductor calls them instead of generating its own pooling-with-indices
  loops, which on a CPU are several times slower than torch's (they made a
  compiled fruit-network step slower than an eager one). The op needs
  ``torch.library.custom_op`` (torch >= 2.4); older torch compiles
  ``F.max_pool2d``.

Neither applies when exporting (``torch.export``, ONNX) or tracing: exported
graphs keep the ``max_pool2d`` op their readers expect.
"""

from __future__ import annotations

import torch
from torch import Tensor

from kerasish import backend_compat
from kerasish.engine import layout


def halving_applies(x: Tensor, padding: str) -> bool:
    """Whether ``halving_max_pool`` may replace a 2x2 / stride 2 max pool of ``x``."""
    # Nothing to pad ('same' pads odd sizes), inference on a CPU, channels_last
    # memory, outside torch.compile / tracing.
    return ((padding == "valid" or (x.shape[2] % 2 == 0 and x.shape[3] % 2 == 0)) and x.device.type == "cpu"
            and not (x.requires_grad and torch.is_grad_enabled()) and x.is_floating_point()
            and layout.is_channels_last(x) and not torch.compiler.is_compiling() and not torch.jit.is_tracing())


def halving_max_pool(x: Tensor) -> Tensor:
    """2x2 max pooling with stride 2 of a channels_last NCHW tensor, as two
    element-wise maxima over strided views (rows, then columns).

    The same values as ``F.max_pool2d(x, 2)`` bit for bit (NaN included), and
    1.5x to 3x faster on a CPU in channels_last memory, where a pair of rows (or
    of pixels) is one contiguous block: the MNIST network's prediction spends
    a quarter of its time here. Only for inference: ``max_pool2d``'s gradient
    goes to one element of a tied window (after a ReLU ties are common), the
    maximum's is split between them.

    The views are made with ``as_strided`` from the NHWC strides that dense
    channels_last memory has (``halving_applies`` checked it): four view ops
    in all, where permute / reshape / slice took eight, and at batch 32 on the
    MNIST network each op's dispatch is a tenth of the pooling's time.
    """
    n, c, h, w = x.shape
    h2, w2 = h // 2, w // 2
    row, image, base = w * c, h * w * c, x.storage_offset()
    # rows 0, 2, 4, ... against rows 1, 3, 5, ...; an odd last row is left out
    pairs = (n, h2, row), (image, 2 * row, 1)
    y = torch.maximum(x.as_strided(*pairs, base), x.as_strided(*pairs, base + row))  # (n, h2, w * c), dense
    # then pixels 0, 2, 4, ... of each row against pixels 1, 3, 5, ...
    pixels = (n, h2, w2, c), (h2 * row, row, 2 * c, 1)
    return torch.maximum(y.as_strided(*pixels, 0), y.as_strided(*pixels, c)).permute(0, 3, 1, 2)


def opaque_applies(x: Tensor) -> bool:
    """Whether a max pool of ``x`` being compiled for training should call torch's kernels."""
    return (_max_pool2d is not None and torch.compiler.is_compiling() and not backend_compat.is_exporting()
            and x.device.type == "cpu" and x.requires_grad and torch.is_grad_enabled())


def _define_opaque_ops():
    """The custom ops ``kerasish::max_pool2d`` and its backward, with autograd
    and fake-tensor rules; ``torch.library.custom_op`` is torch >= 2.4's."""

    @torch.library.custom_op("kerasish::max_pool2d", mutates_args=())
    def max_pool2d(x: Tensor, kernel: list[int], stride: list[int], padding: list[int]) -> tuple[Tensor, Tensor]:
        return torch.ops.aten.max_pool2d_with_indices(x, kernel, stride, padding)

    @max_pool2d.register_fake
    def _(x, kernel, stride, padding):
        return torch.ops.aten.max_pool2d_with_indices(x, kernel, stride, padding)  # torch's shape rules, on fake tensors

    @torch.library.custom_op("kerasish::max_pool2d_backward", mutates_args=())
    def max_pool2d_backward(grad: Tensor, x: Tensor, indices: Tensor, kernel: list[int], stride: list[int],
                            padding: list[int]) -> Tensor:
        return torch.ops.aten.max_pool2d_with_indices_backward(grad, x, kernel, stride, padding, [1, 1], False, indices)

    @max_pool2d_backward.register_fake
    def _(grad, x, indices, kernel, stride, padding):
        return torch.empty_like(x)

    def setup_context(ctx, inputs, output):
        x, ctx.kernel, ctx.stride, ctx.padding = inputs
        ctx.save_for_backward(x, output[1])

    def backward(ctx, grad, _grad_indices):
        x, indices = ctx.saved_tensors
        return max_pool2d_backward(grad, x, indices, ctx.kernel, ctx.stride, ctx.padding), None, None, None

    max_pool2d.register_autograd(backward, setup_context=setup_context)
    return max_pool2d


# Where torch has no custom_op (< 2.4) there is no opaque op: ``opaque_applies``
# says no and the layer runs F.max_pool2d (see kerasish/backend_compat.py).
_max_pool2d = _define_opaque_ops() if backend_compat.HAS_CUSTOM_OP else None


def opaque_max_pool(x: Tensor, kernel, stride, padding) -> Tensor:
    """``F.max_pool2d(x, kernel, stride, padding)`` that inductor leaves to torch
    (only where ``opaque_applies``: the op exists)."""
    return _max_pool2d(x, list(kernel), list(stride), list(padding))[0]
