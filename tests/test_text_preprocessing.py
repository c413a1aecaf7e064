"""Text preprocessing layers (StringLookup, IntegerLookup, TextVectorization)
and their vocabulary assets in .keras files.

Keras 3 runs these layers on TensorFlow only, so the project's Keras (torch
backend) cannot be the oracle here: the reference values below come from
Keras 3.15.1 on TensorFlow 2.21.0 (tensorflow-cpu, in a separate venv), and
FINGERPRINT64 from pyfarmhash (TF's ``to_hash_bucket_fast`` agreed). The
encodings (one_hot / multi_hot / count) are int64 tensors on TensorFlow;
kerasish returns float32, Keras's declared output spec.
"""

import json
import zipfile

import numpy as np
import pytest
import torch

from kerasish import Input, Model
from kerasish.layers import Embedding
from kerasish.layers.preprocessing.index_lookup import fingerprint64
from kerasish.layers.preprocessing.integer_lookup import IntegerLookup
from kerasish.layers.preprocessing.string_lookup import StringLookup
from kerasish.layers.preprocessing.text_vectorization import TextVectorization
from kerasish.saving import load_model
from kerasish.testing import run_layer_test
from kerasish.utils.dataset import Dataset

from conftest import assert_close_f32
from keras_files import float32_policy, inbound, keras_initializer, write_keras_file

# fmt: off
KERAS_REF = {'sl_vocab': ['[UNK]', 'b', 'a', 'z', 'd', 'e', 'c'],
 'sl_int': {'dtype': 'int64', 'value': [[2, 3, 0], [5, 0, 4]]},
 'sl_mask_vocab': ['', '[UNK]', 'b', 'a', 'z'],
 'sl_mask_int': {'dtype': 'int64', 'value': [[3, 0, 1, 1]]},
 'sl_oov3_in': ['q', 'hello', 'zz', 'a much longer token than sixteen bytes',
                'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
                'yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy', 'é', '', 'ab'],
 'sl_oov3': {'dtype': 'int64', 'value': [2, 1, 1, 1, 0, 0, 1, 2, 1]},
 'sl_oov3_vocab': ['[UNK]', '[UNK]', '[UNK]', 'a', 'b'],
 'sl_invert': {'dtype': 'object', 'value': [['[M]', '[UNK]', 'a'], ['b', 'c', '[UNK]']]},
 'sl_one_hot_2d': {'dtype': 'int64',
                   'value': [[[0, 1, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0]], [[0, 0, 0, 1], [1, 0, 0, 0], [0, 0, 0, 1]]]},
 'sl_one_hot_col': {'dtype': 'int64', 'value': [[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]]},
 'sl_one_hot_1d': {'dtype': 'int64', 'value': [[0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 0, 1]]},
 'sl_multi_hot_2d': {'dtype': 'int64', 'value': [[0, 1, 1, 0], [1, 0, 0, 1]]},
 'sl_multi_hot_col': {'dtype': 'int64', 'value': [[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]]},
 'sl_multi_hot_1d': {'dtype': 'int64', 'value': [0, 1, 0, 1]},
 'sl_count_2d': {'dtype': 'int64', 'value': [[0, 2, 1, 0], [1, 0, 0, 2]]},
 'sl_count_col': {'dtype': 'int64', 'value': [[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]]},
 'sl_count_1d': {'dtype': 'int64', 'value': [0, 1, 0, 2]},
 'sl_pad': {'dtype': 'int64', 'value': [[0, 1, 1, 0, 0, 0, 0], [1, 0, 0, 1, 0, 0, 0]]},
 'sl_mh_mask': {'dtype': 'int64', 'value': [[0, 1, 0, 0], [0, 0, 0, 1]]},
 'sl_mh_mask_vocab': ['[UNK]', 'a', 'b', 'c'],
 'sl_tfidf_vocab': ['[UNK]', 'b', 'a', 'z', 'd', 'e', 'c'],
 'sl_tfidf_idf': [0.7824637293815613, 0.5596157908439636, 0.6931471824645996, 0.9162907600402832, 0.6931471824645996,
                  0.9162907600402832, 0.9162907600402832],
 'sl_tfidf': {'dtype': 'float32',
              'value': [[0.7824637293815613, 0.0, 1.3862943649291992, 0.9162907600402832, 0.0, 0.0, 0.0],
                        [0.0, 1.678847312927246, 0.0, 0.0, 0.0, 0.9162907600402832, 0.0]]},
 'sl_tfidf_given_idf': [1.25, 0.5, 2.0],
 'sl_tfidf_given': {'dtype': 'float32', 'value': [[1.25, 0.5, 4.0]]},
 'il_vocab': [-1, 42, 7, 12, 1138, 1000, 36, 5],
 'il_int': {'dtype': 'int64', 'value': [[3, 7, 0], [1, 0, 4]]},
 'il_oov3_vocab': [0, -1, -1, -1, 42, 7, 12, 1138, 1000, 36, 5],
 'il_oov3': {'dtype': 'int64', 'value': [[0, 6, 1, 2, 3, 3]]},
 'il_farm_in': [0, 5, 99, 100, 101, -7, 123456789],
 'il_farm': {'dtype': 'int64', 'value': [1, 1, 0, 0, 1, 2, 2]},
 'il_invert': {'dtype': 'int64', 'value': [[-1, 12, 42, 7, -1]]},
 'il_count': {'dtype': 'int64', 'value': [[1, 2, 0, 1]]},
 'tv_vocab': ['', '[UNK]', 'quick', 'the', 'fox', 'école', 'École', 'straße', 'lazy', 'jumps', 'dog', 'brown', 'a'],
 'tv_int': {'dtype': 'int64', 'value': [[3, 4, 9, 1], [6, 10, 0, 0], [0, 0, 0, 0]]},
 'tv_int_col': {'dtype': 'int64', 'value': [[3, 4], [2, 0]]},
 'tv_trunc_vocab': ['', '[UNK]', 'quick', 'the', 'fox', 'école'],
 'tv_trunc': {'dtype': 'int64', 'value': [[3, 4, 1], [1, 0, 0]]},
 'std_in': ['Hello,\tWorld!  foo\xa0bar\u3000baz\nqux\x0bend\x0cx\x1fy',
            "It's-a ME: (mario) [x]{y} 100% #1 @u a/b a\\b ~^`_|", 'ÀÉÎ ÕÜ Ωmega'],
 'std_lower_and_strip_punctuation': ['hello\tworld  foo\xa0bar\u3000baz\nqux\x0bend\x0cx\x1fy',
                                     'itsa me mario xy 100 1 u ab ab ', 'ÀÉÎ ÕÜ Ωmega'],
 'std_lower': ['hello,\tworld!  foo\xa0bar\u3000baz\nqux\x0bend\x0cx\x1fy',
               "it's-a me: (mario) [x]{y} 100% #1 @u a/b a\\b ~^`_|", 'ÀÉÎ ÕÜ Ωmega'],
 'std_strip_punctuation': ['Hello\tWorld  foo\xa0bar\u3000baz\nqux\x0bend\x0cx\x1fy', 'Itsa ME mario xy 100 1 u ab ab ',
                           'ÀÉÎ ÕÜ Ωmega'],
 'std_None': ['Hello,\tWorld!  foo\xa0bar\u3000baz\nqux\x0bend\x0cx\x1fy',
              "It's-a ME: (mario) [x]{y} 100% #1 @u a/b a\\b ~^`_|", 'ÀÉÎ ÕÜ Ωmega'],
 'split_whitespace': [['Hello,', 'World!', 'foo\xa0bar\u3000baz', 'qux', 'end', 'x\x1fy'],
                      ["It's-a", 'ME:', '(mario)', '[x]{y}', '100%', '#1', '@u', 'a/b', 'a\\b', '~^`_|'],
                      ['ÀÉÎ', 'ÕÜ', 'Ωmega']],
 'split_character': [['H', 'e', 'l', 'l', 'o', ',', '\t', 'W', 'o', 'r', 'l', 'd', '!', ' ', ' ', 'f', 'o', 'o', '\xa0',
                      'b', 'a', 'r', '\u3000', 'b', 'a', 'z', '\n', 'q', 'u', 'x', '\x0b', 'e', 'n', 'd', '\x0c', 'x',
                      '\x1f', 'y'],
                     ['I', 't', "'", 's', '-', 'a', ' ', 'M', 'E', ':', ' ', '(', 'm', 'a', 'r', 'i', 'o', ')', ' ',
                      '[', 'x', ']', '{', 'y', '}', ' ', '1', '0', '0', '%', ' ', '#', '1', ' ', '@', 'u', ' ', 'a',
                      '/', 'b', ' ', 'a', '\\', 'b', ' ', '~', '^', '`', '_', '|'],
                     ['À', 'É', 'Î', ' ', 'Õ', 'Ü', ' ', 'Ω', 'm', 'e', 'g', 'a']],
 'ngrams13': [['a', 'b', 'c', 'd', 'a b c', 'b c d'], ['x', 'y'], ['solo']],
 'ngrams2': [['a', 'b', 'c', 'a b', 'b c'], ['x']],
 'tv_ng_vocab': ['', '[UNK]', 'quick', 'the', 'fox', 'école straße', 'école', 'École école', 'École', 'the quick',
                 'the lazy', 'straße', 'quick quick', 'quick fox', 'quick brown', 'lazy dog', 'lazy', 'jumps',
                 'fox jumps', 'dog', 'brown fox', 'brown', 'a quick', 'a'],
 'tv_ng': {'dtype': 'int64', 'value': [[3, 2, 4, 9, 13], [2, 4, 13, 0, 0]]},
 'tv_multi_hot_vocab': ['[UNK]', 'quick', 'the', 'fox', 'école', 'École', 'straße', 'lazy'],
 'tv_multi_hot': {'dtype': 'int64', 'value': [[1, 0, 1, 1, 0, 0, 0, 1], [0, 1, 0, 0, 0, 0, 0, 0]]},
 'tv_count_vocab': ['[UNK]', 'quick', 'the', 'fox', 'école', 'École', 'straße', 'lazy'],
 'tv_count': {'dtype': 'int64', 'value': [[1, 0, 2, 1, 0, 0, 0, 1], [0, 2, 0, 0, 0, 0, 0, 0]]},
 'tv_tf_idf_vocab': ['[UNK]', 'quick', 'the', 'fox', 'école', 'École', 'straße', 'lazy'],
 'tv_tf_idf': {'dtype': 'float32',
               'value': [[0.9909061193466187, 0.0, 1.6945956945419312, 0.8472978472709656, 0.0, 0.0, 0.0,
                          1.0986123085021973],
                         [0.0, 1.6945956945419312, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]},
 'tv_tf_idf_idf': [0.9909061193466187, 0.8472978472709656, 0.8472978472709656, 0.8472978472709656, 1.0986123085021973,
                   1.0986123085021973, 1.0986123085021973, 1.0986123085021973],
 'tv_one_hot_vocab': ['[UNK]', 'quick', 'the', 'fox', 'école', 'École', 'straße', 'lazy'],
 'tv_one_hot': {'dtype': 'int64',
                'value': [[[0, 0, 1, 0, 0, 0, 0, 0], [0, 0, 0, 1, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0, 0, 0],
                           [0, 0, 0, 0, 0, 0, 0, 1], [1, 0, 0, 0, 0, 0, 0, 0]],
                          [[0, 1, 0, 0, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0],
                           [0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0]]]},
 'tv_pad': {'dtype': 'int64', 'value': [[1, 0, 1, 0, 0, 0, 0, 0]]},
 'tv_nosplit_vocab': ['', '[UNK]', 'new york', 'paris'],
 'tv_nosplit': {'dtype': 'int64', 'value': [[2], [1]]},
 'tv_nosplit_1d': {'dtype': 'int64', 'value': [2, 1]},
 'tv_given_vocab': ['', '[UNK]', 'b', 'a'],
 'tv_given': {'dtype': 'int64', 'value': [[3, 2, 1, 0, 0], [3, 3, 3, 3, 3]]},
 'tv_ds_vocab': ['', '[UNK]', 'z', 'y', 'w', 'x'],
 'tv_ds_steps_vocab': ['', '[UNK]', 'z', 'y', 'x']}

KERAS_CONFIGS = {'tv_config': {'name': 'text_vectorization_20',
               'trainable': True,
               'dtype': float32_policy(),
               'max_tokens': 5,
               'standardize': 'lower_and_strip_punctuation',
               'split': 'whitespace',
               'ngrams': None,
               'output_mode': 'int',
               'output_sequence_length': None,
               'pad_to_max_tokens': False,
               'sparse': False,
               'ragged': False,
               'vocabulary': None,
               'idf_weights': None,
               'encoding': 'utf-8',
               'vocabulary_size': 2},
 'sl_config': {'name': 'string_lookup_32',
               'trainable': True,
               'dtype': float32_policy(),
               'invert': False,
               'max_tokens': None,
               'num_oov_indices': 1,
               'oov_token': '[UNK]',
               'mask_token': None,
               'output_mode': 'int',
               'sparse': False,
               'pad_to_max_tokens': False,
               'idf_weights': None,
               'vocabulary': None,
               'vocabulary_size': None,
               'oov_method': 'floormod',
               'salt': None,
               'encoding': 'utf-8'},
 'il_config': {'name': 'integer_lookup_5',
               'trainable': True,
               'dtype': float32_policy(),
               'invert': False,
               'max_tokens': None,
               'num_oov_indices': 1,
               'oov_token': -1,
               'mask_token': None,
               'output_mode': 'int',
               'sparse': False,
               'pad_to_max_tokens': False,
               'vocabulary_dtype': 'int64',
               'idf_weights': None,
               'vocabulary': None,
               'vocabulary_size': None,
               'oov_method': 'floormod',
               'salt': None}}

FINGERPRINT64 = [('', 11160318154034397263), ('a', 12917804110809363939), ('ab', 12289600257749001502), ('abc', 2640714258260161385),
 ('abcd', 1897425971756105985), ('hello', 13009744463427800296), ('12345678', 3430003927990384362),
 ('123456789', 7102376421209267306), ('xxxxxxxxxxxxxxxx', 3320895591121647644),
 ('xxxxxxxxxxxxxxxxx', 11306081951414300581), ('yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy', 6963001497674513743),
 ('yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy', 8610735037765521150),
 ('zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz', 294799756062990872),
 ('zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz', 8299915583762718517), ('é', 693143013273849025),
 ('日本語テキスト', 1653575045406466613),
 ('ᬊʷႲ⃘ἹᨊᎉẠᜊ╶บ\u206cउሩऑر➳ဨ∵ⵁ⚥ইᏹٲ⻕Ә⯦ᕁṗ⏳ڑᛄᯩᑜ✸⤜ശ⍼ầᱵⅽ\u10cbМ⌽Ćؘⸯᦦⶔ⫣⠤2❉ᾶᕲྼ⻜ᓰ\u2d28Чౚ⑲๐ཥा⋠\u1ccb\u05f6Նᒛ₢ὰܚ፪⍧\u12c1ⵘࠜ〈ᕫ⊴ഡ⚺⌥▻ኈᲚ\u05fd♉ᣂᑪ⓷ྞኴ\u0be4ాఓȼ',
  2168303467493965040),
 ('ẟҋן⮐ࡵলʙՂⳡ⊹⯞ᤪⵃ↲ᇃↅ༲\u0de5⮜◟\u1af7┹ᆽᳶᾧ⩡⤩⳰\u16ffեᓡ❗ށὁ▲⡴ᖕ\u0c4fྭĩ⻰ᅸޟⵄ\u0e3c\u17efଉᕨ᭥КڐॽⳆภ̅ⓚ⢶≐⚩⮮ӜǕࠖ⣃ర⛮',
  1061287026333181675),
 ('߉ᤩ\u05fb័ލɴ⛠Ƃಔ௶⸕ࠍịක⺩Ј⮚ƕ⋴᭝⟗ڞჂҚโһ⦇፤ᚋᰈபЈ⁛ḅʥ♌ڕⳡᤪೢ\u10c6ᜒ⻲Ḹ⒗\u0af7ⳇ⬬തϗ⭦ੀ\u0a7dᘈ∂ါޠ♑ᱮ⪹\u0b50øṏ⮺ᩛ⒌€ᐎ⦨\u16fb\u18ff⨶ုৱ␀ⱖëᵯ⾕ԯᖟ⽬̌⋶ሙࣁཾỶᚪ✬ኌ⬹\u171d◧⢯⟟࢘ⷬᏻᣵ᪥⧇Պ8☭౮ⳕᖆਫ਼ི\u0e67⣫\u1cceᡛⶖ⬿⑼᪥Ȥ᧞ⴊ⑱\u1ae4⪁ⶀ̞\u0abaᲠжႷⴅ\u0a37Ჱ⇣\u1f4f␎⛇!ʝῇᓼᐘḁ͐᪱న⌻',
  12916941947167833994),
 ('⺏ࡺđ᧗⮌\u1ad8ᑜW්Ċ⸈F⭟⇰❌٢\u0c50\u07bc✏⦭\u0cd4', 12807526614295891518), ('છ⤥ࡆཪቿ⻏ᖀέɬỮ\u1adeतᾚ⚦⸆', 1263193472719709359)]

# Keras's repeated pieces (dtype policy, initializers, inbound nodes) are rebuilt by tests/keras_files.py.
KERAS_FILES = {'il': {'config': {'module': 'keras.src.models.functional',
                   'class_name': 'Functional',
                   'config': {'name': 'functional',
                              'trainable': True,
                              'layers': [{'module': 'keras.layers',
                                          'class_name': 'InputLayer',
                                          'config': {'batch_shape': [None, 2],
                                                     'dtype': 'int64',
                                                     'sparse': False,
                                                     'ragged': False,
                                                     'name': 'input_layer',
                                                     'optional': False},
                                          'registered_name': None,
                                          'name': 'input_layer',
                                          'inbound_nodes': []},
                                         {'module': 'keras.layers',
                                          'class_name': 'IntegerLookup',
                                          'config': {**KERAS_CONFIGS['il_config'], 'name': 'integer_lookup', 'vocabulary_size': 5},
                                          'registered_name': None,
                                          'build_config': {},
                                          'name': 'integer_lookup',
                                          'inbound_nodes': inbound([None, 2], 'int64', 'input_layer')},
                                         {'module': 'keras.layers',
                                          'class_name': 'Embedding',
                                          'config': {'name': 'embedding',
                                                     'trainable': True,
                                                     'dtype': float32_policy(shared_object_id=139680445429328),
                                                     'input_dim': 5,
                                                     'output_dim': 2,
                                                     'embeddings_initializer': keras_initializer('RandomUniform', {'seed': None, 'minval': -0.05, 'maxval': 0.05}),
                                                     'embeddings_regularizer': None,
                                                     'activity_regularizer': None,
                                                     'embeddings_constraint': None,
                                                     'mask_zero': False,
                                                     'quantization_config': None},
                                          'registered_name': None,
                                          'build_config': {'input_shape': [None, 2]},
                                          'name': 'embedding',
                                          'inbound_nodes': inbound([None, 2], 'int64', 'integer_lookup')},
                                         {'module': 'keras.layers',
                                          'class_name': 'Flatten',
                                          'config': {'name': 'flatten',
                                                     'trainable': True,
                                                     'dtype': float32_policy(shared_object_id=139680445429328),
                                                     'data_format': 'channels_last'},
                                          'registered_name': None,
                                          'build_config': {'input_shape': [None, 2, 2]},
                                          'name': 'flatten',
                                          'inbound_nodes': inbound([None, 2, 2], 'float32', 'embedding')}],
                              'input_layers': ['input_layer', 0, 0],
                              'output_layers': ['flatten', 0, 0]},
                   'registered_name': 'Functional',
                   'build_config': {'input_shape': None},
                   'compile_config': {}},
        'weights': {'layers/embedding/vars/0': [[0.001568436622619629, -0.019093800336122513],
                                                [0.033890437334775925, -0.0393398180603981],
                                                [-0.010506987571716309, -0.03132869303226471],
                                                [-9.298324584960938e-05, 0.048673201352357864],
                                                [0.005425848066806793, -0.006254255771636963]]},
        'assets': {'assets/layers/integer_lookup/vocabulary.txt': '-1\n9\n3\n7\n1'},
        'pred': [[-0.010506987571716309, -0.03132869303226471, -9.298324584960938e-05, 0.048673201352357864],
                 [0.033890437334775925, -0.0393398180603981, 0.001568436622619629, -0.019093800336122513]]},
 'il_tfidf': {'config': {'module': 'keras.src.models.functional',
                         'class_name': 'Functional',
                         'config': {'name': 'functional_1',
                                    'trainable': True,
                                    'layers': [{'module': 'keras.layers',
                                                'class_name': 'InputLayer',
                                                'config': {'batch_shape': [None, 2],
                                                           'dtype': 'int64',
                                                           'sparse': False,
                                                           'ragged': False,
                                                           'name': 'input_layer_1',
                                                           'optional': False},
                                                'registered_name': None,
                                                'name': 'input_layer_1',
                                                'inbound_nodes': []},
                                               {'module': 'keras.layers',
                                                'class_name': 'IntegerLookup',
                                                'config': {**KERAS_CONFIGS['il_config'], 'name': 'integer_lookup_1',
                                                           'output_mode': 'tf_idf', 'vocabulary_size': 5},
                                                'registered_name': None,
                                                'build_config': {},
                                                'name': 'integer_lookup_1',
                                                'inbound_nodes': inbound([None, 2], 'int64', 'input_layer_1')},
                                               {'module': 'keras.layers',
                                                'class_name': 'Dense',
                                                'config': {'name': 'dense',
                                                           'trainable': True,
                                                           'dtype': float32_policy(shared_object_id=139680445429328),
                                                           'units': 1,
                                                           'activation': 'linear',
                                                           'use_bias': True,
                                                           'kernel_initializer': keras_initializer('GlorotUniform', {'seed': None, 'input_axes': None, 'output_axes': None}),
                                                           'bias_initializer': keras_initializer('Zeros', {}),
                                                           'kernel_regularizer': None,
                                                           'bias_regularizer': None,
                                                           'kernel_constraint': None,
                                                           'bias_constraint': None,
                                                           'quantization_config': None},
                                                'registered_name': None,
                                                'build_config': {'input_shape': [None, 5]},
                                                'name': 'dense',
                                                'inbound_nodes': inbound([None, 5], 'float32', 'integer_lookup_1')}],
                                    'input_layers': ['input_layer_1', 0, 0],
                                    'output_layers': ['dense', 0, 0]},
                         'registered_name': 'Functional',
                         'build_config': {'input_shape': None},
                         'compile_config': {}},
              'weights': {'layers/dense/vars/0': [[-0.35443711280822754], [-0.6069531440734863], [-0.439974308013916],
                                                  [0.3667466640472412], [0.3220510482788086]],
                          'layers/dense/vars/1': [0.0],
                          'layers/integer_lookup/vars/idf_weights': [0.8271220326423645, 0.5596157908439636,
                                                                     0.9162907600402832, 0.9162907600402832,
                                                                     0.9162907600402832]},
              'assets': {'assets/layers/integer_lookup/vocabulary.txt': '-1\n3\n7\n5\n4'},
              'pred': [[-0.7428049445152283], [-0.586325466632843]]}}
# fmt: on


# ----------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------
def _check(name, got):
    """``got`` equals the Keras 3 reference ``KERAS_REF[name]`` (values, and int64 / float dtype)."""
    ref = KERAS_REF[name]
    if isinstance(ref, dict):
        if ref["dtype"] == "object":
            assert np.asarray(got).tolist() == ref["value"], name
            return
        assert isinstance(got, torch.Tensor), name
        want = np.asarray(ref["value"])
        assert tuple(got.shape) == want.shape, (name, tuple(got.shape), want.shape)
        if ref["dtype"] == "int64" and not name.startswith(("sl_one_hot", "sl_multi_hot", "sl_count", "sl_pad", "sl_mh", "il_count", "tv_multi", "tv_count", "tv_one", "tv_pad")):
            assert got.dtype == torch.int64, name
            assert got.tolist() == want.tolist(), name
        else:  # encodings: float32 here (Keras's declared spec), int64 on TF
            assert got.dtype == torch.float32, name
            assert_close_f32(got.numpy(), want.astype("float32"))
    else:
        got = got.tolist() if isinstance(got, (torch.Tensor, np.ndarray)) else got
        if ref and isinstance(ref[0], float):
            np.testing.assert_allclose(got, ref, rtol=1e-6)
        else:
            assert got == ref, name


DATA = np.array([["a", "b", "c", "d"], ["d", "z", "b", "z"], ["a", "a", "b", "e"]])
IDATA = np.array([[12, 1138, 42], [42, 1000, 36], [12, 42, 7], [7, 7, 5]])
TEXTS = np.array(["The quick brown fox.", "The lazy dog!!", "A quick, QUICK fox; jumps", "ÉCOLE école Straße"])


# ----------------------------------------------------------------------------
# FarmHash64 (the OOV buckets of strings)
# ----------------------------------------------------------------------------
def test_fingerprint64_matches_farmhash():
    for s, h in FINGERPRINT64:
        assert fingerprint64(s.encode("utf-8")) == h, (len(s.encode()), s)


# ----------------------------------------------------------------------------
# StringLookup
# ----------------------------------------------------------------------------
def test_string_lookup_adapt_and_int_mode():
    layer = StringLookup()
    layer.adapt(DATA)
    _check("sl_vocab", layer.get_vocabulary())
    _check("sl_int", layer(np.array([["a", "z", "q"], ["e", "xx", "d"]])))
    # a Python list, object and bytes arrays give the same ids
    assert layer([["a", "z", "q"], ["e", "xx", "d"]]).tolist() == KERAS_REF["sl_int"]["value"]
    assert layer(np.array([[b"a", b"z", b"q"], [b"e", b"xx", b"d"]])).tolist() == KERAS_REF["sl_int"]["value"]
    assert layer(np.array([["a", "z", "q"], ["e", "xx", "d"]], dtype=object)).tolist() == KERAS_REF["sl_int"]["value"]
    assert layer.vocabulary_size() == 7
    assert layer.get_vocabulary(include_special_tokens=False) == KERAS_REF["sl_vocab"][1:]


def test_string_lookup_mask_and_max_tokens():
    layer = StringLookup(mask_token="", max_tokens=5)
    layer.adapt(DATA)
    _check("sl_mask_vocab", layer.get_vocabulary())
    _check("sl_mask_int", layer(np.array([["a", "", "d", "c"]])))


def test_string_lookup_hashed_oov_buckets():
    layer = StringLookup(num_oov_indices=3, vocabulary=["a", "b"])
    _check("sl_oov3", layer(np.array(KERAS_REF["sl_oov3_in"])))
    _check("sl_oov3_vocab", layer.get_vocabulary())


def test_string_lookup_invert():
    layer = StringLookup(vocabulary=["a", "b", "c"], invert=True, mask_token="[M]")
    _check("sl_invert", layer(np.array([[0, 1, 2], [3, 4, 9]])))
    assert layer(torch.tensor([[0, 1, 2], [3, 4, 9]])).tolist() == KERAS_REF["sl_invert"]["value"]


@pytest.mark.parametrize("mode", ["one_hot", "multi_hot", "count"])
def test_string_lookup_encodings(mode):
    layer = StringLookup(vocabulary=["a", "b", "c"], output_mode=mode)
    _check(f"sl_{mode}_2d", layer(np.array([["a", "b", "a"], ["c", "q", "c"]])))
    _check(f"sl_{mode}_col", layer(np.array([["a"], ["q"], ["c"]])))
    _check(f"sl_{mode}_1d", layer(np.array(["a", "c", "c"])))


def test_string_lookup_padding_and_mask_in_encodings():
    layer = StringLookup(vocabulary=["a", "b", "c"], output_mode="multi_hot", pad_to_max_tokens=True, max_tokens=7)
    _check("sl_pad", layer(np.array([["a", "b"], ["c", "zz"]])))
    layer = StringLookup(vocabulary=["a", "b", "c"], output_mode="multi_hot", mask_token="")
    _check("sl_mh_mask", layer(np.array([["a", ""], ["", "c"]])))
    _check("sl_mh_mask_vocab", layer.get_vocabulary())


def test_string_lookup_tf_idf():
    layer = StringLookup(output_mode="tf_idf")
    layer.adapt(DATA)
    _check("sl_tfidf_vocab", layer.get_vocabulary())
    _check("sl_tfidf_idf", layer.idf_weights)
    _check("sl_tfidf", layer(np.array([["a", "a", "z", "q"], ["e", "b", "b", "b"]])))
    layer = StringLookup(output_mode="tf_idf", vocabulary=["a", "b"], idf_weights=[0.5, 2.0])
    _check("sl_tfidf_given_idf", layer.idf_weights)
    _check("sl_tfidf_given", layer(np.array([["a", "b", "b", "q"]])))
    assert len(layer.weights) == 1 and layer.weights[0].name == "idf_weights"


def test_string_lookup_config_like_keras():
    ours, theirs = StringLookup().get_config(), dict(KERAS_CONFIGS["sl_config"])
    ours.pop("name"), theirs.pop("name")
    assert list(ours) == list(theirs) and ours == theirs
    layer = StringLookup(vocabulary=["x", "y"], mask_token="", num_oov_indices=2)
    clone = StringLookup.from_config(layer.get_config())
    assert clone.get_vocabulary() == layer.get_vocabulary() == ["", "[UNK]", "[UNK]", "x", "y"]
    assert clone(["y", "q", ""]).tolist() == layer(["y", "q", ""]).tolist()


# ----------------------------------------------------------------------------
# IntegerLookup
# ----------------------------------------------------------------------------
def test_integer_lookup_adapt_and_lookup():
    layer = IntegerLookup()
    layer.adapt(IDATA)
    _check("il_vocab", layer.get_vocabulary())
    _check("il_int", layer(np.array([[12, 5, 99], [42, -3, 1138]])))
    _check("il_int", layer(torch.tensor([[12, 5, 99], [42, -3, 1138]], dtype=torch.int32)))


def test_integer_lookup_oov_methods():
    layer = IntegerLookup(mask_token=0, num_oov_indices=3)
    layer.adapt(IDATA)
    _check("il_oov3_vocab", layer.get_vocabulary())
    _check("il_oov3", layer(np.array([[0, 12, 99, 100, 101, -7]])))
    layer = IntegerLookup(num_oov_indices=3, oov_method="farmhash", vocabulary=[1, 2])
    _check("il_farm", layer(np.array(KERAS_REF["il_farm_in"])))


def test_integer_lookup_invert_and_count():
    _check("il_invert", IntegerLookup(vocabulary=[12, 42, 7], invert=True)(np.array([[0, 1, 2, 3, 4]])))
    _check("il_count", IntegerLookup(vocabulary=[12, 42, 7], output_mode="count")(np.array([[12, 12, 7, 3]])))


def test_integer_lookup_harness():
    run_layer_test(IntegerLookup, {"vocabulary": [12, 42, 7]}, input_data=np.array([[12, 7], [3, 42]]),
                   expected_output=np.array([[1, 3], [0, 2]]), expected_output_dtype="int64", expected_num_trainable_weights=0,
                   run_training_check=False)
    run_layer_test(IntegerLookup, {"vocabulary": [12, 42, 7], "output_mode": "multi_hot"}, input_data=np.array([[12, 7], [3, 3]]),
                   expected_output=np.array([[0, 1, 0, 1], [1, 0, 0, 0]], dtype="float32"), expected_output_shape=(2, 4),
                   run_training_check=False)


def test_integer_lookup_config_like_keras():
    ours, theirs = IntegerLookup().get_config(), dict(KERAS_CONFIGS["il_config"])
    ours.pop("name"), theirs.pop("name")
    assert list(ours) == list(theirs) and ours == theirs


def test_integer_lookup_in_functional_model():
    layer = IntegerLookup(vocabulary=[12, 42, 7])
    inputs = Input(shape=(2,), dtype="int64")
    ids = layer(inputs)
    assert ids.dtype == "int64" and ids.shape == (None, 2)
    model = Model(inputs, Embedding(4, 3)(ids))
    out = model(torch.tensor([[12, 9], [7, 42]]))
    assert out.shape == (2, 2, 3)
    emb = model.layers[-1].get_weights()[0]
    np.testing.assert_allclose(out[1, 0].detach().numpy(), emb[3])
    multi = IntegerLookup(vocabulary=[12, 42, 7], output_mode="multi_hot")(Input(shape=(2,), dtype="int64"))
    assert multi.dtype == "float32" and multi.shape == (None, 4)


# ----------------------------------------------------------------------------
# TextVectorization
# ----------------------------------------------------------------------------
def test_text_vectorization_adapt_and_int_mode():
    layer = TextVectorization()
    layer.adapt(TEXTS)
    _check("tv_vocab", layer.get_vocabulary())  # ASCII-only lowercasing, ties by the greater token
    _check("tv_int", layer(np.array(["the fox jumps over", "ÉCOLE dog", ""])))
    _check("tv_int", layer(["the fox jumps over", "ÉCOLE dog", ""]))
    _check("tv_int_col", layer(np.array([["the fox"], ["quick"]])))


def test_text_vectorization_max_tokens_and_sequence_length():
    layer = TextVectorization(max_tokens=6, output_sequence_length=3)
    layer.adapt(TEXTS)
    _check("tv_trunc_vocab", layer.get_vocabulary())
    _check("tv_trunc", layer(np.array(["the fox jumps over", "dog"])))
    layer = TextVectorization(output_sequence_length=5, vocabulary=["b", "a"])
    _check("tv_given_vocab", layer.get_vocabulary())
    _check("tv_given", layer(np.array(["a b c", "a a a a a a a"])))


@pytest.mark.parametrize("standardize", ["lower_and_strip_punctuation", "lower", "strip_punctuation", None])
def test_text_vectorization_standardize(standardize):
    layer = TextVectorization(standardize=standardize, split=None, vocabulary=["zzz"])
    _check(f"std_{standardize}", layer._preprocess(KERAS_REF["std_in"]))


@pytest.mark.parametrize("split", ["whitespace", "character"])
def test_text_vectorization_split(split):
    layer = TextVectorization(standardize=None, split=split, vocabulary=["zzz"])
    _check(f"split_{split}", layer._preprocess(KERAS_REF["std_in"]))


def test_text_vectorization_ngrams():
    _check("ngrams13", TextVectorization(standardize=None, ngrams=(1, 3), vocabulary=["z"])._preprocess(["a b c d", "x y", "solo"]))
    _check("ngrams2", TextVectorization(standardize=None, ngrams=2, vocabulary=["z"])._preprocess(["a b c", "x"]))
    layer = TextVectorization(ngrams=2)
    layer.adapt(TEXTS)
    _check("tv_ng_vocab", layer.get_vocabulary())
    _check("tv_ng", layer(np.array(["the quick fox", "quick fox"])))


@pytest.mark.parametrize("mode", ["multi_hot", "count", "tf_idf", "one_hot"])
def test_text_vectorization_output_modes(mode):
    layer = TextVectorization(output_mode=mode, max_tokens=8)
    layer.adapt(TEXTS)
    _check(f"tv_{mode}_vocab", layer.get_vocabulary())
    _check(f"tv_{mode}", layer(np.array(["the fox the lazy cat", "quick quick"])))
    if mode == "tf_idf":
        _check("tv_tf_idf_idf", layer._lookup_layer.idf_weights)
    layer = TextVectorization(output_mode="multi_hot", max_tokens=8, pad_to_max_tokens=True)
    layer.adapt(["a b", "b"])
    _check("tv_pad", layer(np.array(["a c"])))


def test_text_vectorization_no_split():
    layer = TextVectorization(split=None)
    layer.adapt(np.array([["New York"], ["Paris"], ["New York"]]))
    _check("tv_nosplit_vocab", layer.get_vocabulary())
    _check("tv_nosplit", layer(np.array([["new york"], ["Rome"]])))
    _check("tv_nosplit_1d", layer(np.array(["new york", "Rome"])))


def test_text_vectorization_adapt_on_batches_and_dataset():
    batches = [np.array(["x y z", "y z"]), np.array(["z w", "w"])]
    layer = TextVectorization()
    layer.adapt(iter(batches))
    _check("tv_ds_vocab", layer.get_vocabulary())
    layer.adapt(iter(batches), steps=1)
    _check("tv_ds_steps_vocab", layer.get_vocabulary())
    # the Keras 3 recipe on a kerasish Dataset of (text, label) batches
    ds = Dataset.from_tensor_slices((np.array(["x y z", "y z", "z w", "w"]), np.arange(4))).batch(2)
    vectorizer = TextVectorization(output_sequence_length=3)
    vectorizer.adapt(ds)
    _check("tv_ds_vocab", vectorizer.get_vocabulary())
    out = [(x.tolist(), y.tolist()) for x, y in ds.map(lambda x, y: (vectorizer(x), y))]
    assert out == [([[5, 3, 2], [3, 2, 0]], [0, 1]), ([[2, 4, 0], [4, 0, 0]], [2, 3])]
    # batch_size chunks an array: the same vocabulary
    chunked = TextVectorization()
    chunked.adapt(np.array(["x y z", "y z", "z w", "w"]), batch_size=1)
    _check("tv_ds_vocab", chunked.get_vocabulary())


def test_text_vectorization_callables():
    layer = TextVectorization(standardize=lambda a: np.char.upper(a), split=lambda a: [s.split("-") for s in a.tolist()])
    layer.adapt(["a-b", "b-c-b"])
    assert layer.get_vocabulary() == ["", "[UNK]", "B", "C", "A"]
    assert layer(["c-a-x"]).tolist() == [[3, 4, 1]]


def test_text_vectorization_config_like_keras():
    ours, theirs = TextVectorization(max_tokens=5).get_config(), dict(KERAS_CONFIGS["tv_config"])
    ours.pop("name"), theirs.pop("name")
    assert list(ours) == list(theirs) and ours == theirs
    layer = TextVectorization(ngrams=(1, 2), output_sequence_length=3, vocabulary=["a", "b"])
    clone = TextVectorization.from_config(layer.get_config())
    assert clone(["a b c"]).tolist() == layer(["a b c"]).tolist() == [[2, 3, 1]]


def test_vocabulary_files(tmp_path):
    good = tmp_path / "vocab.txt"
    good.write_bytes("école\nchat\r\n\n".encode("utf-8"))
    layer = TextVectorization(vocabulary=str(good))
    assert layer.get_vocabulary() == ["", "[UNK]", "école", "chat"]
    assert layer.get_config()["vocabulary"] is None  # a path is not kept in the config, as Keras
    with pytest.raises(ValueError, match="missing.txt"):
        StringLookup(vocabulary=str(tmp_path / "missing.txt"))
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("caf\xe9\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"^TextVectorization 'text_vectorization\w*': .*latin1.txt.*not UTF-8"):
        TextVectorization(vocabulary=str(bad))  # the error names the layer the user made, not its inner lookup
    with pytest.raises(ValueError, match=r"^TextVectorization '.*missing.txt' does not exist"):
        TextVectorization(vocabulary=str(tmp_path / "missing.txt"))
    ints = tmp_path / "ints.txt"
    ints.write_text("7\n3\n")
    assert IntegerLookup(vocabulary=str(ints))(np.array([3, 7, 5])).tolist() == [2, 1, 0]


@pytest.mark.parametrize("cls,kwargs,match", [
    (StringLookup, {"max_tokens": 1}, "max_tokens"),
    (StringLookup, {"num_oov_indices": -1}, "num_oov_indices"),
    (StringLookup, {"output_mode": "bogus"}, "output_mode"),
    (StringLookup, {"invert": True, "output_mode": "count"}, "invert"),
    (StringLookup, {"sparse": True, "output_mode": "count"}, "sparse"),
    (StringLookup, {"pad_to_max_tokens": True}, "max_tokens"),
    (StringLookup, {"output_mode": "tf_idf", "vocabulary": ["a"]}, "idf_weights"),
    (StringLookup, {"vocabulary": ["a", "a"]}, "repeated"),
    (StringLookup, {"vocabulary": ["a", ""], "mask_token": ""}, "mask token"),
    (StringLookup, {"vocabulary": ["a", "b", "c"], "max_tokens": 3}, "maximum vocab size"),
    (StringLookup, {"salt": 3}, "salt"),
    (IntegerLookup, {"vocabulary_dtype": "int32"}, "vocabulary_dtype"),
    (IntegerLookup, {"mask_token": "x"}, "mask_token"),
    (TextVectorization, {"ragged": True}, "ragged"),
    (TextVectorization, {"sparse": True}, "sparse"),
    (TextVectorization, {"standardize": "upper"}, "standardize"),
    (TextVectorization, {"split": "comma"}, "split"),
    (TextVectorization, {"ngrams": 0}, "ngrams"),
    (TextVectorization, {"output_mode": "count", "output_sequence_length": 3}, "output_sequence_length"),
])
def test_bad_arguments(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls(**kwargs)


def test_bad_inputs():
    layer = TextVectorization(vocabulary=["a"])
    with pytest.raises(ValueError, match="last dimension must be 1"):
        layer(np.array([["a", "b"]]))
    with pytest.raises(TypeError, match="strings"):
        layer(torch.zeros(2))
    with pytest.raises(ValueError, match="num_oov_indices=0"):
        StringLookup(vocabulary=["a"], num_oov_indices=0)(["a", "zz"])
    with pytest.raises(ValueError, match="num_oov_indices=0"):
        IntegerLookup(vocabulary=[1], num_oov_indices=0)(np.array([1, 2]))
    with pytest.raises(ValueError, match="set the vocabulary"):
        StringLookup(output_mode="multi_hot")(["a"])
    with pytest.raises(ValueError, match="static vocabulary"):
        StringLookup(vocabulary=["a"]).adapt(["a"])


# ----------------------------------------------------------------------------
# Saving: assets in .keras files
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["il", "il_tfidf"])
def test_keras_file_with_adapted_lookup_loads(tmp_path, name):
    ref = KERAS_FILES[name]
    path = write_keras_file(tmp_path / f"{name}.keras", ref)
    model = load_model(path, custom_objects={"IntegerLookup": IntegerLookup})
    x = torch.tensor([[3, 7], [9, 100]])
    assert_close_f32(model(x).detach().numpy(), np.asarray(ref["pred"], dtype="float32"))
    # saved again by kerasish: Keras's layout, the same predictions
    model.save(tmp_path / "again.keras")
    with zipfile.ZipFile(tmp_path / "again.keras") as z:
        assert sorted(n for n in z.namelist() if n.startswith("assets/")) == sorted(ref["assets"])
        for member, text in ref["assets"].items():
            assert z.read(member).decode("utf-8") == text
    again = load_model(tmp_path / "again.keras", custom_objects={"IntegerLookup": IntegerLookup})
    assert_close_f32(again(x).detach().numpy(), np.asarray(ref["pred"], dtype="float32"))


class _TextClassifier(Model):
    """A model keeping its adapted vectorizer (the data pipeline's) with it."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.vectorizer = TextVectorization(max_tokens=20, output_sequence_length=4)
        self.embedding = Embedding(20, 3)

    def call(self, ids):
        return self.embedding(ids)


def test_adapted_text_vectorization_round_trips_in_keras_file(tmp_path):
    model = _TextClassifier()
    model.vectorizer.adapt(["the cat sat", "the dog ran", "a cat é"])
    ids = model.vectorizer(["the cat é zebra"])
    model(ids)
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as z:
        # Keras 3 writes the vocabulary at both the layer and its inner lookup layer
        assert z.read("assets/vectorizer/vocabulary.txt").decode("utf-8") == "\n".join(model.vectorizer.get_vocabulary())
        assert "assets/vectorizer/_lookup_layer/vocabulary.txt" in z.namelist()
    loaded = load_model(tmp_path / "m.keras", custom_objects={"_TextClassifier": _TextClassifier})
    assert loaded.vectorizer.get_vocabulary() == model.vectorizer.get_vocabulary()
    assert loaded.vectorizer(["the cat é zebra"]).tolist() == ids.tolist()
    np.testing.assert_allclose(loaded(ids).detach().numpy(), model(ids).detach().numpy())


def test_missing_vocabulary_asset_is_an_error(tmp_path):
    ref = dict(KERAS_FILES["il"], assets={})
    with pytest.raises(ValueError, match="vocabulary.txt"):
        load_model(write_keras_file(tmp_path / "m.keras", ref), custom_objects={"IntegerLookup": IntegerLookup})


@pytest.mark.parametrize("member", ["assets/../evil.txt", "assets//x.txt", "assets/a/./b.txt", "assets/a\\..\\b.txt"])
def test_unsafe_asset_names_are_refused(tmp_path, member):
    ref = dict(KERAS_FILES["il"])
    ref["assets"] = {**ref["assets"], member: "x"}
    with pytest.raises(ValueError, match="unsafe name"):
        load_model(write_keras_file(tmp_path / "m.keras", ref), custom_objects={"IntegerLookup": IntegerLookup})
    assert not (tmp_path / "evil.txt").exists()


def test_vocabulary_path_in_a_config_is_refused_in_safe_mode(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("1\n2\n")
    ref = json.loads(json.dumps(KERAS_FILES["il"]))
    ref["config"]["config"]["layers"][1]["config"]["vocabulary"] = str(secret)
    with pytest.raises(ValueError, match="safe mode"):
        load_model(write_keras_file(tmp_path / "m.keras", ref), custom_objects={"IntegerLookup": IntegerLookup})
