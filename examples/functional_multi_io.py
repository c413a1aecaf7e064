"""The multi-input, multi-output model of keras.io's "The Functional API" guide.

A ticket-ranking system: from a ticket's title (a sequence of word ids), its
body (another) and its tags (a binary vector), predict its priority (one
logit) and the department that should handle it (four logits). Each text goes
through its own Embedding(num_words, 64) and LSTM (128 for the title, 32 for
the body); the two summaries and the tags are concatenated and feed two Dense
heads named ``priority`` and ``department``. It is compiled twice as in the
guide (a list of losses with ``loss_weights=[1.0, 0.2]``, then the same as
dicts keyed by output name) and fit on dicts of dummy arrays.

``make_model(keras)`` holds the guide's lines; it is a function of the library
so that tests build the same model with Keras 3 and compare.

Run: ``python examples/functional_multi_io.py [--samples 1280] [--epochs 2]``
"""

import argparse

import numpy as np

import kerasish


def make_model(keras, num_tags=12, num_words=10000, num_departments=4):
    """The guide's model, built with ``keras`` (``kerasish`` or Keras 3)."""
    layers = keras.layers
    title_input = keras.Input(shape=(None,), name="title")  # Variable-length sequence of ints
    body_input = keras.Input(shape=(None,), name="body")  # Variable-length sequence of ints
    tags_input = keras.Input(shape=(num_tags,), name="tags")  # Binary vectors of size `num_tags`

    # Embed each word in the title into a 64-dimensional vector
    title_features = layers.Embedding(num_words, 64)(title_input)
    # Embed each word in the text into a 64-dimensional vector
    body_features = layers.Embedding(num_words, 64)(body_input)

    # Reduce sequence of embedded words in the title into a single 128-dimensional vector
    title_features = layers.LSTM(128)(title_features)
    # Reduce sequence of embedded words in the body into a single 32-dimensional vector
    body_features = layers.LSTM(32)(body_features)

    # Merge all available features into a single large vector via concatenation
    x = layers.concatenate([title_features, body_features, tags_input])

    # Stick a logistic regression for priority prediction on top of the features
    priority_pred = layers.Dense(1, name="priority")(x)
    # Stick a department classifier on top of the features
    department_pred = layers.Dense(num_departments, name="department")(x)

    # Instantiate an end-to-end model predicting both priority and department
    return keras.Model(
        inputs=[title_input, body_input, tags_input],
        outputs={"priority": priority_pred, "department": department_pred},
    )


def dummy_data(samples, num_tags=12, num_words=10000, num_departments=4, seed=0):
    """The guide's dummy inputs and targets (seeded)."""
    rng = np.random.RandomState(seed)
    title_data = rng.randint(num_words, size=(samples, 10))
    body_data = rng.randint(num_words, size=(samples, 100))
    tags_data = rng.randint(2, size=(samples, num_tags)).astype("float32")
    priority_targets = rng.random_sample(size=(samples, 1))
    dept_targets = rng.randint(2, size=(samples, num_departments))
    return (title_data, body_data, tags_data), (priority_targets, dept_targets)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1280)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    keras = kerasish

    keras.utils.set_random_seed(0)
    model = make_model(keras)
    model.summary()
    keras.utils.plot_model(model, "multi_input_and_output_model.png", show_shapes=True)

    # Losses as a list, in the order of the outputs.
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss=[
            keras.losses.BinaryCrossentropy(from_logits=True),
            keras.losses.CategoricalCrossentropy(from_logits=True),
        ],
        loss_weights=[1.0, 0.2],
    )

    # Since the output layers have different names, the losses can be given as dicts.
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss={
            "priority": keras.losses.BinaryCrossentropy(from_logits=True),
            "department": keras.losses.CategoricalCrossentropy(from_logits=True),
        },
        loss_weights={"priority": 1.0, "department": 0.2},
    )

    (title_data, body_data, tags_data), (priority_targets, dept_targets) = dummy_data(args.samples)
    history = model.fit(
        {"title": title_data, "body": body_data, "tags": tags_data},
        {"priority": priority_targets, "department": dept_targets},
        epochs=args.epochs,
        batch_size=32,
    )
    print("loss per epoch:", " ".join(f"{v:.4f}" for v in history.history["loss"]))
    preds = model.predict({"title": title_data[:4], "body": body_data[:4], "tags": tags_data[:4]}, verbose=0)
    print("prediction shapes:", {k: tuple(v.shape) for k, v in sorted(preds.items())})


if __name__ == "__main__":
    main()
