"""Data-parallel training under torchrun (issue: the same script on N processes).

The end-to-end tests start ``torchrun --nproc_per_node=2`` on CPU (gloo on
loopback) with tests/distributed/dp_script.py, and the same script with plain
``python``; they compare what each process wrote. The rest checks the pieces
in this process.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import kerasish as keras
from kerasish import distribution
from kerasish.distribution import sharding
from kerasish.distribution.data_parallel import DataParallel, DistributedError
from conftest import assert_close_f32

# Two processes all-reduce their gradients: each step's sums (a batch of up to
# 20 samples x 36 positions of the conv model, or 16 samples of the tiny
# model) are added in another order, and fits chain ~30 such steps. The
# float32 tolerances follow; a wrongly averaged gradient or a dropped sample
# changes values by percents.
CONV_RUN = {"terms": 20 * 36, "depth": 30}
TINY_RUN = {"terms": 16 * 4, "depth": 10}

HERE = Path(__file__).parent
SCRIPTS = HERE / "distributed"
REPO = HERE.parent


def _env():
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS="1", CUDA_VISIBLE_DEVICES="", PYTHONPATH=str(REPO), KERASISH_DEVICE="cpu")
    for key in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    return env


def _torchrun(nproc, script, *args, timeout=600, monitor_interval=None):
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}"]
    if monitor_interval is not None:
        cmd.append(f"--monitor-interval={monitor_interval}")
    cmd += [str(script), *map(str, args)]
    return subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=timeout, cwd=REPO)


def _python(script, *args, timeout=600):
    return subprocess.run([sys.executable, str(script), *map(str, args)], env=_env(), capture_output=True, text=True, timeout=timeout, cwd=REPO)


def _image_folder(root):
    g = torch.Generator().manual_seed(0)
    for c in range(3):
        (root / f"class_{c}").mkdir(parents=True)
        for i in range(10):
            img = torch.randint(0, 256, (8, 8, 1), generator=g, dtype=torch.uint8).numpy()
            keras.utils.save_img(root / f"class_{c}" / f"{i}.png", img, scale=False)
    return root


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The script once with 1 process and once with 2 (torchrun)."""
    base = tmp_path_factory.mktemp("ddp")
    images = _image_folder(base / "images")
    one, two = base / "one", base / "two"
    one.mkdir()
    two.mkdir()
    r1 = _python(SCRIPTS / "dp_script.py", one, images)
    assert r1.returncode == 0, r1.stdout[-3000:] + r1.stderr[-3000:]
    r2 = _torchrun(2, SCRIPTS / "dp_script.py", two, images)
    assert r2.returncode == 0, r2.stdout[-3000:] + r2.stderr[-5000:]

    def load(folder, rank):
        with open(folder / f"rank{rank}.json") as f:
            meta = json.load(f)
        with np.load(folder / f"rank{rank}.npz") as z:
            arrays = {k: z[k] for k in z.files}
        return meta, arrays

    return {"one": load(one, 0), "two": [load(two, r) for r in (0, 1)], "dirs": (one, two), "stdout": r2.stdout + r2.stderr}


WEIGHT_KEYS = ["weights_arrays", "weights_shuffled", "weights_dataset", "weights_dataloader", "weights_generator", "weights_folder",
               "after_train_on_batch", "weights_resumed", "weights_tiny_mean", "weights_tiny_sum", "weights_tiny_dataset",
               "weights_tiny_generator", "weights_tiny_flatten", "weights_folder_second_fit", "weights_pipeline",
               "weights_folder_mapped"]


@pytest.mark.slow
def test_both_processes_hold_identical_weights(runs):
    (m0, a0), (m1, a1) = runs["two"]
    assert m0["world"] == m1["world"] == 2
    for key in WEIGHT_KEYS:
        np.testing.assert_array_equal(a0[key], a1[key], err_msg=key)


@pytest.mark.slow
@pytest.mark.parametrize("key", WEIGHT_KEYS)
def test_two_processes_match_one(runs, key):
    """Arrays (uneven last batch), shuffled arrays, a Dataset, a DataLoader, a
    generator and an image folder: the 2-process fit is the 1-process fit."""
    _, one = runs["one"]
    _, two = runs["two"][0]
    assert one[key].shape == two[key].shape
    assert_close_f32(two[key], one[key], **(TINY_RUN if "tiny" in key else CONV_RUN), err_msg=key)
    assert not np.allclose(two[key], 0)


@pytest.mark.slow
def test_history_and_evaluate_are_averaged_over_processes(runs):
    one, _ = runs["one"]
    for meta, _ in runs["two"]:
        for name, values in one["history"].items():
            assert_close_f32(meta["history"][name], values, **CONV_RUN, err_msg=name)
        for what in ("evaluate", "folder_evaluate", "train_on_batch"):
            for name, value in one[what].items():
                assert_close_f32(meta[what][name], value, **CONV_RUN, err_msg=f"{what} {name}")


@pytest.mark.slow
def test_a_stop_decided_on_one_process_stops_all_at_the_same_batch(runs):
    (m0, _), (m1, _) = runs["two"]
    assert m0["batches_run"] == m1["batches_run"] == [0, 1, 2]
    assert m0["batch_logs_loss"] == m1["batch_logs_loss"]


@pytest.mark.slow
def test_subclassed_model_with_batchnorm_and_loader_validation(runs):
    """Processes that drew different initial weights train one model (rank
    0's); BatchNormalization's statistics come from rank 0 too."""
    (m0, a0), (m1, a1) = runs["two"]
    np.testing.assert_array_equal(a0["weights_subclassed"], a1["weights_subclassed"])
    assert m0["subclassed_val_loss"] == m1["subclassed_val_loss"]
    assert len(m0["subclassed_val_loss"]) == 2


@pytest.mark.slow
def test_losses_summed_over_the_batch_and_empty_pieces(runs):
    """A batch of one sample leaves one process without any; reduction="sum"
    and activity regularizers still give the one-process losses."""
    one, arrays1 = runs["one"]
    for meta, arrays in runs["two"]:
        for name in ("mean", "sum"):
            assert_close_f32(meta[f"tiny_{name}_loss"], one[f"tiny_{name}_loss"], **TINY_RUN, err_msg=name)
            for k, v in one[f"tiny_{name}_evaluate"].items():
                assert_close_f32(meta[f"tiny_{name}_evaluate"][k], v, **TINY_RUN, err_msg=f"{name} {k}")
        assert_close_f32(arrays["predict_tiny"], arrays1["predict_tiny"], **TINY_RUN)


@pytest.mark.slow
def test_image_folder_with_a_last_batch_of_one(runs):
    one, arrays1 = runs["one"]
    for meta, arrays in runs["two"]:
        for k, v in one["folder_evaluate_29"].items():
            assert_close_f32(meta["folder_evaluate_29"][k], v, **CONV_RUN, err_msg=k)
        assert_close_f32(arrays["folder_predict_29"], arrays1["folder_predict_29"], **CONV_RUN)
        assert arrays["folder_predict_29"].shape == (30, 5)
        assert meta["backup_left_after_fit"] is False


@pytest.mark.slow
def test_predict_gathers_every_sample_in_order(runs):
    _, one = runs["one"]
    for _, arrays in runs["two"]:
        assert arrays["predict"].shape == (100, 5)
        assert_close_f32(arrays["predict"], one["predict"], **CONV_RUN)


@pytest.mark.slow
def test_callbacks_decide_alike(runs):
    one, _ = runs["one"]
    (m0, _), (m1, _) = runs["two"]
    assert m0["early_stopping_epochs"] == m1["early_stopping_epochs"] == one["early_stopping_epochs"] == 2
    assert m0["learning_rate"] == m1["learning_rate"] == pytest.approx(one["learning_rate"])


@pytest.mark.slow
def test_only_rank0_prints_and_writes(runs):
    out = runs["stdout"]
    assert out.count("Epoch 1/3") == 1, out[-3000:]
    assert out.count("Total params") == 1
    assert out.count("data-parallel over 2 processes (gloo, cpu)") == 1
    assert out.count("Found 30 files belonging to 3 classes.") == 1
    assert out.count("Epoch 2: early stopping") == 1
    two = runs["dirs"][1]
    assert (two / "log_rank0.csv").exists() and not (two / "log_rank1.csv").exists()
    lines = (two / "log_rank0.csv").read_text().splitlines()
    assert len(lines) == 4 and lines[0].startswith("epoch")
    assert sorted(p.name for p in two.glob("ckpt_*.keras")) == ["ckpt_01.keras", "ckpt_02.keras"]


@pytest.mark.slow
def test_save_and_load_model(runs):
    for _, arrays in runs["two"]:
        np.testing.assert_allclose(arrays["reloaded_predict"], arrays["saved_model_predict"], atol=1e-6)
    assert keras.models.load_model(runs["dirs"][1] / "model.keras").count_params() == 225


@pytest.mark.slow
def test_backup_and_restore_resumes(runs):
    for meta, arrays in runs["two"]:
        assert meta["interrupted"] == "interrupted"
        assert meta["resumed_epochs"] == 2  # epochs 3 and 4 only
        np.testing.assert_allclose(arrays["weights_resumed"], arrays["weights_uninterrupted"], atol=1e-6)
    metadata = json.loads((runs["dirs"][1] / "backup" / "training_metadata.json").read_text())
    assert metadata == {"epoch": 4, "batch": 0, "world_size": 2}
    with np.load(runs["dirs"][1] / "backup" / "training_rng_state.npz") as z:
        assert "torch" in z.files and "rank1.torch" in z.files


@pytest.mark.slow
def test_backup_from_two_processes_refused_by_one(runs):
    """A 2-process backup restored by a 1-process run: ValueError naming both."""
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, activation="relu"), keras.layers.MaxPooling2D(2),
                              keras.layers.Flatten(), keras.layers.Dense(5, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = np.zeros((8, 8, 8, 1), "float32")
    with pytest.raises(ValueError, match=r"2 process\(es\), but this run has 1"):
        model.fit(x, np.zeros(8, "int64"), epochs=5, verbose=0,
                  callbacks=[keras.callbacks.BackupAndRestore(runs["dirs"][1] / "backup", delete_checkpoint=False)])


@pytest.mark.slow
def test_batch_size_not_divisible_by_processes(runs):
    (m0, _), (m1, _) = runs["two"]
    for meta in (m0, m1):
        assert "`batch_size`=15 is not divisible by the number of processes (2)" in meta["odd_batch_error"]
    assert runs["one"][0]["odd_batch_error"] is None


@pytest.mark.slow
def test_a_dying_rank_stops_the_others_with_a_clear_error():
    start = time.monotonic()
    r = _torchrun(2, SCRIPTS / "dying_rank.py", timeout=300, monitor_interval=5)
    elapsed = time.monotonic() - start
    out = r.stdout + r.stderr
    assert r.returncode != 0
    assert elapsed < 120, f"took {elapsed:.0f} s"
    assert "finished fit" not in out
    assert "kerasish data-parallel: averaging gradients (epoch 1, step 4) failed on rank 0 of 2" in out, out[-4000:]
    assert "dying_rank.py FAILED" in out  # torchrun reports the failure


# ----------------------------------------------------------------------
# The pieces, in this process
# ----------------------------------------------------------------------
@pytest.mark.parametrize("n,world", [(16, 2), (11, 2), (5, 3), (1, 2), (32, 4)])
def test_piece_bounds_cover_the_batch_once(n, world):
    pieces = [sharding.piece_bounds(n, world, r) for r in range(world)]
    assert pieces[0][0] == 0 and pieces[-1][1] == n
    assert all(a[1] == b[0] for a, b in zip(pieces, pieces[1:]))
    expected = [len(t) for t in torch.tensor_split(torch.arange(n), world)]
    assert [hi - lo for lo, hi in pieces] == expected


@pytest.mark.parametrize("shuffle", [False, True])
def test_sharded_sampler_splits_each_global_batch(shuffle):
    world, n, bs = 3, 50, 12
    samplers = [sharding.ShardedBatchSampler(n, bs, shuffle, r, world, seed=5) for r in range(world)]
    single = list(sharding.ShardedBatchSampler(n, bs, shuffle, 0, 1, seed=5))
    per_rank = [list(s) for s in samplers]
    assert all(len(b) == len(single) for b in per_rank)
    for i, batch in enumerate(single):
        pieces = []
        for r in range(world):
            lo, hi = sharding.piece_bounds(len(batch), world, r)
            if hi == lo:  # no sample for this process: it loads one, which the data adapter drops
                assert per_rank[r][i] == batch[:1]
            else:
                pieces += per_rank[r][i]
        assert pieces == batch
    assert [len(b) for b in per_rank[2]][-1] == 1 and len(single[-1]) == 2  # 50 = 4 x 12 + 2: rank 2 has none of the last
    assert sorted(sum(single, [])) == list(range(n))
    # a new permutation next epoch, the same on every process
    again = [list(s) for s in samplers]
    assert again[0] != per_rank[0] if shuffle else again[0] == per_rank[0]


def test_check_batch_size_names_both_numbers():
    with pytest.raises(ValueError, match=r"`batch_size`=10 is not divisible by the number of processes \(4\)"):
        sharding.check_batch_size(10, 4)
    sharding.check_batch_size(12, 4)


class _FakeDP:
    """Stands for a DataParallel process of a 2-process run (no process group)."""

    def __init__(self, rank, world=2):
        self.rank, self.world_size, self.auto_shard_dataset = rank, world, True

    def shared_seed(self, seed):
        return seed


def test_array_data_pieces_and_scales():
    from kerasish.trainers.data_adapter import make_data

    x = np.arange(22, dtype="float32")[:, None]
    pieces = []
    for rank in (0, 1):
        data = make_data(x, x, batch_size=8, shard=_FakeDP(rank))
        got = []
        for bx, _, _ in data.epoch():
            got.append((bx[:, 0].tolist(), data.batch_scale))
        pieces.append(got)
    # batches of 8, 8 and 6: each cut in two halves
    assert [p[0] for p in pieces[0]] == [[0, 1, 2, 3], [8, 9, 10, 11], [16, 17, 18]]
    assert [p[0] for p in pieces[1]] == [[4, 5, 6, 7], [12, 13, 14, 15], [19, 20, 21]]
    assert all(s == 1.0 for p in pieces for _, s in p)
    with pytest.raises(ValueError, match="not divisible"):
        make_data(x, x, batch_size=7, shard=_FakeDP(0))
    make_data(x, x, batch_size=7, shard=_FakeDP(0), split_evenly=False)  # evaluate / predict: uneven is fine


def test_uneven_piece_scale_is_its_share_of_the_batch():
    from kerasish.trainers.data_adapter import make_data

    x = np.zeros((5, 1), "float32")
    scales = []
    for rank in (0, 1):
        data = make_data(x, x, batch_size=6, shard=_FakeDP(rank), split_evenly=True)
        list(data.epoch())
        scales.append(data.batch_scale)
    assert scales == [3 * 2 / 5, 2 * 2 / 5]


def test_dataloader_with_custom_sampler_cannot_be_sharded():
    from kerasish.trainers.data_adapter import make_data

    ds = torch.utils.data.TensorDataset(torch.zeros(10, 2), torch.zeros(10))
    weighted = torch.utils.data.WeightedRandomSampler([1.0] * 10, 10)
    loader = torch.utils.data.DataLoader(ds, batch_size=4, sampler=weighted)
    with pytest.raises(ValueError, match="cannot be sharded across 2 processes.*WeightedRandomSampler"):
        make_data(loader, shard=_FakeDP(0))
    with pytest.raises(ValueError, match=r"DataLoader batch_size`=5 is not divisible by the number of processes \(2\)"):
        make_data(torch.utils.data.DataLoader(ds, batch_size=5), shard=_FakeDP(1))


def test_generator_batches_are_cut_per_process():
    from kerasish.trainers.data_adapter import make_data

    def gen():
        for i in range(3):
            yield np.full((5, 2), i, "float32"), np.arange(5)

    data = make_data(gen(), shard=_FakeDP(1), split_evenly=False)
    batches = list(data.epoch())
    assert [b[1].tolist() for b in batches] == [[3, 4]] * 3
    assert data.batch_scale == pytest.approx(2 * 2 / 5)


def test_single_process_is_left_alone(monkeypatch):
    for key in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(key, raising=False)
    assert distribution.distribution() is None
    assert distribution.num_processes() == 1 and distribution.process_index() == 0 and distribution.is_chief()
    dp = DataParallel()
    assert not dp.enabled and dp.is_chief and dp.world_size == 1
    assert dp.chief_does(lambda: 5, "x") == 5


def test_torchrun_environment_is_detected(monkeypatch):
    from kerasish.distribution import data_parallel

    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setattr(data_parallel, "_auto", None)
    monkeypatch.setattr(data_parallel, "_explicit", data_parallel._UNSET)
    d = distribution.distribution()
    assert isinstance(d, DataParallel) and (d.rank, d.world_size, d.local_rank) == (3, 4, 1)
    assert not d.is_chief and distribution.process_index() == 3 and distribution.num_processes() == 4
    if not torch.cuda.is_available():
        assert d.device == torch.device("cpu") and d.backend == "gloo"
    distribution.set_distribution(None)  # turned off, even under torchrun
    assert distribution.distribution() is None and distribution.is_chief()
    monkeypatch.setattr(data_parallel, "_explicit", data_parallel._UNSET)
    monkeypatch.setenv("KERASISH_DISTRIBUTED", "0")
    assert distribution.distribution() is None
    monkeypatch.setattr(data_parallel, "_auto", None)


def test_data_parallel_arguments_are_checked(monkeypatch):
    for key in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(key, raising=False)
    with pytest.raises(ValueError, match="one process per device.*torchrun --nproc_per_node=2"):
        DataParallel(devices=["cpu", "cpu"])
    with pytest.raises(ValueError, match="unknown backend 'mpi2'"):
        DataParallel(backend="mpi2")
    with pytest.raises(ValueError, match="'nccl' needs CUDA devices"):
        DataParallel(devices=["cpu"], backend="nccl")
    with pytest.raises(ValueError, match="timeout"):
        DataParallel(timeout=0)
    with pytest.raises(ValueError, match="unexpected keyword"):
        DataParallel(layout_map={})
    with pytest.raises(TypeError, match="DataParallel or None"):
        distribution.set_distribution("data_parallel")
    assert DataParallel(devices=["gpu:0"] if torch.cuda.is_available() else ["cpu"]).device.type in ("cuda", "cpu")
    assert distribution.list_devices("cpu") == ["cpu:0"]
    with pytest.raises(ValueError, match="device_type"):
        distribution.list_devices("tpu")


def test_lost_peer_errors_become_distributed_errors():
    dp = DataParallel()
    dp.world_size = 2
    with pytest.raises(DistributedError, match="another process has probably stopped"):
        dp.raise_if_lost(RuntimeError("[gloo/transport/tcp/pair.cc:545] Read error: Connection reset by peer"), "averaging gradients")
    dp.raise_if_lost(RuntimeError("mat1 and mat2 shapes cannot be multiplied"), "averaging gradients")  # a user error: left alone


def test_rank_above_zero_drops_printing_and_writing_callbacks(monkeypatch, tmp_path):
    from kerasish.distribution import data_parallel

    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setattr(data_parallel, "_auto", None)
    monkeypatch.setattr(data_parallel, "_explicit", data_parallel._UNSET)
    C = keras.callbacks
    stopper = C.EarlyStopping()
    ckpt = C.ModelCheckpoint(str(tmp_path / "m.keras"))
    cbs = C.CallbackList([C.CSVLogger(str(tmp_path / "log.csv")), stopper, ckpt, C.RemoteMonitor()], add_history=True, add_progbar=True)
    assert C.TensorBoard._chief_only  # (its constructor needs the tensorboard package)
    kinds = [type(cb).__name__ for cb in cbs.callbacks]
    assert kinds == ["EarlyStopping", "ModelCheckpoint", "History"]
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setattr(data_parallel, "_auto", None)
    cbs = C.CallbackList([C.CSVLogger(str(tmp_path / "log.csv")), stopper], add_history=True, add_progbar=True)
    assert [type(cb).__name__ for cb in cbs.callbacks] == ["CSVLogger", "EarlyStopping", "History", "ProgbarLogger"]
    monkeypatch.setattr(data_parallel, "_auto", None)


def test_auto_shard_dataset_false_leaves_data_alone():
    from kerasish.trainers.data_adapter import make_data

    dp = _FakeDP(1)
    dp.auto_shard_dataset = False
    x = np.arange(10, dtype="float32")[:, None]
    data = make_data(x, x, batch_size=5, shard=dp)  # 5 is not divisible by 2: per process, so fine
    assert [b[0][:, 0].tolist() for b in data.epoch()] == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.zeros(6, 1), torch.zeros(6)), batch_size=3)
    assert [len(b[0]) for b in make_data(loader, shard=dp).epoch()] == [3, 3]


def test_a_process_without_samples_in_a_batch_gets_an_empty_piece():
    from kerasish.trainers.data_adapter import make_data

    ds = torch.utils.data.TensorDataset(torch.arange(5.0)[:, None], torch.arange(5.0))
    sizes = []
    for rank in (0, 1, 2):
        data = make_data(ds, batch_size=3, shard=_FakeDP(rank, world=3), split_evenly=False)
        got = []
        for bx, by, _ in data.epoch():
            got.append((bx[:, 0].tolist(), data.batch_scale))
        sizes.append(got)
    # batches [0, 1, 2] and [3, 4]: process 2 has nothing of the second
    assert sizes[0] == [([0.0], 1.0), ([3.0], 1.5)]
    assert sizes[1] == [([1.0], 1.0), ([4.0], 1.5)]
    assert sizes[2] == [([2.0], 1.0), ([], 0.0)]


def test_initialize_checks_its_arguments():
    with pytest.raises(ValueError, match="`num_processes` must be a non-negative int, got 'x'"):
        distribution.initialize(num_processes="x")
    with pytest.raises(ValueError, match="host:port"):
        distribution.initialize(job_addresses="localhost")
