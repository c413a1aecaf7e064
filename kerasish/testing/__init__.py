"""Test utilities for layers, as Keras's ``keras.src.testing``.

``run_layer_test`` checks a layer class from one call: config round trip,
symbolic and eager output shapes, dtype, weight and loss counts, the layer
inside a functional model, a training step and, optionally, parity with
Keras 3's layer of the same name.
"""

from kerasish.testing.test_case import assert_close_f32, float32_tol, run_layer_test

__all__ = ["assert_close_f32", "float32_tol", "run_layer_test"]
