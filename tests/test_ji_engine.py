"""The Ji, Wu & Xi inversion engine: architectures, stacked init/training, resume, bad input, data."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from e2e import load_script  # tests/ is on sys.path
from nnmat import io
from nnmat.ji import engine, mlp, names, stream

torch.use_deterministic_algorithms(True)

A0 = np.array([[2.0, 1.0], [1.0, 2.0]])


def arrays(n_train: int = 40, n_test: int = 30, on_the_fly: bool = False, seed: int = 0, radius=0.3):
    """A tiny box dataset around A0 (as the NPZ written by the data stage)."""
    rng = np.random.default_rng(seed)
    X_test = A0 + rng.uniform(-radius, radius, (n_test, 2, 2))
    X_train = A0 + rng.uniform(-radius, radius, (0 if on_the_fly else n_train, 2, 2))
    return {
        "n": np.array(2),
        "A0": A0,
        "radius": np.array(radius),
        "on_the_fly": np.array(on_the_fly),
        "X_train": X_train,
        "X_test": X_test,
        "Y_test": np.linalg.inv(X_test),
    }


# Keyword arguments of engine.train that are not settings (paths, speed knobs, test hooks).
TRAIN_OPTIONS = ("checkpoint_path", "otf_block_steps", "on_step")


def train_settings(**kw):
    fields = dict(
        dataset="tiny",
        archs=["fc2", "small"],
        seeds=2,
        seed=7,
        steps=12,
        batch_size=16,
        lr=1e-3,
        weight_decay=1e-7,
        t0_steps=4,
        t_mult=2,
        log_every=3,
        checkpoint_every=12,
        device="cpu",
    )
    fields.update(kw)
    return engine.TrainSettings(**fields)


def run(data=None, **kw):
    options = {k: kw.pop(k) for k in TRAIN_OPTIONS if k in kw}
    data = data if data is not None else stream.data_from_arrays(arrays())
    return engine.train(data, train_settings(**kw), progress_every_s=1e9, **options)


# ---------------------------------------------------------------------------------------- shapes


@pytest.mark.parametrize(
    "arch, n, expected, params",
    [
        ("fc2", 2, [4, 32, 4], 292),
        ("fc2", 3, [9, 72, 9], 1377),
        ("fc2", 16, [256, 2048, 256], 1_050_880),
        ("fc3", 2, [4, 32, 32, 4], 1348),
        ("fc3", 3, [9, 72, 72, 9], 6633),
        ("fc3", 16, [256, 2048, 2048, 256], 5_247_232),
        ("small", 2, [4, 8, 4], 76),
    ],
)
def test_widths_and_parameter_counts_follow_appendix_b(arch, n, expected, params):
    w = mlp.widths(arch, n)
    assert w == expected
    assert mlp.n_params(w) == params
    assert sum(p.numel() for p in mlp.mlp(w).parameters()) == params


def test_unknown_architecture_is_named_with_the_valid_ones():
    with pytest.raises(ValueError, match=r"'fc4'.*fc2, fc3, small"):
        mlp.widths("fc4", 2)


# -------------------------------------------------------------------------------- stacked model


def test_stacked_init_equals_nn_linear_default_init():
    w = mlp.widths("fc3", 2)
    seeds = [3, 2**62 + 5, 11]
    stacked = mlp.StackedMLP(w, seeds)
    x = torch.randn(len(seeds), 5, 4)
    out = stacked(x)
    for m, seed in enumerate(seeds):
        torch.manual_seed(seed)
        plain = mlp.mlp(w)  # nn.Linear's own reset_parameters on the global generator
        sd = stacked.state_dict_of(m)
        assert sd.keys() == plain.state_dict().keys()
        for k, v in plain.state_dict().items():
            assert torch.equal(sd[k], v), k
        torch.testing.assert_close(out[m], plain(x[m]), rtol=1e-6, atol=1e-7)


def test_state_dict_round_trip_through_mlp_from_state_dict():
    stacked = mlp.StackedMLP(mlp.widths("fc2", 3), [1, 2])
    sd = stacked.state_dict_of(1)
    assert all(t.is_contiguous() and t.device.type == "cpu" for t in sd.values())
    model = mlp.mlp_from_state_dict(sd)
    assert [type(m).__name__ for m in model] == ["Linear", "ReLU", "Linear"]
    x = torch.randn(7, 9)
    torch.testing.assert_close(model(x), stacked.predict(x.expand(2, -1, -1).contiguous())[1])
    sd["0.weight"].zero_()  # a clone: the stacked model is untouched
    assert stacked.weights[0][1].abs().sum() > 0
    with pytest.raises(ValueError, match="state dict"):
        mlp.mlp_from_state_dict({"1.weight": torch.zeros(2, 2)})


@pytest.mark.parametrize("loop", [False, True])
def test_hand_written_gradient_equals_autograd(monkeypatch, loop):
    if loop:  # force the one-mm-per-model path that large CPU layers take
        monkeypatch.setattr(mlp, "_LOOP_MIN_MACS", 0)
    stacked = mlp.StackedMLP(mlp.widths("fc3", 2), [1, 2, 3])
    x, y = torch.randn(3, 16, 4), torch.randn(3, 16, 4)
    loss = stacked.loss_and_grad_(x.clone(), y)
    manual = stacked.flat.grad.clone()
    stacked.flat.grad = None
    per_model = ((stacked(x) - y) ** 2).mean(dim=(1, 2))
    per_model.sum().backward()
    torch.testing.assert_close(loss, per_model.detach(), rtol=1e-6, atol=0)
    torch.testing.assert_close(manual, stacked.flat.grad, rtol=1e-5, atol=1e-7)
    assert stacked.flat.grad.abs().sum() > 0
    again = stacked.loss_and_grad_(x.clone(), y)  # into autograd's new flat.grad: same numbers
    assert torch.equal(again, loss) and torch.equal(stacked.flat.grad, manual)


def test_stacked_training_equals_separate_training():
    """train() on 3 seeds vs a plain nn.Sequential + Adam + scheduler loop per model, same batches."""
    data = stream.data_from_arrays(arrays(n_train=50))
    steps = 8
    res = run(data, archs=["fc2"], seeds=3, steps=steps, log_every=4)
    batch_seeds = res.final["batch_seed"].tolist()
    batch_stream = stream.BatchStream(data, 16, batch_seeds, torch.device("cpu"))
    batches = [batch_stream.next() for _ in range(steps)]
    for m, seed in enumerate(res.final["seed"]):
        torch.manual_seed(int(seed))
        plain = mlp.mlp(mlp.widths("fc2", 2))
        opt = engine.make_optimizer(list(plain.parameters()), 1e-3, 1e-7)
        sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=4, T_mult=2)
        for x, y in batches:
            opt.zero_grad()
            torch.nn.functional.mse_loss(plain(x[m]), y[m]).backward()
            opt.step()
            sched.step()
        ours = res.state_dicts[("fc2", m)]
        for k, v in plain.state_dict().items():
            assert torch.linalg.vector_norm(ours[k] - v) <= 1e-6 * torch.linalg.vector_norm(v), k
        # and the models did move: the comparison is not between two initial states
        torch.manual_seed(int(seed))
        init = mlp.mlp(mlp.widths("fc2", 2)).state_dict()
        assert not torch.equal(init["0.weight"], ours["0.weight"])


def test_short_training_run_decreases_loss_and_reports_every_model():
    res = run(steps=300, log_every=50, t0_steps=300, lr=2e-3)
    assert len(res.final) == 4 and (res.final["status"] == "ok").all()
    for (_, _), g in res.curves.groupby(["arch", "seed_index"]):
        assert list(g["step"]) == [50, 100, 150, 200, 250, 300]
        assert g["train_loss"].iloc[-1] < 0.5 * g["train_loss"].iloc[0]
        assert g["test_mae"].iloc[-1] < g["test_mae"].iloc[0]
    expected = {"dataset", "arch", "seed", "seed_index", "step", "lr", "train_loss", "test_mae"}
    assert expected <= set(res.curves.columns)
    final_cols = {"n", "steps", "test_mae", "test_max_abs_err", "test_rel_fro_err_mean", "n_test", "status"}
    assert final_cols <= set(res.final.columns)
    assert (res.final["test_max_abs_err"] >= res.final["test_mae"]).all()


def test_test_metrics_match_a_direct_computation():
    data = stream.data_from_arrays(arrays(n_test=50))
    stacked = mlp.StackedMLP(mlp.widths("small", 2), [4, 5])
    errs = engine.evaluate(stacked, data.X_test, data.Y_test, chunk=7)
    for m in range(2):
        model = mlp.mlp_from_state_dict(stacked.state_dict_of(m))
        with torch.no_grad():
            err = (model(data.X_test) - data.Y_test).double()
        assert errs["test_mae"][m] == pytest.approx(err.abs().mean().item(), rel=1e-6)
        assert errs["test_max_abs_err"][m] == pytest.approx(err.abs().max().item(), rel=1e-6)
        rel = err.norm(dim=1) / data.Y_test.double().norm(dim=1)
        assert errs["test_rel_fro_err_mean"][m] == pytest.approx(rel.mean().item(), rel=1e-5)


# ------------------------------------------------------------------------------- checkpointing


class Killed(Exception):
    pass


def kill_at(k):
    def hook(step, models):
        if step == k:
            raise Killed

    return hook


@pytest.mark.parametrize("on_the_fly", [False, True])
def test_resume_after_kill_is_bit_identical(tmp_path, on_the_fly):
    data = stream.data_from_arrays(arrays(on_the_fly=on_the_fly))
    # 40 samples / batch 16: epochs of 3 steps; on the fly: blocks of 4 steps; checkpoint mid-block.
    kw = dict(checkpoint_every=5, otf_block_steps=4)
    whole = run(data, checkpoint_path=tmp_path / "a.pt", **kw)
    with pytest.raises(Killed):
        run(data, checkpoint_path=tmp_path / "b.pt", on_step=kill_at(7), **kw)
    resumed = run(data, checkpoint_path=tmp_path / "b.pt", **kw)
    assert whole.resumed_from is None and resumed.resumed_from == 5
    assert whole.state_dicts.keys() == resumed.state_dicts.keys()
    for key, sd in whole.state_dicts.items():
        for k, v in sd.items():
            assert torch.equal(v, resumed.state_dicts[key][k]), (key, k)
    pd.testing.assert_frame_equal(whole.curves, resumed.curves, check_exact=True)
    pd.testing.assert_frame_equal(whole.final, resumed.final, check_exact=True)
    # A finished checkpoint reloads without training and gives the same outputs.
    again = run(data, checkpoint_path=tmp_path / "b.pt", on_step=kill_at(1), **kw)
    assert again.resumed_from == 12
    pd.testing.assert_frame_equal(whole.final, again.final, check_exact=True)


def test_fingerprint_mismatch_names_the_field_and_keeps_the_checkpoint(tmp_path):
    path = tmp_path / "c.pt"
    run(steps=6, checkpoint_path=path, checkpoint_every=3)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(ValueError, match=r"another config: .*steps 6 != 8"):
        run(steps=8, checkpoint_path=path, checkpoint_every=3)
    with pytest.raises(ValueError, match=r"another config: lr 0.001 != 0.002 \(checkpoint"):
        run(steps=6, lr=2e-3, checkpoint_path=path, checkpoint_every=3)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest


# ------------------------------------------------------------------------------------ failures


def test_diverged_model_is_flagged_frozen_and_the_others_are_unaffected():
    clean = run()

    at_flag = {}

    def poison(step, models):
        if step == 4:
            with torch.no_grad():
                models["fc2"].weights[0][1, :2].fill_(math.inf)
        if step == 6:  # flagged at this log step
            at_flag.update(models["fc2"].state_dict_of(1))

    res = run(on_step=poison)
    final = res.final.set_index(["arch", "seed_index"])
    assert final.loc[("fc2", 1), "status"] == "flagged"
    assert "non-finite train loss between steps 4 and 6" in final.loc[("fc2", 1), "reason"]
    assert np.isnan(final.loc[("fc2", 1), "test_mae"])
    assert (final.drop(index=("fc2", 1))["status"] == "ok").all()
    for key, sd in clean.state_dicts.items():
        if key != ("fc2", 1):
            assert all(torch.equal(v, res.state_dicts[key][k]) for k, v in sd.items()), key
    # frozen: the flagged model keeps the parameters it had when it was flagged
    for k, v in at_flag.items():
        torch.testing.assert_close(res.state_dicts[("fc2", 1)][k], v, rtol=0, atol=0, equal_nan=True)
    curve = res.curves[(res.curves["arch"] == "fc2") & (res.curves["seed_index"] == 1)]
    assert np.isfinite(curve["train_loss"].iloc[0]) and not np.isfinite(curve["train_loss"].iloc[-1])


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(archs=["fc2", "fc4"]), "fc4"),
        (dict(batch_size=0), "batch_size"),
        (dict(steps=0), "steps"),
        (dict(seeds=0), "seeds"),
        (dict(checkpoint_every=0), "checkpoint_every"),
        (dict(t0_steps=0), "t0_steps"),
        (dict(lr=-1.0), "lr"),
        (dict(archs=["fc2", "fc2"]), "repeat"),
    ],
)
def test_bad_arguments_fail_early_naming_the_cause(kw, match):
    with pytest.raises(ValueError, match=match):
        run(**kw)


def test_mismatched_shapes_fail_naming_the_array():
    bad = arrays()
    bad["Y_test"] = bad["Y_test"][:-1]
    with pytest.raises(ValueError, match="Y_test"):
        stream.data_from_arrays(bad)
    bad = arrays()
    bad["X_train"] = np.zeros((5, 3, 3))
    with pytest.raises(ValueError, match="X_train"):
        stream.data_from_arrays(bad)
    bad = arrays()
    del bad["A0"]
    with pytest.raises(ValueError, match="A0"):
        stream.data_from_arrays(bad)
    data = stream.data_from_arrays(arrays())
    wrong = stream.InversionData(**{**data.__dict__, "X_test": data.X_test[:, :3]})
    with pytest.raises(ValueError, match="X_test"):
        run(wrong)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error raised without CUDA")
def test_cuda_without_cuda_is_a_clear_error():
    with pytest.raises(RuntimeError, match="cuda"):
        run(device="cuda")


# ----------------------------------------------------------------------------------------- data


def test_on_the_fly_batches_are_box_samples_with_true_inverse_targets():
    data = stream.data_from_arrays(arrays(on_the_fly=True, radius=0.4))
    assert data.on_the_fly
    batch_stream = stream.BatchStream(data, 64, [1, 2, 3], torch.device("cpu"), otf_block_steps=3)
    xs = [batch_stream.next() for _ in range(5)]
    for x, y in xs:
        assert x.shape == y.shape == (3, 64, 4)
        A = x.double().reshape(3, 64, 2, 2)
        assert (A - torch.as_tensor(A0)).abs().max() <= 0.4
        eye = torch.eye(2, dtype=torch.float64).expand_as(A)
        torch.testing.assert_close(A @ y.double().reshape(3, 64, 2, 2), eye, rtol=0, atol=1e-5)
        assert not torch.equal(x[0], x[1])  # every model draws its own batch
    # the stream does not depend on the block size
    other = stream.BatchStream(data, 64, [1, 2, 3], torch.device("cpu"), otf_block_steps=2)
    for x, _ in xs:
        assert torch.equal(x, other.next()[0])


def test_fixed_training_set_is_reshuffled_per_model_and_epoch():
    data = stream.data_from_arrays(arrays(n_train=40))
    inv = torch.linalg.inv(torch.as_tensor(arrays(n_train=40)["X_train"])).flatten(1).float()
    torch.testing.assert_close(data.Y_train, inv, rtol=0, atol=0)
    batch_stream = stream.BatchStream(data, 16, [1, 2], torch.device("cpu"))
    epochs = [torch.cat([batch_stream.next()[0] for _ in range(3)], dim=1) for _ in range(2)]
    rows = sorted(map(tuple, data.X_train.tolist()))
    for e in epochs:  # one epoch (16 + 16 + 8) visits every training sample once, per model
        for m in range(2):
            assert sorted(map(tuple, e[m].tolist())) == rows
    assert not torch.equal(epochs[0][0], epochs[0][1])
    assert not torch.equal(epochs[0][0], epochs[1][0])


# ------------------------------------------------------------------------------------------ CLI


def test_cli_writes_models_csvs_and_provenance_and_reruns_from_its_checkpoint(tmp_path):
    ji_train = load_script("ji_train")
    io.write_npz(tmp_path / "tiny.npz", **arrays())
    out = tmp_path / "out"
    fields = dict(seed=3, steps=10, lr=5e-5, t0_steps=5, log_every=5, checkpoint_every=4)
    fields = dataclasses.asdict(train_settings(**fields))

    def argv(**changes):
        return [str(tmp_path / "tiny.npz"), "--settings", json.dumps({**fields, **changes}), "--threads", "1",
                "--checkpoint-dir", str(out / "ck"), "--curves-out", str(out / "curves.csv"),
                "--final-out", str(out / "final.csv"), "--models-dir", str(out / "models"),
                "--provenance", str(out / "prov.json")]  # fmt: skip

    threads = torch.get_num_threads()
    try:
        ji_train.main(argv())
    finally:
        torch.set_num_threads(threads)  # the CLI sets --threads for the whole process
    final = pd.read_csv(out / "final.csv")
    assert len(final) == 4 and len(pd.read_csv(out / "curves.csv")) == 8
    for row in final.itertuples():
        model = mlp.load_model(names.model_file(out / "models", row.arch, row.seed_index))
        assert model[0].in_features == 4
        x = torch.as_tensor(arrays()["X_test"]).flatten(1).float()
        with torch.no_grad():
            mae = (model(x) - torch.as_tensor(arrays()["Y_test"]).flatten(1).float()).abs().mean().item()
        assert mae == pytest.approx(row.test_mae, rel=1e-5)
    prov = io.read_json(out / "prov.json")
    assert prov["resumed_from_step"] is None and len(prov["init_seeds"]) == 4
    data = stream.data_from_arrays(arrays())
    checkpoint = names.checkpoint_file(
        out / "ck", "tiny", engine.run_fingerprint(data, train_settings(**fields))
    )
    assert sorted((out / "ck").iterdir()) == [Path(checkpoint)] and prov["checkpoint"] == checkpoint
    first = (out / "final.csv").read_bytes()
    ji_train.main(argv())  # finished checkpoint: reload, rewrite the same outputs
    torch.set_num_threads(threads)
    assert (out / "final.csv").read_bytes() == first
    assert io.read_json(out / "prov.json")["resumed_from_step"] == 10
    # another configuration starts afresh next to the old checkpoint, which is kept
    ji_train.main(argv(steps=5))
    torch.set_num_threads(threads)
    assert io.read_json(out / "prov.json")["resumed_from_step"] is None
    assert len(list((out / "ck").iterdir())) == 2 and Path(checkpoint).exists()
