"""The report: both files written, self-contained HTML, figures with intervals, failures shown,
and a broken plot or a missing claims engine never costs the rest of the page."""
from __future__ import annotations

import re
import sys
import types
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from plotly.offline import get_plotlyjs
from scipy import stats

from harness.report import write_report
from harness.report.rows import with_labels
from harness.report.sections import accuracy_plots
from harness.report.sections.tabular import tabular_blocks
from harness.results.store import RunStore

SEEDS = (0, 1, 2)
SIZES = (100, 400)
MODELS = {"logistic_regression": "classical", "random_forest": "classical", "mlp": "deep", "cnn": "deep"}
BASE_ACCURACY = {"logistic_regression": 0.80, "random_forest": 0.85, "mlp": 0.78, "cnn": 0.88}


def accuracy(model: str, dataset: str, seed: int, n_train: int) -> float:
    return BASE_ACCURACY[model] + (0.05 if n_train == 400 else 0) - (0.1 if dataset == "tabby" else 0) + 0.007 * seed


def make_row(dataset, model, seed, n_train, variant="", **changes) -> dict:
    family = MODELS[model]
    row = {
        "suite": "vision", "dataset": dataset, "model": model, "family": family,
        "params": f'{{"model": "{model}", "variant": "{variant}"}}', "params_id": f"{model[:4]}{variant}",
        "variant": variant, "seed": seed, "n_train": n_train, "n_test": 200, "profile": "default", "tuned": False,
        "device": "cpu", "cpu_model": "Test CPU", "gpu_name": None, "torch_threads": 4, "git_commit": "abc1234",
        "job": "0", "status": "ok", "error": None,
        "accuracy": accuracy(model, dataset, seed, n_train), "f1_macro": accuracy(model, dataset, seed, n_train) - 0.01,
        "train_seconds": 0.5 * n_train / 100 * (10 if family == "deep" else 1), "train_cpu_seconds": 1.0,
        "predict_seconds_per_1k": 0.002, "peak_memory_mb": 12.5,
        "n_parameters": 50_000 if family == "deep" else 650, "epochs": 10 if family == "deep" else None,
        "final_train_loss": 0.3 if family == "deep" else np.nan, "best_params": None,
        "cell_started": f"2024{seed}{n_train}", "cell_seconds": 1.0,
    }
    return row | changes


@pytest.fixture
def run_folder(tmp_path: Path) -> Path:
    store = RunStore(tmp_path / "results" / "vision" / "2024-01-01_00-00-00")
    for dataset in ("digits", "tabby"):
        for model in MODELS:
            for seed in SEEDS:
                for n in SIZES:
                    if (dataset, model, seed) == ("digits", "cnn", 0) and n == 400:
                        store.write_row(make_row(dataset, model, seed, n, status="error", accuracy=np.nan,
                                                 error="RuntimeError: shapes <3x4> & <5x6> differ"))
                    else:
                        store.write_row(make_row(dataset, model, seed, n))
    for depth, loss in ((2, 0.5), (4, 0.3), (8, 0.2)):
        for seed in SEEDS:
            store.write_row(make_row("digits", "mlp", seed, 400, variant=f"depth={depth}", final_train_loss=loss))
    store.write_json("run.json", {
        "suite": "vision", "git_commit": "abc1234", "versions": {"torch": "2.3.0", "scikit-learn": "1.5.0"},
        "machine": {"device": "cpu", "cpu_model": "Test CPU", "cpu_cores": 8, "gpu_name": None,
                    "torch_threads": 4, "platform": "Linux", "python": "3.11"},
        "started": "2024-01-01T00:00:00+00:00", "ended": "2024-01-01T00:10:00+00:00"})
    return store.folder


def page_tags(page: str) -> list[tuple[str, list]]:
    """Every tag of the page with its attributes (a script's text is not read as tags)."""
    class Tags(HTMLParser):
        def __init__(self):
            super().__init__()
            self.found = []

        def handle_starttag(self, tag, attrs):
            self.found.append((tag, attrs))

    parser = Tags()
    parser.feed(page)
    return parser.found


def expected_interval(values) -> str:
    v = np.asarray(values)
    half = stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v))
    return f"{v.mean():.4f} ± {half:.4f}"


def test_report_writes_self_contained_html_and_markdown_twin(run_folder, tmp_path):
    out = tmp_path / "report"
    paths = write_report([run_folder], out)
    md_path, html_path = out / "report.md", out / "report.html"
    assert paths == [md_path, html_path] and md_path.exists() and html_path.exists()
    page, md = html_path.read_text(), md_path.read_text()

    tags = page_tags(page)
    assert not [(t, a) for t, a in tags for k, v in a if k in ("src", "href") and re.match(r"\s*(https?:)?//", v or "")]
    assert not [t for t, a in tags if t == "link" or (t == "script" and dict(a).get("src"))], "external resource"
    # plotly's library inline, once, for the three interactive figures (each a div and its script)
    assert page.count(get_plotlyjs()[:300]) == 1
    figures = re.findall(r'<div id="(plot-[^"]+)" class="plotly-graph-div"', page)
    assert figures == ["plot-vision-accuracy-vs-train-time", "plot-vision-accuracy-vs-parameters",
                       "plot-vision-learning-curves"]
    assert [t for t, _ in tags].count("script") == 1 + len(figures) + 1  # library, figures, the table script
    # train time against size and depth stay PNG; then one per curve a claim's verdict carries
    claim_curves = sorted(p.name for p in (out / "plots").glob("claim-*-curve-*.png"))
    assert claim_curves, "no claim curve drawn"
    images = [dict(a)["src"] for t, a in tags if t == "img"]
    assert len(images) == 2 + len(claim_curves) and all(src.startswith("data:image/png;base64,") for src in images)
    # every figure also as PNG (report.md's images), SVG and PDF
    pngs = sorted((out / "plots").glob("*.png"))
    assert {"vision-learning-curves.png", "vision-depth.png", "vision-accuracy-vs-train-time.png"} <= {p.name for p in pngs}
    for png in pngs:
        assert f"(plots/{png.name})" in md
        assert png.with_suffix(".svg").read_text().lstrip().startswith("<?xml") and "<svg" in png.with_suffix(".svg").read_text()
        assert png.with_suffix(".pdf").read_bytes().startswith(b"%PDF")

    for model in [*MODELS, "mlp[depth=4]"]:
        assert model in page and model in md
    assert "error" in page and "shapes &lt;3x4&gt; &amp; &lt;5x6&gt; differ" in page
    assert "<3x4>" not in page  # escaped, never raw

    # logistic_regression on digits at the largest size, over the three seeds
    figure = expected_interval([accuracy("logistic_regression", "digits", s, 400) for s in SEEDS])
    assert figure in page and figure in md
    # cnn's failed seed leaves two seeds behind its figure
    cnn_row = next(line for line in md.splitlines() if line.startswith("| **★ cnn") or line.startswith("| cnn"))
    assert "| 2 |" in cnn_row

    assert re.findall(r"(?m)^### (digits|tabby)$", md) == ["digits", "tabby"]
    assert re.findall(r"<h3 id=\"[^\"]+\">(digits|tabby)</h3>", page) == ["digits", "tabby"]
    assert "Test CPU" in page and "abc1234" in page and "scikit-learn 1.5.0" in page


def test_a_failing_plot_becomes_a_note_and_the_rest_is_written(run_folder, tmp_path, monkeypatch):
    def broken(d):
        raise ValueError("no axes today")

    monkeypatch.setattr(accuracy_plots, "plot_accuracy_vs_time", broken)
    out = tmp_path / "report"
    write_report([run_folder], out)
    page, md = (out / "report.html").read_text(), (out / "report.md").read_text()
    for text in (page, md):
        assert "could not be drawn: ValueError: no axes today" in text
        assert "random_forest" in text and "digits" in text
    assert "data:image/png;base64," in page  # the other plots survive
    assert not (out / "plots" / "vision-accuracy-vs-train-time.png").exists()


def test_claims_scorecard_links_each_claim_to_its_detail(run_folder, tmp_path, monkeypatch):
    verdict = types.SimpleNamespace(id="T3-time", claim="ML takes less time to train", verdict="supported",
                                    evidence="classical 10x faster",
                                    detail="Rests on **2 datasets**.\n\n| dataset | ratio |\n|---|---:|\n| digits | 10x |",
                                    scope="vision, 3 seeds, cpu")
    claims = types.ModuleType("harness.claims")
    claims.evaluate_claims = lambda df, run_infos: [verdict]
    monkeypatch.setitem(sys.modules, "harness.claims", claims)
    out = tmp_path / "report"
    write_report([run_folder], out)
    page = (out / "report.html").read_text()
    assert '<a href="#claim-T3-time">T3-time</a>' in page and 'id="claim-T3-time"' in page
    assert "verdict-supported" in page and "<strong>2 datasets</strong>" in page
    assert '<td class="num">10x</td>' in page  # the detail's Markdown table becomes a table
    assert page.index("Claims scorecard") < page.index("<h3 id=\"vision-digits\"") < page.index('id="claim-T3-time"')


def test_a_broken_claims_engine_leaves_a_note(run_folder, tmp_path, monkeypatch):
    claims = types.ModuleType("harness.claims")
    claims.evaluate_claims = lambda df, run_infos: 1 / 0
    monkeypatch.setitem(sys.modules, "harness.claims", claims)
    out = tmp_path / "report"
    write_report([run_folder], out)
    assert "scorecard could not be computed: ZeroDivisionError" in (out / "report.md").read_text()


def test_older_results_without_variant_column(tmp_path):
    folder = tmp_path / "old"
    (folder / "cells").mkdir(parents=True)
    row = make_row("digits", "mlp", 0, 100)
    del row["variant"], row["final_train_loss"]
    pd.DataFrame([row]).to_parquet(folder / "cells" / "old.parquet")  # as results written before variants
    out = tmp_path / "report"
    write_report([folder], out)
    assert "run.json is missing" in (out / "report.html").read_text()


def test_learning_curve_section_finds_the_crossover_and_fits_power_laws(tmp_path: Path):
    """Classical error follows 0.5 n^-0.3 + 0.05, deep error 20 n^-0.8 + 0.01: deep starts behind and
    overtakes between n=200 and n=800 (where the noiseless curves cross, about n=380)."""
    store = RunStore(tmp_path / "vision" / "run")
    curves = {"logistic_regression": (0.5, 0.3, 0.05), "cnn": (20.0, 0.8, 0.01)}
    for model, (a, b, c) in curves.items():
        for n in (50, 200, 800, 3200):
            for seed in SEEDS:
                acc = 1 - (a * n ** -b + c) + 0.001 * (seed - 1)
                store.write_row(make_row("digits", model, seed, n, accuracy=acc))
    write_report([store.folder], tmp_path / "out")
    md = (tmp_path / "out" / "report.md").read_text()
    section = md.split("### vision/digits: learning curves", 1)[1]
    n_star = float(re.search(r"crossover at n\* ≈ (\d+)", section).group(1))
    assert 200 < n_star < 800
    cnn_row = next(line for line in section.splitlines() if line.startswith("| cnn |"))
    b_fit = float(cnn_row.split("|")[4].split("±")[0])
    assert b_fit == pytest.approx(0.8, abs=0.1)


def test_regression_datasets_get_an_error_table_with_the_models_diagnostics(tmp_path):
    from harness.results.store import RunStore

    store = RunStore(tmp_path / "run")
    for seed in (0, 1):
        for model, family, mse in (("ridge", "classical", 0.1), ("lstm", "deep", 0.01)):
            store.write_row({"suite": "memory", "dataset": "adding[length=50]", "model": model, "variant": "",
                             "family": family, "params": "{}", "params_id": "p", "seed": seed, "n_train": 100,
                             "n_test": 50, "profile": "default", "status": "ok", "error": None, "accuracy": np.nan,
                             "f1_macro": np.nan, "mse": mse, "mae": 0.1, "baseline_mse": 0.167, "r2": 1 - mse / 0.167,
                             "grad_ratio_init": 1e-9 if family == "deep" else np.nan, "train_seconds": 1.0,
                             "predict_seconds_per_1k": 0.1, "peak_memory_mb": 1.0, "n_parameters": 10,
                             "device": "cpu", "job": "0", "cell_started": f"{model}{seed}", "cell_seconds": 1.0})
    store.consolidate()
    md_path, _ = write_report([store.folder], tmp_path / "out")
    md = md_path.read_text()
    assert "| model | family | seeds | MSE | baseline MSE | R² | train time | grad_ratio_init |" in md
    assert "| lstm | deep | 2 | 0.01 | 0.167 | 0.940 |" in md


def test_datasets_over_sequence_length_get_a_solved_table_and_cost_curves(tmp_path):
    store = RunStore(tmp_path / "run")
    for T in (25, 50, 100):
        for model, longest in (("rnn", 25), ("lstm", 100)):
            solved = T <= longest
            store.write_row({"suite": "memory", "dataset": f"adding[length={T}]", "model": model, "variant": "",
                             "family": "deep", "params": "{}", "params_id": "p", "seed": 0, "n_train": 100,
                             "n_test": 50, "profile": "default", "status": "ok", "error": None, "accuracy": np.nan,
                             "f1_macro": np.nan, "mse": 0.001 if solved else 0.16, "mae": 0.1, "baseline_mse": 0.167,
                             "r2": 0.99 if solved else 0.04, "solved": float(solved), "train_steps": 300.0 if solved
                             else 3000.0, "grad_ratio_init": 0.9 ** T, "train_seconds": T / 10, "peak_memory_mb": T,
                             "predict_seconds_per_1k": 0.1, "n_parameters": 10, "device": "cpu", "job": "0",
                             "cell_started": f"{model}{T}", "cell_seconds": 1.0})
    store.consolidate()
    md_path, _ = write_report([store.folder], tmp_path / "out")
    md = md_path.read_text()
    assert "| model | T=25 | T=50 | T=100 |" in md
    assert "| rnn | ✓ 300 | ✗ 3000 | ✗ 3000 |" in md and "| lstm | ✓ 300 | ✓ 300 | ✓ 300 |" in md
    assert (tmp_path / "out" / "plots" / "memory-sequence-length.png").stat().st_size > 10_000
    assert "could not be drawn" not in md


def test_claims_whose_suites_did_not_run_are_one_line_with_the_command_that_runs_them(run_folder, tmp_path):
    from harness.claims.registry import load_registry

    registry = load_registry()
    elsewhere = [e for e in registry if e["evidence"]["suites"] and "vision" not in e["evidence"]["suites"]]
    assert elsewhere, "every claim reads the vision suite: nothing to collapse"
    write_report([run_folder], tmp_path / "out")
    md, page = (tmp_path / "out" / "report.md").read_text(), (tmp_path / "out" / "report.html").read_text()
    (line,) = [text for text in md.splitlines() if text.startswith("**Not run**")]
    assert f"({len(elsewhere)} claims, no rows of their suites here): " + ", ".join(e["id"] for e in elsewhere) in line
    suites = list(dict.fromkeys(s for e in elsewhere for s in e["evidence"]["suites"]))
    assert f"`bench run suite={','.join(suites)} -m`" in line and "`bench run suite=all`" in line
    for e in elsewhere:  # no scorecard row and no detail of its own
        assert f"| [{e['id']}](#claim-" not in md and f'id="claim-{e["id"]}"' not in page
    assert f"<code>bench run suite={','.join(suites)} -m</code>" in page
    vision_claims = [e for e in registry if "vision" in e["evidence"]["suites"]]
    for e in vision_claims:  # a claim of the suite that ran keeps its row, even when not-run for its own reason
        assert f"| [{e['id']}](#claim-{e['id']}) |" in md


def test_trees_against_networks_only_where_the_inputs_are_tables(run_folder):
    """Random forest and MLP ran on both datasets; Grinsztajn et al.'s reading is written only for tables."""
    from harness.results.store import load_results

    rows = with_labels(load_results([run_folder]))
    assert tabular_blocks(rows, "vision") == []  # rows written before input_kind: the vision suite's are images
    assert tabular_blocks(rows.assign(input_kind="image"), "vision") == []
    tables = tabular_blocks(rows.assign(input_kind=np.where(rows["dataset"] == "tabby", "tabular", "image")), "vision")
    text = "\n".join(b.md() for b in tables)
    assert "vision: tree ensembles vs deep networks" in text and "| tabby |" in text and "| digits |" not in text
    older = tabular_blocks(rows.assign(suite="tabular").drop(columns="input_kind"), "tabular")
    assert "| tabby |" in "\n".join(b.md() for b in older) and "| digits |" in "\n".join(b.md() for b in older)
