"""The forkserver's early start (harness/core/forkserver.py): the modules it guesses for a run before the
run is composed are those of the plan the runner then resolves, and runs that do not fork from it leave
it alone."""
from __future__ import annotations

import pytest

from harness.core import forkserver
from harness.core.config import compose_config, group_options, resolve_plan
from harness.core.runner import plan_modules
from suites import CONFIG_DIR


@pytest.mark.parametrize("suite", group_options("suite"))
def test_the_guess_holds_every_module_of_the_suites_plan(suite):
    plan = resolve_plan(compose_config([f"suite={suite}"]))
    assert set(plan_modules(plan)) <= set(forkserver.guessed_modules(suite, "", CONFIG_DIR))


def test_a_model_named_on_the_command_line_is_guessed_too():
    assert "baselines.text" not in forkserver.guessed_modules("vision", "", CONFIG_DIR)
    assert "baselines.text" in forkserver.guessed_modules("vision", "char_tfidf_svm", CONFIG_DIR)


@pytest.mark.parametrize("overrides,starts", [
    (["suite=vision"], True),
    ([], True),                                          # the default suite's
    (["suite=sequence", "model=mamba"], True),
    (["suite=vision", "isolation=none"], False),         # cells run in the runner's own process
    (["suite=vision", "hydra/launcher=local"], False),   # joblib's processes each start their own
    (["suite=all"], False),                              # its first member's run starts it
])
def test_start_early_only_where_cells_fork_from_this_process(monkeypatch, overrides, starts):
    started = []
    monkeypatch.setattr(forkserver, "start", lambda modules=(): started.append(list(modules)))
    forkserver.start_early(overrides, CONFIG_DIR)
    assert bool(started) == starts
    if starts:
        assert "harness.models.cnn" in started[0] or "harness.models.mamba" in started[0]
