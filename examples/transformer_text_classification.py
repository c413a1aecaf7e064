"""keras.io "Text classification with Transformer" (Apoorv Nandan), in kerasish.

The script's model: token ids -> ``TokenAndPositionEmbedding`` (a token
Embedding plus a position Embedding) -> ``TransformerBlock``
(MultiHeadAttention, Dropout, residual + LayerNormalization, a ReLU
feed-forward network, Dropout, residual + LayerNormalization) ->
GlobalAveragePooling1D -> Dropout -> Dense(20, relu) -> Dropout ->
Dense(2, softmax); Adam, sparse categorical crossentropy, accuracy.

No download: instead of ``keras.datasets.imdb`` the reviews are generated
(seeded) in its format, lists of word ids with 0/1 labels, where a positive
review draws a quarter of its words from one band of ids and a negative one
from another; they are padded to ``maxlen`` with ``keras.utils.pad_sequences``
as in the original. The original's sizes (vocabulary 20,000, 200 words,
embedding 32, 2 heads, feed-forward 32, 2 epochs of 25,000 reviews) are the
defaults except the number of reviews.

``make_model(keras, ...)`` holds the script's lines as a function of the
library, so that tests build the same model with Keras 3 and compare.

Run: ``python examples/transformer_text_classification.py [--reviews 2000] [--epochs 2]``
(``--vocab-size`` / ``--maxlen`` / ``--embed-dim`` / ``--heads`` / ``--ff-dim`` size the model).
"""

import argparse

import numpy as np

import kerasish


def make_layers(keras):
    """The script's two custom layers, subclassing ``keras.layers.Layer``
    (``keras`` is ``kerasish`` or Keras 3)."""
    layers, ops = keras.layers, keras.ops

    class TransformerBlock(layers.Layer):
        """(batch, steps, embed_dim) -> same shape: self-attention then a feed-forward net."""

        def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1, **kwargs):
            super().__init__(**kwargs)
            self.embed_dim, self.num_heads, self.ff_dim, self.rate = embed_dim, num_heads, ff_dim, rate
            self.att = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
            self.ffn = keras.Sequential([layers.Dense(ff_dim, activation="relu"), layers.Dense(embed_dim)])
            self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
            self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
            self.dropout1 = layers.Dropout(rate)
            self.dropout2 = layers.Dropout(rate)

        def call(self, inputs):
            attn_output = self.att(inputs, inputs)
            attn_output = self.dropout1(attn_output)
            out1 = self.layernorm1(inputs + attn_output)
            ffn_output = self.ffn(out1)
            ffn_output = self.dropout2(ffn_output)
            return self.layernorm2(out1 + ffn_output)

        def get_config(self):
            return {**super().get_config(), "embed_dim": self.embed_dim, "num_heads": self.num_heads,
                    "ff_dim": self.ff_dim, "rate": self.rate}

    class TokenAndPositionEmbedding(layers.Layer):
        """(batch, steps) ids -> (batch, steps, embed_dim): token plus position embeddings."""

        def __init__(self, maxlen, vocab_size, embed_dim, **kwargs):
            super().__init__(**kwargs)
            self.maxlen, self.vocab_size, self.embed_dim = maxlen, vocab_size, embed_dim
            self.token_emb = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
            self.pos_emb = layers.Embedding(input_dim=maxlen, output_dim=embed_dim)

        def call(self, x):
            maxlen = ops.shape(x)[-1]
            positions = ops.arange(start=0, stop=maxlen, step=1)
            positions = self.pos_emb(positions)
            x = self.token_emb(x)
            return x + positions

        def get_config(self):
            return {**super().get_config(), "maxlen": self.maxlen, "vocab_size": self.vocab_size,
                    "embed_dim": self.embed_dim}

    return TransformerBlock, TokenAndPositionEmbedding


def make_model(keras, vocab_size=20000, maxlen=200, embed_dim=32, num_heads=2, ff_dim=32):
    """The script's classifier built with ``keras`` (``kerasish`` or Keras 3):
    (batch, maxlen) ids -> (batch, 2) class probabilities."""
    layers = keras.layers
    TransformerBlock, TokenAndPositionEmbedding = make_layers(keras)
    inputs = layers.Input(shape=(maxlen,))
    embedding_layer = TokenAndPositionEmbedding(maxlen, vocab_size, embed_dim)
    x = embedding_layer(inputs)
    transformer_block = TransformerBlock(embed_dim, num_heads, ff_dim)
    x = transformer_block(x)
    x = layers.GlobalAveragePooling1D()(x)
    x = layers.Dropout(0.1)(x)
    x = layers.Dense(20, activation="relu")(x)
    x = layers.Dropout(0.1)(x)
    outputs = layers.Dense(2, activation="softmax")(x)
    return keras.Model(inputs=inputs, outputs=outputs)


def make_reviews(reviews, vocab_size, seed=0):
    """IMDB-like reviews: an object array of word-id lists (ids 1 ..
    vocab_size - 1, variable length) and 0/1 labels. A quarter of a review's
    words come from a band of ids that its label selects."""
    rng = np.random.default_rng(seed)
    band = max(vocab_size // 20, 1)
    labels = rng.integers(0, 2, reviews)
    seqs = np.empty(reviews, dtype=object)
    for i, label in enumerate(labels):
        length = int(rng.integers(20, 300))
        words = 1 + rng.zipf(1.3, length) % (vocab_size - 1 - 2 * band)
        cue = rng.random(length) < 0.25
        words[cue] = vocab_size - 2 * band + band * label + rng.integers(0, band, cue.sum())
        seqs[i] = [int(w) for w in words]
    return seqs, labels.astype("int64")


def main(argv=None):
    """Runs the script; returns the ``History`` of ``fit``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reviews", type=int, default=2000, help="generated reviews per split")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--vocab-size", type=int, default=20000, help="Only consider the top 20k words")
    parser.add_argument("--maxlen", type=int, default=200, help="Only consider the first 200 words of each review")
    parser.add_argument("--embed-dim", type=int, default=32, help="Embedding size for each token")
    parser.add_argument("--heads", type=int, default=2, help="Number of attention heads")
    parser.add_argument("--ff-dim", type=int, default=32, help="Hidden layer size in feed forward network")
    args = parser.parse_args(argv)
    if args.vocab_size < 4:
        parser.error(f"--vocab-size must be at least 4, got {args.vocab_size}")
    keras = kerasish

    keras.utils.set_random_seed(0)
    (x_train, y_train), (x_val, y_val) = (make_reviews(args.reviews, args.vocab_size, seed=0),
                                          make_reviews(args.reviews, args.vocab_size, seed=1))
    print(len(x_train), "Training sequences")
    print(len(x_val), "Validation sequences")
    x_train = keras.utils.pad_sequences(x_train, maxlen=args.maxlen)
    x_val = keras.utils.pad_sequences(x_val, maxlen=args.maxlen)

    model = make_model(keras, vocab_size=args.vocab_size, maxlen=args.maxlen, embed_dim=args.embed_dim,
                       num_heads=args.heads, ff_dim=args.ff_dim)
    model.summary()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
                        validation_data=(x_val, y_val))
    return history


if __name__ == "__main__":
    main()
