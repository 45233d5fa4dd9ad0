"""`bench claims --explain ID` and the terminal scorecard: one claim in full (its rule, verdict,
tally, comparisons, conditions and what would change the verdict), an unknown id refused with the
valid ones, no rows read as not-run with the command that produces them; every verdict styled."""
from pathlib import Path

import pytest
from rich.console import Console

from harness.claims import VERDICT_STYLES, explain, legend, legend_lines, load_registry, scorecard
from harness.claims.explain import detail_blocks, explain_claim, what_would_change
from harness.claims.verdict import LEGEND, VERDICTS, Conditions, Verdict
from tests.claims.cells import AT_SCALE, duel

REFERENCE = Path(__file__).resolve().parents[2] / "results" / "reference"
REGISTRY = {e["id"]: e for e in load_registry()}


def write_run(folder: Path, df) -> None:
    (folder / "cells").mkdir(parents=True)
    df.to_parquet(folder / "cells" / "all.parquet", index=False)


def said(capsys) -> str:
    """What was printed, its line wrapping undone."""
    return " ".join(capsys.readouterr().err.split())


def test_explain_a_claim_on_reference_rows(capsys):
    entry = REGISTRY["A8-diffusion"]
    assert explain_claim("A8-diffusion", [str(REFERENCE / "generative")]) == 0
    out = said(capsys)
    for text in (entry["claim"], entry["hypothesis"], " ".join(entry["decision"].split()), entry["regime"]["text"],
                 "Verdict", "Comparisons", "Conditions", "What would change the verdict", "seeds 0, 1, 2"):
        assert " ".join(text.split()) in out, text
    verdict = next(v for v in VERDICTS if f"Verdict {v}: {' '.join(LEGEND[v].split())}" in out)
    assert "tally:" in out and "of 2 tasks" in out
    assert "mnist5k" in out and "digits" in out  # one comparison per dataset, with its numbers
    if verdict == "budget-limited":
        assert "the rule alone said:" in out and "raise the losing model's budget" in out


def test_explain_a_decided_claim_on_synthetic_rows(tmp_path, capsys):
    write_run(tmp_path / "vision" / "r1", duel(0.95, 0.9).assign(n_train=AT_SCALE))
    assert explain_claim("D1-accuracy", [str(tmp_path)]) == 0
    out = said(capsys)
    assert "Verdict supported:" in out and "2 support / 0 contradict" in out
    assert "reversing the tally" in out


def test_explain_an_indicative_verdict_asks_for_three_seeds(tmp_path, capsys, monkeypatch):
    # The verdict as a rule gives it with one seed (which rules lean is theirs to test: tests/claims).
    v = Verdict("D1-accuracy", "c", "indicative", "cnn ahead by 10 pts (1 seed)", counts={"indicative": 2},
                detail="| dataset | gap |\n|---|---:|\n| digits | +10.0 pts (1 seed) |",
                conditions=Conditions(suites=["vision"], seeds=[0], paired=[1, 1]))
    monkeypatch.setattr(explain, "evaluate_claims", lambda df, run_infos, registry: [v])
    write_run(tmp_path / "vision" / "r1", duel(0.95, 0.85, seeds=(0,)))
    assert explain_claim("D1-accuracy", [str(tmp_path)]) == 0
    out = said(capsys)
    assert "Verdict indicative:" in out and "0 not decided" not in out and "2 not decided, of 2 tasks" in out
    assert "digits" in out and "+10.0 pts (1 seed)" in out
    assert "run at least 3 seeds: `bench run suite=vision profile.seeds=[0,1,2]`" in out
    assert "`bench run suite=tabular profile.seeds=[0,1,2]`" in out  # D1's other suites too


def test_unknown_id_lists_the_valid_ones(tmp_path, capsys):
    assert explain_claim("Z9-nothing", [str(tmp_path)]) == 2
    out = said(capsys)
    assert "no claim 'Z9-nothing'" in out
    assert all(cid in out for cid in REGISTRY)


@pytest.mark.parametrize("where", ["empty", "missing"])
def test_no_rows_explains_not_run_with_its_command(tmp_path, capsys, where):
    (tmp_path / "empty").mkdir()
    assert explain_claim("A8-diffusion", [str(tmp_path / where)]) == 0
    out = said(capsys)
    produce = REGISTRY["A8-diffusion"]["produce"]
    assert "Verdict not-run:" in out and f"run it: `{produce}`" in out


def test_a_definitional_claim_needs_no_rows(tmp_path, capsys):
    cid = next(i for i, e in REGISTRY.items() if e["rule"] == "definitional")
    assert explain_claim(cid, [str(tmp_path / "nowhere")]) == 0
    assert "Verdict definitional:" in said(capsys)


@pytest.mark.parametrize("value", VERDICTS)
def test_every_verdict_says_what_would_change_it(value):
    entry = REGISTRY["A8-diffusion"]
    v = Verdict("A8-diffusion", entry["claim"], value, "rule raised: KeyError 'x'", counts={"support": 2},
                conditions=Conditions(bound=["ddpm"], regime="regime: x (reached: largest training set 300 < 10,000)"))
    lines = what_would_change(v, entry)
    assert lines and not any(line.startswith("see the legend") for line in lines)
    text = " ".join(lines)
    expected = {"not-run": entry["produce"], "error": "KeyError", "indicative": "profile.seeds=[0,1,2]",
                "budget-limited": "ddpm", "out-of-regime": "largest training set 300"}
    assert expected.get(value, "") in text


def test_detail_markdown_becomes_paragraphs_lists_and_tables():
    blocks = detail_blocks("Rests on **2**.\n\n- a\n- b\n\n| dataset | ratio |\n|---|---:|\n| digits | 10x \\| 2 |")
    assert blocks == [("para", "Rests on **2**."), ("bullets", ["a", "b"]),
                      ("table", (["dataset", "ratio"], [["digits", "10x | 2"]]))]


# ---------------------------------------------------------------- the scorecard

def printed(renderable) -> str:
    console = Console(width=200, record=True, color_system="truecolor")
    console.print(renderable)
    return console.export_text()


def test_every_verdict_has_a_style():
    assert set(VERDICTS) <= set(VERDICT_STYLES)
    assert all(VERDICT_STYLES[v] for v in VERDICTS)


def test_scorecard_shows_tally_rule_alone_and_never_reads_markup():
    v = Verdict("D1-accuracy", "c", "budget-limited", "mlp[depth=4] [/] still learning", counts={"support": 2},
                rule_verdict="supported")
    out = printed(scorecard([v, Verdict("T9", "c", "not-implemented", "no rule")]))
    assert "mlp[depth=4] [/] still learning" in out
    assert "(rule alone: supported)" in out and v.counts_text in out


def test_legend_lists_only_the_verdicts_shown():
    vs = [Verdict("a", "c", "error", "e"), Verdict("b", "c", "supported", "e"), Verdict("c", "c", "error", "e")]
    assert [v for v, _ in legend_lines(vs)] == ["supported", "error"]
    out = printed(legend(vs))
    assert LEGEND["error"] in " ".join(out.split()) and "contradicted" not in out
