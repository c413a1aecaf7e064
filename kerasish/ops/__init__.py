"""``kerasish.ops``: Keras 3's ``keras.ops`` on torch tensors.

Every op takes torch tensors, numpy arrays, Python numbers/lists or kerasish
``Variable`` objects and returns torch tensors, with Keras's names, arguments,
defaults and dtype rules (Python floats -> float32, ints -> int32; ``mean``
of ints -> float32; ``argmax`` -> int32). Image ops are channels_last.

Example:
    >>> from kerasish import ops
    >>> ops.softmax(ops.ones((2, 3))).shape
    torch.Size([2, 3])
"""

from kerasish.ops.elementwise import (
    all, any, ceil, cos, equal, erf, expm1, floor, floor_divide, greater, greater_equal, less, less_equal, log1p, logical_and, logical_not, logical_or, logical_xor, mod, negative, not_equal, prod, round, sign, sin, tan, tanh,
)
from kerasish.ops.core import cast, convert_to_numpy, convert_to_tensor, is_tensor, shape
from kerasish.ops.nn import (
    average_pool, batch_normalization, binary_crossentropy, categorical_crossentropy, conv, depthwise_conv, gelu,
    log_softmax, max_pool, moments, relu, sigmoid, silu, softmax, sparse_categorical_crossentropy, swish,
)
from kerasish.ops.numpy import (
    abs, absolute, add, arange, argmax, argmin, clip, concatenate, cumsum, divide, dot, einsum, exp, expand_dims, eye,
    flatten, log, matmul, max, maximum, mean, min, minimum, multiply, norm, one_hot, ones, pad, power, ravel, repeat,
    reshape, split, sqrt, square, squeeze, stack, std, subtract, sum, take, take_along_axis, tile, transpose, var, where, zeros,
)

__all__ = [
    "all", "any", "ceil", "cos", "equal", "erf", "expm1", "floor", "floor_divide", "greater", "greater_equal", "less", "less_equal", "log1p", "logical_and", "logical_not", "logical_or", "logical_xor", "mod", "negative", "not_equal", "prod", "round", "sign", "sin", "tan", "tanh",
    "abs", "absolute", "add", "arange", "argmax", "argmin", "average_pool", "batch_normalization", "binary_crossentropy",
    "cast", "categorical_crossentropy", "clip", "concatenate", "conv", "convert_to_numpy", "convert_to_tensor", "cumsum",
    "depthwise_conv", "divide", "dot", "einsum", "exp", "expand_dims", "eye", "flatten", "gelu", "is_tensor", "log",
    "log_softmax", "matmul", "max", "max_pool", "maximum", "mean", "min", "minimum", "moments", "multiply", "norm",
    "one_hot", "ones", "pad", "power", "ravel", "relu", "repeat", "reshape", "shape", "sigmoid", "silu", "softmax",
    "sparse_categorical_crossentropy", "split", "sqrt", "square", "squeeze", "stack", "std", "subtract", "sum", "swish",
    "take", "take_along_axis", "tile", "transpose", "var", "where", "zeros",
]
