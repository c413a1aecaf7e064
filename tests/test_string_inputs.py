"""String inputs in functional models: ``Input(dtype="string")`` feeding
TextVectorization / StringLookup / Hashing / HashedCrossing inside a model, the
data path (eager calls, ``fit`` / ``evaluate`` / ``predict``, ArrayData and
kerasish Datasets) keeping strings as numpy arrays on the host, and ``.keras``
files of such models, kerasish's and Keras 3's (recorded with TensorFlow,
which Keras's TextVectorization needs)."""

import json
import zipfile

import numpy as np
import pytest
import torch

from kerasish import Input, Model, Sequential
from kerasish.engine.keras_tensor import HostStrings
from kerasish.layers import Concatenate, Dense, Embedding, Flatten, GlobalAveragePooling1D
from kerasish.layers.core.input_layer import InputLayer
from kerasish.layers.preprocessing.hashed_crossing import HashedCrossing
from kerasish.layers.preprocessing.hashing import Hashing
from kerasish.layers.preprocessing.integer_lookup import IntegerLookup
from kerasish.layers.preprocessing.string_lookup import StringLookup
from kerasish.layers.preprocessing.text_vectorization import TextVectorization
from kerasish.saving import load_model
from kerasish.trainers.data_adapter import ArrayData, map_nested, to_device
from kerasish.utils.dataset import Dataset

from conftest import assert_close_f32
from keras_files import float32_policy, inbound, keras_initializer, write_keras_file

TEXTS = ["a great movie", "awful film", "great great fun", "boring and awful", "loved it", "worst ever film"]
LABELS = np.array([1, 0, 1, 0, 1, 0], dtype="float32")

_E2E_VOCAB = "\n".join(['', '[UNK]', 'great', 'film', 'awful', 'worst', 'movie', 'loved', 'it', 'fun', 'ever', 'boring'])

# Recorded from Keras 3.15.1 (TensorFlow 2.21 backend): an adapted
# TextVectorization(max_tokens=12, output_sequence_length=5) on
# Input(shape=(1,), dtype="string"), then a nested model Embedding(12, 3) ->
# GlobalAveragePooling1D -> Dense(1, sigmoid) with seeded normal weights; the
# file's config.json, model.weights.h5 datasets and assets, and Keras's ids and
# predictions on ``texts``.
KERAS_E2E = {'config': {'module': 'keras.src.models.functional',
            'class_name': 'Functional',
            'config': {'name': 'e2e',
                       'trainable': True,
                       'layers': [{'module': 'keras.layers',
                                   'class_name': 'InputLayer',
                                   'config': {'batch_shape': [None, 1],
                                              'dtype': 'string',
                                              'sparse': False,
                                              'ragged': False,
                                              'name': 'text',
                                              'optional': False},
                                   'registered_name': None,
                                   'name': 'text',
                                   'inbound_nodes': []},
                                  {'module': 'keras.layers',
                                   'class_name': 'TextVectorization',
                                   'config': {'name': 'vec',
                                              'trainable': True,
                                              'dtype': float32_policy(),
                                              'max_tokens': 12,
                                              'standardize': 'lower_and_strip_punctuation',
                                              'split': 'whitespace',
                                              'ngrams': None,
                                              'output_mode': 'int',
                                              'output_sequence_length': 5,
                                              'pad_to_max_tokens': False,
                                              'sparse': False,
                                              'ragged': False,
                                              'vocabulary': None,
                                              'idf_weights': None,
                                              'encoding': 'utf-8',
                                              'vocabulary_size': 12},
                                   'registered_name': None,
                                   'build_config': {'input_shape': [None, 1]},
                                   'name': 'vec',
                                   'inbound_nodes': inbound([None, 1], 'string', 'text')},
                                  {'module': 'keras.src.models.functional',
                                   'class_name': 'Functional',
                                   'config': {'name': 'clf',
                                              'trainable': True,
                                              'layers': [{'module': 'keras.layers',
                                                          'class_name': 'InputLayer',
                                                          'config': {'batch_shape': [None, None],
                                                                     'dtype': 'int64',
                                                                     'sparse': False,
                                                                     'ragged': False,
                                                                     'name': 'ids',
                                                                     'optional': False},
                                                          'registered_name': None,
                                                          'name': 'ids',
                                                          'inbound_nodes': []},
                                                         {'module': 'keras.layers',
                                                          'class_name': 'Embedding',
                                                          'config': {'name': 'emb',
                                                                     'trainable': True,
                                                                     'dtype': float32_policy(shared_object_id=140193258678480),
                                                                     'input_dim': 12,
                                                                     'output_dim': 3,
                                                                     'embeddings_initializer': keras_initializer('RandomUniform', {'seed': None, 'minval': -0.05, 'maxval': 0.05}),
                                                                     'embeddings_regularizer': None,
                                                                     'activity_regularizer': None,
                                                                     'embeddings_constraint': None,
                                                                     'mask_zero': False,
                                                                     'quantization_config': None},
                                                          'registered_name': None,
                                                          'build_config': {'input_shape': [None, None]},
                                                          'name': 'emb',
                                                          'inbound_nodes': inbound([None, None], 'int64', 'ids')},
                                                         {'module': 'keras.layers',
                                                          'class_name': 'GlobalAveragePooling1D',
                                                          'config': {'name': 'gap',
                                                                     'trainable': True,
                                                                     'dtype': float32_policy(shared_object_id=140193258678480),
                                                                     'data_format': 'channels_last',
                                                                     'keepdims': False},
                                                          'registered_name': None,
                                                          'name': 'gap',
                                                          'inbound_nodes': inbound([None, None, 3], 'float32', 'emb', mask=None)},
                                                         {'module': 'keras.layers',
                                                          'class_name': 'Dense',
                                                          'config': {'name': 'out',
                                                                     'trainable': True,
                                                                     'dtype': float32_policy(shared_object_id=140193258678480),
                                                                     'units': 1,
                                                                     'activation': 'sigmoid',
                                                                     'use_bias': True,
                                                                     'kernel_initializer': keras_initializer('GlorotUniform', {'seed': None, 'input_axes': None, 'output_axes': None}),
                                                                     'bias_initializer': keras_initializer('Zeros', {}),
                                                                     'kernel_regularizer': None,
                                                                     'bias_regularizer': None,
                                                                     'kernel_constraint': None,
                                                                     'bias_constraint': None,
                                                                     'quantization_config': None},
                                                          'registered_name': None,
                                                          'build_config': {'input_shape': [None, 3]},
                                                          'name': 'out',
                                                          'inbound_nodes': inbound([None, 3], 'float32', 'gap')}],
                                              'input_layers': ['ids', 0, 0],
                                              'output_layers': ['out', 0, 0]},
                                   'registered_name': 'Functional',
                                   'build_config': {'input_shape': None},
                                   'compile_config': {},
                                   'name': 'clf',
                                   'inbound_nodes': inbound([None, 5], 'int64', 'vec', mask=None)}],
                       'input_layers': ['text', 0, 0],
                       'output_layers': ['clf', 1, 0]},
            'registered_name': 'Functional',
            'build_config': {'input_shape': None},
            'compile_config': {}},
 'weights': {'layers/functional/layers/dense/vars/0': [[-0.5140063762664795],
                                                       [-1.6480752229690552],
                                                       [0.1674647480249405]],
             'layers/functional/layers/dense/vars/1': [0.10000000149011612],
             'layers/functional/layers/embedding/vars/0': [[0.3455841839313507, 0.8216181397438049, 0.3304370641708374],
                                                           [-1.3031572103500366,
                                                            0.9053558707237244,
                                                            0.4463745653629303],
                                                           [-0.5369532108306885, 0.581118106842041, 0.3645724058151245],
                                                           [0.2941325008869171,
                                                            0.028422242030501366,
                                                            0.5467129945755005],
                                                           [-0.7364540696144104,
                                                            -0.16290995478630066,
                                                            -0.4821193218231201],
                                                           [0.5988461971282959,
                                                            0.03972210735082626,
                                                            -0.2924567461013794],
                                                           [-0.7819084525108337,
                                                            -0.2571922540664673,
                                                            0.008142180740833282],
                                                           [-0.27560290694236755,
                                                            1.2940638065338135,
                                                            1.0067243576049805],
                                                           [-2.711162567138672,
                                                            -1.8890132904052734,
                                                            -0.17477209866046906],
                                                           [-0.422190397977829,
                                                            0.21364299952983856,
                                                            0.21732193231582642],
                                                           [2.1178388595581055,
                                                            -1.11202073097229,
                                                            -0.37760502099990845],
                                                           [2.042771577835083,
                                                            0.6467030048370361,
                                                            0.6630633473396301]]},
 # Keras writes the vocabulary at the layer and again at its inner lookup layer
 'assets': {'assets/layers/text_vectorization/_lookup_layer/vocabulary.txt': _E2E_VOCAB,
            'assets/layers/text_vectorization/vocabulary.txt': _E2E_VOCAB},
 'texts': [['a great movie'], ['awful'], ['Great film, LOVED it!'], ['zzz unknown words']],
 'ids': [[1, 2, 6, 0, 0], [4, 0, 0, 0, 0], [2, 3, 7, 8, 0], [1, 1, 1, 0, 0]],
 'pred': [[0.35462677478790283], [0.2753094434738159], [0.5474333167076111], [0.28109011054039]]}


def _vectorizer(**kwargs):
    vec = TextVectorization(max_tokens=20, output_sequence_length=5, **kwargs)
    vec.adapt(TEXTS)
    return vec


def _classifier(vocab=20):
    ids = Input(shape=(None,), dtype="int64", name="ids")
    x = GlobalAveragePooling1D()(Embedding(vocab, 3)(ids))
    return Model(ids, Dense(1, activation="sigmoid")(x), name="clf")


def _end_to_end():
    """The keras.io end-to-end model: a string Input, the adapted vectorizer, a model on the ids."""
    vec, clf = _vectorizer(), _classifier()
    inputs = Input(shape=(1,), dtype="string")
    model = Model(inputs, clf(vec(inputs)))
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model, vec, clf


def _np(t):
    return t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)


# ----------------------------------------------------------------------------
# The symbolic side
# ----------------------------------------------------------------------------
def test_string_input_matches_keras(keras):
    ours, theirs = Input(shape=(1,), dtype="string", name="t"), keras.Input(shape=(1,), dtype="string", name="t")
    assert ours.dtype == theirs.dtype == "string" and tuple(ours.shape) == tuple(theirs.shape)
    config = ours._keras_history.layer.get_config()
    assert config == {**theirs._keras_history[0].get_config(), "batch_shape": [None, 1]}  # a JSON list, as saved
    again = InputLayer.from_config(config)
    assert again._output_tensor.dtype == "string" and again.get_config() == config


@pytest.mark.parametrize("make,shape,out_shape,dtype,eager_shape", [
    (lambda: TextVectorization(vocabulary=["a", "b", "c"], output_sequence_length=5), (1,), (None, 5), "int64", (3, 5)),
    (lambda: TextVectorization(vocabulary=["a", "b", "c"]), (1,), (None, None), "int64", (3, 2)),
    # Keras's compute_output_shape keeps the (…, 1) axis here; the data has none (as in Keras)
    (lambda: TextVectorization(vocabulary=["a", "b", "c"], output_mode="multi_hot"), (1,), (None, 1, 4), "float32", (3, 4)),
    (lambda: StringLookup(vocabulary=["a", "b", "c"]), (1,), (None, 1), "int64", (3, 1)),
    (lambda: StringLookup(vocabulary=["a", "b", "c"], output_mode="one_hot"), (1,), (None, 4), "float32", (3, 4)),
    (lambda: Hashing(num_bins=4), (1,), (None, 1), "int64", (3, 1)),
    (lambda: Hashing(num_bins=4, output_mode="multi_hot"), (2,), (None, 4), "float32", (3, 4)),
])
def test_symbolic_string_layers(make, shape, out_shape, dtype, eager_shape):
    """Output shape and dtype on a string Input as Keras's compute_output_spec gives them, and
    the model's eager output is the layer's on the same strings."""
    layer = make()
    inputs = Input(shape=shape, dtype="string")
    out = layer(inputs)
    assert (tuple(out.shape), out.dtype) == (out_shape, dtype)
    data = np.array([["a b"] * shape[0], ["c zz"] * shape[0], ["b"] * shape[0]]) if shape == (2,) else np.array([["a b"], ["c"], ["zz"]])
    if isinstance(layer, (StringLookup, Hashing)) and shape == (1,):
        data = np.array([["a"], ["c"], ["zz"]])
    got = Model(inputs, out)(data)
    want = layer(data)
    assert str(got.dtype).replace("torch.", "") == dtype
    assert tuple(got.shape) == tuple(want.shape) == eager_shape
    assert torch.equal(got, want)


def test_hashed_crossing_of_two_string_inputs():
    a, b = Input(shape=(), dtype="string"), Input(shape=(), dtype="string")
    out = HashedCrossing(num_bins=7)([a, b])
    assert (tuple(out.shape), out.dtype) == ((None,), "int64")
    model = Model([a, b], out)
    x1, x2 = np.array(["A", "B", "A"]), ["x", "x", "y"]
    assert model([x1, x2]).tolist() == HashedCrossing(num_bins=7)((x1, np.array(x2))).tolist()


def test_strings_into_a_layer_that_does_not_take_them():
    text = Input(shape=(1,), dtype="string", name="text")
    with pytest.raises(TypeError, match=r"Layer 'no_strings' \(Dense\) cannot take string inputs \(got text"):
        Dense(2, name="no_strings")(text)
    with pytest.raises(TypeError, match=r"'ints' \(IntegerLookup\) cannot take string inputs"):
        IntegerLookup(vocabulary=[1, 2], name="ints")(text)
    with pytest.raises(TypeError, match=r"Layer 'eager' \(Dense\) cannot take string inputs \(got an array of shape \(2, 1\)"):
        Dense(2, name="eager")(np.array([["a"], ["b"]]))
    with pytest.raises(TypeError, match=r"cannot take string inputs"):
        Dense(2, name="listed")(["a", "b"])
    numbers = Input(shape=(1,), name="numbers")
    model = Model(numbers, Dense(1)(numbers), name="numeric")
    with pytest.raises(TypeError, match=r"Model 'numeric': input 0 \('numbers', dtype 'float32'\) got strings, but it must hold numbers"):
        model(np.array([["a"], ["b"]]))
    with pytest.raises(TypeError, match=r"does not fit model 'numeric'"):
        model.predict(np.array([["a"], ["b"]]), verbose=0)
    e2e, _, _ = _end_to_end()
    with pytest.raises(TypeError, match=r"input 0 \('input_layer.*'\) is a string input .* got Tensor of dtype torch.float32"):
        e2e(torch.zeros(2, 1))
    with pytest.raises(ValueError, match=r"expected shape \(None, 1\), but received an input of shape \(2, 3\)"):
        e2e(np.full((2, 3), "a"))


# ----------------------------------------------------------------------------
# The data side
# ----------------------------------------------------------------------------
def test_end_to_end_model_calls_and_predicts():
    model, vec, clf = _end_to_end()
    raw = np.array([["a great movie"], ["awful"], ["Great FUN!"]])
    want = _np(clf(vec(raw)))
    for given in (raw, raw.astype(object), raw[:, 0], raw[:, 0].tolist(), raw.astype("S")):
        assert_close_f32(_np(model(given)), want)
        assert_close_f32(model.predict(given, verbose=0), want)
    assert_close_f32(model.predict(np.array([["a great movie"], ["awful"]]), verbose=0), want[:2])
    assert_close_f32(_np(model.predict_on_batch(raw)), want)
    assert model.predict(np.array(TEXTS * 10)[:, None], batch_size=7, verbose=0).shape == (60, 1)


def test_end_to_end_model_evaluates_and_trains_on_datasets():
    """evaluate on a kerasish Dataset of (list of str, labels) batches gives what the
    model on ids gives on the vectorized batches; fit on it trains the inner model."""
    model, vec, clf = _end_to_end()
    raw_ds = Dataset.from_tensor_slices((TEXTS, LABELS)).batch(4)
    clf.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    ids_ds = raw_ds.map(lambda x, y: (vec(x), y))
    got = model.evaluate(raw_ds, verbose=0)
    want = clf.evaluate(ids_ds, verbose=0)
    assert_close_f32(np.array(got), np.array(want))
    before = clf.get_layer(index=1).get_weights()[0].copy()
    history = model.fit(raw_ds, epochs=3, verbose=0)
    assert len(history.history["loss"]) == 3 and np.isfinite(history.history["loss"]).all()
    assert not np.allclose(clf.get_layer(index=1).get_weights()[0], before)  # the embedding trained
    logs = model.train_on_batch(TEXTS, LABELS, return_dict=True)
    assert set(logs) >= {"loss", "accuracy"}
    assert_close_f32(np.array(model.test_on_batch(TEXTS, LABELS)), np.array(clf.test_on_batch(vec(TEXTS), LABELS)))


def test_fit_on_string_arrays_shuffled_and_split():
    model, _, _ = _end_to_end()
    x = np.array(TEXTS * 4)[:, None]
    y = np.tile(LABELS, 4)
    history = model.fit(x, y, batch_size=5, epochs=2, shuffle=True, validation_split=0.25, verbose=0)
    assert len(history.history["val_loss"]) == 2
    history = model.fit(list(x[:, 0]), y, batch_size=5, epochs=1, validation_split=0.25, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


def test_array_data_shuffles_strings_with_their_rows():
    strings = np.array([f"s{i}" for i in range(10)])
    data = ArrayData(strings, y=np.arange(10), batch_size=3, shuffle=True)
    seen = []
    for x, y, _ in data.epoch(torch.Generator().manual_seed(0)):
        assert isinstance(x, HostStrings) and isinstance(y, torch.Tensor)
        assert x.tolist() == [f"s{i}" for i in y.tolist()]  # the same permutation for both
        seen += y.tolist()
    assert sorted(seen) == list(range(10)) and seen != list(range(10))
    batches = [x.tolist() for x, _, _ in ArrayData(strings.tolist(), batch_size=4).epoch()]
    assert batches == [strings[i:i + 4].tolist() for i in range(0, 10, 4)]


def test_batches_keep_strings_on_the_host():
    texts, labels = ["a", "b c"], torch.tensor([1, 0])
    x, y = to_device((texts, labels), torch.device("cpu"))
    assert isinstance(x, HostStrings) and x.tolist() == texts and y is labels
    assert map_nested(len, {"t": texts, "n": [np.zeros(2), np.zeros(3)]}) == {"t": 2, "n": [2, 3]}


def test_string_and_numeric_inputs_together():
    text, num = Input(shape=(), dtype="string", name="text"), Input(shape=(2,), name="num")
    ids = StringLookup(vocabulary=["a", "b", "c"])(text)
    merged = Concatenate()([Flatten()(Embedding(5, 2)(ids)), Dense(2)(num)])
    model = Model({"text": text, "num": num}, Dense(1)(merged))
    model.compile(loss="mse", optimizer="sgd")
    x = {"text": ["a", "c", "zz", "b"], "num": np.ones((4, 2), "float32")}
    out = model.predict(x, verbose=0)
    assert out.shape == (4, 1)
    assert_close_f32(_np(model(x)), out)
    model.fit(x, np.zeros((4, 1)), batch_size=2, shuffle=True, epochs=1, verbose=0)


def test_sequential_on_a_string_input():
    vec = _vectorizer()
    model = Sequential([Input(shape=(1,), dtype="string"), vec, Embedding(20, 3), GlobalAveragePooling1D(), Dense(1)])
    assert model.layers[0] is vec and model.output.shape == (None, 1)
    assert model.predict(np.array(TEXTS)[:, None], verbose=0).shape == (6, 1)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_strings_on_the_host_ids_on_the_device():
    model, vec, clf = _end_to_end()
    model.to("cuda")
    raw = np.array([["a great movie"], ["awful"]])
    out = model(raw)
    assert out.device.type == "cuda"
    assert_close_f32(_np(out), _np(clf(vec(raw).cuda())))
    history = model.fit(Dataset.from_tensor_slices((TEXTS, LABELS)).batch(4), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert_close_f32(model.predict(raw, verbose=0), _np(model(raw)))


# ----------------------------------------------------------------------------
# .keras files
# ----------------------------------------------------------------------------
def test_end_to_end_model_round_trips(tmp_path):
    model, vec, _ = _end_to_end()
    raw = np.array([["a great movie"], ["awful zzz"]])
    model.train_on_batch(TEXTS, LABELS)  # the optimizer's state goes into the file too
    model.save(tmp_path / "e2e.keras")
    with zipfile.ZipFile(tmp_path / "e2e.keras") as z:
        config = json.loads(z.read("config.json"))
        assert config["config"]["layers"][0]["config"]["dtype"] == "string"
        vocab = z.read("assets/layers/text_vectorization/vocabulary.txt").decode("utf-8")
        assert vocab == "\n".join(vec.get_vocabulary())
    loaded = load_model(tmp_path / "e2e.keras")
    assert loaded.inputs[0].dtype == "string"
    assert loaded.layers[1].get_vocabulary() == vec.get_vocabulary()
    assert_close_f32(loaded.predict(raw, verbose=0), model.predict(raw, verbose=0))


def test_keras_end_to_end_file_loads(tmp_path):
    ref = KERAS_E2E
    model = load_model(write_keras_file(tmp_path / "keras_e2e.keras", ref))
    texts = np.array(ref["texts"])
    assert model.get_layer("vec")(texts).tolist() == ref["ids"]
    assert_close_f32(model.predict(texts, verbose=0), np.array(ref["pred"], dtype="float32"))
    model.save(tmp_path / "again.keras")
    with zipfile.ZipFile(tmp_path / "again.keras") as z:
        for name, text in ref["assets"].items():
            assert z.read(name).decode("utf-8") == text
    again = load_model(tmp_path / "again.keras")
    assert_close_f32(again.predict(texts, verbose=0), np.array(ref["pred"], dtype="float32"))
