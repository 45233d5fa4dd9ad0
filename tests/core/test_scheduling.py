"""Cells at once (hardware.workers): how many, on how many threads, and a pool that says who ran beside whom."""
from __future__ import annotations

import threading

import pandas as pd
import pytest

from harness.core import scheduling
from harness.core.config import ConfigError, check_types, compose_config
from harness.core.scheduling import CellPool, resolve_workers, threads_per_cell


@pytest.fixture
def four_cores(monkeypatch):
    monkeypatch.setattr(scheduling, "available_cores", lambda: 4)


def test_auto_is_one_cell_per_core_on_the_cpu_and_one_on_a_gpu(four_cores):
    assert resolve_workers("auto", threads=None, device="cpu", isolated=True, suite_cap=None) == 4
    assert resolve_workers("auto", threads=2, device="cpu", isolated=True, suite_cap=None) == 2
    assert resolve_workers("auto", threads=None, device="cuda", isolated=True, suite_cap=None) == 1
    assert resolve_workers(3, threads=None, device="cpu", isolated=True, suite_cap=None) == 3


def test_a_suites_cap_and_in_process_cells_keep_one_at_a_time(four_cores):
    assert resolve_workers("auto", threads=None, device="cpu", isolated=True, suite_cap=1) == 1
    assert resolve_workers(4, threads=None, device="cpu", isolated=False, suite_cap=None) == 1


def test_cells_side_by_side_share_the_cores_unless_threads_are_given(four_cores):
    assert threads_per_cell(None, 4) == 1 and threads_per_cell(None, 2) == 2
    assert threads_per_cell(3, 2) == 3  # asked for: kept, even if it oversubscribes
    assert threads_per_cell(None, 1) is None  # one at a time: the libraries' default, as before


@pytest.mark.parametrize("value", ["0", "two", "true"])
def test_a_bad_workers_value_is_a_config_error(value):
    with pytest.raises(ConfigError, match="hardware.workers"):
        check_types(compose_config([f"hardware.workers={value}"]))


@pytest.mark.parametrize("profile", ["default", "evidence"])
def test_the_equal_time_suites_count_cpu_seconds_so_their_cells_may_run_side_by_side(profile):
    from harness.core.config import resolve_plan

    for suite in ("memory", "charlm"):
        cfg = compose_config([f"suite={suite}", f"profile={profile}"])
        budgets = [m.estimator for m in resolve_plan(cfg).models.values() if m.estimator.get("budget_seconds")]
        assert budgets and all(b.budget_clock == "cpu" for b in budgets)
        assert cfg.suite.get("workers") is None


def test_the_pool_runs_cells_side_by_side_and_records_who_ran_beside_whom():
    """Cell 1 ends only once cell 2 runs, cell 2 only once cell 3 runs: with two slots, 3 waits for 1's."""
    first, second = threading.Event(), threading.Event()

    def cell(sets: threading.Event | None, waits: threading.Event | None):
        def fn(alongside):
            if sets is not None:
                sets.set()
            if waits is not None:
                assert waits.wait(10), "the cells did not run side by side"
            return {"alongside": alongside()}
        return fn

    with CellPool(2) as pool:
        pool.submit(cell(None, first))
        pool.submit(cell(first, second))
        pool.submit(cell(second, None))
    assert [f.result()["alongside"] for f in pool.futures] == [1, 1, 1]


def test_one_worker_runs_each_cell_alone_in_the_callers_thread():
    seen = []
    with CellPool(1) as pool:
        for _ in range(3):
            pool.submit(lambda alongside: seen.append(threading.current_thread()) or {"alongside": alongside()})
    assert seen == [threading.main_thread()] * 3
    assert [f.result()["alongside"] for f in pool.futures] == [0, 0, 0]


def test_a_cell_that_raises_keeps_its_error_in_its_future_and_frees_its_slot():
    def boom(alongside):
        raise RuntimeError("bench fault")
    with CellPool(2) as pool:
        pool.submit(boom)
        pool.submit(boom)
        pool.submit(lambda alongside: {})  # would block forever if the failures kept their slots
    assert [type(f.exception()).__name__ if f.exception() else "ok" for f in pool.futures] == [
        "RuntimeError", "RuntimeError", "ok"]


def test_two_workers_give_the_same_results_as_one_and_say_so_in_the_rows(run_bench):
    base = ["profile=smoke", "dataset=digits", "model=gaussian_nb", "scaling=on", "scaling.sizes=[60,120,240]",
            "seed=0", "resume=false"]
    code1, one = run_bench(*base, "hardware.workers=1")
    code2, two = run_bench(*base, "hardware.workers=2")
    assert code1 == code2 == 0
    a, b = (pd.read_parquet(f / "results.parquet").sort_values("n_train") for f in (one, two))
    assert list(a["accuracy"]) == list(b["accuracy"]) and list(b["n_train"]) == [60, 120, 240]
    assert set(a["workers"]) == {1} and set(a["cells_alongside"]) == {0}
    assert set(b["workers"]) == {2} and set(b["torch_threads"]) == {1}
    assert b["cells_alongside"].max() == 1  # three cells, two at a time: some ran beside another


def test_several_workers_run_one_longest_first_queue_over_every_dataset_and_seed(run_bench, monkeypatch):
    from harness.core.runner import Runner

    started = []

    def record(self, task, ds_cfg, model_cfg, seed, display, interpret=None, alongside=lambda: 0):
        started.append((task.n_train, seed))
        return {"status": "ok"}

    monkeypatch.setattr(Runner, "run_cell", record)
    base = ["profile=smoke", "dataset=digits", "model=gaussian_nb", "scaling=on", "scaling.sizes=[60,120,240]",
            "scaling.seeds=[0,1]", "resume=false"]
    run_bench(*base, "hardware.workers=2")
    # the largest cells of both seeds first: seed 1's 240 does not wait behind seed 0's smaller ones
    assert started == [(240, 0), (240, 1), (120, 0), (120, 1), (60, 0), (60, 1)], started
    started.clear()
    run_bench(*base, "hardware.workers=1")  # one at a time: in order, one seed's task loaded at a time
    assert [seed for _, seed in started] == [0, 0, 0, 1, 1, 1]


def test_cell_costs_come_from_earlier_runs_else_the_committed_reference_else_the_family(tmp_path):
    from omegaconf import OmegaConf

    from harness.core.scheduling import expected_seconds

    def rows(folder, cells):
        folder.mkdir(parents=True)
        pd.DataFrame([{"model": m, "dataset": d, "n_train": n, "cell_seconds": s, "status": "ok"}
                      for m, d, n, s in cells]).to_parquet(folder / "results.parquet")
        return folder

    cnn, hgb, nb = (OmegaConf.create({"name": n, "family": f}) for n, f in
                    (("cnn", "deep"), ("hist_gradient_boosting", "classical"), ("gaussian_nb", "classical")))
    # the vision reference's shape: boosting costs most per example on mnist5k, though classical
    reference = rows(tmp_path / "reference" / "vision", [("cnn", "mnist5k", 300, 2.1), ("cnn", "digits", 300, 0.5),
                                                      ("hist_gradient_boosting", "mnist5k", 300, 9.4),
                                                      ("hist_gradient_boosting", "digits", 300, 1.0)])
    cost = expected_seconds([tmp_path / "no-runs-yet", reference])
    assert cost(hgb, "mnist5k") > cost(cnn, "mnist5k") > cost(hgb, "digits")
    assert cost(hgb, "fashion_mnist") == pytest.approx((9.4 + 1.0) / 600)  # the model's other datasets
    assert cost(nb, "mnist5k") == 1e-3 and cost(OmegaConf.create({"name": "vae"}), "digits") == 1e-2  # unmeasured
    earlier = rows(tmp_path / "results" / "vision", [("hist_gradient_boosting", "mnist5k", 4000, 4.0)])
    assert expected_seconds([earlier, reference])(hgb, "mnist5k") == pytest.approx(1e-3)
    # a committed evidence run is consolidated (results.parquet, no cells/): its suite folder is read too
    evidence = rows(tmp_path / "evidence" / "vision" / "2026-12-04_00-00-00", [("hist_gradient_boosting", "mnist5k", 4000, 8.0)])
    assert expected_seconds([evidence.parent, reference])(hgb, "mnist5k") == pytest.approx(2e-3)
