"""Committed reference results for CI: `bench reference update|check [SUITE...]`.

`update` runs each suite's smoke profile over three seeds (the spread over seeds is what the
comparison's noise bands are made of), two cells at a time on one thread each, and stores its
consolidated rows and run.json under results/reference/<suite>/, replacing the previous reference
(git keeps history). `check` runs exactly the same configuration into the results folder and compares
it with the reference (`bench compare`); exit 1 on a regression. CI calls `check`; refresh the reference with
`update` when a change is meant to move the numbers, and commit it with that change.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from rich.markup import escape

from harness import app
from harness.app import REFERENCE_ROOT
from harness.core.config import ConfigError, check_choice, group_options
from harness.core.display import console
from harness.results.compare import Thresholds, cmd_compare

# What a reference is: small, three seeds for a noise band, one thread per cell for stable timings, two
# cells side by side (CI's two cores; half the wall time of one at a time) as the committed references
# were measured, so times compare like with like. Every row records its `cells_alongside`.
REFERENCE_OVERRIDES = ["profile=smoke", "profile.seeds=[0,1,2]", "hardware.threads=1", "hardware.workers=2"]
TEMPORARY_FOLDER = "<temporary folder of bench reference update>"  # in a reference's run.json, for its results path


def reference_suites() -> list[str]:
    return group_options("suite")


def cmd_reference(action: str, suites: list[str], results: Path, th: Thresholds, markdown: str | None) -> int:
    """`bench reference update|check [SUITE...]` (every suite when none is named)."""
    suites = suites or reference_suites()
    for s in suites:
        try:
            check_choice("suite", s)
        except ConfigError as e:
            console.print(f"[red]error:[/] {escape(str(e))}", soft_wrap=True)
            return app.EXIT_BAD_INPUT
    if action == "update":
        return update(suites)
    return check(suites, results, th, markdown)


def _run(suite: str, results: Path, force: bool) -> tuple[int, Path | None]:
    before = set(results.glob(f"{suite}/*/"))
    code = app.run([f"suite={suite}", *REFERENCE_OVERRIDES, f"paths.results={results}"], force=force)
    new = sorted(set(results.glob(f"{suite}/*/")) - before)
    return code, (new[-1] if new else None)


def update(suites: list[str], root: Path = REFERENCE_ROOT) -> int:
    worst = 0
    for suite in suites:
        with tempfile.TemporaryDirectory(prefix="bench-reference-") as tmp:
            code, folder = _run(suite, Path(tmp), force=True)
            if folder is None or not (folder / "results.parquet").is_file():
                console.print(f"[red]reference {suite}[/]: the run produced no results; reference kept as it was")
                worst = max(worst, 2)
                continue
            if code != 0:
                console.print(f"[yellow]reference {suite}[/]: some cells failed (exit {code}); "
                              "they are kept in the reference as failures")
            target = root / suite
            staging = root / f".{suite}.new"
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(parents=True)
            shutil.copy2(folder / "results.parquet", staging / "results.parquet")
            # The run's provenance names the temporary folder it ran in: a path of this machine that
            # would be committed; it says where the run was made, not anything to reproduce it by.
            run_json = (folder / "run.json").read_text()
            (staging / "run.json").write_text(run_json.replace(tmp, TEMPORARY_FOLDER))
            old = root / f".{suite}.old"
            shutil.rmtree(old, ignore_errors=True)
            if target.exists():
                target.rename(old)
            staging.rename(target)  # the reference is either the old one or the new one, never half
            shutil.rmtree(old, ignore_errors=True)
            console.print(f"reference: [bold]{target}[/] ({suite}, {' '.join(REFERENCE_OVERRIDES)})")
            worst = max(worst, code)
    return worst


def check(suites: list[str], results: Path, th: Thresholds, markdown: str | None,
          root: Path = REFERENCE_ROOT) -> int:
    worst = 0
    parts = []
    for suite in suites:
        reference = root / suite
        if not (reference / "results.parquet").is_file():
            console.print(f"[red]error:[/] no reference for suite {suite} in {reference}; "
                          f"make one with `bench reference update {suite}`", soft_wrap=True)
            return 2
        _, folder = _run(suite, results, force=True)
        if folder is None:
            console.print(f"[red]error:[/] suite {suite} produced no run folder", soft_wrap=True)
            return 2
        md = None if markdown is None else f"{markdown}.{suite}.part"
        if md:
            Path(md).parent.mkdir(parents=True, exist_ok=True)
        worst = max(worst, cmd_compare(str(reference), str(folder), th, md))
        if md:
            parts.append(Path(md))
    if markdown:
        Path(markdown).parent.mkdir(parents=True, exist_ok=True)
        Path(markdown).write_text("\n".join(p.read_text() for p in parts))
        for p in parts:
            p.unlink()
    return worst
