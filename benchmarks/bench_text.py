"""Strings/s through TextVectorization: ``adapt`` (learn the vocabulary) and
calls (strings -> padded int ids, batch by batch), kerasish vs the same work
written plainly in Python (``re``, ``collections.Counter``, dict lookups, a
numpy array of ids): standardize ``lower_and_strip_punctuation``, split on
whitespace, a vocabulary of the ``max_tokens`` most frequent tokens, int
output padded / truncated to ``--length``. The reference's vocabulary and ids
are checked equal to kerasish's before timing. Interleaved rounds, medians.

Keras 3's TextVectorization runs on TensorFlow (tf.strings and tf lookup
tables, whatever the backend), which kerasish does not use, so it is not in
this race.

Text: ``--reviews`` generated reviews of 100-300 words drawn from a Zipf
vocabulary (exponent 1.1), with capitals and punctuation to strip.

    .venv/bin/python benchmarks/bench_text.py [--reviews 20000] [--rounds 5] [--batch 256]
"""

import argparse
import re
import statistics
import time
from collections import Counter

import numpy as np
import torch

# string.punctuation, as Keras's "strip_punctuation" regex
PUNCTUATION = re.compile(r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']')


def make_reviews(n, vocab=30000, seed=0):
    """``n`` strings of 100-300 Zipf-distributed words, some capitalized, some punctuation."""
    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    words = {"".join(rng.choice(letters, rng.integers(2, 10))) for _ in range(vocab)}
    words = np.array(sorted(words))
    p = 1.0 / np.arange(1, len(words) + 1) ** 1.1
    p /= p.sum()
    words = words[rng.permutation(len(words))]  # frequency unrelated to spelling
    lengths = rng.integers(100, 301, n)
    drawn = words[rng.choice(len(words), int(lengths.sum()), p=p)].tolist()
    marks = rng.random(len(drawn))
    for i in np.flatnonzero(marks < 0.05):
        drawn[i] = drawn[i].capitalize()
    for i in np.flatnonzero(marks > 0.93):
        drawn[i] += ",." [i % 2]
    out, start = [], 0
    for k in lengths.tolist():
        out.append(" ".join(drawn[start:start + k]) + "!")
        start += k
    return out


def ref_tokens(text):
    return PUNCTUATION.sub("", text.lower()).split()


def ref_adapt(texts, max_tokens):
    """{token: id}: 0 padding, 1 OOV, then the most frequent (ties: greater token first, as Keras)."""
    counts = Counter()
    for text in texts:
        counts.update(ref_tokens(text))
    ranked = sorted(counts.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)[:max_tokens - 2]
    return {token: i for i, (token, _) in enumerate(ranked, start=2)}


def ref_call(texts, index, length):
    out = np.zeros((len(texts), length), dtype=np.int64)
    for i, text in enumerate(texts):
        ids = [index.get(t, 1) for t in ref_tokens(text)[:length]]
        out[i, :len(ids)] = ids
    return torch.from_numpy(out)


def batches(texts, size):
    return [texts[i:i + size] for i in range(0, len(texts), size)]


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def run(args):
    """{(who, what): [strings/s per round]} for who in ours/ref, what in adapt/call."""
    from kerasish.layers.preprocessing.text_vectorization import TextVectorization

    texts = make_reviews(args.reviews)
    chunks = batches(texts, args.batch)
    layer = TextVectorization(max_tokens=args.max_tokens, output_mode="int", output_sequence_length=args.length)

    def ours_adapt():
        layer.adapt(texts, batch_size=args.batch)

    def ours_call():
        return [layer(c) for c in chunks]

    def ref_calls(index):
        return [ref_call(c, index, args.length) for c in chunks]

    # the same answers first: a race between different computations means nothing
    ours_adapt()
    index = ref_adapt(texts, args.max_tokens)
    vocab = layer.get_vocabulary()
    assert vocab[2:] == list(index), "the vocabularies differ"
    assert all(torch.equal(a, b) for a, b in zip(ours_call(), ref_calls(index))), "the ids differ"

    speeds = {(who, what): [] for who in ("ours", "ref") for what in ("adapt", "call")}
    for _ in range(args.rounds):  # interleaved: load drifts hit both sides alike
        speeds["ours", "adapt"].append(len(texts) / timed(ours_adapt)[0])
        speeds["ref", "adapt"].append(len(texts) / timed(lambda: ref_adapt(texts, args.max_tokens))[0])
        speeds["ours", "call"].append(len(texts) / timed(ours_call)[0])
        speeds["ref", "call"].append(len(texts) / timed(lambda: ref_calls(index))[0])
    return speeds


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reviews", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--max-tokens", type=int, default=20000)
    ap.add_argument("--length", type=int, default=200)
    args = ap.parse_args()
    speeds = run(args)
    print(f"{args.reviews} reviews of 100-300 Zipf words, max_tokens {args.max_tokens}, int ids padded to {args.length}, "
          f"batches of {args.batch}, medians of {args.rounds} rounds")
    for what, label in (("adapt", "adapt (vocabulary)"), ("call", "call (strings -> ids)")):
        ours, ref = statistics.median(speeds["ours", what]), statistics.median(speeds["ref", what])
        print(f"{label}:")
        print(f"  kerasish TextVectorization: {ours:10.0f} strings/s")
        print(f"  plain Python (re, Counter): {ref:10.0f} strings/s")
        print(f"  ratio: {ours / ref:.2f}x")


if __name__ == "__main__":
    main()
