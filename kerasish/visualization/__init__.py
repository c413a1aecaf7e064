"""Pictures of models and training, on matplotlib (the optional ``viz`` extra:
``pip install "kerasish[viz]"``).

Every function returns the matplotlib ``Figure``; ``to_file=`` also writes it
as a PNG. The numbers behind each picture are attached to the figure as
``fig.kerasish_data`` (a dict), so that they can be checked or reused.

- :func:`plot_history`: loss and metrics against epochs (training and
  validation on the same axes).
- :func:`plot_filters`: a conv layer's kernels as a grid of small images.
- :func:`plot_feature_maps`: what chosen layers output for one image.
- :func:`plot_kernel_effects`: an image convolved with classic 3x3 kernels
  (Sobel, edge detection, blur, sharpen).
- :func:`plot_activations`: the activation functions and their derivatives.

matplotlib is imported only when a function is called, and the backend is
never changed: when ``matplotlib.pyplot`` is already imported (a notebook, a
script that calls ``plt.show()``) the figure is a pyplot figure; otherwise it
is a plain ``Figure`` on the non-interactive Agg canvas, which works with no
display.

Example:

    >>> from kerasish import visualization                      # doctest: +SKIP
    >>> history = model.fit(x, y, validation_split=0.2, epochs=5)  # doctest: +SKIP
    >>> visualization.plot_history(history, to_file="history.png")  # doctest: +SKIP
"""

from kerasish.visualization.plots import (
    DEFAULT_KERNELS,
    plot_activations,
    plot_feature_maps,
    plot_filters,
    plot_history,
    plot_kernel_effects,
)

__all__ = [
    "DEFAULT_KERNELS",
    "plot_activations",
    "plot_feature_maps",
    "plot_filters",
    "plot_history",
    "plot_kernel_effects",
]
