"""Trainer.search on a Lightning model: the best model comes back trained, pruning, loggers, errors."""

from __future__ import annotations

import pytest

pytest.importorskip("lightning")

import lightning as L  # noqa: E402
from digits_models import DigitsMLP, loaders  # noqa: E402

import hypersweep as hs  # noqa: E402
from hypersweep import space  # noqa: E402


def _model():
    return DigitsMLP(hidden=space.Categorical(16, 32, 64), dropout=space.Real(0.0, 0.5),
                     lr=space.Real(1e-3, 3e-2, log=True))


def test_search_returns_the_best_trial_trained_without_retraining(tmp_path):
    train, val = loaders()
    trainer = hs.torch.Trainer(max_epochs=3, logger=False, default_root_dir=tmp_path)
    best = trainer.search(_model(), train, val, target_metric="val_acc", n_trials=4, seed=0, progress=False)
    study = trainer.search_summary()
    assert study.direction.value == "maximize"  # implied by "acc"
    assert {t.system_attrs["sampler"] for t in study.trials} == {"bo"}  # the engine's default, sampler="auto"
    assert len(study.trials) == 4 and all(t.state.value == "complete" for t in study.trials)
    assert isinstance(best, DigitsMLP) and best.hparams.hidden == study.best_config["hidden"]
    score = L.Trainer(logger=False, enable_progress_bar=False).validate(best, val, verbose=False)[0]["val_acc"]
    assert score == pytest.approx(study.best_value, abs=1e-6)
    seeds = [t.user_attrs["seed"] for t in study.trials]
    assert len(set(seeds)) == 4
    # any trial's model, not only the best
    other = trainer.model_of(study.trials[1].number)
    assert other.hparams.hidden == study.trials[1].config["hidden"]
    # the Trainer itself was not used by the search: fit(best) trains on as a Lightning Trainer does
    trainer.fit(best, train, val)
    assert trainer.current_epoch == 3


def test_asha_stops_bad_trials_after_their_first_epochs(tmp_path):
    train, val = loaders()
    trainer = hs.torch.Trainer(max_epochs=9, default_root_dir=tmp_path)
    trainer.search(_model(), train, val, target_metric="val_loss", n_trials=8, scheduler="asha", seed=1,
                   progress=False)
    trials = trainer.search_summary().trials
    states = [t.state.value for t in trials]
    assert "pruned" in states and "complete" in states
    epochs = sum(len(t.intermediate) for t in trials)
    assert epochs < 8 * 9
    for t in trials:  # a pruned trial stopped at a rung: after 1 or 3 epochs
        if t.state.value == "pruned":
            assert len(t.intermediate) in (1, 3)


def test_user_loggers_write_one_version_per_trial(tmp_path):
    from lightning.pytorch.loggers import CSVLogger

    train, val = loaders()
    trainer = hs.torch.Trainer(max_epochs=1, logger=CSVLogger(tmp_path, name="runs"))
    trainer.search(_model(), train, val, target_metric="val_loss", n_trials=2, progress=False)
    versions = sorted(p.name for p in (tmp_path / "runs").iterdir())
    assert versions == ["trial_0", "trial_1"]
    assert all((tmp_path / "runs" / v / "metrics.csv").exists() for v in versions)


def test_bad_input_gets_an_error_that_says_what_to_do(tmp_path):
    train, val = loaders()
    trainer = hs.torch.Trainer(max_epochs=1, default_root_dir=tmp_path)
    with pytest.raises(TypeError, match="pass search spaces by keyword"):
        DigitsMLP(space.Categorical(16, 32))
    with pytest.raises(ValueError, match="searchable model called with search spaces"):
        trainer.search(DigitsMLP(hidden=16), train, val, target_metric="val_loss", n_trials=1)
    with pytest.raises(ValueError, match="does not say whether higher is better"):
        trainer.search(_model(), train, val, target_metric="quality", n_trials=1)
    with pytest.raises(ValueError, match="n_trials=30"):
        trainer.search(_model(), train, val, target_metric="val_loss")
    with pytest.raises(ValueError, match="n_parallels.*postgresql"):
        trainer.search(_model(), train, val, target_metric="val_loss", n_trials=2, n_parallels=2,
                       storage="sqlite:///:memory:")
    with pytest.raises(RuntimeError, match="no trial .* completed .*never logged; the model logs .*val_acc"):
        trainer.search(_model(), train, val, target_metric="val_f1", direction="maximize", n_trials=1,
                       progress=False)
    assert trainer.search_summary().trials[0].state.value == "failed"


def test_hyperband_pauses_and_resumes_trials_from_their_checkpoints(tmp_path):
    """Hyperband pauses trials at its rungs and promotes the best: a promoted trial goes on from its
    checkpoint, so no trial trains an epoch twice."""

    train, val = loaders()
    trainer = hs.torch.Trainer(max_epochs=9, default_root_dir=tmp_path)
    trainer.search(_model(), train, val, target_metric="val_loss", n_trials=9, scheduler="hyperband", seed=2,
                   progress=False)
    study = trainer.search_summary()
    assert any(len(t.intermediate) == 9 for t in study.trials)  # someone went the whole way
    for t in study.trials:
        assert sorted(t.intermediate) == list(range(1, len(t.intermediate) + 1))
    assert trainer.model_of(study.best_trial.number) is not None


def test_median_stopping_and_a_datamodule(tmp_path):
    train, val = loaders()

    class Digits(L.LightningDataModule):
        def train_dataloader(self):
            return train

        def val_dataloader(self):
            return val

    trainer = hs.torch.Trainer(max_epochs=3, default_root_dir=tmp_path)
    best = trainer.search(_model(), datamodule=Digits(), target_metric="val_loss", n_trials=6, scheduler="median",
                          timeout=600, seed=0, progress=False)
    assert len(trainer.search_summary().trials) == 6 and isinstance(best, DigitsMLP)
