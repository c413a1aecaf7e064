"""Rank 1 dies in the middle of fit; rank 0 must stop with a clear error
instead of waiting for it forever (tests/test_distributed.py)."""

import os

import numpy as np

import kerasish as keras
from kerasish import distribution


class Die(keras.callbacks.Callback):
    def on_train_batch_begin(self, batch, logs=None):
        if distribution.process_index() == 1 and batch == 3:
            os._exit(7)  # no exception, no cleanup: as a crash or a kill


# Chosen explicitly here (dp_script.py relies on the automatic choice).
distribution.set_distribution(distribution.DataParallel(timeout=60))
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
model.compile(optimizer="sgd", loss="mse")
x = np.zeros((400, 4), "float32")
model.fit(x, np.zeros((400, 2), "float32"), batch_size=8, epochs=1, verbose=0, callbacks=[Die()])
print("rank", distribution.process_index(), "finished fit")
