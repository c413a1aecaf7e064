"""keras.io "Text classification from scratch" (Omernick, Chollet; Keras 3 version), in kerasish.

The script of keras.io: the raw IMDB reviews (``aclImdb/train`` and
``aclImdb/test``, one ``.txt`` file per review in ``pos`` / ``neg``) through
``keras.utils.get_file(extract=True)`` and
``keras.utils.text_dataset_from_directory`` (a seeded 80 / 20 split of
``train``), a custom standardization that lowercases, removes ``<br />``
tags and strips punctuation, ``TextVectorization(max_tokens,
output_mode="int", output_sequence_length)`` adapted on the text-only
dataset (``raw_train_ds.map(lambda x, y: x)``), the data vectorized with
``map(vectorize_text)`` then ``cache().prefetch()``, an Embedding + Dropout +
two strided Conv1D + GlobalMaxPooling1D + Dense model, ``fit`` for 3 epochs,
``evaluate`` on the test set.

No download here: an aclImdb-like archive (``aclImdb_v1.tar.gz``: train /
test, pos / neg / unsup ``.txt`` files with ``<br />`` tags and punctuation)
is generated and "downloaded" from a ``file://`` URL by ``get_file`` into a
``KERAS_HOME`` under the current folder. Reviews share a common vocabulary;
a positive one draws some words from a set of praise words, a negative one
from a set of complaints. What differs from the original:

* strings are Python ``str`` on the host (kerasish has no ``tf.strings``):
  ``custom_standardization`` is written with numpy string functions and
  ``re`` (same regexes), ``vectorize_text`` uses ``np.expand_dims``, and a
  batch of texts is a ``list`` (the preview prints ``text_batch[i]``);
* ``get_file(extract=True)`` returns the extraction folder (as Keras 3 does),
  so the data is under ``os.path.join(dataset_zip, "aclImdb")``; the
  original's ``os.path.dirname(dataset_zip)`` points next to it;
* the test set gets the same ``class_names=["pos", "neg"]`` as training:
  the original infers them there (alphabetical: ``neg`` = 0), which swaps
  its test labels against the training ones;
* the end-to-end model on ``keras.Input(shape=(1,), dtype="string")`` is
  the original's: the raw strings reach the adapted ``TextVectorization``
  as a numpy array, on the host, and its ids go to the trained model on
  its device. Its ``evaluate(raw_test_ds)`` result is printed, and it
  predicts on two raw reviews.

The original's sizes are the defaults (20,000 tokens, 128-d embeddings,
500-token sequences, 3 epochs) on 1,000 generated reviews per class and
split (IMDB: 12,500). Run: ``python examples/text_classification_from_scratch.py``
(``--reviews`` / ``--max-features`` / ``--embedding-dim`` /
``--sequence-length`` / ``--epochs`` shrink it).
"""

import argparse
import os
import re
import shutil
import string
import tarfile
from pathlib import Path

import numpy as np

import kerasish as keras
from kerasish import layers

PRAISE = "great wonderful excellent superb loved brilliant moving beautiful masterpiece delightful".split()
COMPLAINTS = "awful boring terrible worst waste dull poorly mess disappointing stupid".split()
FILLER = [f"{a}{b}" for a in ("the", "film", "movie", "actor", "plot", "scene", "story", "music")
          for b in ("", "s", "ing", "ed", "er", "ly", "ness", "al")]


def write_aclimdb_archive(path, reviews, rng):
    """An ``aclImdb_v1.tar.gz`` as the real one is laid out: ``aclImdb/train``
    and ``aclImdb/test`` with ``pos`` / ``neg`` folders of ``<id>_<rating>.txt``
    files, and ``aclImdb/train/unsup``. A review mixes filler words with a
    few praise (pos) or complaint (neg) words, in any case, with punctuation
    and ``<br />`` tags that the custom standardization must remove."""
    staging = Path(path).with_suffix("").with_suffix("") / "aclImdb"
    for split in ("train", "test"):
        for label, folder in enumerate(("neg", "pos", "unsup")):
            if folder == "unsup" and split == "test":
                continue
            out = staging / split / folder
            out.mkdir(parents=True, exist_ok=True)
            for i in range(reviews):
                words = list(rng.choice(FILLER, size=int(rng.integers(15, 60))))
                cues = PRAISE if label == 1 else COMPLAINTS if label == 0 else PRAISE + COMPLAINTS
                for pos in rng.integers(0, len(words), size=int(rng.integers(3, 8))):
                    cue = str(rng.choice(cues))
                    words[pos] = cue.capitalize() + rng.choice(["!", ".", ",", ""]) if rng.random() < 0.5 else cue
                for pos in rng.integers(0, len(words), size=2):
                    words[pos] += rng.choice([".<br /><br />", ", ", "... "])
                rating = int(rng.integers(7, 11) if label == 1 else rng.integers(1, 5) if label == 0 else 0)
                (out / f"{i}_{rating}.txt").write_text(" ".join(words) + ".", encoding="utf-8")
    with tarfile.open(path, "w:gz") as tar:
        tar.add(staging, arcname="aclImdb")
    shutil.rmtree(staging.parent)


"""
## Prepare the data
"""


# Having looked at our data above, we see that the raw text contains HTML break
# tags of the form '<br />'. These tags will not be removed by the default
# standardizer (which doesn't strip HTML). Because of this, we will need to
# create a custom standardization function. (kerasish: the input is a numpy
# array of str; the original's tf.strings calls become numpy / re ones.)
def custom_standardization(input_data):
    lowercase = np.char.lower(input_data)
    stripped_html = np.char.replace(lowercase, "<br />", " ")
    punctuation = re.compile(f"[{re.escape(string.punctuation)}]")
    return np.vectorize(lambda s: punctuation.sub("", s), otypes=[str])(stripped_html)


"""
## Build a model

We choose a simple 1D convnet starting with an `Embedding` layer. (Here a
function of the sizes, so that tests build it in Keras 3 too.)
"""


def make_model(max_features, embedding_dim):
    # A integer input for vocab indices.
    inputs = keras.Input(shape=(None,), dtype="int64")

    # Next, we add a layer to map those vocab indices into a space of dimensionality
    # 'embedding_dim'.
    x = layers.Embedding(max_features, embedding_dim)(inputs)
    x = layers.Dropout(0.5)(x)

    # Conv1D + global max pooling
    x = layers.Conv1D(128, 7, padding="valid", activation="relu", strides=3)(x)
    x = layers.Conv1D(128, 7, padding="valid", activation="relu", strides=3)(x)
    x = layers.GlobalMaxPooling1D()(x)

    # We add a vanilla hidden layer:
    x = layers.Dense(128, activation="relu")(x)
    x = layers.Dropout(0.5)(x)

    # We project onto a single unit output layer, and squash it with a sigmoid:
    predictions = layers.Dense(1, activation="sigmoid", name="predictions")(x)

    return keras.Model(inputs, predictions)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reviews", type=int, default=1000, help="reviews per class and split (IMDB: 12500)")
    parser.add_argument("--max-features", type=int, default=20000)
    parser.add_argument("--embedding-dim", type=int, default=128)
    parser.add_argument("--sequence-length", type=int, default=500)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args(argv)

    keras.utils.set_random_seed(1337)  # the original is unseeded; seeded here so runs repeat
    archive = os.path.abspath("aclImdb_v1.tar.gz")
    write_aclimdb_archive(archive, args.reviews, np.random.default_rng(0))
    os.environ["KERAS_HOME"] = os.path.abspath("keras_home")  # get_file's cache, here, not in ~/.keras
    dataset_url = Path(archive).as_uri()

    """
    ## Load the data: IMDB movie review sentiment classification
    """

    dataset_zip = keras.utils.get_file(
        "aclImdb_v1.tar.gz",
        dataset_url,
        extract=True,
    )
    # get_file returns the folder the archive was extracted into
    dataset_dir = os.path.join(dataset_zip, "aclImdb")
    print(sorted(os.listdir(dataset_dir)))
    print(sorted(os.listdir(os.path.join(dataset_dir, "train"))))

    # We are only interested in the `pos` and `neg` subfolders (rm -r aclImdb/train/unsup)
    shutil.rmtree(os.path.join(dataset_dir, "train", "unsup"))

    batch_size = 32
    train_dir = os.path.join(dataset_dir, "train")
    test_dir = os.path.join(dataset_dir, "test")

    raw_train_ds = keras.utils.text_dataset_from_directory(
        train_dir,
        batch_size=batch_size,
        validation_split=0.2,
        subset="training",
        seed=1337,
        class_names=["pos", "neg"],
    )
    raw_val_ds = keras.utils.text_dataset_from_directory(
        train_dir,
        batch_size=batch_size,
        validation_split=0.2,
        subset="validation",
        seed=1337,
        class_names=["pos", "neg"],
    )
    raw_test_ds = keras.utils.text_dataset_from_directory(test_dir, batch_size=batch_size, class_names=["pos", "neg"])

    print(f"Number of batches in raw_train_ds: {raw_train_ds.cardinality()}")
    print(f"Number of batches in raw_val_ds: {raw_val_ds.cardinality()}")
    print(f"Number of batches in raw_test_ds: {raw_test_ds.cardinality()}")

    # It's important to take a look at your raw data to ensure your normalization
    # and tokenization will work as expected. (kerasish: a batch of texts is a list of str.)
    for text_batch, label_batch in raw_train_ds.take(1):
        for i in range(5):
            print(text_batch[i])
            print(label_batch.numpy()[i])

    # Model constants.
    max_features = args.max_features
    embedding_dim = args.embedding_dim
    sequence_length = args.sequence_length

    # Now that we have our custom standardization, we can instantiate our text
    # vectorization layer. We are using this layer to normalize, split, and map
    # strings to integers, so we set our 'output_mode' to 'int'.
    # Note that we're using the default split function,
    # and the custom standardization defined above.
    # We also set an explicit maximum sequence length, since the CNNs later in our
    # model won't support ragged sequences.
    vectorize_layer = keras.layers.TextVectorization(
        standardize=custom_standardization,
        max_tokens=max_features,
        output_mode="int",
        output_sequence_length=sequence_length,
    )

    # Let's make a text-only dataset (no labels):
    text_ds = raw_train_ds.map(lambda x, y: x)
    # Let's call `adapt`:
    vectorize_layer.adapt(text_ds)
    print(f"Vocabulary size: {vectorize_layer.vocabulary_size()}")

    """
    ## Two options to vectorize the data: option 2, apply it to the text dataset
    """

    def vectorize_text(text, label):
        text = np.expand_dims(text, -1)  # a numpy array of str (the original: tf.expand_dims)
        return vectorize_layer(text), label

    # Vectorize the data.
    train_ds = raw_train_ds.map(vectorize_text)
    val_ds = raw_val_ds.map(vectorize_text)
    test_ds = raw_test_ds.map(vectorize_text)

    # Do async prefetching / buffering of the data for best performance on GPU.
    train_ds = train_ds.cache().prefetch(buffer_size=10)
    val_ds = val_ds.cache().prefetch(buffer_size=10)
    test_ds = test_ds.cache().prefetch(buffer_size=10)

    """
    ## Build a model
    """

    model = make_model(max_features, embedding_dim)

    # Compile the model with binary crossentropy loss and an adam optimizer.
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])

    """
    ## Train the model
    """

    epochs = args.epochs

    # Fit the model using the train and test datasets.
    model.fit(train_ds, validation_data=val_ds, epochs=epochs)

    """
    ## Evaluate the model on the test set
    """

    test_loss, test_acc = model.evaluate(test_ds)
    print(f"Test accuracy: {test_acc:.4f}")

    """
    ## Make an end-to-end model

    If you want to obtain a model capable of processing raw strings, you can simply
    create a new model (using the weights we just trained):
    """

    # A string input
    inputs = keras.Input(shape=(1,), dtype="string")
    # Turn strings into vocab indices
    indices = vectorize_layer(inputs)
    # Turn vocab indices into predictions
    outputs = model(indices)

    # Our end to end model
    end_to_end_model = keras.Model(inputs, outputs)
    end_to_end_model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])

    # Test it with `raw_test_ds`, which yields raw strings
    e2e_loss, e2e_acc = end_to_end_model.evaluate(raw_test_ds)
    print(f"End-to-end accuracy on raw strings: {e2e_acc:.4f}")
    scores = end_to_end_model.predict(np.array([["A wonderful, brilliant movie!"], ["Awful. Boring and stupid."]]), verbose=0)
    print(f"End-to-end predictions: {scores[0, 0]:.4f} {scores[1, 0]:.4f}")


if __name__ == "__main__":
    main()
