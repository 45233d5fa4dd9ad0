"""The tree shows the architecture: the engine (harness/core/) knows no task kind, model, baseline,
report or claim; no module grows past what one reader takes in."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 500
# What the engine may not import: task kinds (the registry harness.tasks and its base are allowed),
# torch models and their training, classical baselines, the report, the claims, the command line.
FORBIDDEN = re.compile(r"^(harness\.tasks\.(?!base$)\w+|harness\.(models|deep|report|claims|cli|app)\b|baselines\b)")
KIND_NAMES = re.compile(r"""["'](classification|regression|language_model|anomaly|reconstruction|semi_supervised|"""
                        r"""generation|control|tabular_control)["']""")


def modules(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def imported(path: Path) -> list[str]:
    """Every module path a file imports, at its top or inside functions."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append(node.module)
            package = ROOT / node.module.replace(".", "/")
            found += [f"{node.module}.{a.name}" for a in node.names  # `from harness.tasks import generation`
                      if (package / f"{a.name}.py").exists() or (package / a.name).is_dir()]
    return found


@pytest.mark.parametrize("path", modules("harness/core"), ids=lambda p: p.name)
def test_engine_imports_no_kind_model_baseline_report_or_claim(path):
    bad = [m for m in imported(path) if FORBIDDEN.match(m)]
    assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


@pytest.mark.parametrize("path", modules("harness/core"), ids=lambda p: p.name)
def test_engine_names_no_task_kind(path):
    """The engine dispatches by kind through harness/tasks/; a kind's name in its code would be a kind
    it knows about."""
    assert not KIND_NAMES.findall(path.read_text()), path.relative_to(ROOT)


@pytest.mark.parametrize("path", [*modules("harness"), *modules("baselines")], ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_over_500_lines(path):
    assert len(path.read_text().splitlines()) <= MAX_LINES


@pytest.mark.parametrize("path", modules("baselines"), ids=lambda p: p.name)
def test_baselines_depend_on_contracts_not_deep_implementations(path):
    bad = [m for m in imported(path) if re.match(r"^harness\.(deep|models)\b", m)]
    assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_checks_find_what_they_look_for(tmp_path):
    """The checks above can fail: a file that breaks each rule is caught."""
    bad = tmp_path / "bad.py"
    bad.write_text("from harness.tasks.generation import Generation\nfrom harness.tasks import anomaly, kind\n"
                   "import baselines.linear\nK = 'anomaly'\n")
    assert [m for m in imported(bad) if FORBIDDEN.match(m)] == ["harness.tasks.generation", "harness.tasks.anomaly",
                                                               "baselines.linear"]
    assert KIND_NAMES.findall(bad.read_text()) == ["anomaly"]
    assert not FORBIDDEN.match("harness.tasks") and not FORBIDDEN.match("harness.tasks.base")
