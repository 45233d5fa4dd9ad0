"""The claims part of the report: a pill colour for every verdict, a legend naming every verdict, and
per claim the rule-alone verdict, the tally, the conditions, the linked claim, the reproduction and
each curve as a plot (an image in report.md, embedded in report.html)."""
from __future__ import annotations

import re

import pytest

import harness.claims
from harness.claims.verdict import LEGEND, VERDICTS, Conditions, Curve, Verdict
from harness.report.blocks import Plot
from harness.report.html_page import CSS, html_page
from harness.report.sections.claims import claims_blocks


def pill_backgrounds() -> dict[str, str]:
    return {m.group(1): m.group(2).strip() for m in re.finditer(r"\.verdict-([a-z-]+) \{ background: ([^;]+);", CSS)}


def test_every_verdict_has_its_own_pill_colour():
    colours = pill_backgrounds()
    assert set(VERDICTS) <= set(colours), set(VERDICTS) - set(colours)
    assert len({colours[v] for v in VERDICTS}) == len(VERDICTS)


def verdicts() -> list[Verdict]:
    curve = Curve("training size", "accuracy", {"cnn": [(100, 0.5), (1000, 0.8), (10000, 0.9)],
                                                "rbf_svm": [(100, 0.6), (1000, 0.75), (10000, 0.8)]},
                  log_x=True, title="accuracy against training size")
    return [
        Verdict("D3-data-hunger", "Deep learning needs more data", "budget-limited", "cnn still learning",
                detail="| dataset | gap |\n|---|---:|\n| digits | +3.0 pts |", rule_verdict="supported",
                counts={"support": 2, "contradict": 0, "no-difference": 1, "undecided": 0, "indicative": 0},
                conditions=Conditions(suites=["vision"], datasets=["digits"], seeds=[0, 1, 2], paired=[3],
                                      regime="regime: at least 10,000 samples (reached: 300)"),
                linked="D2-scalability", reproduction="measured <train_seconds> only", curves=[curve]),
        Verdict("T5-end-to-end", "End to end", "definitional", "names a structure"),
        Verdict("X1", "a claim with an empty curve", "error", "rule failed: KeyError",
                curves=[Curve("x", "y", {"a": []})]),
    ]


@pytest.fixture
def blocks(monkeypatch):
    monkeypatch.setattr(harness.claims, "evaluate_claims", lambda df, run_infos: verdicts())
    scorecard, details = claims_blocks(None, {})
    return scorecard, details


def test_legend_names_every_verdict(blocks):
    scorecard, _ = blocks
    md = "\n".join(b.md() for b in scorecard)
    page = html_page("t", scorecard)
    for v in VERDICTS:
        assert f"| {v} | {' '.join(LEGEND[v].split())} |" in md
        assert f'<span class="pill verdict-{v}">{v}</span>' in page


def test_detail_shows_rule_alone_tally_conditions_linked_and_reproduction(blocks):
    _, details = blocks
    md = "\n\n".join(b.md() for b in details)
    page = html_page("t", details)
    v = verdicts()[0]
    for text in ("rule alone", "the rule said supported; a condition", v.counts_text,
                 "[same comparison as D2-scalability; counted once](#claim-D2-scalability)",
                 "measured &lt;train_seconds&gt; only", "- suites vision; datasets digits",
                 "- regime: at least 10,000 samples (reached: 300)", "| digits | +3.0 pts |"):
        assert text in md, text
    assert '<span class="pill verdict-supported">supported</span>' in page  # the rule alone, as a pill
    assert "<li>seeds 0, 1, 2" in page
    assert "<train_seconds>" not in page


def test_a_curve_renders_as_a_plot(blocks):
    _, details = blocks
    plots = [b for b in details if isinstance(b, Plot)]
    assert [p.name for p in plots] == ["claim-D3-data-hunger-curve-1"]  # the empty curve draws nothing
    (plot,) = plots
    assert plot.png.startswith(b"\x89PNG") and "accuracy against training size (log x)" in plot.caption
    assert "![D3-data-hunger: accuracy against training size (log x)](plots/claim-D3-data-hunger-curve-1.png)" \
        in plot.md()
    assert "data:image/png;base64," in plot.html()
    assert "could not be drawn" not in "\n".join(b.md() for b in details)
