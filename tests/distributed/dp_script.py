"""One Keras-idiom training script, run unchanged by tests/test_distributed.py
with plain ``python`` (one process) and with ``torchrun --nproc_per_node=2``.

    python dp_script.py OUT_DIR IMAGE_DIR

Each process writes ``OUT_DIR/rank{R}.npz`` (weights, predictions) and
``OUT_DIR/rank{R}.json`` (histories, evaluations, decisions) for the test to
compare across processes and against the one-process run.
"""

import json
import os
import sys

import numpy as np
import torch

import kerasish as keras
from kerasish import distribution
from kerasish.layers import Conv2D, Dense, Flatten, Input, MaxPooling2D

out_dir, image_dir = sys.argv[1], sys.argv[2]
rank = distribution.process_index()
world = distribution.num_processes()
results, arrays = {"world": world}, {}


def make_model():
    keras.utils.set_random_seed(7)
    inputs = Input((8, 8, 1))
    x = Conv2D(4, 3, activation="relu")(inputs)
    x = MaxPooling2D(2)(x)
    x = Flatten()(x)
    model = keras.Model(inputs, Dense(5, activation="softmax")(x))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


rng = np.random.default_rng(0)
x = rng.random((100, 8, 8, 1)).astype("float32")
y = rng.integers(0, 5, 100)

# 1. Arrays: validation_split leaves 75 training samples, so the last batch
#    of 11 splits unevenly (6 / 5) and the gradient must still be exact.
model = make_model()
model.summary()  # every process calls it; rank 0 alone prints
hist = model.fit(x, y, batch_size=16, epochs=3, shuffle=False, validation_split=0.25, verbose=2,
                 callbacks=[keras.callbacks.CSVLogger(os.path.join(out_dir, f"log_rank{rank}.csv"))])
results["history"] = hist.history
arrays["weights_arrays"] = np.concatenate([w.ravel() for w in model.get_weights()])
results["evaluate"] = model.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
arrays["predict"] = model.predict(x, batch_size=16, verbose=0)
results["train_on_batch"] = model.train_on_batch(x[:32], y[:32], return_dict=True)
arrays["after_train_on_batch"] = np.concatenate([w.ravel() for w in model.get_weights()])

# 2. Shuffled arrays: the processes draw one permutation.
model = make_model()
model.fit(x, y, batch_size=20, epochs=2, shuffle=True, verbose=0)
arrays["weights_shuffled"] = np.concatenate([w.ravel() for w in model.get_weights()])

# 3. A torch Dataset, a DataLoader and a generator.
tx, ty = torch.from_numpy(x), torch.from_numpy(y)
model = make_model()
model.fit(torch.utils.data.TensorDataset(tx, ty), batch_size=20, epochs=2, verbose=0)
arrays["weights_dataset"] = np.concatenate([w.ravel() for w in model.get_weights()])
model = make_model()
model.fit(torch.utils.data.DataLoader(torch.utils.data.TensorDataset(tx, ty), batch_size=20), epochs=2, verbose=0)
arrays["weights_dataloader"] = np.concatenate([w.ravel() for w in model.get_weights()])


def batches():
    for i in range(0, 100, 20):
        yield x[i:i + 20], y[i:i + 20]


model = make_model()
model.fit(batches(), epochs=1, steps_per_epoch=5, verbose=0)
arrays["weights_generator"] = np.concatenate([w.ravel() for w in model.get_weights()])

# 4. An image folder (shuffled with a seed).
ds = keras.utils.image_dataset_from_directory(image_dir, image_size=(8, 8), color_mode="grayscale", batch_size=4, seed=3, num_workers=0)
model = make_model()
model.fit(ds, epochs=2, verbose=0)
arrays["weights_folder"] = np.concatenate([w.ravel() for w in model.get_weights()])
results["folder_evaluate"] = model.evaluate(ds, verbose=0, return_dict=True)
model.fit(ds, epochs=1, verbose=0)  # a second fit: the folder's shuffles go on (epoch 3), as with one process
arrays["weights_folder_second_fit"] = np.concatenate([w.ravel() for w in model.get_weights()])
ds29 = keras.utils.image_dataset_from_directory(image_dir, image_size=(8, 8), color_mode="grayscale", batch_size=29, shuffle=False,
                                                num_workers=0, verbose=False)
results["folder_evaluate_29"] = model.evaluate(ds29, verbose=0, return_dict=True)  # 30 = 29 + 1: one process gets none of the last
arrays["folder_predict_29"] = model.predict(ds29, verbose=0)

# 4b. kerasish Datasets: a tf.data-style pipeline over arrays (a seeded buffer shuffle, a map,
#     a background prefetch), and the image folder with a map (run in its loader, on each
#     process's piece: deterministic here, as random draws per piece differ from one process's).
pipeline = (keras.utils.Dataset.from_tensor_slices((x, y)).shuffle(100, seed=5).batch(20)
            .map(lambda a, b: (a * 0.5 + 0.25, b)).prefetch(keras.utils.AUTOTUNE))
model = make_model()
model.fit(pipeline, epochs=2, verbose=0)
arrays["weights_pipeline"] = np.concatenate([w.ravel() for w in model.get_weights()])
mapped = ds.map(lambda a, b: (keras.ops.flip(a, axis=2) / 255.0, b)).prefetch(keras.utils.AUTOTUNE)
model = make_model()
model.fit(mapped, epochs=2, verbose=0)
arrays["weights_folder_mapped"] = np.concatenate([w.ravel() for w in model.get_weights()])

# 5. Callbacks that decide: they must decide alike on every process.
model = make_model()
stopper = keras.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=10.0)
plateau = keras.callbacks.ReduceLROnPlateau(monitor="loss", patience=0, min_delta=10.0, factor=0.5)
checkpoint = keras.callbacks.ModelCheckpoint(os.path.join(out_dir, "ckpt_{epoch:02d}.keras"))
hist = model.fit(x, y, batch_size=20, epochs=5, shuffle=False, verbose=0, callbacks=[stopper, plateau, checkpoint])
results["early_stopping_epochs"] = len(hist.history["loss"])
results["learning_rate"] = float(model.optimizer.learning_rate)

# 6. Saving and loading: one writer, every process reads.
path = os.path.join(out_dir, "model.keras")
model.save(path)
restored = keras.models.load_model(path)
arrays["reloaded_predict"] = restored.predict(x[:10], verbose=0)
arrays["saved_model_predict"] = model.predict(x[:10], verbose=0)

# 7. BackupAndRestore: interrupted after epoch 2, run again, ends where an
#    uninterrupted fit ends.
class Interrupt(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:
            raise RuntimeError("interrupted")


backup = os.path.join(out_dir, "backup")
model = make_model()
try:
    model.fit(x, y, batch_size=20, epochs=4, verbose=0, callbacks=[keras.callbacks.BackupAndRestore(backup), Interrupt()])
except RuntimeError as e:
    results["interrupted"] = str(e)
model = make_model()
hist = model.fit(x, y, batch_size=20, epochs=4, verbose=0, callbacks=[keras.callbacks.BackupAndRestore(backup, delete_checkpoint=False)])
results["resumed_epochs"] = len(hist.history["loss"])
arrays["weights_resumed"] = np.concatenate([w.ravel() for w in model.get_weights()])
model = make_model()
model.fit(x, y, batch_size=20, epochs=4, verbose=0)
arrays["weights_uninterrupted"] = np.concatenate([w.ravel() for w in model.get_weights()])

# 8. A batch size the processes cannot split evenly.
try:
    make_model().fit(x, y, batch_size=15 if world == 2 else 16, epochs=1, verbose=0)
    results["odd_batch_error"] = None
except ValueError as e:
    results["odd_batch_error"] = str(e)

# 9. A callback that stops on one process only: every process stops at the
#    same batch (the decision is shared), none waits for the others forever.
class StopOnRankLast(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if rank == world - 1 and batch == 2:
            self.model.stop_training = True


model = make_model()
counter = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: results.setdefault("batches_run", []).append(batch))
model.fit(x, y, batch_size=10, epochs=3, verbose=0, callbacks=[StopOnRankLast(), counter])
results["batch_logs_loss"] = float(model.history.history["loss"][-1])


# 10. A subclassed model, BatchNormalization, validation from a DataLoader.
class Net(keras.Model):
    def __init__(self):
        super().__init__()
        self.conv = Conv2D(4, 3)
        self.norm = keras.layers.BatchNormalization()
        self.flatten = Flatten()
        self.out = Dense(5, activation="softmax")

    def call(self, inputs, training=False):
        return self.out(self.flatten(keras.ops.relu(self.norm(self.conv(inputs), training=training))))


keras.utils.set_random_seed(11 + rank)  # different initial draws on purpose: rank 0's win
net = Net()
net.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
val_loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(tx[:30], ty[:30]), batch_size=10)
hist = net.fit(x, y, batch_size=20, epochs=2, verbose=0, validation_data=val_loader)
results["subclassed_val_loss"] = hist.history["val_loss"]
arrays["weights_subclassed"] = np.concatenate([w.ravel() for w in net.get_weights()])

# 11. Batches smaller than the number of processes (33 samples in batches of
#     16: the last holds one sample, so one process gets none), from arrays,
#     a Dataset and a generator without steps; a loss summed over the batch and
#     an activity regularizer (each weighted right across processes).
def small_model(**kwargs):
    keras.utils.set_random_seed(5)
    model = keras.Sequential([Input((4,)), Dense(3, activation="relu", activity_regularizer=keras.regularizers.L1(0.05)), Dense(2)])
    model.compile(optimizer="sgd", loss=keras.losses.MeanSquaredError(**kwargs), metrics=["mae"])
    return model


xs = rng.random((33, 4)).astype("float32")
ys = rng.random((33, 2)).astype("float32")
for name, kwargs in (("mean", {}), ("sum", {"reduction": "sum"})):
    model = small_model(**kwargs)
    hist = model.fit(xs, ys, batch_size=16, epochs=2, shuffle=False, verbose=0)
    results[f"tiny_{name}_loss"] = hist.history["loss"]
    results[f"tiny_{name}_evaluate"] = model.evaluate(xs, ys, batch_size=16, verbose=0, return_dict=True)
    arrays[f"weights_tiny_{name}"] = np.concatenate([w.ravel() for w in model.get_weights()])
model = small_model()
model.fit(torch.utils.data.TensorDataset(torch.from_numpy(xs), torch.from_numpy(ys)), batch_size=16, epochs=2, verbose=0)
arrays["weights_tiny_dataset"] = np.concatenate([w.ravel() for w in model.get_weights()])


def tiny_batches():
    for i in range(0, 33, 16):
        yield xs[i:i + 16], ys[i:i + 16]


model = small_model()
model.fit(tiny_batches(), epochs=1, verbose=0)  # no steps_per_epoch: until the generator ends
arrays["weights_tiny_generator"] = np.concatenate([w.ravel() for w in model.get_weights()])
arrays["predict_tiny"] = model.predict(xs, batch_size=16, verbose=0)

flat = keras.Sequential([Input((2, 2)), keras.layers.Flatten(), Dense(2, activation="softmax")])
flat.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
flat.fit(xs.reshape(33, 2, 2), (ys[:, 0] > 0.5).astype("int64"), batch_size=16, epochs=1, shuffle=False, verbose=0,
         class_weight={0: 1.0, 1: 2.0})  # Flatten and class weights on an empty piece
arrays["weights_tiny_flatten"] = np.concatenate([w.ravel() for w in flat.get_weights()])
backup_dir = os.path.join(out_dir, "backup_deleted")
flat.fit(xs.reshape(33, 2, 2), (ys[:, 0] > 0.5).astype("int64"), batch_size=16, epochs=1, verbose=0,
         callbacks=[keras.callbacks.BackupAndRestore(backup_dir)])
results["backup_left_after_fit"] = os.path.exists(backup_dir)  # gone on every process when fit returns

# 12. Callback messages: printed once.
model = small_model()
model.fit(xs, ys, batch_size=16, epochs=3, verbose=0,
          callbacks=[keras.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=10.0, verbose=1)])

with open(os.path.join(out_dir, f"rank{rank}.json"), "w") as f:
    json.dump(results, f)
np.savez(os.path.join(out_dir, f"rank{rank}.npz"), **arrays)
