"""`bench claims --explain ID`: how one claim's verdict came about, from the article's sentence to
what would change it.

Only the one claim is judged (its registry entry alone), on the same rows `bench claims` reads; with
no rows it is not-run and the explanation names the command that produces them.
"""
from __future__ import annotations

import re

from harness.claims import evaluate_claims, load_registry, read_results, verdict_style
from harness.claims.verdict import LEGEND, Verdict

EXIT_OK, EXIT_BAD_INPUT = 0, 2
SEEDS_OVERRIDE = "profile.seeds=[0,1,2]"


def article_sentence(entry: dict) -> str:
    """The article's own words where the registry quotes them (`article:` or `quote:`), else the claim."""
    return str(entry.get("article") or entry.get("quote") or entry["claim"]).strip()


def regime_text(entry: dict) -> str:
    regime = entry.get("regime") or {}
    return str(regime.get("text", "")).strip() if isinstance(regime, dict) else str(regime).strip()


def suites_of(entry: dict) -> list[str]:
    return list((entry.get("evidence") or {}).get("suites") or [])


def seeds_commands(entry: dict) -> str:
    return ", ".join(f"`bench run suite={s} {SEEDS_OVERRIDE}`" for s in suites_of(entry)) or f"`{entry['produce']}`"


def what_would_change(v: Verdict, entry: dict) -> list[str]:
    """What evidence would move this verdict, in words, from its value and conditions."""
    produce = f"`{entry['produce']}`"
    conditions = getattr(v, "conditions", None)
    value = v.verdict
    if value in ("supported", "contradicted"):
        other = "contradicted" if value == "supported" else "supported"
        return [f"a comparison with more seeds or more data reversing the tally ({v.counts_text or 'see above'}): "
                f"enough tasks going the other way would make it mixed or {other}",
                f"a losing side shown to be still learning at its budget would make it budget-limited; "
                f"the claim's full setting: {produce}"]
    if value == "mixed":
        return ["the tasks agreeing: more seeds or data on the tasks that go against the claim (or show no difference) "
                "until they side with the rest, or the reverse",
                f"the claim's full setting: {produce}"]
    if value == "no-difference":
        return ["a difference beyond the practical-equivalence margin (1 point of accuracy, 1.25x in time or size) "
                f"at larger scale or with more seeds: {produce}"]
    if value == "inconclusive":
        return [f"narrower intervals: more paired seeds ({seeds_commands(entry)}, or `profile=full` for five) "
                "or more data per task, until a comparison is decided",
                f"the claim's full setting: {produce}"]
    if value == "indicative":
        return [f"run at least 3 seeds: {seeds_commands(entry)}",
                f"or the claim's full setting: {produce}"]
    if value == "budget-limited":
        bound = ", ".join(getattr(conditions, "bound", None) or []) if conditions else ""
        return ["raise the losing model's budget (max_epochs / max_steps, or its time cap) until its learning curve "
                "flattens" + (f" (still learning: {bound})" if bound else ""),
                f"then run again: {produce}"]
    if value == "implementations-disagree":
        guards = getattr(conditions, "guards", None) or [] if conditions else []
        return ["find why the two implementations of the model differ (settings, a bug in one of them) until their "
                "paired scores agree within the pair's margin (suites/guards.yaml)"
                + (f"; now: {'; '.join(g for g in guards if g.endswith('disagree'))}" if guards else ""),
                f"then run both again: {produce}"]
    if value == "out-of-regime":
        reached = getattr(conditions, "regime", "") if conditions else ""
        lines = [f"reach the claim's regime: {regime_text(entry) or 'see the registry'}"]
        if reached:
            lines.append(f"these rows: {reached}")
        return [*lines, f"the run that does: {produce}"]
    if value == "definitional":
        return ["nothing measurable: the sentence defines or describes; a rule would need a measurable restatement "
                "of it first"]
    if value == "not-run":
        return [f"run it: {produce}"]
    if value == "not-implemented":
        return [f"write the rule `{entry['rule']}`: a function decorated with `@rule` in a module of "
                "harness/claims/rules/ (the registry's decision says what it decides)"]
    if value == "error":
        return [f"fix the rule's error: {v.evidence}"]
    return [f"see the legend for `{value}`"]


def detail_blocks(markdown: str) -> list[tuple[str, object]]:
    """A verdict's detail Markdown as ("para", text), ("bullets", [text]) and ("table", (header, rows))."""
    out = []
    for chunk in re.split(r"\n\s*\n", markdown.strip()):
        lines = [line for line in chunk.splitlines() if line.strip()]
        if not lines:
            continue
        if len(lines) >= 2 and all(line.lstrip().startswith("|") for line in lines):
            cells = [[c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
                     for line in lines]
            out.append(("table", (cells[0], cells[2:])))
        elif all(line.lstrip().startswith(("- ", "* ")) for line in lines):
            out.append(("bullets", [line.lstrip()[2:] for line in lines]))
        else:
            out.append(("para", " ".join(line.strip() for line in lines)))
    return out


def print_detail(console, markdown: str) -> None:
    """The detail as text: a table as a table when it fits the terminal, else one comparison a line
    ("header value; ..."), so that no number is cut off."""
    from rich.table import Table
    from rich.text import Text

    for i, (kind, body) in enumerate(detail_blocks(markdown)):
        if i:
            console.print()
        if kind == "para":
            console.print(Text(body.replace("**", "")))
        elif kind == "bullets":
            for item in body:
                console.print(Text(f"- {item.replace('**', '')}"))
        else:
            header, rows = body
            widths = [max(len(str(c)) for c in col) for col in zip(header, *[r + [""] * (len(header) - len(r))
                                                                             for r in rows])]
            if sum(widths) + 3 * len(widths) + 1 <= console.width:
                table = Table(*header, show_edge=False, pad_edge=False)
                for row in rows:
                    table.add_row(*(Text(c) for c in row))
                console.print(table)
            else:
                for row in rows:
                    console.print(Text("- " + "; ".join(f"{h}: {c}" for h, c in zip(header, row) if c not in ("", "-"))))


def explain_claim(claim_id: str, paths: list[str]) -> int:
    """Print how the verdict of `claim_id` on the results under `paths` came about; 2 for an unknown id."""
    from rich.markup import escape
    from rich.text import Text

    from harness.core.display import console

    registry = load_registry()
    entries = {str(e["id"]): e for e in registry}
    entry = entries.get(claim_id)
    if entry is None:
        console.print(f"[red]error:[/] no claim {escape(repr(claim_id))}; valid ids: {escape(', '.join(entries))}", soft_wrap=True)
        return EXIT_BAD_INPUT
    df, run_infos, problem = read_results(paths)
    (v,) = evaluate_claims(df, run_infos, registry=[entry])

    def section(title: str) -> None:
        console.print(Text(f"\n{title}", style="bold"))

    console.print(Text(f"{entry['id']}: {entry['claim']}", style="bold"))
    if problem:
        console.print(Text(f"no rows read: {problem}", style="dim"))
    section("The article says")
    console.print(Text(article_sentence(entry)))
    section("Hypothesis tested")
    console.print(Text(str(entry.get("hypothesis", "")).strip()))
    section("The rule, in words")
    console.print(Text(" ".join(str(entry.get("decision", "")).split()) + f"  (rule `{entry['rule']}`)"))
    if regime_text(entry):
        section("Regime")
        console.print(Text(regime_text(entry)))

    section("Verdict")
    line = Text(v.verdict, style=verdict_style(v.verdict))
    line.append(f": {LEGEND.get(v.verdict, '')}")
    console.print(line)
    if getattr(v, "rule_verdict", ""):
        console.print(Text(f"the rule alone said: {v.rule_verdict} ({LEGEND.get(v.rule_verdict, '')})"))
    console.print(Text(str(v.evidence)))
    if v.counts_text:
        console.print(Text(f"tally: {v.counts_text}"))
    if v.linked:
        console.print(Text(f"same comparison as {v.linked}; counted once"))
    if v.reproduction:
        console.print(Text(f"reproduction: {v.reproduction}"))

    if str(v.detail or "").strip():
        section("Comparisons")
        print_detail(console, str(v.detail))
    for curve in v.curves or []:
        section(f"Curve: {curve.title or f'{curve.y} against {curve.x}'}")
        for name, points in curve.series.items():
            console.print(Text(f"{name}: " + ", ".join(f"{x:g} → {y:.4g}" if isinstance(x, (int, float))
                                                        and isinstance(y, (int, float)) else f"{x} → {y}"
                                                        for x, y in points)))
    section("Conditions")
    lines = v.conditions.lines() if v.conditions is not None else []
    for text in lines or [v.scope or "none recorded"]:
        console.print(Text(f"- {text}"))

    section("What would change the verdict")
    for text in what_would_change(v, entry):
        console.print(Text(f"- {text}"))
    return EXIT_OK
