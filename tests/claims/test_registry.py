"""The two registries agree, checked from the registry itself and tested claim by claim: every claim
names a registered rule (or a planned one), every rule is registered and named by some claim, and
every rule runs on empty rows and on the committed reference rows."""
import importlib
import inspect
import pkgutil
from pathlib import Path

import pandas as pd
import pytest

import harness.claims.rules
from harness.claims import RULES, VERDICTS, evaluate_claims, load_registry
from harness.claims.rows import prepare
from harness.claims.verdict import Verdict
from harness.results.store import load_results
from tests.claims.cells import cell

ENTRIES = load_registry()
JUDGED = [e for e in ENTRIES if e["rule"] != "definitional"]
REFERENCE = Path(__file__).resolve().parents[2] / "results" / "reference"
# Rules that raise on some rows instead of returning a verdict; `judge` then reports "rule ... failed".
# Fixing them changes verdicts, which the split of the rules into modules did not do.
RAISES = {"autoencoder_vs_classical": "reads code_size unguarded: fails on unsupervised rows of DBNs only",
          "xor_separability": "an empty boolean mask selects columns (judge never passes empty rows)"}


def by_id(entries):
    return [pytest.param(e, id=e["id"]) for e in entries]


def rule_modules():
    return [importlib.import_module(f"harness.claims.rules.{m.name}")
            for m in pkgutil.iter_modules(harness.claims.rules.__path__)]


def test_ids_are_unique_and_every_field_is_present():
    assert len({e["id"] for e in ENTRIES}) == len(ENTRIES)
    for e in ENTRIES:
        assert {"id", "claim", "hypothesis", "evidence", "rule", "decision", "produce"} <= set(e), e["id"]
        if e["rule"] == "definitional":
            assert e["why"].strip()
        else:
            assert e["evidence"]["suites"] and e["produce"].startswith("bench run "), e["id"]


@pytest.mark.parametrize("entry", by_id(JUDGED))
def test_every_claim_names_a_registered_rule_or_a_planned_one(entry):
    assert (entry["rule"] in RULES) != bool(entry.get("planned")), (
        f"{entry['id']}: rule {entry['rule']!r} must be registered (@rule in harness/claims/rules/) "
        "or the entry marked `planned: true`, not both")


def test_every_registered_rule_is_named_by_a_claim():
    assert set(RULES) <= {e["rule"] for e in ENTRIES}


def test_every_function_shaped_like_a_rule_is_registered():
    """A function `(rows, entry) -> Verdict` in a rule module without `@rule` is a rule nobody runs."""
    for module in rule_modules():
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ == module.__name__ and list(inspect.signature(fn).parameters)[:2] == ["rows", "entry"]:
                assert RULES.get(name) is fn, f"{module.__name__}.{name} is not registered"


def test_rules_have_docstrings_naming_their_claim():
    ids = {e["rule"]: e["id"].split("-")[0] for e in JUDGED}
    for name, fn in RULES.items():
        assert (fn.__doc__ or "").startswith(f"{ids[name]}:"), name


@pytest.mark.parametrize("entry", by_id(ENTRIES))
def test_no_rows_is_not_run_and_names_the_command(entry):
    empty = pd.DataFrame([cell()]).iloc[:0]
    (v,) = evaluate_claims(empty, registry=[entry])
    if entry["rule"] == "definitional":
        assert v.verdict == "definitional" and v.scope == "no experiment"
    else:
        assert v.verdict == "not-run" and f"run `{entry['produce']}`" in v.evidence and v.scope == "no rows"


def registered(entries):
    known = {name: pytest.mark.xfail(raises=KeyError, strict=True, reason=why) for name, why in RAISES.items()}
    return [pytest.param(e, id=e["rule"], marks=known.get(e["rule"], ())) for e in entries if e["rule"] in RULES]


@pytest.mark.parametrize("entry", registered(JUDGED))
def test_every_rule_runs_on_empty_rows(entry):
    v = RULES[entry["rule"]](prepare(pd.DataFrame([cell()]).iloc[:0]), entry)
    assert isinstance(v, Verdict) and v.verdict in VERDICTS and v.evidence


@pytest.fixture(scope="module")
def reference_rows():
    return prepare(load_results([str(p) for p in sorted(REFERENCE.iterdir()) if p.is_dir()]))


@pytest.mark.parametrize("entry", [pytest.param(e, id=e["rule"]) for e in JUDGED if e["rule"] in RULES])
def test_every_rule_runs_on_the_reference_rows_of_its_suites(entry, reference_rows):
    mine = reference_rows[reference_rows["suite"].isin(entry["evidence"]["suites"])]
    assert len(mine), f"results/reference has no rows for {entry['id']}"
    v = RULES[entry["rule"]](mine, entry)
    assert isinstance(v, Verdict) and v.verdict in VERDICTS and v.evidence and v.scope
