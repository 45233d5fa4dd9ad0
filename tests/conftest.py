"""Shared fixtures: a throw-away results folder and `run_bench`, which runs the real CLI into it.

Tests compose the real config and shrink it (profile=smoke, one dataset, a few models, CPU); they
never write into the repository's results/ folder.
"""
from __future__ import annotations

import os

# Two cores shared by torch, OpenMP (scikit-learn's histogram boosting) and pytest: one thread each
# is several times faster than letting them fight. Must happen before torch or sklearn load.
os.environ.setdefault("OMP_NUM_THREADS", "1")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)


def run_folders_under(results: Path) -> set[Path]:
    """Every run folder (`<suite>/<timestamp>`) below a results root."""
    return {p.parent for p in Path(results).glob("*/*/cells")} if Path(results).exists() else set()


def invoke_bench(results: Path, *overrides: str) -> tuple[int, Path | None]:
    """`bench run OVERRIDES paths.results=RESULTS` in this process; (exit code, the new run folder)."""
    from harness.cli import main

    before = run_folders_under(results)
    code = main(["run", *overrides, f"paths.results={results}"])
    new = sorted(run_folders_under(results) - before)
    assert len(new) <= 1, f"one run made several folders: {new}"
    return code, (new[0] if new else None)


@pytest.fixture(scope="session")
def bench():
    """`invoke_bench` for module-scoped fixtures that share one run between several tests."""
    return invoke_bench


@pytest.fixture
def tmp_results(tmp_path: Path) -> Path:
    return tmp_path / "results"


@pytest.fixture
def run_bench(tmp_results: Path):
    """run_bench(*overrides) -> (exit code, run folder or None), results under tmp_results."""
    return lambda *overrides: invoke_bench(tmp_results, *overrides)


@pytest.fixture
def config_copy(tmp_path, monkeypatch):
    """A copy of the config tree that a test may break, used by compose_config and resolve_plan."""
    import shutil

    import harness.core.config as config
    from suites import CONFIG_DIR

    root = tmp_path / "suites"
    shutil.copytree(CONFIG_DIR, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    monkeypatch.setattr(config, "CONFIG_DIR", root)
    return root


@pytest.fixture(autouse=True)
def _one_thread():
    # A run started in this process (invoke_bench) sets the process's threads for its cells, a thread per
    # core; the tests after it in the same xdist worker would inherit that, and two workers each running
    # two spinning OpenMP threads on two cores made small networks 10-25x slower (plain_net on digits:
    # 131 s in `pytest -m slow`, 5 s alone).
    if torch.get_num_threads() != 1:
        from threadpoolctl import threadpool_limits

        torch.set_num_threads(1)
        threadpool_limits(limits=1)


@pytest.fixture(autouse=True)
def _no_results_env(monkeypatch):
    # paths.results and paths.data_dir read these; a developer's own settings must not leak into tests.
    monkeypatch.delenv("BENCH_RESULTS", raising=False)
    monkeypatch.delenv("BENCH_DATA_DIR", raising=False)
    # One cell at a time, as tests assert on one run's order and timings; tests of concurrent cells
    # say hardware.workers=N (tests/core/test_scheduling.py).
    monkeypatch.setenv("BENCH_WORKERS", "1")


# Tests that take longer than a few seconds on 2 cores (measured with `pytest -n 0 --durations=120`, seconds
# in the comments). They are marked `slow` here, in one place, because most are single parameters of a
# parametrised test; `.ci/run` runs them with `pytest -m slow`. Each area keeps a fast representative in
# the default run (e.g. test_model_learns_digits[cnn], the first XOR seed, the suites' unit tests), and
# every suite runs end to end in CI's `bench reference check`.
SLOW_TESTS = {
    # The second implementations of the tabular networks learning a mixed table (104-125 s each in a
    # default run under a load of 8; the guards' pairing and rule tests stay in the default run)
    "tests/suites/test_guards.py::test_rtdl_networks_have_bench_networks_sizes_and_learn_mixed_tables"
    "[harness.models.tabular.TabularResNet-harness.models.rtdl.RTDLResNet-params1]",
    "tests/suites/test_guards.py::test_rtdl_networks_have_bench_networks_sizes_and_learn_mixed_tables"
    "[harness.models.tabular.FTTransformer-harness.models.rtdl.RTDLFTTransformer-params0]",
    # second implementations (tests/suites/test_guards.py): seconds measured on an idle core, ~10x under load
    "tests/suites/test_guards.py::test_sb3_dqn_trains_exactly_its_budget_and_scores_like_any_agent",
    "tests/models/test_models.py::test_model_learns_digits[ft_transformer_rtdl]",
    "tests/models/test_models.py::test_model_learns_digits[resnet_rtdl]",
    "tests/models/test_models.py::test_agent_learns_to_balance_a_pole[dqn_sb3]",
    "tests/models/test_models.py::test_regressor_predicts_miles_per_gallon[ft_transformer_rtdl]",
    "tests/models/test_models.py::test_regressor_predicts_miles_per_gallon[resnet_rtdl]",
    "tests/suites/test_rl.py::test_smoke_suite_runs_every_agent_on_every_environment",  # 33
    "tests/suites/test_memory.py::test_memory_suite_runs_end_to_end_in_smoke",  # 27
    "tests/suites/test_foundations.py::test_suite_runs_end_to_end_in_smoke",  # 26 (its fixture)
    "tests/suites/test_text.py::test_text_suite_smoke_run",  # 24
    "tests/suites/test_unsupervised.py::test_suite_runs_end_to_end_in_smoke",  # 14 (its fixture)
    "tests/suites/test_charlm.py::test_charlm_suite_writes_rows_with_bits_per_character",  # 10 (fixture)
    "tests/suites/test_charlm.py::test_report_shows_samples_escaped_and_sorted_by_bpc",  # shares that fixture
    "tests/suites/test_tabular.py::test_smoke_suite_records_budget_tuning_and_depth",  # 11
    "tests/suites/test_tabular.py::test_table_models_learn_both_kinds_from_mixed_columns[<lambda>1]",  # 8
    "tests/suites/test_tabular.py::test_table_models_learn_both_kinds_from_mixed_columns[<lambda>2]",  # 8
    "tests/suites/test_generative.py::test_evaluator_tells_copies_from_noise_and_records_what_it_used",  # 9
    "tests/models/test_models.py::test_model_learns_digits[resnet1d]",  # 30
    "tests/models/test_models.py::test_model_learns_digits[mlp]",  # 30
    "tests/models/test_models.py::test_model_learns_digits[transformer]",  # 26
    "tests/models/test_models.py::test_model_learns_digits[ft_transformer]",  # 21
    "tests/models/test_models.py::test_model_learns_digits[plain_net]",  # 19
    "tests/models/test_models.py::test_model_learns_digits[highway_net]",  # 17
    "tests/models/test_models.py::test_model_learns_digits[resnet]",  # 12
    "tests/models/test_models.py::test_model_learns_digits[fcn]",  # 10
    "tests/models/test_models.py::test_model_learns_digits[dbn_classifier]",  # 10
    "tests/models/test_models.py::test_agent_learns_to_balance_a_pole[dqn]",  # 19
    "tests/models/test_models.py::test_language_model_beats_a_uniform_guess[char_mamba]",  # 19
    "tests/models/test_models.py::test_language_model_beats_a_uniform_guess[char_transformer]",  # 7
    "tests/models/test_models.py::test_regressor_predicts_miles_per_gallon[ft_transformer]",  # 13
    "tests/models/test_models.py::test_text_model_learns_topics[gru_text]",  # 13
    "tests/models/test_models.py::test_text_model_learns_topics[mamba_text]",  # 11
    "tests/models/test_models.py::test_text_model_learns_topics[transformer_text]",  # 8
    "tests/models/test_models.py::test_claim_a1_perceptron_cannot_learn_xor_but_an_mlp_can[1]",  # 8
    "tests/models/test_models.py::test_claim_a1_perceptron_cannot_learn_xor_but_an_mlp_can[2]",  # 8
    "tests/models/test_sequence_models.py::test_learns_sine_frequency_through_the_training_loop[tdnn]",  # 19
    "tests/models/test_sequence_models.py::test_learns_sine_frequency_through_the_training_loop[bidirectional_lstm]",  # 8
    "tests/core/test_faults.py::test_joblib_sweep_with_two_workers_lands_in_one_results_set",  # 23
    "tests/core/test_faults.py::test_a_fit_that_overruns_is_killed_and_recorded_as_timeout",  # 18
    "tests/results/test_compare.py::test_real_regression_is_caught_end_to_end",  # 17
    "tests/results/test_history.py::test_real_runs_show_the_regression_where_it_happened",  # 60-75 (two runs)
    "tests/results/test_tracking.py::test_a_real_run_is_in_the_store_cell_by_cell_with_its_report",  # 40 (its run)
    "tests/test_bad_input.py::test_generated_overrides_are_either_valid_or_a_config_error",  # 21
    "tests/test_bad_input.py::test_datasets_that_cannot_be_used_become_error_rows_and_lose_nothing",  # 9
    "tests/test_cli.py::test_second_identical_run_reuses_finished_cells_into_a_new_folder",  # 15
    "tests/evaluation/test_interpret.py::test_interpret_on_writes_the_interp_columns",  # 8
    "tests/test_all_suites.py::test_two_real_members_give_one_report_over_both",  # 20
    "tests/core/test_scheduling.py::test_two_workers_give_the_same_results_as_one_and_say_so_in_the_rows",  # 17
    "tests/core/test_faults.py::test_sigkill_mid_run_leaves_every_finished_cell_readable_and_resume_completes_it",  # 29
    "tests/suites/test_generative.py::test_generative_suite_writes_rows_with_finite_metrics_and_a_sample_grid_in_the_report",  # 28 (fixture)
    "tests/models/test_models.py::test_model_learns_digits[mamba]",  # 27
    "tests/models/test_models.py::test_claim_a1_perceptron_cannot_learn_xor_but_an_mlp_can[0]",  # 16
    "tests/report/test_page.py::test_a_failing_plot_becomes_a_note_and_the_rest_is_written",  # 10
    "tests/test_cli.py::test_report_of_a_run_exits_0",  # 9
    "tests/test_cli_usage.py::test_bench_log_of_a_real_run_holds_its_cells_table_results_and_a_cells_warnings",  # 34 (busy)
    "tests/models/test_models.py::test_text_model_learns_topics[textcnn]",  # 7
    "tests/test_cli.py::test_depth_suite_runs_one_chosen_model",  # 6
    "tests/models/test_sequence_models.py::test_learns_sine_frequency_through_the_training_loop[mamba]",  # 6
    "tests/models/test_models.py::test_model_learns_digits[resnet_mlp]",  # 6
    "tests/models/test_models.py::test_language_model_beats_a_uniform_guess[char_lstm]",  # 5
    "tests/models/test_sequence_models.py::test_tagger_learns_a_character_language_model[mamba]",  # 5
    "tests/suites/test_generative.py::test_a_damaged_cached_classifier_is_rebuilt_with_a_warning_naming_it[empty]",  # 8
    "tests/suites/test_generative.py::test_a_smoke_run_with_frechet_checks_records_the_curve_and_the_stop_in_each_row",  # 150 (a load of 12)
    "tests/suites/test_generative.py::test_each_deep_generator_checks_its_frechet_distance_on_held_out_training_images[gan]",  # 16 (a load of 12)
    "tests/suites/test_generative.py::test_each_deep_generator_checks_its_frechet_distance_on_held_out_training_images[vae]",  # 7
    "tests/suites/test_generative.py::test_each_deep_generator_checks_its_frechet_distance_on_held_out_training_images[ddpm]",  # 8
    "tests/suites/test_generative.py::test_each_deep_generator_checks_its_frechet_distance_on_held_out_training_images[dbn]",  # 6
    "tests/suites/test_generative.py::test_a_damaged_cached_classifier_is_rebuilt_with_a_warning_naming_it[garbage]",  # 8
    "tests/suites/test_generative.py::test_a_damaged_cached_classifier_is_rebuilt_with_a_warning_naming_it[wrong_keys]",  # 8
    "tests/results/test_nothing_lost.py::test_two_real_runs_at_once_into_one_results_folder_keep_their_rows_apart",  # 39
    "tests/core/test_resume_key.py::test_another_version_of_any_dependency_runs_the_cell_again",  # 25
    "tests/core/test_faults.py::test_ctrl_c_with_cells_side_by_side_stops_them_and_keeps_every_finished_cell",  # 20-50
    "tests/core/test_faults.py::test_ctrl_c_after_the_last_cell_started_stops_the_running_ones",  # ~10
    "tests/models/test_models.py::test_model_learns_digits[tdnn]",  # 4
    "tests/models/test_models.py::test_model_learns_digits[gru]",  # 3
    "tests/models/test_models.py::test_model_learns_digits[rnn]",  # 3
    "tests/models/test_sequence_models.py::test_learns_sine_frequency_through_the_training_loop[rnn]",  # 5
    "tests/models/test_sequence_models.py::test_learns_sine_frequency_through_the_training_loop[gru]",  # 4
    "tests/models/test_sequence_models.py::test_learns_sine_frequency_through_the_training_loop[transformer]",  # 3
} | {  # fuzz (issue 17): each case is a real run, 10-25 s on 2 busy cores; the default run keeps the fast
    # run-folder cases of test_fuzz_paths.py, and the writer's fault handling is the same code path
    f"tests/results/test_fuzz_paths.py::test_a_results_folder_that_stops_taking_files_is_one_error_line_and_keeps_the_cells[{case}]"
    for case in ["path:full-disk-after-0-writes", "path:full-disk-after-2-writes", "path:quota-after-0-writes", "path:quota-after-2-writes",
                 "path:read-only-after-0-writes", "path:read-only-after-2-writes", "path:no-permission-after-0-writes",
                 "path:no-permission-after-2-writes", "path:full-disk-after-1-writes", "path:full-disk-after-3-writes",
                 "path:read-only-after-3-writes"]
} | {  # one damage case stays in the default run: about 7 s each (a new run beside the damaged one)
    f"tests/test_bad_input.py::test_every_file_bench_reads_back_survives_damage_without_a_traceback[damage:{kind}-{damage}]"
    for kind in ("cell", "results.parquet", "run.json", "reference") for damage in ("empty", "flipped", "garbage", "truncated")
    if (kind, damage) != ("cell", "truncated")
} | {  # 2026-12-04, idle 2-core machine, `pytest --durations=25`: the default run took 472 s; these are the
    # longest whose area keeps a faster representative in it (seconds in the comments)
    "tests/models/test_models.py::test_model_learns_digits[minirocket]",  # 43 (test_timeseries keeps GunPoint)
    "tests/models/test_models.py::test_model_learns_digits[nn_dtw]",  # 9
    "tests/models/test_models.py::test_regressor_predicts_miles_per_gallon[resnet_mlp]",  # 8
    "tests/models/test_models.py::test_detector_ranks_a_held_out_digit_as_anomalous[autoencoder_detector]",  # 7
    "tests/report/test_page.py::test_claims_whose_suites_did_not_run_are_one_line_with_the_command_that_runs_them",  # 22
    "tests/report/test_page.py::test_learning_curve_section_finds_the_crossover_and_fits_power_laws",  # 13
    "tests/report/test_page.py::test_claims_scorecard_links_each_claim_to_its_detail",  # 10
    "tests/report/test_page.py::test_a_broken_claims_engine_leaves_a_note",  # 10
    "tests/report/test_sections.py::test_section_renders_rows_of_its_kind[suite]",  # 16
    "tests/report/test_sections.py::test_section_renders_rows_of_its_kind[claims]",  # 9
    "tests/test_bad_input.py::test_damaged_result_files_are_named_and_what_is_readable_still_counts",  # 9
}


# Every parameter of these: every command the README and the claims registry print, planned with
# --dry-run (2-30 s each, about 5 min together; test_cli_usage.py keeps a fast representative).
SLOW_PREFIXES = ("tests/test_cli_usage.py::test_every_printed_run_command_plans_without_error[",)


@pytest.hookimpl(tryfirst=True)  # before `-m 'not slow'` deselects by marker
def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.nodeid in SLOW_TESTS or item.nodeid.startswith(SLOW_PREFIXES):
            item.add_marker(pytest.mark.slow)
