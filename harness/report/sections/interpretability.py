"""How interpretable each model was (interpret=on): surrogate fidelity, faithfulness and stability of
its attributions, measured alike for every model, beside the readable-by-construction flag."""
from __future__ import annotations

import numpy as np
import pandas as pd

from harness.core.display import fmt_seconds
from harness.evaluation.stats import mean_ci
from harness.report.blocks import Cell, Para, Table, note
from harness.report.rows import aggregate, fmt_ci


# The interp_ figures of the interpretability table: (column, header, higher is more interpretable).
INTERP_FIGURES = (("interp_fidelity_tree3", "fidelity tree-3"), ("interp_fidelity_tree5", "fidelity tree-5"),
                  ("interp_fidelity_linear", "fidelity L1 linear"), ("interp_deletion_auc", "deletion AUC (random order)"),
                  ("interp_insertion_auc", "insertion AUC"), ("interp_ig_deletion_auc", "IG deletion AUC"),
                  ("interp_saliency_deletion_auc", "saliency deletion AUC"),
                  ("interp_stability_noise", "stability under noise"))


def interpreted(d: pd.DataFrame) -> pd.DataFrame:
    """The finished cells whose interpretation ran (interpret=on and no interp_error)."""
    if "interp_points" not in d:
        return d.iloc[:0]
    done = d[(d["status"] == "ok") & d["interp_points"].notna()]
    return done[done["interp_error"].isna()] if "interp_error" in done else done


def readable_by_construction(g: pd.DataFrame) -> bool:
    """The model config's `interpretable` flag, as the rows of one configuration carry it."""
    flag = g["interpretable_by_construction"].iloc[0] if "interpretable_by_construction" in g else None
    return bool(pd.notna(flag) and flag)


def interpretability_blocks(ok: pd.DataFrame) -> list:
    """Per configuration at one training size: the interp_ figures (mean ± half its 95% interval over
    seeds), the between-seed stability of its global importance maps, and the readable-by-construction
    flag, kept in its own column apart from the measurements."""
    from harness.evaluation.interpret import between_seed_stability

    done = interpreted(ok)
    failed = ok[ok["interp_error"].notna()] if "interp_error" in ok else ok.iloc[:0]
    if done.empty and failed.empty:
        return []
    blocks = []
    if len(done):
        three = lambda x: f"{x:.3f}"  # noqa: E731
        rows, classes = [], []
        for label in aggregate(done)["label"]:
            g = done[done["label"] == label].sort_values("seed")
            num = lambda col: pd.to_numeric(g[col], errors="coerce")  # noqa: E731
            figures = [fmt_ci(mean_ci(num(col)), three) for col, _ in INTERP_FIGURES]
            figures[3] += f" ({num('interp_deletion_auc_random').mean():.3f})"
            stability = between_seed_stability(g["interp_importance"]) if g["seed"].nunique() >= 2 else np.nan
            mass = num("interp_mass90_features").mean()
            family = g["family"].iloc[0]
            rows.append([label, Cell(family, cls=f"fam fam-{family}"), "yes" if readable_by_construction(g) else "–",
                         fmt_ci(mean_ci(num("accuracy")), three), *figures,
                         "–" if np.isnan(stability) else f"{stability:.3f}",
                         "–" if np.isnan(mass) else f"{mass:.0f} of {int(num('interp_groups').max())}",
                         str(g["interp_glassbox_size"].iloc[0] or "–"),
                         fmt_seconds(num("interpret_seconds").mean())])
            classes.append(family)
        header = ["model", "family", "readable by construction", "accuracy", *(h for _, h in INTERP_FIGURES),
                  "stability between seeds", "groups for 90% of attribution", "glass-box size", "cost"]
        points = int(pd.to_numeric(done["interp_points"], errors="coerce").max())
        blocks += [Para(f"Interpretability (interpret=on), measured alike for every model on {points} test points. "
                        "Fidelity: agreement with the model of a depth-3/depth-5 tree and an L1 logistic regression "
                        "that imitate its predictions (on points they were not fitted on). Deletion/insertion AUC: "
                        "the predicted class's probability, relative to the full input, as occlusion-ranked feature "
                        "groups (image patches) are removed/revealed; lower deletion and higher insertion = more "
                        "faithful; in brackets the deletion AUC of a random order. IG and saliency (torch models): "
                        "the same deletion curve for gradient attributions. Stability: Spearman correlation of "
                        "occlusion maps under input noise, and of global importance maps between seeds. "
                        "'Readable by construction' is a property of the model class, not a measurement."),
                   Table(header, rows, right=set(range(3, len(header) - 1)) | {len(header) - 1}, row_cls=classes)]
    if len(failed):
        blocks.append(note("Interpretation failed for " + "; ".join(
            f"{r['label']} seed {r['seed']}: {r['interp_error']}" for _, r in failed.iterrows())
            + " (the cells' own results stand)."))
    return blocks
