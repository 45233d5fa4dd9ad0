"""Learning without labels: A4 (an autoencoder against PCA, kernel PCA and classical anomaly
detectors) and A10 (RBM pretraining helps on few labels; a DBN's samples are usable)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from harness.claims.registry import rule
from harness.claims.rules.descriptive import described
from harness.claims.rows import acc, diff_text, md_table, ok, paired, pts, scope_of, scored, times
from harness.claims.rules.generative import FD_LOG_GAP
from harness.claims.verdict import (CONTRADICTS, LARGE_GAP, SUPPORTS, TIE, UNKNOWN, Verdict, comparison, overall,
                                    verdict, wins_or_ties)


# ---------------------------------------------------------------- autoencoders

MSE_LOG_GAP = np.log(1.1)  # A4 with one seed: a reconstruction error counts as lower only beyond 1.1x
RECONSTRUCTION_RIVALS = ("pca", "kernel_pca")
DETECTOR_RIVALS = ("isolation_forest", "one_class_svm", "lof")


def reconstruction_comparisons(rows: pd.DataFrame) -> tuple[list[str], list[list]]:
    """The autoencoder against PCA and kernel PCA at each code size of each reconstruction dataset:
    reconstruction MSE (as a log ratio, lower is better) and k-NN accuracy on the codes, paired over seeds."""
    outcomes, table = [], []
    d = scored(rows, "reconstruction_mse")
    d = d.assign(code_size=pd.to_numeric(d["code_size"], errors="coerce")) if "code_size" in d else d.iloc[:0]
    for (dataset, code), g in d.groupby(["dataset", "code_size"], sort=False):
        ae = g[g["arch"] == "autoencoder"]
        if ae.empty:
            continue
        for rival in RECONSTRUCTION_RIVALS:
            other = g[g["arch"] == rival]
            if other.empty:
                continue
            for metric, log, gap, better in (("reconstruction_mse", True, MSE_LOG_GAP, False),
                                             ("knn_accuracy", False, LARGE_GAP, True)):
                if metric not in g:
                    continue
                a = pd.to_numeric(ae[metric], errors="coerce").groupby(ae["seed"]).mean().dropna()
                b = pd.to_numeric(other[metric], errors="coerce").groupby(other["seed"]).mean().dropna()
                diff = paired(a, b, log=log, lower_is_better=not better)
                if diff.n == 0:
                    continue
                result = comparison(diff, gap, better)
                outcomes.append(result)
                table.append(["reconstruction" if log else "k-NN on codes", dataset, f"d={code:.0f}",
                              f"{a.mean():.4g}", f"{rival} {b.mean():.4g}", diff_text(diff, log), result])
    return outcomes, table


def anomaly_comparisons(rows: pd.DataFrame) -> tuple[list[str], list[list]]:
    """The autoencoder detector against isolation forest, one-class SVM and LOF per anomaly dataset
    (its variants, the held-out classes, pooled): ROC-AUC paired over (held-out class, seed)."""
    outcomes, table = [], []
    d = scored(rows, "roc_auc")
    d = d.assign(base=d["dataset"].astype(str).str.split("[", n=1).str[0])
    for base, g in d.groupby("base", sort=False):
        ae = g[g["arch"].str.contains("autoencoder")]
        if ae.empty:
            continue
        per_unit = lambda m: m.groupby(["dataset", "seed"])["roc_auc"].mean()  # noqa: E731
        a = per_unit(ae)
        for rival in DETECTOR_RIVALS:
            other = g[g["arch"] == rival]
            if other.empty:
                continue
            b = per_unit(other)
            diff = paired(a, b)
            if diff.n == 0:
                continue
            result = comparison(diff, LARGE_GAP)
            outcomes.append(result)
            units = f"{g['dataset'].nunique()} task(s) x {g['seed'].nunique()} seed(s)"
            table.append(["anomaly ROC-AUC", base, units, f"{a.mean():.3f}", f"{rival} {b.mean():.3f}",
                          diff_text(diff, False), result])
    return outcomes, table


@rule
def autoencoder_vs_classical(rows: pd.DataFrame, entry: dict) -> Verdict:
    """A4: at equal code size the autoencoder reconstructs better than PCA and kernel PCA and its codes
    feed a better k-NN, and its reconstruction error detects anomalies at least as well as isolation
    forest, one-class SVM and LOF."""
    parts = {"reconstruction": reconstruction_comparisons(rows), "anomaly": anomaly_comparisons(rows)}
    outcomes = [o for found, _ in parts.values() for o in found]
    if not outcomes:
        return verdict(entry, "inconclusive", "no dataset ran the autoencoder beside PCA / kernel PCA at one code size, "
                       "or beside isolation forest / one-class SVM / LOF", scope=scope_of(rows))
    table = [r for _, found in parts.values() for r in found]
    lines = []
    for what, metric in (("reconstruction error", "reconstruction"), ("k-NN on codes", "k-NN on codes"),
                         ("anomaly ROC-AUC", "anomaly ROC-AUC")):
        mine = [r[-1] for r in table if r[0] == metric]
        if mine:
            lines.append(f"{what}: autoencoder ahead in {mine.count(SUPPORTS)}, tied in {mine.count(TIE)}, behind "
                         f"in {mine.count(CONTRADICTS)}, undecided in {mine.count(UNKNOWN)} of {len(mine)}")
    detail = (md_table(["comparison", "dataset", "at", "autoencoder", "rival", "autoencoder − rival", "outcome"], table)
              + "\n\nReconstruction: test MSE per pixel at equal code size d, as the ratio autoencoder / rival "
              f"(below 1x is better; one seed: counts beyond {np.exp(MSE_LOG_GAP):.2g}x), and the accuracy of a 5-NN "
              "classifier on the codes; paired over seeds. Anomaly: ROC-AUC of the autoencoder's reconstruction error "
              "against each classical detector, paired over held-out classes and seeds (one task and seed: counts "
              f"beyond {100 * LARGE_GAP:.0f} points). Supported when the autoencoder is ahead or tied in every "
              "comparison; contradicted when it is behind and never ahead; mixed when it is both.")
    used = pd.concat([scored(rows, "reconstruction_mse"), scored(rows, "roc_auc")])
    return verdict(entry, wins_or_ties(outcomes), "; ".join(lines), detail, scope_of(used))


# ---------------------------------------------------------------- deep belief networks

def dbn_reproduction(data: pd.DataFrame, entry: dict) -> Verdict:
    """A10: a classifier whose hidden layers start from stacked RBMs beats the same network from random
    initialisation on few labels; where the generative suite ran a DBN, its samples are not worse than a
    Gaussian mixture's (Fréchet distance)."""
    rows = data  # not named `rows`: a helper, not a registered rule
    outcomes, lines, table = [], [], []
    d = ok(rows[rows["arch"] == "dbn_classifier"])
    d = d[pd.to_numeric(d["accuracy"], errors="coerce").notna()]
    pretrain = d["variant"].str.extract(r"pretrain=(\w+)")[0]
    d = d.assign(pretrain=pretrain.fillna(""))
    for dataset, g in d.groupby("dataset", sort=False):
        scratch = g[g["pretrain"] == "none"].groupby("seed")["accuracy"].mean()
        if scratch.empty:
            continue
        for source in sorted(set(g["pretrain"]) - {"none", ""}):
            mine = g[g["pretrain"] == source].groupby("seed")["accuracy"].mean()
            diff = paired(mine, scratch)
            if diff.n == 0:
                continue
            result = comparison(diff, LARGE_GAP)
            outcomes.append(result)
            table.append([dataset, int(g["n_train"].max()), f"RBMs on {source} images", acc(mine.mean()),
                          acc(scratch.mean()), pts(diff), result])
    if table:
        ahead, behind = outcomes.count(SUPPORTS), outcomes.count(CONTRADICTS)
        lines.append(f"pretraining: ahead of random init in {ahead}, behind in {behind}, tied or undecided in "
                     f"{len(table) - ahead - behind} of {len(table)} (dataset, labels, pretraining data)")
    generated = []
    if "frechet_distance" in rows:
        gen = scored(rows, "frechet_distance")
        for dataset, g in gen.groupby("dataset", sort=False):
            dbn, gmm = g[g["arch"] == "dbn"], g[g["arch"] == "gmm"]
            if dbn.empty or gmm.empty:
                continue
            a, b = (m.groupby("seed")["frechet_distance"].mean() for m in (dbn, gmm))
            diff = paired(a, b, log=True, lower_is_better=True)
            if diff.n == 0:
                continue
            behind = comparison(diff, FD_LOG_GAP, higher_is_better=False) == CONTRADICTS
            outcomes.append(CONTRADICTS if behind else SUPPORTS)  # usable: not worse than the mixture
            generated.append([dataset, f"{a.mean():.3g}", f"{b.mean():.3g}", times(diff),
                              "worse" if behind else "not worse"])
        if generated:
            lines.append(f"generation: DBN's Fréchet distance not worse than GMM's on "
                         f"{sum(r[-1] == 'not worse' for r in generated)}/{len(generated)} datasets")
    if not outcomes:
        return verdict(entry, "inconclusive", "no few-label dataset ran dbn_classifier with pretrain=none and a "
                       "pretrained variant, and no generative dataset ran dbn beside gmm", scope=scope_of(rows))
    detail = ""
    if table:
        detail += (md_table(["dataset", "labelled images", "pretraining", "pretrained", "random init",
                             "pretrained − random", "outcome"], table)
                   + "\n\nThe same MLP (logistic units) fine-tuned on the labelled images only, its hidden layers "
                   "initialised from a DBN (RBMs with CD-1 on every training image without labels, or on the labelled "
                   "ones only) or at random; accuracy paired over seeds (one seed: counts beyond "
                   f"{100 * LARGE_GAP:.0f} points).\n\n")
    if generated:
        detail += (md_table(["dataset", "DBN Fréchet distance", "GMM Fréchet distance", "DBN / GMM", "reading"],
                            generated)
                   + f"\n\nGeneration (suite generative): supports when the DBN's Fréchet distance is not above the "
                   f"Gaussian mixture's beyond the noise (one seed: by {np.exp(FD_LOG_GAP):.3g}x).\n\n")
    detail += ("Supported when every comparison supports (pretraining ahead beyond the noise; generation not worse "
               "than GMM); mixed when some do; contradicted when none does and some go the other way.")
    return verdict(entry, overall(outcomes), "; ".join(lines), detail,
                   scope_of(ok(rows[rows["arch"].isin(["dbn_classifier", "dbn", "gmm"])])))


@rule
def dbn_pretraining(rows: pd.DataFrame, entry: dict) -> Verdict:
    """A10: the article describes; a definitional verdict whose reproduction is dbn_reproduction's."""
    return described(entry, dbn_reproduction(rows, entry))
