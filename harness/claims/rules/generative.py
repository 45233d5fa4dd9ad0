"""Sample quality of generative models by Fréchet distance, precision and recall: A7 (a GAN against a
Gaussian mixture and a kernel density) and A8 (diffusion against the GAN, and its spread over seeds
against the VAE's)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from harness.claims.registry import rule
from harness.claims.rows import diff_text, md_table, ok, paired, scope_of, seed_scores, times
from harness.claims.verdict import (CONTRADICTS, MIXED, SUPPORTS, TIE, UNKNOWN, Curve, Verdict, as_outcome,
                                    conjunction, outcome, overall, verdict)
from harness.evaluation.stats import PairedDifference

FD_LOG_GAP = np.log(1.25)  # A7, A8 with one seed: a Fréchet distance counts as lower only beyond 1.25x
PR_GAP = 0.05              # A7 with one seed: precision and recall differences count beyond 5 points
MIN_SPREAD_SEEDS = 3       # A8: a spread over seeds needs at least three of them per model


def generation_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """Finished cells with a Fréchet distance (generated images), each dataset at its largest training size."""
    d = ok(rows)
    d = d[pd.to_numeric(d["frechet_distance"], errors="coerce").notna()] if "frechet_distance" in d else d.iloc[:0]
    return d[d["n_train"] == d.groupby("dataset")["n_train"].transform("max")]


def lowest_fd_key(d: pd.DataFrame, arch: str) -> str | None:
    """The configuration of `arch` with the lowest mean Fréchet distance over seeds."""
    scores = d[d["arch"] == arch].groupby("key")["frechet_distance"].mean().dropna()
    return scores.idxmin() if len(scores) else None


def fd_ratio(diff: PairedDifference) -> str:
    """A log ratio of Fréchet distances (a over b) as a factor, with its interval."""
    return times(diff).replace("x", "×")


def fd_curves(d: pd.DataFrame, archs: tuple) -> list[Curve]:
    """Fréchet distance against training steps, per dataset and model, where some model ran at two step
    budgets or more; else the mean Fréchet distance per model (x: its position, named in the title)."""
    d = d[d["arch"].isin(archs)]
    if d.empty:
        return []
    steps = pd.to_numeric(d["steps"], errors="coerce") if "steps" in d else pd.Series(np.nan, d.index)
    if (steps.groupby([d["dataset"], d["key"]]).nunique() >= 2).any():
        series = {}
        for (dataset, key), g in d.assign(_steps=steps).dropna(subset=["_steps"]).groupby(["dataset", "key"]):
            means = g.groupby("_steps")["frechet_distance"].mean()
            series[f"{dataset} · {key}"] = [(float(x), float(y)) for x, y in means.items()]
        return [Curve("training steps", "frechet_distance", series, log_x=True, title="Fréchet distance over training")]
    keys = sorted(d["key"].unique())
    series = {dataset: [(float(keys.index(k)), float(v)) for k, v in g.groupby("key")["frechet_distance"].mean().items()]
              for dataset, g in d.groupby("dataset")}
    return [Curve("model", "frechet_distance", series,
                  title="mean Fréchet distance per model (no step axis in the rows): "
                        + ", ".join(f"{i}={k}" for i, k in enumerate(keys)))]


# ---------------------------------------------------------------- GAN

@rule
def gan_quality(rows: pd.DataFrame, entry: dict) -> Verdict:
    """A7: GAN samples have a lower Fréchet distance and better precision/recall than GMM and KDE samples."""
    d = generation_rows(rows)
    outcomes, lines, table = [], [], []
    for dataset, g in d.groupby("dataset", sort=False):
        gan = lowest_fd_key(g, "gan")
        rivals = [k for k in (lowest_fd_key(g, "gmm"), lowest_fd_key(g, "kde")) if k]
        if gan is None or not rivals:
            continue
        pairs = []
        for rival in rivals:
            fd = paired(seed_scores(g, rival, "frechet_distance"), seed_scores(g, gan, "frechet_distance"), log=True, lower_is_better=True)
            fd_side = outcome(fd, FD_LOG_GAP)  # 'a': the rival's distance is the larger one
            pr = [paired(seed_scores(g, gan, m), seed_scores(g, rival, m)) for m in ("precision", "recall")]
            pr_sides = [outcome(x, PR_GAP) for x in pr]
            fd_says = as_outcome(fd_side, "a")
            pr_says = (CONTRADICTS if "b" in pr_sides else SUPPORTS if "a" in pr_sides else
                       TIE if all(x == "tie" for x in pr_sides) else UNKNOWN)
            pair = conjunction([fd_says, pr_says])
            pairs.append(pair)
            precision, recall = (diff_text(x, log=False) for x in pr)
            table.append([dataset, f"{gan} vs {rival}", fd_ratio(fd), precision, recall,
                          {SUPPORTS: "GAN better", CONTRADICTS: "GAN not better", MIXED: "mixed", TIE: "tie"}.get(pair,
                                                                                                               "unknown")])
            lines.append(f"{dataset}: {rival} FD / GAN FD {fd_ratio(fd)}, precision {precision}, recall {recall}")
        outcomes.append(conjunction(pairs))  # better than every classical rival that ran
    if not outcomes:
        return verdict(entry, "inconclusive", "no dataset has finished generation cells of the GAN and of GMM or KDE",
                       scope=scope_of(rows))
    detail = (md_table(["dataset", "pair", "rival FD / GAN FD", "GAN − rival precision", "GAN − rival recall",
                        "reading"], table)
              + f"\n\nPer dataset and classical rival (GMM, KDE), paired over seeds: the GAN is better when its "
              f"Fréchet distance is lower beyond the noise (with one seed, by more than {np.exp(FD_LOG_GAP):.2g}x) "
              f"and precision and recall together are better (one of them ahead beyond the noise, with one seed by "
              f"{100 * PR_GAP:.0f} points, neither behind). Supported when the GAN is better than both rivals on "
              "every dataset. The features are a LeNet-5's trained on the real training split "
              "(harness/evaluation/generative_metrics.py), and the deep models' budgets are the suite's fixed step counts: "
              "read the verdict for these budgets, not for converged models.")
    return verdict(entry, overall(outcomes), "; ".join(lines), detail, scope_of(d),
                   curves=fd_curves(d, ("gan", "gmm", "kde")))


# ---------------------------------------------------------------- diffusion

def spread_part(g: pd.DataFrame, diffusion: str, vae: str) -> tuple[str, str, list]:
    """Whether diffusion's spread of log Fréchet distance over seeds is at most the VAE's: an F-test on
    the ratio of the two variances (95% interval). Returns (outcome, text, table cells)."""
    from scipy import stats

    a, b = (np.log(seed_scores(g, k, "frechet_distance").clip(lower=1e-9)) for k in (diffusion, vae))
    cells = [f"{seed_scores(g, k, 'frechet_distance').std(ddof=1):.3g}" if len(x) > 1 else "–" for k, x in
             ((diffusion, a), (vae, b))]
    if min(len(a), len(b)) < MIN_SPREAD_SEEDS:
        return UNKNOWN, f"spread not measured ({len(a)} and {len(b)} seeds; needs {MIN_SPREAD_SEEDS})", [*cells, "–"]
    va, vb = a.var(ddof=1), b.var(ddof=1)
    if vb == 0:
        side = TIE if va == 0 else CONTRADICTS
        return side, "the VAE's distance does not vary over seeds", [*cells, "–"]
    ratio, dfa, dfb = va / vb, len(a) - 1, len(b) - 1
    lo, hi = ratio / stats.f.ppf(0.975, dfa, dfb), ratio / stats.f.ppf(0.025, dfa, dfb)
    side = CONTRADICTS if lo > 1 else SUPPORTS  # not larger beyond the noise: at most the VAE's
    text = f"variance ratio of log FD diffusion/VAE {ratio:.2g} [{lo:.2g}, {hi:.2g}]"
    return side, text, [*cells, f"{ratio:.2g} [{lo:.2g}, {hi:.2g}]"]


@rule
def diffusion_quality_stability(rows: pd.DataFrame, entry: dict) -> Verdict:
    """A8: diffusion sample quality is at least the GAN's, and its spread over seeds at most the VAE's."""
    d = generation_rows(rows)
    outcomes, lines, table = [], [], []
    for dataset, g in d.groupby("dataset", sort=False):
        diffusion, gan, vae = (lowest_fd_key(g, a) for a in ("ddpm", "gan", "vae"))
        if diffusion is None or (gan is None and vae is None):
            continue
        parts, texts, quality_cell, spread_cells = [], [], "–", ["–", "–", "–"]
        if gan is not None:
            fd = paired(seed_scores(g, gan, "frechet_distance"), seed_scores(g, diffusion, "frechet_distance"), log=True, lower_is_better=True)
            behind = outcome(fd, FD_LOG_GAP) == "b"  # the GAN's distance lower beyond the noise
            parts.append(CONTRADICTS if behind else SUPPORTS if fd.n else UNKNOWN)
            quality_cell = fd_ratio(fd)
            texts.append(f"GAN FD / diffusion FD {quality_cell}")
        else:
            parts.append(UNKNOWN)
        if vae is not None:
            side, text, spread_cells = spread_part(g, diffusion, vae)
            parts.append(side)
            texts.append(text)
        else:
            parts.append(UNKNOWN)
        result = conjunction(parts)
        outcomes.append(result)
        lines.append(f"{dataset}: " + "; ".join(texts))
        table.append([dataset, diffusion, acc_fd(g, diffusion), gan or "–", acc_fd(g, gan), quality_cell,
                      vae or "–", *spread_cells, {SUPPORTS: "supports", CONTRADICTS: "contradicts", MIXED: "mixed",
                                                  TIE: "tie"}.get(result, "unknown")])
    if not outcomes:
        return verdict(entry, "inconclusive", "no dataset has finished generation cells of the diffusion model beside "
                       "the GAN or the VAE", scope=scope_of(rows))
    detail = (md_table(["dataset", "diffusion", "its FD", "GAN", "its FD", "GAN FD / diffusion FD", "VAE",
                        "diffusion FD sd", "VAE FD sd", "variance ratio of log FD [95%]", "reading"], table)
              + "\n\nQuality, per dataset, paired over seeds: holds unless the GAN's Fréchet distance is lower beyond "
              f"the noise (with one seed, by more than {np.exp(FD_LOG_GAP):.2g}x). Stability: the spread over seeds "
              "is the variance of the log Fréchet distance (scale-free: about the squared coefficient of variation); "
              "it holds unless the diffusion model's variance exceeds the VAE's beyond an F-test's 95% interval, and "
              f"needs {MIN_SPREAD_SEEDS} seeds or more of each (profile=full runs five). Both parts must hold; a "
              "part that could not be measured leaves the dataset inconclusive. Budgets are the suite's fixed step "
              "counts, the diffusion model sampled with fewer steps than it was trained on (DDIM, "
              "suites/model/ddpm.yaml).")
    return verdict(entry, overall(outcomes), "; ".join(lines), detail, scope_of(d),
                   curves=fd_curves(d, ("ddpm", "gan", "vae")))


def acc_fd(g: pd.DataFrame, key: str | None) -> str:
    """Mean Fréchet distance of a configuration over its seeds, as text."""
    if key is None:
        return "–"
    v = seed_scores(g, key, "frechet_distance")
    return f"{v.mean():.3g}" if len(v) else "–"
