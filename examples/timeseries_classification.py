"""keras.io "Timeseries classification from scratch" (hfawaz), in kerasish.

The script of keras.io (Keras 3 version): a fully convolutional network
(three Conv1D(64, 3, padding="same") -> BatchNormalization -> ReLU blocks,
GlobalAveragePooling1D, a softmax Dense) trained on FordA with
ModelCheckpoint / ReduceLROnPlateau / EarlyStopping, the best model reloaded
from ``best_model.keras`` and evaluated on the test set.

No download here: FordA's two TSV files (first column the label, -1 or 1, then
500 z-normalised values; 3601 training and 1320 test series) are written with
generated series of the same shapes (class 1 carries a faint periodic
component in noise), then read by the script's own ``readucr``. Everything
after that is the original's code. The original trains for 500 epochs; the
default here is 20 (``--epochs 500`` for the original).

Run: ``python examples/timeseries_classification.py [--epochs 20] [--out DIR]``
(``--train-samples`` / ``--test-samples`` / ``--length`` shrink the data).
Files (the TSVs, ``best_model.keras``, ``model.png``, the accuracy curve)
go to ``--out`` (default the current folder).
"""

import argparse
import os

import matplotlib

matplotlib.use("Agg")  # files, not windows: the script runs headless
import matplotlib.pyplot as plt
import numpy as np

import kerasish as keras

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=20, help="the original: 500")
parser.add_argument("--train-samples", type=int, default=3601)
parser.add_argument("--test-samples", type=int, default=1320)
parser.add_argument("--length", type=int, default=500, help="time steps per series (FordA: 500)")
parser.add_argument("--out", default=".", help="folder for the data files, the checkpoint and the plots")
args = parser.parse_args()
os.makedirs(args.out, exist_ok=True)

"""
## Load the data: the FordA dataset (generated here, in FordA's format)
"""


def write_forda_like(path, n, length, rng):
    """A FordA-style TSV: label (-1 or 1), then ``length`` z-normalised values.

    Class 1 adds a faint sine of a fixed period (with a random phase) to
    correlated noise, so a convolutional filter can pick it up but a single
    value says nothing."""
    labels = rng.choice([-1, 1], size=n)
    t = np.arange(length)
    noise = np.cumsum(rng.normal(size=(n, length)), axis=1) * 0.1 + rng.normal(size=(n, length))
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1))
    series = noise + (labels[:, None] == 1) * 1.2 * np.sin(2 * np.pi * t / 8 + phase)
    series = (series - series.mean(axis=1, keepdims=True)) / series.std(axis=1, keepdims=True)
    np.savetxt(path, np.column_stack([labels, series]), delimiter="\t", fmt="%.6f")


def readucr(filename):
    data = np.loadtxt(filename, delimiter="\t")
    y = data[:, 0]
    x = data[:, 1:]
    return x, y.astype(int)


data_rng = np.random.default_rng(0)
write_forda_like(os.path.join(args.out, "FordA_TRAIN.tsv"), args.train_samples, args.length, data_rng)
write_forda_like(os.path.join(args.out, "FordA_TEST.tsv"), args.test_samples, args.length, data_rng)

x_train, y_train = readucr(os.path.join(args.out, "FordA_TRAIN.tsv"))
x_test, y_test = readucr(os.path.join(args.out, "FordA_TEST.tsv"))

"""
## Visualize the data
"""

classes = np.unique(np.concatenate((y_train, y_test), axis=0))

plt.figure()
for c in classes:
    c_x_train = x_train[y_train == c]
    plt.plot(c_x_train[0], label="class " + str(c))
plt.legend(loc="best")
plt.savefig(os.path.join(args.out, "classes.png"))
plt.close()

"""
## Standardizing the data
"""

x_train = x_train.reshape((x_train.shape[0], x_train.shape[1], 1))
x_test = x_test.reshape((x_test.shape[0], x_test.shape[1], 1))

num_classes = len(np.unique(y_train))

np.random.seed(0)  # the original shuffles unseeded; seeded here so runs repeat
idx = np.random.permutation(len(x_train))
x_train = x_train[idx]
y_train = y_train[idx]

y_train[y_train == -1] = 0
y_test[y_test == -1] = 0

"""
## Build a model
"""


def make_model(input_shape):
    input_layer = keras.layers.Input(input_shape)

    conv1 = keras.layers.Conv1D(filters=64, kernel_size=3, padding="same")(input_layer)
    conv1 = keras.layers.BatchNormalization()(conv1)
    conv1 = keras.layers.ReLU()(conv1)

    conv2 = keras.layers.Conv1D(filters=64, kernel_size=3, padding="same")(conv1)
    conv2 = keras.layers.BatchNormalization()(conv2)
    conv2 = keras.layers.ReLU()(conv2)

    conv3 = keras.layers.Conv1D(filters=64, kernel_size=3, padding="same")(conv2)
    conv3 = keras.layers.BatchNormalization()(conv3)
    conv3 = keras.layers.ReLU()(conv3)

    gap = keras.layers.GlobalAveragePooling1D()(conv3)

    output_layer = keras.layers.Dense(num_classes, activation="softmax")(gap)

    return keras.models.Model(inputs=input_layer, outputs=output_layer)


keras.utils.set_random_seed(0)
model = make_model(input_shape=x_train.shape[1:])
model.summary()
keras.utils.plot_model(model, to_file=os.path.join(args.out, "model.png"), show_shapes=True)

"""
## Train the model
"""

epochs = args.epochs
batch_size = 32

callbacks = [
    keras.callbacks.ModelCheckpoint(
        os.path.join(args.out, "best_model.keras"), save_best_only=True, monitor="val_loss"
    ),
    keras.callbacks.ReduceLROnPlateau(
        monitor="val_loss", factor=0.5, patience=20, min_lr=0.0001
    ),
    keras.callbacks.EarlyStopping(monitor="val_loss", patience=50, verbose=1),
]
model.compile(
    optimizer="adam",
    loss="sparse_categorical_crossentropy",
    metrics=["sparse_categorical_accuracy"],
)
history = model.fit(
    x_train,
    y_train,
    batch_size=batch_size,
    epochs=epochs,
    callbacks=callbacks,
    validation_split=0.2,
    verbose=1,
)

"""
## Evaluate model on test data
"""

model = keras.models.load_model(os.path.join(args.out, "best_model.keras"))

test_loss, test_acc = model.evaluate(x_test, y_test)

print("Test accuracy", test_acc)
print("Test loss", test_loss)

"""
## Plot the model's training and validation accuracy
"""

metric = "sparse_categorical_accuracy"
plt.figure()
plt.plot(history.history[metric])
plt.plot(history.history["val_" + metric])
plt.title("model " + metric)
plt.ylabel(metric, fontsize="large")
plt.xlabel("epoch", fontsize="large")
plt.legend(["train", "val"], loc="best")
plt.savefig(os.path.join(args.out, "accuracy.png"))
plt.close()
