"""A suite's part of the report: a section per dataset, written by the section its task kind names
(`report_section` in harness/tasks/<kind>.py), then the sections that read across datasets (sequence
length, trees vs networks, and for accuracy datasets the comparisons, learning curves and plots).

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

import importlib
from types import ModuleType

import pandas as pd

from harness.report.blocks import Heading, Para, note
from harness.report.interactive import with_interactive
from harness.report.plots import guarded_plot
from harness.report.rows import largest_size
from harness.report.sections import classification
from harness.report.sections.accuracy_plots import suite_plots
from harness.report.sections.comparison import comparison_blocks
from harness.report.sections.failed import failed_table
from harness.report.sections.guards import guard_blocks
from harness.report.sections.learning_curves import learning_curve_blocks
from harness.report.sections.sequences import sequence_length_blocks
from harness.report.sections.tabular import tabular_blocks
from harness.results.store import safe_name
from harness.tasks import table_kind


def section_of(rows: pd.DataFrame) -> ModuleType:
    """The section module that lays out one dataset's rows: the one its task kind names. Rows with no
    finished cell get the classification section, which lists the failures."""
    return importlib.import_module(f"{__package__}.{table_kind(rows).report_section}")


def suite_blocks(d: pd.DataFrame, suite: str) -> list:
    blocks = [Heading(2, f"Suite {suite}", f"suite-{safe_name(suite)}")]
    sections = {name: section_of(g) for name, g in d.groupby("dataset", sort=False)}
    for dataset, g in d.groupby("dataset", sort=False):
        if hasattr(sections[dataset], "dataset_blocks"):
            blocks += dataset_section(g, suite, dataset, sections[dataset].dataset_blocks)
    for section in dict.fromkeys(s for s in sections.values() if hasattr(s, "suite_blocks")):
        # a dataset's variants, or a suite's environments, share a section
        blocks += section.suite_blocks(d[d["dataset"].map(sections) == section], suite)
    blocks += sequence_length_blocks(d, suite)
    blocks += guarded_blocks(tabular_blocks, d, suite)
    blocks += guarded_blocks(guard_blocks, d, suite)
    # what follows compares accuracies
    d = d[d["dataset"].map(sections) == classification]
    if not len(d):
        return [b for b in blocks if b is not None]
    blocks += comparison_blocks(d, suite)
    blocks += learning_curve_blocks(d, suite)
    blocks.append(Heading(3, f"{suite}: plots"))
    for name, caption, draw in suite_plots():
        blocks.append(with_interactive(guarded_plot(draw, d, f"{safe_name(suite)}-{name}", caption), d, name))
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
