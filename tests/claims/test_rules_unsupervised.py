"""A4 (the autoencoder against PCA and classical detectors) and A10 (DBN pretraining and samples)."""
import numpy as np
import pandas as pd

from tests.claims.cells import SEEDS, cell, noisy, verdict_of


def unsupervised_rows(ae_mse=0.01, rival_mse=0.02, ae_knn=0.95, rival_knn=0.93, ae_roc=0.9, rival_roc=0.85,
                      seeds=SEEDS, classes=(0, 1, 2), codes=(2, 8)):
    """Reconstruction rows (autoencoder, pca, kernel_pca at each code size) and held-out-class anomaly rows
    (autoencoder_detector against isolation forest, one-class SVM, LOF); seeds and classes shift both sides alike."""
    rows = []
    for s in seeds:
        for d in codes:
            for model, mse, knn in (("autoencoder", ae_mse, ae_knn), ("pca", rival_mse, rival_knn),
                                    ("kernel_pca", rival_mse, rival_knn)):
                rows.append(cell("digits_reconstruction", model, "deep" if model == "autoencoder" else "classical", s,
                                 suite="unsupervised", accuracy=np.nan, variant=f"code_size={d}", code_size=float(d),
                                 reconstruction_mse=mse * (1 + 0.02 * s) * 8 / d, knn_accuracy=knn + 0.002 * s))
        for c in classes:
            for model, roc in (("autoencoder_detector", ae_roc), ("isolation_forest", rival_roc),
                               ("one_class_svm", rival_roc), ("lof", rival_roc)):
                rows.append(cell(f"digits_anomaly[anomaly_class={c}]", model,
                                 "deep" if model == "autoencoder_detector" else "classical", s, suite="unsupervised",
                                 accuracy=np.nan, roc_auc=roc - 0.01 * ((s + c) % 3), pr_auc=roc / 2,
                                 anomaly_rate=0.1))
    return pd.DataFrame(rows)


def test_a4_supported_when_the_autoencoder_wins_or_ties_everywhere():
    v = verdict_of("A4-autoencoder", unsupervised_rows())
    assert v.verdict == "supported", v.evidence
    assert "anomaly ROC-AUC: autoencoder ahead in 3" in v.evidence and "kernel_pca" in v.detail
    ties = unsupervised_rows(ae_mse=0.02, ae_knn=0.93, ae_roc=0.85)  # level with every rival on every seed
    assert verdict_of("A4-autoencoder", ties).verdict == "no-difference"  # level everywhere is not "more"


def test_a4_contradicted_mixed_and_inconclusive():
    worse = unsupervised_rows(ae_mse=0.04, ae_knn=0.80, ae_roc=0.70)
    assert verdict_of("A4-autoencoder", worse).verdict == "contradicted"
    reconstructs_but_misses_anomalies = unsupervised_rows(ae_roc=0.70)
    assert verdict_of("A4-autoencoder", reconstructs_but_misses_anomalies).verdict == "mixed"
    one_seed_small_gaps = unsupervised_rows(ae_mse=0.0199, ae_knn=0.935, ae_roc=0.855, seeds=(0,), classes=(0,))
    v = verdict_of("A4-autoencoder", one_seed_small_gaps)
    assert v.verdict == "inconclusive" and "undecided in" in v.evidence
    rows = unsupervised_rows()
    no_autoencoder = rows[~rows["model"].str.contains("autoencoder")]
    assert verdict_of("A4-autoencoder", no_autoencoder).verdict == "inconclusive"


def few_label_rows(gain_all, gain_labelled, seeds=SEEDS, sizes=(50, 100)):
    """dbn_classifier at pretrain none / all / labelled on few-label digits; accuracy of `none` varies by seed."""
    rows = []
    for n in sizes:
        for s in seeds:
            base = 0.70 + 0.01 * s + 0.0005 * n
            for pretrain, gain in (("none", 0.0), ("all", gain_all), ("labelled", gain_labelled)):
                rows.append(cell(f"digits_few_labels[n_labelled={n}]", "dbn_classifier", "deep", s, n_train=n,
                                 suite="unsupervised", accuracy=base + gain, variant=f"pretrain={pretrain}"))
    return pd.DataFrame(rows)


def test_a10_pretraining_supported_mixed_contradicted_inconclusive():
    v = verdict_of("A10-dbn", few_label_rows(0.05, 0.04))
    assert v.reproduction.startswith("reproduction: supported"), v.evidence
    assert "ahead of random init in 4" in v.evidence and "RBMs on labelled images" in v.detail
    # ahead with all images, level with the labelled ones only: holds on half the decided tasks
    assert verdict_of("A10-dbn", few_label_rows(0.05, 0.0)).reproduction.startswith("reproduction: supported")
    assert verdict_of("A10-dbn", few_label_rows(0.05, -0.05)).reproduction.startswith("reproduction: mixed")
    assert verdict_of("A10-dbn", few_label_rows(-0.05, -0.03)).reproduction.startswith("reproduction: contradicted")
    assert verdict_of("A10-dbn", few_label_rows(0.005, 0.005, seeds=(0,))).reproduction.startswith("reproduction: inconclusive")
    nothing = few_label_rows(0.05, 0.05).query("variant != 'pretrain=none'")
    assert verdict_of("A10-dbn", nothing).reproduction.startswith("reproduction: inconclusive")


def test_a10_counts_dbn_samples_only_where_the_generative_suite_ran_them():
    pretraining = few_label_rows(0.05, 0.04)
    samples = lambda dbn, gmm: pd.DataFrame([  # noqa: E731 - suite=generative rows of a DBN and a GMM
        cell("mnist5k", model, family, s, suite="generative", accuracy=np.nan, frechet_distance=noisy(fd, 1)(s))
        for s in SEEDS for model, family, fd in (("dbn", "deep", dbn), ("gmm", "classical", gmm))])
    usable = verdict_of("A10-dbn", pd.concat([pretraining, samples(30, 60)]))
    assert usable.reproduction.startswith("reproduction: supported") and "generation: DBN's Fréchet distance not worse than GMM's on 1/1" in \
        usable.evidence
    poor = verdict_of("A10-dbn", pd.concat([pretraining, samples(200, 60)]))
    assert poor.reproduction.startswith("reproduction: mixed") and "0/1" in poor.evidence
    assert verdict_of("A10-dbn", samples(30, 60)).reproduction.startswith("reproduction: supported")  # generative rows alone
