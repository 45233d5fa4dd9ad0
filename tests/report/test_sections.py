"""Conformance of the report's sections: every module in harness/report/sections renders, as Markdown
and as HTML, on an empty frame and on rows of its own kind, without raising and without its guard
swallowing an error. Rows of each kind are the committed smoke references (results/reference/<suite>).

The sections folder is the registry: a new section module without a case in CASES fails
`test_every_section_module_has_a_case`.
"""
from __future__ import annotations

import functools
import json
import pkgutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.report import sections
from harness.report.blocks import Para, Plot
from harness.report.plots import png_bytes
from harness.report.rows import largest_size, with_labels
from harness.report.sections import (classification, control, generation, language_model, regression,
                                     unsupervised)
from harness.report.sections.accuracy_plots import suite_plots
from harness.report.sections.claims import claims_blocks
from harness.report.sections.comparison import comparison_blocks
from harness.report.sections.decision_maps import decision_map_blocks
from harness.report.sections.failed import failed_table
from harness.report.sections.fidelity import fidelity_blocks
from harness.report.sections.guards import guard_blocks
from harness.report.sections.interpretability import interpretability_blocks
from harness.report.sections.learning_curves import learning_curve_blocks
from harness.report.sections.metadata import metadata_blocks
from harness.report.sections.sequences import sequence_length_blocks
from harness.report.sections.suite import dataset_section, section_of, suite_blocks
from harness.report.sections.summary import summary_text
from harness.report.sections.tabular import tabular_blocks
from harness.results.store import load_results, load_run_info, run_folders

REFERENCE = Path(__file__).resolve().parents[2] / "results" / "reference"


@functools.cache
def reference(suite: str) -> pd.DataFrame:
    return with_labels(load_results([REFERENCE / suite]))


def per_dataset(kind):
    """A per-dataset kind's section as the suite calls it, on the first dataset of that kind (all of
    an empty frame)."""
    def render(d: pd.DataFrame, suite: str) -> list:
        ours = [(name, g) for name, g in d.groupby("dataset", sort=False) if section_of(g) is kind]
        name, g = ours[0] if len(d) else ("none", d)
        return dataset_section(g, suite, name, kind.dataset_blocks)
    return render


def of_datasets(d: pd.DataFrame, keep) -> pd.DataFrame:
    return d[d["dataset"].isin([name for name, g in d.groupby("dataset", sort=False) if keep(g)])]


def with_interpretation(d: pd.DataFrame) -> pd.DataFrame:
    """The rows as interpret=on writes them (the references run without it): figures that vary by seed."""
    importance = [json.dumps(list(np.random.default_rng(s).dirichlet(np.ones(16)))) for s in d["seed"]]
    figures = {f"interp_{k}": 0.5 + 0.01 * d["seed"] for k in (
        "fidelity_tree3", "fidelity_tree5", "fidelity_linear", "deletion_auc", "deletion_auc_random", "insertion_auc",
        "ig_deletion_auc", "saliency_deletion_auc", "stability_noise")}
    return d.assign(**figures, interp_points=200, interp_groups=16, interp_mass90_features=8, interp_error=None,
                    interp_importance=importance, interp_glassbox_size=None, interpret_seconds=1.5,
                    interpretable_by_construction=d["family"] == "classical")


def at_two_sizes(d: pd.DataFrame) -> pd.DataFrame:
    """The rows again at a quarter of the training size, a little less accurate (the references run one
    size per dataset): what learning curves are drawn from."""
    smaller = d.assign(n_train=d["n_train"] // 4, accuracy=d["accuracy"] - 0.05, train_seconds=d["train_seconds"] / 4)
    return pd.concat([smaller, d], ignore_index=True)


def run_infos(suite: str) -> dict:
    return {str(f): load_run_info(f) for f in run_folders(REFERENCE / suite)}


def drawn(d: pd.DataFrame) -> list:
    """Every accuracy plot drawn unguarded: an error raises here instead of becoming a note."""
    figures = [(name, caption, draw(d)) for name, caption, draw in suite_plots()]
    return [Plot(name, caption, png_bytes(fig)) for name, caption, fig in figures if fig is not None]


# section module -> (reference suite of its rows, render(rows, suite) -> blocks)
CASES = {
    "summary": ("vision", lambda d, s: [Para(summary_text(d))]),
    "claims": ("vision", lambda d, s: [b for part in claims_blocks(d, run_infos(s)) for b in part]),
    "suite": ("foundations", suite_blocks),
    "classification": ("vision", per_dataset(classification)),
    "regression": ("tabular", per_dataset(regression)),
    "language_model": ("charlm", per_dataset(language_model)),
    "generation": ("generative", per_dataset(generation)),
    "unsupervised": ("unsupervised", lambda d, s: unsupervised.suite_blocks(
        of_datasets(d, lambda g: section_of(g) is unsupervised), s)),
    "control": ("rl", lambda d, s: control.suite_blocks(of_datasets(d, lambda g: section_of(g) is control), s)),
    "sequences": ("memory", sequence_length_blocks),
    "tabular": ("tabular", tabular_blocks),
    "comparison": ("vision", comparison_blocks),
    "learning_curves": ("vision", lambda d, s: learning_curve_blocks(at_two_sizes(d), s)),
    "interpretability": ("vision", lambda d, s: interpretability_blocks(largest_size(with_interpretation(d)))),
    "decision_maps": ("foundations", lambda d, s: decision_map_blocks(largest_size(d[d["dataset"] == "xor"]), s,
                                                                      "xor")),
    "failed": ("vision", lambda d, s: [failed_table(d.assign(status="error", error="RuntimeError: <no> & more"))]),
    "fidelity": ("sequence", lambda d, s: fidelity_blocks(d, s)),
    "metadata": ("vision", lambda d, s: metadata_blocks(d, run_infos(s))),
    "accuracy_plots": ("depth", lambda d, s: drawn(at_two_sizes(d))),
    "guards": ("rl", lambda d, s: guard_blocks(with_second_dqn(d), s)),
}


def with_second_dqn(d: pd.DataFrame) -> pd.DataFrame:
    """The reference's dqn cells again as dqn_sb3 cells (returns shifted), so each pair has both sides."""
    second = d[d["model"] == "dqn"].assign(model="dqn_sb3")
    second["mean_return"] = pd.to_numeric(second["mean_return"]) + 1.0
    return pd.concat([d, second], ignore_index=True)


def rendered(blocks: list) -> str:
    text = "\n".join(b.md() + b.html() for b in blocks if b is not None)
    assert "could not be drawn" not in text and "could not be written" not in text, text
    return text


def test_every_section_module_has_a_case():
    assert {m.name for m in pkgutil.iter_modules(sections.__path__)} == set(CASES)


@pytest.mark.parametrize("name", CASES)
def test_section_renders_an_empty_frame(name):
    suite, render = CASES[name]
    rendered(render(reference(suite).iloc[:0], suite))


@pytest.mark.parametrize("name", CASES)
def test_section_renders_rows_of_its_kind(name):
    suite, render = CASES[name]
    blocks = render(reference(suite), suite)
    assert blocks and "No cell of this" not in rendered(blocks)
