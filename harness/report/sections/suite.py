"""A suite's part of the report: a section per dataset, written by the section of its task kind,
then the sections that read across datasets (sequence length, trees vs networks, and for accuracy
datasets the comparisons, learning curves and plots).

A task kind's section has one of two entry functions:
- `dataset_blocks(d, suite, dataset) -> list` (classification, regression, language_model,
  generation): the blocks under one dataset's heading, given all its rows (every size and status);
  called only when at least one of its cells finished. The heading, the note when none finished and
  the failed cells are written here, the same for every kind.
- `suite_blocks(d, suite) -> list` (unsupervised, control): all the suite's datasets of that kind at
  once, headings and failed cells included, after the per-dataset sections (a dataset's variants, or
  a suite's environments, share a section or a plot).
"""
from __future__ import annotations

import pandas as pd

from harness.core.display import is_control, is_generation, is_language_model
from harness.report.blocks import Heading, Para, note
from harness.report.plots import guarded_plot
from harness.report.rows import largest_size
from harness.report.sections import (classification, control, generation, language_model, regression,
                                     unsupervised)
from harness.report.sections.accuracy_plots import suite_plots
from harness.report.sections.comparison import comparison_blocks
from harness.report.sections.failed import failed_table
from harness.report.sections.learning_curves import learning_curve_blocks
from harness.report.sections.sequences import sequence_length_blocks
from harness.report.sections.tabular import tabular_blocks
from harness.results.store import safe_name


def dataset_kind(g: pd.DataFrame):
    """The section module of a dataset that gets a section of its own, by today's detection and in its
    order of precedence; a dataset no other kind claims is read as classification."""
    if is_language_model(g):
        return language_model
    if is_generation(g):
        return generation
    if regression.is_regression(g):
        return regression
    return classification


def suite_blocks(d: pd.DataFrame, suite: str) -> list:
    blocks = [Heading(2, f"Suite {suite}", f"suite-{safe_name(suite)}")]
    kinds = {name: dataset_kind(g) for name, g in d.groupby("dataset", sort=False)}
    unsupervised_names = unsupervised.unsupervised_datasets(d)  # their own sections, a dataset's variants together
    control_names = [name for name, g in d.groupby("dataset", sort=False) if is_control(g)]  # agents: returns, curves
    for dataset, g in d.groupby("dataset", sort=False):
        if dataset not in unsupervised_names and dataset not in control_names:
            blocks += dataset_section(g, suite, dataset, kinds[dataset].dataset_blocks)
    blocks += unsupervised.suite_blocks(d[d["dataset"].isin(unsupervised_names)], suite)
    blocks += control.suite_blocks(d[d["dataset"].isin(control_names)], suite)
    blocks += sequence_length_blocks(d, suite)
    blocks += guarded_blocks(tabular_blocks, d, suite)
    # what follows compares accuracies
    not_accuracy = [name for name, kind in kinds.items() if kind is not classification]
    d = d[~d["dataset"].isin(not_accuracy + unsupervised_names + control_names)]
    if not len(d):
        return [b for b in blocks if b is not None]
    blocks += comparison_blocks(d, suite)
    blocks += learning_curve_blocks(d, suite)
    blocks.append(Heading(3, f"{suite}: plots"))
    for name, caption, draw in suite_plots():
        blocks.append(guarded_plot(draw, d, f"{safe_name(suite)}-{name}", caption))
    return [b for b in blocks if b is not None]


def dataset_section(d: pd.DataFrame, suite: str, dataset: str, kind_blocks) -> list:
    """A dataset's heading, its kind's blocks (`kind_blocks`, a section's `dataset_blocks`) or a note
    that nothing finished, then its failed cells."""
    blocks = [Heading(3, dataset, f"{safe_name(suite)}-{safe_name(dataset)}")]
    if len(largest_size(d)):
        blocks += kind_blocks(d, suite, dataset)
    else:
        blocks.append(note("No cell of this dataset finished."))
    failed = d[d["status"] != "ok"]
    if len(failed):
        blocks += [Para(f"{len(failed)} failed cell(s):"), failed_table(failed)]
    return blocks


def guarded_blocks(make, d: pd.DataFrame, suite: str) -> list:
    try:
        return make(d, suite)
    except Exception as e:  # noqa: BLE001 - a broken section never loses the rest of the report
        return [note(f"Section {make.__name__} could not be written: {type(e).__name__}: {e}")]
