"""keras.io "Bidirectional LSTM on IMDB" (fchollet), in kerasish.

The script of keras.io: integer sequences -> Embedding(20000, 128) -> two
Bidirectional(LSTM(64)) -> Dense(1, sigmoid), on ``keras.datasets.imdb``
padded to 200 words with ``keras.utils.pad_sequences``, Adam, binary
crossentropy, 2 epochs.

No download by default: a small ``imdb.npz`` in the original format (numpy
object arrays of word-id lists, keys x_train / y_train / x_test / y_test;
positive reviews use some words more often) is written to a temporary folder
and served as the dataset's source with its own sha256, and ``KERASISH_HOME``
points at a temporary cache, so ``keras.datasets.imdb.load_data`` runs its
whole download-check-cache-read path as in the original, on that file. With
``--download`` the real 25,000 + 25,000 reviews are fetched (~17 MB) into the
usual cache.

Run: ``python examples/text_classification_lstm.py [--reviews 2000] [--epochs 2]``
(``--max-features`` / ``--maxlen`` / ``--embedding-dim`` / ``--units`` shrink
the model; the defaults are the original's).
"""

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np

import kerasish as keras
from kerasish import layers
from kerasish.datasets import _download
from kerasish.utils.file_utils import hash_file

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--download", action="store_true", help="the real IMDB file instead of the generated one")
parser.add_argument("--reviews", type=int, default=2000, help="generated reviews per split")
parser.add_argument("--epochs", type=int, default=2)
parser.add_argument("--max-features", type=int, default=20000)
parser.add_argument("--maxlen", type=int, default=200)
parser.add_argument("--embedding-dim", type=int, default=128)
parser.add_argument("--units", type=int, default=64)
args = parser.parse_args()


def write_small_imdb(path, reviews, vocabulary, rng):
    """An ``imdb.npz`` as Keras's file is: object arrays of word-id lists
    (ids before ``index_from``: 1 is the most frequent word) and 0/1 labels.
    A positive review draws a quarter of its words from one band of ids, a
    negative one from another; the rest is shared."""
    def split():
        labels = rng.integers(0, 2, reviews)
        seqs = np.empty(reviews, dtype=object)
        for i, label in enumerate(labels):
            length = int(rng.integers(20, 300))
            words = 1 + rng.zipf(1.3, length) % (vocabulary - 201)
            cue = rng.random(length) < 0.25
            words[cue] = vocabulary - 200 + 100 * label + rng.integers(0, 100, cue.sum())
            seqs[i] = [int(w) for w in words]
        return seqs, labels

    (x_train, y_train), (x_test, y_test) = split(), split()
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)


if not args.download:
    workdir = tempfile.TemporaryDirectory(prefix="imdb_example_")  # removed when the script ends
    work = Path(workdir.name)
    os.environ["KERASISH_HOME"] = str(work / "home")  # a fresh cache: the file is "downloaded" once
    source = work / "imdb.npz"
    write_small_imdb(source, args.reviews, args.max_features - 3, np.random.default_rng(0))
    # A mirror of the dataset: the file's URL and checksum (the download tables are read at call time).
    _download.ORIGINS["imdb.npz"] = source.as_uri()
    _download.CHECKSUMS["imdb.npz"] = ("sha256", hash_file(str(source), "sha256"))

"""
## Setup
"""

max_features = args.max_features  # Only consider the top 20k words
maxlen = args.maxlen  # Only consider the first 200 words of each movie review

"""
## Build the model
"""

keras.utils.set_random_seed(0)
# Input for variable-length sequences of integers
inputs = keras.Input(shape=(None,), dtype="int32")
# Embed each integer in a 128-dimensional vector
x = layers.Embedding(max_features, args.embedding_dim)(inputs)
# Add 2 bidirectional LSTMs
x = layers.Bidirectional(layers.LSTM(args.units, return_sequences=True))(x)
x = layers.Bidirectional(layers.LSTM(args.units))(x)
# Add a classifier
outputs = layers.Dense(1, activation="sigmoid")(x)
model = keras.Model(inputs, outputs)
model.summary()

"""
## Load the IMDB movie review sentiment data
"""

(x_train, y_train), (x_val, y_val) = keras.datasets.imdb.load_data(
    num_words=max_features
)
print(len(x_train), "Training sequences")
print(len(x_val), "Validation sequences")
# Use pad_sequence to standardize sequence length:
# this will truncate sequences longer than 200 words and zero-pad sequences shorter than 200 words.
x_train = keras.utils.pad_sequences(x_train, maxlen=maxlen)
x_val = keras.utils.pad_sequences(x_val, maxlen=maxlen)
print("Padded:", x_train.shape, x_val.shape)

"""
## Train and evaluate the model
"""

model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, batch_size=32, epochs=args.epochs, validation_data=(x_val, y_val))
