"""T7: classical models are more interpretable than deep ones, read from the measured interpretation
columns (`interpret=on`), aspect by aspect."""
from __future__ import annotations

import numpy as np
import pandas as pd

from harness.claims.registry import rule
from harness.claims.rows import at_top_size, md_table, ok, paired, scope_of
from harness.claims.rules.kinds import shallow_note, without_shallow
from harness.claims.verdict import (CLASSICAL_BETTER, CONTRADICTS, DEEP_BETTER, MIXED, SUPPORTS, TIE, UNKNOWN, Verdict,
                                    aspect_outcome, not_run, outcome, overall, verdict)


# Measured interpretability (interpret=on): column -> (aspect, True when higher is more interpretable).
INTERP_METRICS = {
    "interp_fidelity_tree3": ("surrogate fidelity", True),
    "interp_fidelity_tree5": ("surrogate fidelity", True),
    "interp_fidelity_linear": ("surrogate fidelity", True),
    "interp_deletion_auc": ("faithfulness", False),
    "interp_insertion_auc": ("faithfulness", True),
    "interp_stability_noise": ("stability", True),
    "interp_mass90_share": ("explanation size", False),
}
INTERP_ASPECTS = ("surrogate fidelity", "faithfulness", "stability", "explanation size")
# With one seed, or for between-seed stability (one figure per model), only family gaps above this count.
INTERP_GAP = 0.05


def interp_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """Finished cells whose interpretation ran, with the 90%-mass count as a share of the groups."""
    if "interp_points" not in rows:
        return rows.iloc[:0]
    d = ok(rows)
    if "interp_error" in d:
        d = d[d["interp_error"].isna()]
    d = d[d["interp_points"].notna()]
    return d.assign(interp_mass90_share=pd.to_numeric(d["interp_mass90_features"], errors="coerce")
                    / pd.to_numeric(d["interp_groups"], errors="coerce"))


def family_per_seed(d: pd.DataFrame, metric: str, family: str) -> pd.Series:
    """Per seed, the mean of `metric` over the family's models (each model's seed duplicates averaged first)."""
    per_model = d[d["family"] == family].groupby(["key", "seed"])[metric].mean()
    return per_model.groupby(level="seed").mean().dropna()


@rule
def interpretability_by_family(rows: pd.DataFrame, entry: dict) -> Verdict:
    """T7: per dataset, classical vs deep family means of each measured interpretability figure. Models
    of `kind: shallow` (a single-layer perceptron, fastText) are not deep in the article's sense: they stay
    off the deep side."""
    from harness.evaluation.interpret import between_seed_stability

    rows, shallow = without_shallow(rows)
    measured = interp_rows(rows)
    if measured.empty:
        return not_run(entry, "no finished cell has interpretability columns (`interpret=on`)")
    outcomes, lines, details = [], [], []
    for dataset, d in measured.groupby("dataset", sort=False):
        d = at_top_size(d)
        if set(d["family"]) != {"classical", "deep"}:
            continue
        table, per_aspect = [], {a: [] for a in INTERP_ASPECTS}
        for metric, (aspect, higher) in INTERP_METRICS.items():
            c, dp = family_per_seed(d, metric, "classical"), family_per_seed(d, metric, "deep")
            diff = paired(c, dp) if higher else paired(-c, -dp)  # positive: classical more interpretable
            result = {"a": CLASSICAL_BETTER, "b": DEEP_BETTER}.get(outcome(diff, INTERP_GAP), outcome(diff, INTERP_GAP))
            per_aspect[aspect].append(result)
            interval = "" if diff.n == 0 or diff.single_seed else f" [{diff.lo:+.3f}, {diff.hi:+.3f}]"
            table.append([metric.removeprefix("interp_"), aspect, "higher" if higher else "lower", f"{c.mean():.3f}",
                          f"{dp.mean():.3f}", f"{diff.mean:+.3f}{interval}" if diff.n else "–", result])
        between = {fam: [s for _, g in d[d["family"] == fam].groupby("key") if g["seed"].nunique() >= 2
                         for s in [between_seed_stability(g.sort_values("seed")["interp_importance"])] if np.isfinite(s)]
                   for fam in ("classical", "deep")}
        if all(between.values()):
            c, dp = np.mean(between["classical"]), np.mean(between["deep"])
            result = CLASSICAL_BETTER if c - dp > INTERP_GAP else DEEP_BETTER if dp - c > INTERP_GAP else TIE
            per_aspect["stability"].append(result)
            table.append(["stability between seeds", "stability", "higher", f"{c:.3f}", f"{dp:.3f}",
                          f"{c - dp:+.3f} (one figure per model)", result])
        aspects = {a: aspect_outcome(r) for a, r in per_aspect.items() if r}
        found = set(aspects.values())
        if {CLASSICAL_BETTER, DEEP_BETTER} <= found or MIXED in found:
            result = MIXED
        elif aspects.get("surrogate fidelity") == aspects.get("faithfulness") == CLASSICAL_BETTER:
            result = SUPPORTS
        elif CLASSICAL_BETTER not in found and found & {DEEP_BETTER, TIE}:
            result = CONTRADICTS  # deep models measure as interpretable as classical ones, or more
        elif found <= {UNKNOWN}:
            result = UNKNOWN
        else:
            result = MIXED
        outcomes.append(result)
        said = ", ".join(f"{a} {o}" for a, o in aspects.items())
        lines.append(f"{dataset}: {said}")
        models = d.groupby(["family", "key"]).size().reset_index()
        members = "; ".join(f"{fam}: {', '.join(g['key'])}" for fam, g in models.groupby("family"))
        details.append(f"{dataset} (n_train={int(d['n_train'].iloc[0])}, models {members}):\n\n"
                       + md_table(["figure", "aspect", "more interpretable", "classical mean", "deep mean",
                                   "classical − deep (oriented)", "more interpretable family"], table)
                       + "\n\nAspects: " + said + ".")
    if not outcomes:
        return verdict(entry, "inconclusive", "no dataset has interpretability figures for both families",
                       scope=scope_of(measured))
    flags = measured.drop_duplicates("key")
    by_construction = sorted(flags.loc[flags.get("interpretable_by_construction", pd.Series(False, flags.index))
                                       .fillna(False).astype(bool), "key"])
    details.append(
        "Family figures are means over the family's models, paired over seeds (oriented so that a positive "
        f"difference means classical is more interpretable); with one seed only gaps above {INTERP_GAP} count. "
        "Per dataset: supports when classical is more interpretable on both surrogate fidelity and faithfulness "
        "and deep on no aspect; contradicts when classical is ahead on no aspect and deep is ahead or level on "
        "some; mixed otherwise.\n\n"
        "Readable by construction (a property of the model class, not a measurement, and not part of the "
        f"verdict): {', '.join(by_construction) or 'none of the models run'}." + (" " + shallow_note(shallow) if shallow else ""))
    evidence = "; ".join(lines) + (f"; not counted as deep (kind: shallow): {', '.join(shallow)}" if shallow else "")
    return verdict(entry, overall(outcomes), evidence, "\n\n".join(details), scope_of(measured))
