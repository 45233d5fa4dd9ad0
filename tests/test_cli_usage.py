"""What a new user meets first: help as written, --version, every command the README and the claims
print, `bench list SUITE`, suite-scoped "did you mean", --dry-run, every threshold a flag, tables
that stay whole in a log or a narrow terminal, and a bench.log that holds the run's log."""
from __future__ import annotations

import io
import re
import shlex
import warnings
from dataclasses import fields
from pathlib import Path

import pytest
import torch
from hydra._internal.utils import get_args_parser

from harness import app
from harness.claims.explain import seeds_commands
from harness.claims.registry import load_registry
from harness.cli import build_parser, main, run_options
from harness.core.display import BenchConsole, console, results_table, run_log
from harness.results.compare import Thresholds

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["profile=smoke", "dataset=digits", "hardware.threads=1"]


def readme_commands() -> list[str]:
    """Every `bench ...` line of the README's bash blocks, its comment cut off."""
    text = (ROOT / "README.md").read_text()
    found = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        for line in block.splitlines():
            for part in line.split("&&"):
                part = part.split("  #")[0].strip()
                if part.startswith("bench "):
                    found.append(part)
    return found


def registry_commands() -> list[str]:
    """The commands the scorecard prints to produce missing evidence (`produce:`, and the seeds commands)."""
    found = []
    for entry in load_registry():
        if entry.get("produce"):
            found.append(str(entry["produce"]))
        found += re.findall(r"`(bench [^`]+)`", seeds_commands(entry))
    return list(dict.fromkeys(found))


COMMANDS = list(dict.fromkeys(readme_commands() + registry_commands()))
RUN_COMMANDS = [c for c in COMMANDS if c.startswith("bench run ")]


def as_run_args(command: str, results: Path) -> list[str]:
    """A README or registry `bench run` line as arguments, shrunk to parse on this machine without a run:
    CUDA becomes `auto` where there is none, and results go to a temporary folder."""
    args = shlex.split(command)[2:]
    if not torch.cuda.is_available():
        args = [re.sub(r"(?<=[=,])cuda\b", "auto", a) if a.startswith("hardware=") else a for a in args]
    return [*args, f"paths.results={results}"]


def test_the_commands_are_found():
    assert len(RUN_COMMANDS) >= 30 and "bench run suite=sequence,text,memory -m" in RUN_COMMANDS
    assert any(c.startswith("bench compare") for c in COMMANDS) and any(c.startswith("bench list") for c in COMMANDS)


@pytest.mark.parametrize("command", RUN_COMMANDS)
def test_every_printed_run_command_reaches_hydra_in_an_order_it_parses(command, tmp_path):
    """The argv bench hands Hydra (its flags first, then the user's overrides, then bench's own) is one
    Hydra's parser takes: with -m last it used to stop at `unrecognized arguments: hydra.run.dir=...`."""
    hydra_args, _ = run_options(as_run_args(command, tmp_path))
    flags, overrides = app.hydra_flags_and_overrides(hydra_args)
    parsed = get_args_parser().parse_args([*flags, *overrides, "hydra.run.dir=x", "hydra.sweep.dir=x"])
    assert parsed.overrides[-2:] == ["hydra.run.dir=x", "hydra.sweep.dir=x"]
    assert parsed.multirun == ("-m" in command.split())
    assert not any(o.startswith("-") for o in overrides)


def test_hydra_flags_keep_their_values():
    flags, overrides = app.hydra_flags_and_overrides(["seed=0,1", "--cfg", "job", "-m", "model=knn", "--info"])
    assert flags == ["--cfg", "job", "-m", "--info"] and overrides == ["seed=0,1", "model=knn"]
    assert app.hydra_flags_and_overrides(["--info", "config", "a=1"]) == (["--info", "config"], ["a=1"])


@pytest.mark.parametrize("command", RUN_COMMANDS)
def test_every_printed_run_command_plans_without_error(command, tmp_path, capsys, monkeypatch):
    """Each command as printed, with --dry-run: its whole plan composes (every job of a sweep, every
    member of suite=all), exit 0, and nothing runs."""
    if "hydra/launcher=slurm" in command:
        pytest.importorskip("hydra_plugins.hydra_submitit_launcher", reason="the slurm launcher needs '.[slurm]'")
    monkeypatch.setattr(console, "width", 1000)
    assert main(["run", *as_run_args(command, tmp_path), "--dry-run"]) == 0, capsys.readouterr().err
    assert "Nothing was run." in capsys.readouterr().err
    assert not list(tmp_path.glob("*/*/cells")) and not list(tmp_path.glob("*/*/run.json"))


@pytest.mark.parametrize("command", [c for c in COMMANDS if not c.startswith("bench run ")])
def test_every_other_printed_command_parses(command):
    """Synopses such as `[--z 3]` and `[SUITE...]` read as the flags and names they stand for."""
    args = shlex.split(command.replace("[", "").replace("]", "").replace("<run>", "2026-01-01_00-00-00"))[1:]
    assert build_parser().parse_args(args).command == args[0]


def test_a_sweep_flag_at_the_end_runs_the_sweep_as_written(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(console, "width", 1000)
    code = main(["run", "suite=vision", "profile=smoke", "model=knn", "seed=0,1", "-m", "--dry-run",
                 f"paths.results={tmp_path}"])
    err = capsys.readouterr().err
    assert code == 0 and "job 1: suite=vision profile=smoke" in err and "plan: 2 job(s), 4 cells" in err
    # without -m a sweep is refused before anything runs, as Hydra would refuse it after starting
    assert main(["run", "model=knn", "seed=0,1", "--dry-run", f"paths.results={tmp_path}"]) == 2
    assert "add -m" in capsys.readouterr().err


def test_run_help_is_printed_as_written(capsys):
    assert main(["run", "--help"]) == 0
    out = capsys.readouterr().out
    assert "bench run suite=vision [hydra overrides...] [-m]" in out
    assert "bench compare BASE NEW [--markdown FILE] [thresholds]" in out and "--dry-run" in out


def test_version_is_the_installed_distributions(capsys):
    from importlib.metadata import version

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == f"bench {version('bench')}"


def test_list_of_one_suite_shows_its_datasets_models_and_profiles(capsys):
    assert main(["list", "vision"]) == 0
    text = capsys.readouterr().err
    for name in ("digits", "mnist5k", "fashion_mnist", "cnn", "hist_gradient_boosting", "smoke", "full"):
        assert name in text, name
    assert "minirocket" not in text and "ddpm" not in text and "(profile full, evidence only)" in text
    assert len(text.splitlines()) < 40
    assert main(["list", "models", "--suite", "sequence"]) == 0
    text = capsys.readouterr().err
    assert "minirocket" in text and "lstm" in text and "cnn " not in text and "ddpm" not in text
    assert main(["list", "datasets", "--suite", "rl"]) == 0
    text = capsys.readouterr().err
    assert "cartpole" in text and "digits" not in text
    assert main(["list", "modles"]) == 2 and "did you mean 'models'" in capsys.readouterr().err
    assert main(["list", "models", "--suite", "visoin"]) == 2 and "did you mean 'vision'" in capsys.readouterr().err


@pytest.mark.parametrize("overrides,words,not_listed", [
    (["model=knnn"], ["unknown model 'knnn' (did you mean 'knn'?)", "suite vision runs the models", "resnet"], "ddpm"),
    (["suite=sequence", "model=lstn"], ["did you mean 'lstm'?", "suite sequence", "minirocket"], "cnn,"),
    (["suite=rl", "dataset=cartpol"], ["did you mean 'cartpole'?", "suite rl runs the datasets", "taxi"], "mnist5k"),
])
def test_a_misspelt_name_lists_the_suites_choices_with_the_nearest(overrides, words, not_listed, capsys, tmp_path,
                                                                    monkeypatch):
    monkeypatch.setattr(console, "width", 1000)
    assert main(["run", *overrides, f"paths.results={tmp_path}"]) == 2
    err = capsys.readouterr().err
    for w in words:
        assert w in err, w
    assert not_listed not in err


def test_dry_run_prints_the_plan_and_its_time_from_the_reference(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(console, "width", 1000)
    code = main(["run", "suite=vision", "profile=smoke", "hardware.workers=1", "--dry-run", f"paths.results={tmp_path}"])
    err = capsys.readouterr().err
    assert code == 0 and not list(tmp_path.glob("vision/*"))
    assert re.search(r"digits\s+12: logistic_regression, .*resnet\s+\[0\]\s+split ≤300\s+12\s+\S+ m?s", err), err
    assert "workers=1" in err and "profile=smoke" in err and "device=cpu" in err
    assert re.search(r"plan: 1 job\(s\), 24 cells; expected about \S+ (ms|s|min) .*24 measured at this profile.*"
                     r"results/reference/vision", " ".join(err.split()))
    # a profile no earlier run measured and whose training size is unknown: no guess
    assert main(["run", "suite=vision", "profile=full", "--dry-run", f"paths.results={tmp_path}"]) == 0
    assert "expected time unknown" in capsys.readouterr().err


def test_every_threshold_is_a_flag_of_compare_and_reference():
    parser = build_parser()
    for command in (["compare", "a", "b"], ["reference", "check"]):
        defaults = parser.parse_args(command)
        for f in fields(Thresholds):
            flag = f"--{f.name.replace('_', '-')}"
            assert getattr(defaults, f.name) == f.default, flag
            assert getattr(parser.parse_args([*command, flag, "7.5"]), f.name) == 7.5, flag
    assert {"fd_rise", "mse_rise"} <= {f.name for f in fields(Thresholds)}


def test_a_threshold_out_of_range_is_bad_input(capsys, tmp_path):
    assert main(["compare", str(tmp_path), str(tmp_path), "--fd-rise", "-1"]) == 2
    assert "--fd-rise must be at least 0, got -1" in capsys.readouterr().err


def wide_rows():
    import pandas as pd

    return pd.DataFrame([{"family": f, "model": m, "variant": None, "label": m, "status": "ok", "accuracy": a,
                          "f1_macro": a - 0.01, "train_seconds": 1.5, "predict_seconds_per_1k": 0.01,
                          "n_parameters": 12345, "seed": 0, "n_train": 300, "n_test": 200, "r2": None}
                         for f, m, a in (("classical", "hist_gradient_boosting", 0.9321), ("deep", "cnn", 0.9555))])


@pytest.mark.parametrize("terminal", [False, True])
def test_tables_are_whole_in_a_narrow_console_or_a_log(terminal):
    out = io.StringIO()
    narrow = BenchConsole(file=out, width=30, force_terminal=terminal, color_system=None)
    for t in results_table("digits", wide_rows()):
        narrow.print(t)
    text = out.getvalue()
    assert "…" not in text
    for word in ("accuracy", "macro-F1", "predict /1k", "hist_gradient_boosting", "0.9321", "0.9555", "12.3k"):
        assert word in text, word
    header = next(line for line in text.splitlines() if line.startswith("model"))
    assert header.split() == ["model", "accuracy", "macro-F1", "train", "predict", "/1k", "params", "seeds"]


def test_a_table_that_fits_a_terminal_keeps_its_box():
    out = io.StringIO()
    BenchConsole(file=out, width=200, force_terminal=True, color_system=None).print(*results_table("digits", wide_rows()))
    assert "┃" in out.getvalue() or "│" in out.getvalue()


def test_run_log_holds_printed_lines_tables_and_warnings(tmp_path):
    log = tmp_path / "bench.log"
    with run_log(log):
        console.print("[bold]a line[/] the terminal shows")
        console.print(*results_table("digits", wide_rows()))
        warnings.warn("a warning of this process", UserWarning)
    console.print("after the run: not in its log")
    text = log.read_text()
    assert "a line the terminal shows" in text and "[bold]" not in text and "\x1b[" not in text
    assert "hist_gradient_boosting" in text and "0.9321" in text and "…" not in text
    assert "UserWarning: a warning of this process" in text and "after the run" not in text


def test_bench_log_of_a_real_run_holds_its_cells_table_results_and_a_cells_warnings(run_bench):
    # max_iter=1 stops lbfgs after one step: scikit-learn's ConvergenceWarning, raised in the cell's process
    code, folder = run_bench(*SMALL, "model=logistic_regression", "+model.estimator.max_iter=1")
    assert code == 0
    text = (folder / "bench.log").read_text()
    assert re.search(r"✓ digits\s+logistic_regression\s+seed 0 n=300\s+acc 0\.\d{4}", text), text
    assert "ConvergenceWarning" in text and "lbfgs" in text.lower()
    assert re.search(r"logistic_regression\s+0\.\d{4}\s+0\.\d{4}", text)  # the results table, whole
    assert f"results: {folder}" in text and "report:" in text


def test_dry_run_counts_a_learning_curve_without_the_sizes_past_a_models_cap(tmp_path):
    """A model with a size cap skips the curve's larger sizes; the dry run counts the sizes an earlier run
    at the profile measured on that dataset, and says "at most" where none did (it loads no data)."""
    import pandas as pd

    from harness.core.config import compose_config
    from harness.dry_run import Estimate, job_table

    cfg = compose_config(["suite=vision", "profile=smoke", "dataset=digits", "suite.models=[knn,gaussian_nb]",
                          "scaling=on", "scaling.points=3", "+suite.profiles.smoke.size_caps={knn: 100}",
                          f"paths.results={tmp_path}"])
    earlier = pd.DataFrame([{"dataset": "digits", "model": m, "profile": "smoke", "n_train": n, "cell_seconds": 1.0,
                             "variant": None, "epochs": None, "seed": 0}
                            for m in ("knn", "gaussian_nb") for n in (50, 120, 300)])
    table, cells, _ = job_table(0, [], cfg, [("earlier", earlier)], Estimate())
    assert cells == 3 * 3 + 1 * 3  # 3 seeds: gaussian_nb at 3 sizes, knn at the one of them at or below 100
    blind, unsure, _ = job_table(0, [], cfg, [], Estimate())
    assert unsure == 3 * 3 * 2 and list(blind.columns[4]._cells) == ["at most 18"]  # no earlier run: an upper bound
    assert "knn (≤100)" in " ".join(str(c) for c in table.columns[1]._cells)
