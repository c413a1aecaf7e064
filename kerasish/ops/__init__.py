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
from kerasish.ops.core import cast, convert_to_numpy, convert_to_tensor, dtype, is_tensor, saturate_cast, shape
from kerasish.ops.nn import (
    average_pool, batch_normalization, binary_crossentropy, categorical_crossentropy, conv, depthwise_conv, gelu,
    dot_product_attention,
    log_softmax, max_pool, moments, relu, sigmoid, silu, softmax, sparse_categorical_crossentropy, swish,
)
from kerasish.ops.numpy import (
    abs, absolute, add, arange, argmax, argmin, clip, concatenate, cumsum, divide, dot, einsum, exp, expand_dims, eye,
    flatten, log, matmul, max, maximum, mean, min, minimum, multiply, norm, one_hot, ones, pad, power, ravel, repeat,
    reshape, split, sqrt, square, squeeze, stack, std, subtract, sum, take, take_along_axis, tile, transpose, var, where, zeros,
)
from kerasish.ops.numpy_extra import (
    allclose, amax, amin, arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh, argsort, array, average,
    bincount, broadcast_to, cbrt, conj, conjugate, copy, correlate, cosh, count_nonzero, cross, cumprod, deg2rad,
    diag, diagonal, diff, digitize, divide_no_nan, empty, erfinv, exp2, flip, fliplr, flipud, full, full_like,
    hstack, hypot, identity, imag, inner, isclose, isfinite, isinf, isnan, kron, linspace, log10, log2, logaddexp,
    logsumexp, median, meshgrid, moveaxis, nan_to_num, ndim, nonzero, ones_like, outer, percentile, ptp, quantile,
    rad2deg, real, reciprocal, roll, rot90, rsqrt, searchsorted, sinh, size, sort, swapaxes, tensordot, trace, tri,
    tril, triu, true_divide, trunc, unique, unstack, vdot, vstack, zeros_like,
)
from kerasish.ops.math_ops import cdist, fft, fft2, ifft2, irfft, rfft
from kerasish.ops.numpy_more import (
    angle, argpartition, corrcoef, histogram, nextafter, view_as_complex, view_as_real,
    append, array_split, bartlett, bitwise_and, bitwise_invert, bitwise_left_shift, bitwise_not, bitwise_or,
    bitwise_right_shift, bitwise_xor, blackman, diagflat, dsplit, dstack, empty_like, erfc, fabs, fmax, fmin, fmod,
    gcd, geomspace, hamming, hanning, heaviside, hsplit, i0, isin, isneginf, isposinf, isreal, kaiser, lcm, ldexp,
    left_shift, logaddexp2, logspace, nanargmax, nanargmin, nancumprod, nancumsum, nanmax, nanmean, nanmedian,
    nanmin, nanpercentile, nanprod, nanquantile, nanstd, nansum, nanvar, right_shift, select, signbit, sinc,
    trapezoid, unravel_index, vander, view, vsplit,
)
from kerasish.ops.nn_more import (
    celu, elu, glu, hard_shrink, hard_sigmoid, hard_silu, hard_swish, hard_tanh, in_top_k, leaky_relu, log_sigmoid,
    multi_hot, normalize, relu6, selu, soft_shrink, softplus, softsign, sparse_plus, sparse_sigmoid, sparsemax,
    squareplus, tanh_shrink, threshold, top_k,
    conv_transpose, depth_to_space, layer_normalization, polar, psnr, rms_normalization, separable_conv, space_to_depth,
    adaptive_average_pool, adaptive_max_pool, fold, unfold,
)
from kerasish.ops.einops import rearrange
from kerasish.ops.signal import extract_sequences, istft, stft
from kerasish.ops.ctc import ctc_decode, ctc_loss
from kerasish.ops.vectorize import vectorize
from kerasish.ops.control_flow import (  # noqa: A004 - keras's names shadow builtins
    associative_scan, cond, custom_gradient, fori_loop, map, scan, stop_gradient, switch, vectorized_map, while_loop,
)
from kerasish.ops.indexing import (  # noqa: A004 - keras's names shadow builtins
    get_item, scatter, scatter_update, segment_max, segment_min, segment_prod, segment_sum, slice, slice_update,
)
from kerasish.ops.linalg import (
    cholesky, cholesky_inverse, det, eig, eigh, inv, jvp, logdet, lstsq, lu_factor, matrix_rank, pinv, qr, slogdet, solve,
    solve_triangular, svd,
)
from kerasish.ops import image, linalg  # the keras.ops.image / keras.ops.linalg namespaces

__all__ = [
    "all", "any", "ceil", "cos", "equal", "erf", "expm1", "floor", "floor_divide", "greater", "greater_equal", "less", "less_equal", "log1p", "logical_and", "logical_not", "logical_or", "logical_xor", "mod", "negative", "not_equal", "prod", "round", "sign", "sin", "tan", "tanh",
    "abs", "absolute", "add", "arange", "argmax", "argmin", "average_pool", "batch_normalization", "binary_crossentropy",
    "cast", "categorical_crossentropy", "clip", "concatenate", "conv", "convert_to_numpy", "convert_to_tensor", "cumsum",
    "depthwise_conv", "divide", "dot", "einsum", "exp", "expand_dims", "eye", "flatten", "gelu", "is_tensor", "log",
    "log_softmax", "matmul", "max", "max_pool", "maximum", "mean", "min", "minimum", "moments", "multiply", "norm",
    "one_hot", "ones", "pad", "power", "ravel", "relu", "repeat", "reshape", "shape", "sigmoid", "silu", "softmax",
    "sparse_categorical_crossentropy", "dot_product_attention", "split", "sqrt", "square", "squeeze", "stack", "std", "subtract", "sum", "swish",
    "take", "take_along_axis", "tile", "transpose", "var", "where", "zeros",
    # issue 19: more numpy, nn, control-flow, indexing and linalg ops
    "allclose", "amax", "amin", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh", "argsort",
    "array", "average", "bincount", "broadcast_to", "cbrt", "celu", "cholesky", "cholesky_inverse", "cond", "conj",
    "conjugate", "copy", "correlate", "cosh", "count_nonzero", "cross", "cumprod", "deg2rad", "det", "diag",
    "diagonal", "diff", "digitize", "divide_no_nan", "dtype", "eig", "eigh", "elu", "empty", "erfinv", "exp2",
    "flip", "fliplr", "flipud", "fori_loop", "full", "full_like", "glu", "hard_shrink", "hard_sigmoid", "hard_silu",
    "hard_swish", "hard_tanh", "hstack", "hypot", "identity", "imag", "image", "in_top_k", "inner", "inv", "isclose",
    "isfinite", "isinf", "isnan", "kron", "leaky_relu", "linalg", "linspace", "log10", "log2", "log_sigmoid",
    "logaddexp", "logdet", "logsumexp", "lstsq", "lu_factor", "map", "matrix_rank", "median", "meshgrid", "moveaxis",
    "multi_hot", "nan_to_num", "ndim", "nonzero", "normalize", "ones_like", "outer", "percentile", "pinv", "ptp",
    "qr", "quantile", "rad2deg", "real", "reciprocal", "relu6", "roll", "rot90", "rsqrt", "saturate_cast", "scan",
    "scatter", "scatter_update", "searchsorted", "segment_max", "segment_min", "segment_prod", "segment_sum", "selu",
    "sinh", "size", "slice", "slice_update", "slogdet", "soft_shrink", "softplus", "softsign", "solve",
    "solve_triangular", "sort", "sparse_plus", "sparse_sigmoid", "sparsemax", "squareplus", "stop_gradient", "svd",
    "swapaxes", "switch", "tanh_shrink", "tensordot", "threshold", "top_k", "trace", "tri", "tril", "triu",
    "true_divide", "trunc", "unique", "unstack", "vdot", "vectorized_map", "vstack", "while_loop", "zeros_like",
    "append", "array_split", "bartlett", "bitwise_and", "bitwise_invert", "bitwise_left_shift", "bitwise_not",
    "bitwise_or", "bitwise_right_shift", "bitwise_xor", "blackman", "diagflat", "dsplit", "dstack", "empty_like",
    "erfc", "fabs", "fmax", "fmin", "fmod", "gcd", "geomspace", "hamming", "hanning", "heaviside", "hsplit", "i0",
    "isin", "isneginf", "isposinf", "isreal", "kaiser", "lcm", "ldexp", "left_shift", "logaddexp2", "logspace",
    "nanargmax", "nanargmin", "nancumprod", "nancumsum", "nanmax", "nanmean", "nanmedian", "nanmin", "nanpercentile",
    "nanprod", "nanquantile", "nanstd", "nansum", "nanvar", "right_shift", "select", "signbit", "sinc", "trapezoid",
    "unravel_index", "vander", "vsplit",
    "depth_to_space", "layer_normalization", "polar", "psnr", "rms_normalization", "separable_conv", "space_to_depth",
    "angle", "argpartition", "cdist", "corrcoef", "fft", "fft2", "histogram", "ifft2", "irfft", "nextafter", "rfft",
    "associative_scan", "custom_gradient", "get_item", "view_as_complex", "view_as_real",
    "conv_transpose",
    "adaptive_average_pool", "adaptive_max_pool", "fold", "jvp", "rearrange", "unfold", "vectorize", "view",
    "ctc_decode", "ctc_loss", "extract_sequences", "istft", "stft",
]
