"""Studies on SQL storage: threads sharing a SQLite file, reports, load_study, the dataframe from storage."""

import pytest
from objectives import curve, quadratic

import hypersweep as hs
from hypersweep import TrialState


def test_thread_workers_report_to_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path}/threads.db"
    scheduler = hs.get_scheduler("hyperband", max_resource=9, reduction_factor=3)
    study = hs.create_study({"x": (0.0, 1.0)}, storage=url, name="t", sampler="random", seed=0,
                            scheduler=scheduler)
    study.optimize(curve, n_trials=24, n_workers=3, executor="thread", progress=False)
    trials = hs.load_study("t", url).trials
    assert len(trials) == 24 and all(t.is_finished for t in trials)
    assert {t.system_attrs["bracket"] for t in trials} == {0, 1, 2}
    assert any(t.state == TrialState.PRUNED for t in trials)
    # bracket 0 starts at the max resource: never pruned
    assert all(t.state == TrialState.COMPLETE for t in trials if t.system_attrs["bracket"] == 0)


def test_results_survive_in_the_database(tmp_path):
    url = f"sqlite:///{tmp_path}/r.db"
    study = hs.create_study({"x": (0.0, 1.0)}, storage=url, name="r", sampler="tpe", seed=0)
    study.optimize(quadratic, n_trials=12, progress=False)
    best = study.best_trial
    again = hs.load_study("r", url)
    assert again.best_trial.number == best.number and again.best_value == pytest.approx(best.value)
    df = again.trials_dataframe()
    assert len(df) == 12 and df["objective"].notna().all()


def test_resume_informs_the_sampler_with_earlier_trials(tmp_path):
    url = f"sqlite:///{tmp_path}/s.db"
    first = hs.create_study({"x": (0.0, 1.0)}, storage=url, name="s", sampler="tpe", seed=0)
    first.optimize(quadratic, n_trials=15, progress=False)
    seen = []

    class Spy(hs.BaseSampler):
        def ask(self, space, trials, pending, direction):
            seen.append(len(trials))
            return space.sample(self.rng)

    second = hs.create_study({"x": (0.0, 1.0)}, storage=url, name="s", sampler=Spy(seed=0), resume=True)
    second.optimize(quadratic, n_trials=3, progress=False)
    assert seen == [15, 16, 17]
    assert len(second.trials) == 18
