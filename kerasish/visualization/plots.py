"""The plotting functions of :mod:`kerasish.visualization` (see there)."""

from __future__ import annotations

import inspect
import math
import os
import sys

import numpy as np
import torch

from kerasish import activations
from kerasish.layers.convolutional.base_conv import BaseConv2D
from kerasish.layers.convolutional.conv2d import Conv2D
from kerasish.layers.convolutional.conv2d_transpose import Conv2DTranspose
from kerasish.layers.convolutional.depthwise_conv2d import DepthwiseConv2D
from kerasish.layers.convolutional.separable_conv2d import SeparableConv2D
from kerasish.layers.pooling.base_pooling import BasePooling2D
from kerasish.models.model import Model

__all__ = [
    "DEFAULT_KERNELS",
    "plot_activations",
    "plot_feature_maps",
    "plot_filters",
    "plot_history",
    "plot_kernel_effects",
]

#: The seed posts' 3x3 kernels, by title (Keras/torch cross-correlation).
DEFAULT_KERNELS = {
    "Sobel (vertical edges)": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], "float32"),
    "Sobel (horizontal edges)": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], "float32"),
    "Edge detection": np.array([[0, -1, 0], [-1, 4, -1], [0, -1, 0]], "float32"),
    "Blur": np.full((3, 3), 1.0 / 9.0, "float32"),
    "Sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], "float32"),
}

_TITLE_SIZE = 13
_LABEL_SIZE = 10


# ----------------------------------------------------------------------------
# matplotlib plumbing
# ----------------------------------------------------------------------------


def _require_matplotlib():
    """Import matplotlib or raise an ImportError telling how to install it."""
    try:
        import matplotlib  # noqa: F401
        import matplotlib.figure  # noqa: F401
    except ImportError as e:
        raise ImportError(
            'kerasish.visualization needs matplotlib: pip install "kerasish[viz]" '
            "(or pip install matplotlib)"
        ) from e
    return matplotlib


def _new_figure(figsize):
    """A new figure that never changes the matplotlib backend.

    With ``matplotlib.pyplot`` already imported (notebooks, interactive
    scripts) the figure is made by pyplot so that ``plt.show()`` and inline
    display work; otherwise it is a bare ``Figure`` on the Agg canvas (no
    display needed, no global figure registry to fill up).
    """
    _require_matplotlib()
    from matplotlib.figure import Figure

    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        return pyplot.figure(figsize=figsize, layout="constrained")
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _finish(fig, data, to_file, dpi=100):
    """Attach ``data``, write ``to_file`` (PNG) when given, return ``fig``."""
    fig.kerasish_data = data
    if to_file is not None:
        to_file = os.fspath(to_file)
        folder = os.path.dirname(to_file)
        if folder:
            os.makedirs(folder, exist_ok=True)
        fig.savefig(to_file, dpi=dpi, format="png", facecolor="white", pil_kwargs={"optimize": True})
    return fig


def _to_numpy(x):
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _grid(n, max_cols):
    cols = max(1, min(n, max_cols))
    return cols, max(1, math.ceil(n / cols))


def _blank(ax):
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


# ----------------------------------------------------------------------------
# 1. Training history
# ----------------------------------------------------------------------------


def plot_history(history, metrics=None, to_file=None):
    """Plot loss and metrics against epochs, training and validation together.

    One panel per quantity (``"loss"`` first, then each metric); the
    validation curve (``"val_<name>"``) shares the panel of its training
    curve. Epochs are numbered from 1.

    Args:
        history: the ``History`` object ``model.fit`` returns, or its
            ``.history`` dict (``{"loss": [...], "val_loss": [...], ...}``).
        metrics: names to plot (without ``"val_"``), e.g.
            ``["loss", "accuracy"]``; default every recorded name.
        to_file: path of a PNG to write, or ``None``.

    Returns:
        The matplotlib ``Figure``; ``fig.kerasish_data`` is
        ``{"epochs": [1, 2, ...], "curves": {name: [values]}}``.

    Example:
        >>> h = model.fit(x, y, validation_split=0.2, epochs=5, verbose=0)  # doctest: +SKIP
        >>> plot_history(h, to_file="history.png")                          # doctest: +SKIP
    """
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict):
        raise TypeError(
            f"history must be a History object (what fit returns) or its .history dict; "
            f"got {type(history).__name__}"
        )
    if not logs or not any(len(v) for v in logs.values()):
        raise ValueError("history is empty: nothing was recorded (did fit run any epoch?)")
    curves = {k: [float(v) for v in _to_numpy(vals).reshape(-1)] for k, vals in logs.items()}
    n = max(len(v) for v in curves.values())
    epoch_list = getattr(history, "epoch", None)
    if epoch_list is not None and len(epoch_list) == n:
        epochs = [int(e) + 1 for e in epoch_list]
    else:
        epochs = list(range(1, n + 1))

    base = [k for k in curves if not k.startswith("val_")]
    base += [k[4:] for k in curves if k.startswith("val_") and k[4:] not in curves]
    base.sort(key=lambda k: (k != "loss", list(curves).index(k) if k in curves else len(curves)))
    if metrics is None:
        names = base
    else:
        if isinstance(metrics, str):
            metrics = [metrics]
        names = []
        for m in metrics:
            m = m[4:] if m.startswith("val_") and m[4:] in base else m
            if m not in base:
                raise ValueError(f"metrics: {m!r} is not in the history; recorded: {sorted(curves)}")
            names.append(m)

    cols, rows = _grid(len(names), 3)
    fig = _new_figure((4.6 * cols, 3.4 * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).reshape(-1)
    used = {}
    for ax, name in zip(axes, names):
        for key, label, style in ((name, "training", "o-"), ("val_" + name, "validation", "s--")):
            if key in curves:
                ys = curves[key]
                xs = epochs[len(epochs) - len(ys):]
                ax.plot(xs, ys, style, label=label, markersize=4, linewidth=1.8)
                used[key] = ys
        ax.set_title(name.replace("_", " "), fontsize=_TITLE_SIZE)
        ax.set_xlabel("epoch", fontsize=_LABEL_SIZE)
        ax.set_ylabel(name.replace("_", " "), fontsize=_LABEL_SIZE)
        ax.grid(True, alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.legend(fontsize=9)
    for ax in axes[len(names):]:
        ax.set_visible(False)
    fig.suptitle("Training history", fontsize=_TITLE_SIZE + 2)
    return _finish(fig, {"epochs": epochs, "curves": used}, to_file)


# ----------------------------------------------------------------------------
# 2. Conv filters
# ----------------------------------------------------------------------------


def _kernel_of(layer):
    """The layer's kernel as (kh, kw, in, out) numpy, or ValueError."""
    name = getattr(layer, "name", type(layer).__name__)
    weights = layer.get_weights() if hasattr(layer, "get_weights") else []
    if not weights or np.ndim(weights[0]) != 4:
        what = "no weights (is it built?)" if not weights else f"a first weight of shape {np.shape(weights[0])}"
        raise ValueError(
            f"layer {name!r} ({type(layer).__name__}) has no conv kernels to plot: it has {what}; "
            "plot_filters needs a conv layer (Conv2D, DepthwiseConv2D, ...) whose kernel is (kh, kw, in, out)"
        )
    kernel = np.asarray(weights[0], dtype="float32")
    if isinstance(layer, Conv2DTranspose):  # Keras layout (kh, kw, out, in)
        kernel = kernel.transpose(0, 1, 3, 2)
    elif isinstance(layer, (DepthwiseConv2D, SeparableConv2D)):  # (kh, kw, in, mult): one filter per (in, mult)
        kh, kw, cin, mult = kernel.shape
        kernel = kernel.reshape(kh, kw, 1, cin * mult)
    return kernel


def plot_filters(layer, channel=None, to_file=None):
    """Show a conv layer's kernels, one small image per output filter.

    The kernel is read in Keras layout ``(kh, kw, in, out)`` from
    ``layer.get_weights()[0]``. All panels share one colour scale, symmetric
    around 0 (red positive, blue negative), so filters can be compared.

    Args:
        layer: a built conv layer (``Conv2D``, ``Conv2DTranspose``,
            ``DepthwiseConv2D``, ``SeparableConv2D`` (its depthwise kernel)).
        channel: the input channel to show; default the mean over input
            channels, or the kernel as an RGB picture when it has 3 input
            channels.
        to_file: path of a PNG to write, or ``None``.

    Returns:
        The ``Figure``; ``fig.kerasish_data`` has ``"kernel"`` (kh, kw, in, out),
        ``"panels"`` (out, kh, kw) or (out, kh, kw, 3) for RGB: the values
        drawn, ``"mode"`` (``"channel"``, ``"mean"`` or ``"rgb"``) and the
        shared ``"vmin"``/``"vmax"``.

    Example:
        >>> plot_filters(model.get_layer("conv2d"), to_file="filters.png")  # doctest: +SKIP
    """
    kernel = _kernel_of(layer)
    kh, kw, cin, cout = kernel.shape
    name = getattr(layer, "name", type(layer).__name__)
    if channel is not None:
        if not isinstance(channel, (int, np.integer)) or not -cin <= channel < cin:
            raise ValueError(f"channel must be an input channel index in [0, {cin}); got {channel!r} for layer {name!r}")
        panels, mode = kernel[:, :, channel, :].transpose(2, 0, 1), "channel"
    elif cin == 3:
        panels, mode = kernel.transpose(3, 0, 1, 2), "rgb"
    else:
        panels, mode = kernel.mean(axis=2).transpose(2, 0, 1), "mean" if cin > 1 else "channel"
    m = float(np.abs(panels).max()) or 1.0
    vmin, vmax = -m, m

    cols, rows = _grid(cout, cout if cout <= 6 else min(12, max(4, math.ceil(math.sqrt(2 * cout)))))
    cell = max(0.9, min(1.5, 11.0 / cols))
    fig = _new_figure((cell * cols + 1.4, max(3.2, (cell + 0.25) * rows + 0.8)))
    axes = fig.subplots(rows, cols, squeeze=False).reshape(-1)
    image = None
    for i, ax in enumerate(axes):
        _blank(ax)
        if i >= cout:
            ax.set_visible(False)
            continue
        if mode == "rgb":
            ax.imshow((panels[i] - vmin) / (vmax - vmin), interpolation="nearest")
        else:
            image = ax.imshow(panels[i], cmap="RdBu_r", vmin=vmin, vmax=vmax, interpolation="nearest")
        ax.set_title(f"filter {i}", fontsize=9)
    what = {"channel": f"input channel {channel}" if channel is not None else "1 input channel",
            "mean": f"mean over {cin} input channels", "rgb": "input channels shown as RGB"}[mode]
    fig.suptitle(f"{name}: {cout} filters of {kh}x{kw} ({what})", fontsize=_TITLE_SIZE)
    if image is not None:
        bar = fig.colorbar(image, ax=list(axes[:cout]), shrink=0.8, aspect=25 if rows > 1 else 10)
        bar.set_label("weight", fontsize=_LABEL_SIZE)
    data = {"kernel": kernel, "panels": panels, "mode": mode, "vmin": vmin, "vmax": vmax}
    return _finish(fig, data, to_file)


# ----------------------------------------------------------------------------
# 3. Feature maps
# ----------------------------------------------------------------------------


def _default_map_layers(model):
    return [l.name for l in model.layers if isinstance(l, (BaseConv2D, BasePooling2D))]


def _check_image(model, image):
    """``image`` as a (1, H, W, C) float32 batch matching ``model``'s input."""
    image = _to_numpy(image).astype("float32")
    expected = tuple(model.inputs[0].shape[1:])
    shape = image.shape
    if image.ndim == len(expected) - 1 and expected[-1] == 1:  # (H, W) for a one-channel model
        image = image[..., None]
    if image.ndim == len(expected):
        image = image[None]
    ok = image.ndim == len(expected) + 1 and image.shape[0] == 1 and all(
        e is None or e == g for e, g in zip(expected, image.shape[1:])
    )
    if not ok:
        raise ValueError(
            f"image has shape {shape}, but the model expects one image of shape {expected} "
            f"(or a batch of one, {(1,) + expected})"
        )
    return image


def plot_feature_maps(model, image, layer_names=None, max_maps=16, to_file=None):
    """Show what chosen layers output for one image, one row per layer.

    The outputs come from the Keras idiom
    ``Model(model.inputs, [model.get_layer(n).output for n in names])``.
    The input image is drawn on top; each layer's row shows its first
    ``max_maps`` channels with one colour scale per layer (maps in a row
    compare). A layer whose output is a vector is drawn as a strip.

    Args:
        model: a built functional or Sequential model with one input.
        image: one image, (H, W, C) or (1, H, W, C) (also (H, W) for a
            one-channel model), numpy or torch.
        layer_names: layers to show; default every conv and pooling layer.
        max_maps: at most this many channels per layer.
        to_file: path of a PNG to write, or ``None``.

    Returns:
        The ``Figure``; ``fig.kerasish_data`` is ``{"image": (1, H, W, C),
        "layer_names": [...], "outputs": {name: array without the batch axis}}``.

    Example:
        >>> plot_feature_maps(model, x_test[0], to_file="maps.png")  # doctest: +SKIP
    """
    if not isinstance(max_maps, (int, np.integer)) or max_maps < 1:
        raise ValueError(f"max_maps must be a positive integer; got {max_maps!r}")
    existing = [l.name for l in model.layers]
    if layer_names is None:
        names = _default_map_layers(model)
        if not names:
            raise ValueError(f"model {model.name!r} has no conv or pooling layers; pass layer_names (layers: {existing})")
    else:
        names = [layer_names] if isinstance(layer_names, str) else list(layer_names)
        for n in names:
            if n not in existing:
                raise ValueError(f"layer_names: no layer named {n!r} in model {model.name!r}; layers: {existing}")
    batch = _check_image(model, image)
    _require_matplotlib()
    probe = Model(model.inputs, [model.get_layer(n).output for n in names])
    outs = probe.predict(batch, verbose=0)
    if not isinstance(outs, (list, tuple)):
        outs = [outs]
    outputs = {n: _to_numpy(o)[0] for n, o in zip(names, outs)}

    cols = max(min(max_maps, o.shape[-1]) if o.ndim == 3 else 1 for o in outputs.values())
    cols = max(cols, 1)
    cell = max(0.9, min(1.5, 12.0 / cols))
    rows = len(names) + 1
    fig = _new_figure((cell * cols + 2.6, cell * rows + 0.8))
    grid = fig.add_gridspec(rows, cols + 1, width_ratios=[1] * cols + [0.08])
    shown = {}
    # Input row.
    ax = fig.add_subplot(grid[0, 0])
    img = batch[0]
    if img.shape[-1] == 3:
        lo, hi = img.min(), img.max()
        ax.imshow((img - lo) / ((hi - lo) or 1.0), interpolation="nearest")
    else:
        ax.imshow(img[..., 0] if img.shape[-1] == 1 else img.mean(-1), cmap="gray", interpolation="nearest")
    _blank(ax)
    ax.set_ylabel(f"input\n{'x'.join(map(str, img.shape))}", fontsize=_LABEL_SIZE)
    for r, name in enumerate(names, start=1):
        out = outputs[name]
        shape_text = "x".join(map(str, out.shape))
        if out.ndim == 3:
            n = min(max_maps, out.shape[-1])
            maps = out[..., :n]
        else:
            n, maps = 1, out.reshape(1, -1)
        vmin, vmax = float(maps.min()), float(maps.max())
        if vmin == vmax:
            vmin, vmax = vmin - 0.5, vmax + 0.5
        im = None
        for c in range(n):
            ax = fig.add_subplot(grid[r, c] if out.ndim == 3 else grid[r, :cols])
            im = ax.imshow(maps[..., c] if out.ndim == 3 else maps, cmap="viridis", vmin=vmin, vmax=vmax,
                           interpolation="nearest", aspect="equal" if out.ndim == 3 else "auto")
            _blank(ax)
            if c == 0:
                label = f"{name}\n{shape_text}" + (f"\n(first {n})" if out.ndim == 3 and n < out.shape[-1] else "")
                ax.set_ylabel(label, fontsize=_LABEL_SIZE)
            if r == 1 or (out.ndim == 3 and c >= _prev_cols(outputs, names, r, max_maps)):
                ax.set_title(f"ch {c}", fontsize=8)
        cax = fig.add_subplot(grid[r, cols])
        fig.colorbar(im, cax=cax)
        cax.tick_params(labelsize=7)
        shown[name] = n
    fig.suptitle(f"Feature maps of {model.name!r}", fontsize=_TITLE_SIZE)
    data = {"image": batch, "layer_names": names, "outputs": outputs, "shown": shown}
    return _finish(fig, data, to_file)


def _prev_cols(outputs, names, r, max_maps):
    """How many channel titles the row above carried (avoid repeating them)."""
    prev = outputs[names[r - 2]]
    return min(max_maps, prev.shape[-1]) if prev.ndim == 3 else 0


# ----------------------------------------------------------------------------
# 4. Kernel effects
# ----------------------------------------------------------------------------


def _kernel_text(kernel):
    """A compact matrix text, with a common 1/d factor pulled out."""
    k = np.asarray(kernel, dtype="float64")
    prefix = ""
    for d in range(1, 257):
        if np.allclose(k * d, np.round(k * d), atol=1e-4):
            if d > 1:
                prefix, k = f"1/{d} x ", np.round(k * d)
            break
    rows = ["[" + " ".join(f"{v:g}".rjust(2) for v in row) + "]" for row in k]
    if len(rows) > 5 or k.shape[1] > 5:
        return f"{k.shape[0]}x{k.shape[1]} kernel"
    return (prefix.strip() + "\n" if prefix else "") + "\n".join(rows)


def _gray(image):
    img = _to_numpy(image).astype("float32")
    if img.ndim == 4 and img.shape[0] == 1:
        img = img[0]
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    elif img.ndim == 3 and img.shape[-1] in (3, 4):
        img = img[..., :3] @ np.array([0.299, 0.587, 0.114], "float32")
    if img.ndim != 2:
        raise ValueError(f"image must be grayscale (H, W) / (H, W, 1) or RGB (H, W, 3); got shape {_to_numpy(image).shape}")
    return img


def _conv_same(gray, kernel):
    """``gray`` (H, W) through a kerasish Conv2D holding ``kernel``, padding='same'."""
    kh, kw = kernel.shape
    layer = Conv2D(1, (kh, kw), padding="same", use_bias=False)
    x = gray[None, :, :, None]
    layer.build(x.shape)
    layer.set_weights([kernel.reshape(kh, kw, 1, 1).astype("float32")])
    return _to_numpy(layer(x))[0, :, :, 0]


def plot_kernel_effects(image, kernels=None, to_file=None):
    """Show an image convolved with each of a set of kernels.

    The image (RGB is converted to gray with the usual 0.299/0.587/0.114
    weights) goes through a kerasish ``Conv2D`` with ``padding='same'``
    whose kernel is set with ``set_weights`` (a cross-correlation, as in
    Keras). Each panel is titled with its kernel; outputs are drawn in gray
    on a colour scale symmetric around 0 when they have negative values.

    Args:
        image: (H, W), (H, W, 1), (H, W, 3) or with a batch axis of 1.
        kernels: a dict ``{title: 2-D kernel}`` or a list of 2-D kernels;
            default :data:`DEFAULT_KERNELS` (vertical and horizontal Sobel,
            edge detection, 3x3 blur, sharpen).
        to_file: path of a PNG to write, or ``None``.

    Returns:
        The ``Figure``; ``fig.kerasish_data`` is ``{"image": (H, W) gray,
        "kernels": {title: kernel}, "outputs": {title: (H, W)}}``.

    Example:
        >>> plot_kernel_effects(photo, to_file="kernels.png")  # doctest: +SKIP
    """
    if kernels is None:
        kernels = DEFAULT_KERNELS
    if not isinstance(kernels, dict):
        kernels = {f"kernel {i}": k for i, k in enumerate(kernels)}
    kernels = {str(t): np.asarray(_to_numpy(k), dtype="float32") for t, k in kernels.items()}
    if not kernels:
        raise ValueError("kernels is empty: pass at least one 2-D kernel")
    for t, k in kernels.items():
        if k.ndim != 2:
            raise ValueError(f"kernels: {t!r} must be a 2-D array; got shape {k.shape}")
    gray = _gray(image)
    _require_matplotlib()
    outputs = {t: _conv_same(gray, k) for t, k in kernels.items()}

    n = len(kernels) + 1
    cols, rows = _grid(n, 3)
    h, w = gray.shape
    aspect = h / w
    fig = _new_figure((3.6 * cols, (3.3 * aspect + 1.2) * rows))
    axes = fig.subplots(rows, cols, squeeze=False).reshape(-1)
    axes[0].imshow(gray, cmap="gray", interpolation="nearest")
    axes[0].set_title("input (gray)\n", fontsize=_LABEL_SIZE + 1)
    for ax, (title, out) in zip(axes[1:], outputs.items()):
        lo, hi = float(out.min()), float(out.max())
        if lo < 0 and abs(float(kernels[title].sum())) < 1e-6:  # zero-sum kernel (edges): 0 is mid-gray
            m = max(abs(lo), abs(hi)) or 1.0
            im = ax.imshow(out, cmap="gray", vmin=-m, vmax=m, interpolation="nearest")
        else:
            im = ax.imshow(out, cmap="gray", vmin=lo, vmax=hi if hi > lo else lo + 1, interpolation="nearest")
        ax.set_title(f"{title}\n", fontsize=_LABEL_SIZE + 1)
        ax.set_xlabel(_kernel_text(kernels[title]), fontsize=9, family="monospace")
        bar = fig.colorbar(im, ax=ax, shrink=0.8)
        bar.ax.tick_params(labelsize=7)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes[n:]:
        ax.set_visible(False)
    fig.suptitle("Convolution kernels (padding='same')", fontsize=_TITLE_SIZE)
    data = {"image": gray, "kernels": kernels, "outputs": outputs}
    return _finish(fig, data, to_file)


# ----------------------------------------------------------------------------
# 5. Activations
# ----------------------------------------------------------------------------


def _needs_args(fn):
    params = list(inspect.signature(fn).parameters.values())[1:]
    return any(p.default is inspect.Parameter.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
               for p in params)


def plot_activations(names=None, to_file=None):
    """Plot activation functions on [-5, 5] with their derivatives.

    Derivatives come from torch autograd. By default every element-wise
    function in ``kerasish.activations.ALL_ACTIVATIONS`` is drawn; functions
    that need extra arguments (``threshold``) or act along an axis
    (``softmax``, ``log_softmax``, ``glu``, ``sparsemax``) are skipped.

    Args:
        names: activation names to draw (e.g. ``["relu", "sigmoid"]``);
            default all of the above.
        to_file: path of a PNG to write, or ``None``.

    Returns:
        The ``Figure``; ``fig.kerasish_data`` is ``{"x": (N,), "values":
        {name: (N,)}, "derivatives": {name: (N,)}}``.

    Example:
        >>> plot_activations(["relu", "gelu", "sigmoid"], to_file="act.png")  # doctest: +SKIP
    """
    known = {**activations.ALL_ACTIVATIONS, **getattr(activations, "ALIASES", {})}

    def plottable(fn):
        return not _needs_args(fn) and not getattr(fn, "axis_dependent", False)

    if names is None:
        names = [n for n, fn in activations.ALL_ACTIVATIONS.items() if plottable(fn)]
    else:
        names = [names] if isinstance(names, str) else list(names)
        for n in names:
            if n not in known:
                raise ValueError(f"names: unknown activation {n!r}; known: {sorted(known)}")
            if not plottable(known[n]):
                raise ValueError(
                    f"names: activation {n!r} cannot be plotted as y = f(x): it needs extra arguments or acts along an axis"
                )
    if not names:
        raise ValueError("names is empty: pass at least one activation name")
    _require_matplotlib()

    x = torch.linspace(-5.0, 5.0, 1001, dtype=torch.float64)
    values, derivatives = {}, {}
    for n in names:
        xx = x.clone().requires_grad_(True)
        y = known[n](xx)
        (grad,) = torch.autograd.grad(y.sum(), xx, allow_unused=True)
        values[n] = y.detach().numpy()
        derivatives[n] = np.zeros_like(values[n]) if grad is None else grad.detach().numpy()

    cols, rows = _grid(len(names), 5 if len(names) > 12 else 4)
    fig = _new_figure((3.2 * cols, 2.7 * rows + 0.6))
    axes = fig.subplots(rows, cols, squeeze=False).reshape(-1)
    xs = x.numpy()
    for i, (ax, n) in enumerate(zip(axes, names)):
        ax.axhline(0, color="0.6", linewidth=0.8)
        ax.axvline(0, color="0.6", linewidth=0.8)
        ax.plot(xs, values[n], color="C0", linewidth=2, label="f(x)")
        ax.plot(xs, derivatives[n], color="C3", linewidth=1.5, linestyle="--", label="f'(x)")
        ax.set_title(n, fontsize=_LABEL_SIZE + 2)
        ax.grid(True, alpha=0.3)
        ax.set_xlim(-5, 5)
        lo = min(values[n].min(), derivatives[n].min())
        hi = max(values[n].max(), derivatives[n].max())
        if hi - lo > 12:  # exponential: keep the interesting part visible
            ax.set_ylim(max(lo, -6) - 0.5, min(hi, 12) + 0.5)
        if i % cols == 0:
            ax.set_ylabel("y", fontsize=_LABEL_SIZE)
        if i >= len(names) - cols:
            ax.set_xlabel("x", fontsize=_LABEL_SIZE)
        if i == 0:
            ax.legend(fontsize=9, loc="upper left")
    for ax in axes[len(names):]:
        ax.set_visible(False)
    fig.suptitle("Activation functions f(x) (solid) and derivatives f'(x) (dashed)", fontsize=_TITLE_SIZE)
    data = {"x": xs, "values": values, "derivatives": derivatives}
    return _finish(fig, data, to_file, dpi=85)
