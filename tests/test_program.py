"""The translated graph as a program (kerasish/models/program.py) and its passes
(kerasish/models/passes/): plain frozen data, derived from the graph on demand,
each pass testable and removable on its own."""

import dataclasses

import numpy as np
import pytest
import torch

import kerasish
from kerasish import Model
from kerasish.layers import Activation, Add, Dense, Input
from kerasish.models import passes, program as program_lib
from kerasish.testing import assert_close_f32


def _branchy():
    kerasish.utils.set_random_seed(0)
    x = Input((5,), name="x")
    a = Dense(4, activation="relu", name="a")(x)
    b = Dense(4, name="b")(a)
    c = Dense(4, name="c")(a)
    out = Dense(3, activation="softmax", name="out")(Add(name="add")([b, c]))
    return Model(x, out)


def _data(shape=(6, 5)):
    return torch.from_numpy(np.random.default_rng(0).random(shape, dtype=np.float32))


def test_plan_is_named_frozen_data():
    model = _branchy()
    p = program_lib.plan(model)
    assert [s.layer.name for s in p.steps] == ["a", "b", "c", "add", "out"]
    assert [s.arg_kind for s in p.steps] == [program_lib.ONE] * 3 + [program_lib.LIST, program_lib.ONE]
    assert p.steps[3].args == (p.steps[1].outs[0], p.steps[2].outs[0])  # Add reads b's and c's slots
    assert p.output_slots == p.steps[-1].outs and p.n_slots == 6
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.steps[0].cast = torch.float64
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.n_slots = 0


def test_program_follows_every_graph_change():
    model = kerasish.Sequential([Input((5,)), Dense(4, name="hidden")])
    first = model._program
    assert model._program is first  # cached while nothing changes
    model.add(Dense(2, name="head"))
    assert [s.layer.name for s in model._program.steps] == ["hidden", "head"]
    model.pop()
    assert [s.layer.name for s in model._program.steps] == ["hidden"]
    model.to(torch.float64)  # a dtype move: the casts are derived again
    assert model._program.input_dtypes == (torch.float64,)
    assert model(_data()).dtype == torch.float64


@pytest.mark.parametrize("drop", ["casts", "release"])
def test_each_pass_can_be_left_out(drop):
    model = _branchy()
    x = model._cast_inputs([_data()])
    full = program_lib.run(model._program, x, training=False)[0]
    one = passes.cast_inputs if drop == "release" else passes.release_dead_slots
    partial = one(program_lib.plan(model))  # the other pass only
    assert_close_f32(program_lib.run(partial, x, training=False)[0], full)


def test_release_pass_drops_nothing_a_later_step_reads():
    model = _branchy()
    p = passes.release_dead_slots(program_lib.plan(model))
    a_out = p.steps[0].outs[0]
    assert a_out not in p.steps[1].release  # read again by c
    assert a_out in p.steps[2].release
    assert not any(s in step.release for step in p.steps for s in p.output_slots)
    assert all(step.release == () for step in program_lib.plan(model).steps)  # the plan alone keeps everything


def test_casts_pass_casts_where_weights_differ_from_inputs():
    x = Input((3,))
    h = Dense(4, name="f32")(x)
    out = Dense(2, dtype="float64", name="f64")(h)
    model = Model(x, out)
    raw = program_lib.plan(model)
    assert all(s.cast is None for s in raw.steps)
    cast = passes.cast_inputs(raw)
    assert [s.cast for s in cast.steps] == [None, torch.float64]
    assert cast.input_dtypes == (torch.float32,)  # two weight dtypes: the inputs keep theirs
    y = model(np.ones((2, 3), "float32"))
    assert y.dtype == torch.float64
    with pytest.raises(RuntimeError):  # without the pass torch refuses the mixed matmul
        program_lib.run(raw, [torch.ones(2, 3)], training=False)


def test_logits_pass_stops_the_output_before_its_activation():
    model = _branchy()
    head = model.get_layer("out")
    assert passes.splittable(head) and not passes.splittable(model.get_layer("add"))
    x = model._cast_inputs([_data()])
    logits = program_lib.run(model._program_for((head,)), x, training=False)[0]
    probs = program_lib.run(model._program, x, training=False)[0]
    assert_close_f32(torch.softmax(logits, -1), probs)
    assert not torch.allclose(logits.sum(-1), torch.ones(6))
    with pytest.raises(ValueError, match="'add'"):
        passes.split_logits(model._program, [model.get_layer("add")])


def test_logits_split_is_what_fit_uses_and_never_what_predict_sees():
    model = _branchy()
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    y = np.eye(3, dtype="float32")[np.arange(6) % 3]
    model.fit(_data().numpy(), y, epochs=1, verbose=0)
    assert model._fused_layers == (model.get_layer("out"),)
    assert_close_f32(model.predict(_data().numpy(), verbose=0).sum(-1), np.ones(6))


def test_user_subclass_of_a_splittable_layer_is_not_split():
    class MyDense(Dense):
        def call(self, inputs):
            return super().call(inputs) * 2.0

    x = Input((3,))
    model = Model(x, MyDense(2, activation="softmax")(x))
    assert model._splittable_outputs() == [None]
    model2 = Model(x, Activation("softmax")(Dense(2)(x)))
    assert model2._splittable_outputs() == [model2.layers[-1]]
