"""kerasish.ops.signal (extract_sequences, stft, istft) and kerasish.ops.ctc
(ctc_loss, ctc_decode) against keras.ops on the same inputs."""

import numpy as np
import pytest
import torch

from kerasish.ops.ctc import ctc_decode, ctc_loss
from kerasish.ops.signal import extract_sequences, istft, stft
from tests.conftest import assert_close_f32
from tests.test_ops import check

R = np.random.default_rng(7)
SIG = R.normal(size=(37,)).astype("float32")  # odd length
SIG_B = R.normal(size=(2, 3, 41)).astype("float32")  # two batch axes, odd length
WIN = (R.random(7) + 0.5).astype("float32")

B, T, C = 3, 8, 5
LOGITS = R.normal(size=(B, T, C)).astype("float32")
OUT_LEN = np.array([8, 6, 5], "int32")


# -- extract_sequences ------------------------------------------------------
def test_extract_sequences(keras):
    check(keras, "extract_sequences", SIG, 5, 3, ours=extract_sequences)
    check(keras, "extract_sequences", SIG_B, 8, 8, ours=extract_sequences)
    check(keras, "extract_sequences", np.arange(10, dtype="int32"), 3, 2, ours=extract_sequences)
    check(keras, "extract_sequences", SIG, 37, 1, ours=extract_sequences)  # one frame of the whole signal


# -- stft -------------------------------------------------------------------
@pytest.mark.parametrize("window", ["hann", "hamming", None, "array"])
@pytest.mark.parametrize("center", [True, False])
@pytest.mark.parametrize("lengths", [(7, 3, 7), (7, 3, 10), (7, 2, 9), (7, 7, 8)])
def test_stft(keras, window, center, lengths):
    window = WIN if window == "array" else window
    check(keras, "stft", SIG, *lengths, window=window, center=center, ours=stft)
    check(keras, "stft", SIG_B, *lengths, window=window, center=center, ours=stft)


def test_stft_float64_and_defaults(keras):
    check(keras, "stft", SIG_B.astype("float64"), 16, 5, 16, ours=stft)
    real, imag = stft(torch.from_numpy(SIG), 8, 4, 8)
    assert real.dtype == imag.dtype == torch.float32 and tuple(real.shape) == (10, 5)


# -- istft ------------------------------------------------------------------
def _spectrum(keras, x, lengths, window, center):
    real, imag = keras.ops.stft(x, *lengths, window=window, center=center)
    return keras.ops.convert_to_numpy(real), keras.ops.convert_to_numpy(imag)


@pytest.mark.parametrize("window", ["hann", "hamming", None, "array"])
@pytest.mark.parametrize("center", [True, False])
@pytest.mark.parametrize("lengths", [(7, 3, 7), (7, 3, 10), (7, 2, 9)])
def test_istft(keras, window, center, lengths):
    window = WIN if window == "array" else window
    for x in (SIG, SIG_B):
        spec = _spectrum(keras, x, lengths, window, center)
        check(keras, "istft", spec, *lengths, window=window, center=center, terms=64, ours=istft)
        check(keras, "istft", spec, *lengths, length=20, window=window, center=center, terms=64, ours=istft)


@pytest.mark.parametrize("lengths", [(16, 4, 16), (15, 5, 15), (12, 3, 16)])
@pytest.mark.parametrize("window", ["hann", "hamming"])
def test_istft_round_trip(keras, lengths, window):
    x = torch.from_numpy(SIG_B)
    y = istft(stft(x, *lengths, window=window), *lengths, length=x.shape[-1], window=window)
    assert y.shape == x.shape and y.dtype == torch.float32
    if lengths[0] == lengths[2]:  # torch.istft divides by the exact window envelope: lossless
        assert_close_f32(y.numpy(), SIG_B, terms=64)
    else:  # the tf-style normalisation is exact only away from the edges
        assert_close_f32(y[..., 16:-16].numpy(), SIG_B[..., 16:-16], terms=64)


def test_istft_float64(keras):
    spec = _spectrum(keras, SIG_B.astype("float64"), (8, 2, 8), "hann", True)
    check(keras, "istft", spec, 8, 2, 8, terms=64, ours=istft)


# -- ctc_loss ---------------------------------------------------------------
def test_ctc_loss(keras):
    target = R.integers(1, C, size=(B, 4)).astype("int32")
    for target_len in ([4, 2, 1], [3, 3, 3], [1, 4, 2]):
        target_len = np.array(target_len, "int32")
        check(keras, "ctc_loss", target, LOGITS, target_len, OUT_LEN, terms=T * C, ours=ctc_loss)
    check(keras, "ctc_loss", target - 1, LOGITS, np.array([4, 2, 1], "int32"), OUT_LEN, mask_index=4,
          terms=T * C, ours=ctc_loss)


def test_ctc_loss_dtypes(keras):
    target = R.integers(1, C, size=(B, 2)).astype("int64")
    lens = np.array([2, 2, 1], "int64")
    # Keras gives float32 losses even for float64 logits.
    check(keras, "ctc_loss", target, LOGITS.astype("float64"), lens, OUT_LEN, terms=T * C, ours=ctc_loss)
    check(keras, "ctc_loss", target, LOGITS.astype("float16"), lens, OUT_LEN, terms=T * C, ours=ctc_loss)


def test_ctc_loss_impossible_alignment_is_inf(keras):
    target = np.array([[1, 1, 1]], "int32")  # needs 5 steps (blanks between repeats)
    check(keras, "ctc_loss", target, LOGITS[:1], np.array([3], "int32"), np.array([4], "int32"), ours=ctc_loss)


# -- ctc_decode -------------------------------------------------------------
@pytest.mark.parametrize("merge_repeated", [True, False])
@pytest.mark.parametrize("mask_index", [0, 2, None])
def test_ctc_decode_greedy(keras, merge_repeated, mask_index):
    check(keras, "ctc_decode", LOGITS, OUT_LEN, merge_repeated=merge_repeated, mask_index=mask_index,
          terms=T, ours=ctc_decode)


def test_ctc_decode_greedy_repeats(keras):
    # Repeated best classes, with and without a blank between them.
    x = np.full((1, 6, 3), -2.0, "float32")
    for t, c in enumerate([1, 1, 0, 1, 2, 2]):
        x[0, t, c] = 2.0
    for merge in (True, False):
        check(keras, "ctc_decode", x, np.array([6]), merge_repeated=merge, ours=ctc_decode)
    paths, scores = ctc_decode(x, [6])
    assert paths.tolist() == [[[1, 1, 2, -1, -1, -1]]] and paths.dtype == torch.int32


@pytest.mark.parametrize("merge_repeated", [True, False])
@pytest.mark.parametrize("mask_index", [0, 3, None])
@pytest.mark.parametrize("beam", [(100, 1), (5, 3), (2, 2), (10, 4)])
def test_ctc_decode_beam_search(keras, merge_repeated, mask_index, beam):
    beam_width, top_paths = beam
    check(keras, "ctc_decode", LOGITS, OUT_LEN, strategy="beam_search", beam_width=beam_width,
          top_paths=top_paths, merge_repeated=merge_repeated, mask_index=mask_index, terms=T * C, ours=ctc_decode)


def test_ctc_decode_beam_search_ties_and_short(keras):
    # Uniform logits tie many paths; asking for more paths than exist yields -1 rows with -inf scores.
    z = np.zeros((2, 4, 3), "float32")
    check(keras, "ctc_decode", z, np.array([4, 2]), strategy="beam_search", top_paths=5, ours=ctc_decode)
    check(keras, "ctc_decode", z[:, :1], np.array([1, 1]), strategy="beam_search", top_paths=5, ours=ctc_decode)
    check(keras, "ctc_decode", LOGITS.astype("float64"), OUT_LEN, strategy="beam_search", top_paths=2,
          terms=T * C, ours=ctc_decode)


# -- bad input --------------------------------------------------------------
def _spec(frames=4, bins=5):
    return np.zeros((frames, bins), "float32"), np.zeros((frames, bins), "float32")


@pytest.mark.parametrize("call, match", [
    (lambda: extract_sequences(np.float32(1.0), 2, 1), r"extract_sequences: `x`.*shape \(\)"),
    (lambda: extract_sequences(SIG, 40, 1), r"extract_sequences: `sequence_length`=40"),
    (lambda: extract_sequences(SIG, 3, 0), r"extract_sequences: `sequence_stride`"),
    (lambda: stft(np.float32(1.0), 4, 2, 4), r"stft: `x`.*shape \(\)"),
    (lambda: stft(SIG, 8, 2, 4), r"stft: `fft_length`.*fft_length=4, sequence_length=8"),
    (lambda: stft(SIG, 4, 0, 4), r"stft: `sequence_stride`"),
    (lambda: stft(SIG, 4, 2, 4, window="boxcar"), r"stft: `window`.*boxcar"),
    (lambda: stft(SIG, 4, 2, 4, window=np.ones(5, "float32")), r"stft: `window`.*\(4,\).*\(5,\)"),
    (lambda: stft(SIG[:3], 8, 2, 8), r"stft: `x`.*too short"),
    (lambda: istft(_spec(), 8, 2, 4), r"istft: `fft_length`.*fft_length=4, sequence_length=8"),
    (lambda: istft((SIG, SIG), 8, 2, 8), r"istft: .*2-D.*\(37,\)"),
    (lambda: istft(_spec(bins=4), 8, 2, 8), r"istft: .*5 bins.*\(4, 4\)"),
    (lambda: istft((np.zeros((4, 5), "float32"), np.zeros((3, 5), "float32")), 8, 2, 8), r"istft: .*differ in shape"),
    (lambda: istft(np.zeros((4, 5), "float32"), 8, 2, 8), r"istft: expected a \(real, imag\) pair"),
    (lambda: istft(_spec(), 8, 9, 8), r"istft: `sequence_stride`.*sequence_stride=9"),
    (lambda: ctc_loss([1, 2], LOGITS, [2], [8]), r"ctc_loss: `target`.*\(2,\)"),
    (lambda: ctc_loss([[1, 2]] * B, LOGITS[0], [2] * B, [8] * B), r"ctc_loss: `output`.*\(8, 5\)"),
    (lambda: ctc_loss([[1, 2]] * B, LOGITS, [[2]] * B, [8] * B), r"ctc_loss: `target_length`"),
    (lambda: ctc_loss([[1, 2]] * 2, LOGITS, [2] * 2, [8] * 2), r"ctc_loss: `target` and `output`.*\(2, 2\).*\(3, 8, 5\)"),
    (lambda: ctc_loss([[1, 2]] * B, LOGITS, [2] * 2, [8] * B), r"ctc_loss: `target_length` and `target`"),
    (lambda: ctc_loss([[1, 2]] * B, LOGITS, [2] * B, [8] * 2), r"ctc_loss: `output_length` and `output`"),
    (lambda: ctc_loss([[1, 2]] * B, LOGITS, [2] * B, [9] * B), r"ctc_loss: invalid lengths"),
    (lambda: ctc_decode(LOGITS[0], OUT_LEN), r"ctc_decode: `inputs`.*\(8, 5\)"),
    (lambda: ctc_decode(LOGITS, OUT_LEN[:, None]), r"ctc_decode: `sequence_lengths`.*\(3, 1\)"),
    (lambda: ctc_decode(LOGITS, OUT_LEN[:2]), r"ctc_decode: `inputs` and `sequence_lengths`.*\(3, 8, 5\).*\(2,\)"),
    (lambda: ctc_decode(LOGITS, OUT_LEN, strategy="beam"), r"ctc_decode: `strategy`.*'beam'"),
    (lambda: ctc_decode(LOGITS, OUT_LEN, strategy="beam_search", top_paths=0), r"ctc_decode: `top_paths`"),
    (lambda: ctc_decode(LOGITS, [9, 1, 1], strategy="beam_search"), r"ctc_decode: `sequence_lengths`.*8 time steps"),
    (lambda: ctc_decode(LOGITS, OUT_LEN, mask_index=5), r"ctc_decode: `mask_index`=5"),
])
def test_bad_input_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("call, match", [
    (lambda: stft(np.arange(16, dtype="int32"), 4, 2, 4), r"stft: `x` must be float32 or float64, got torch.int32"),
    (lambda: stft(SIG.astype("float16"), 4, 2, 4), r"stft: `x`.*float16"),
    (lambda: ctc_loss(np.ones((B, 2), "float32"), LOGITS, [2] * B, [8] * B), r"ctc_loss: `target` must hold integers"),
    (lambda: ctc_decode(LOGITS, OUT_LEN.astype("float32")), r"ctc_decode: `sequence_lengths` must hold integers"),
])
def test_bad_input_type_error(call, match):
    with pytest.raises(TypeError, match=match):
        call()


def test_istft_one_bin_centred_keeps_samples(keras):
    # Keras's eager istft slices [0:-0] here and returns an empty tensor (its
    # own symbolic shape says 5 samples); we return the 5 samples.
    spec = _spectrum(keras, SIG[:5], (1, 1, 1), None, True)
    y = istft(spec, 1, 1, 1, window=None)
    assert_close_f32(y.numpy(), SIG[:5])
    assert keras.ops.convert_to_numpy(keras.ops.istft(spec, 1, 1, 1, window=None)).shape == (0,)
