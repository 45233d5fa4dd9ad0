"""A9 (degradation with depth, plain against residual and highway networks) and A1 (XOR)."""
import numpy as np
import pandas as pd

from tests.claims.cells import SEEDS, cell, duel, verdict_of


def depth_rows(plain: dict, residual: dict, seeds=SEEDS, status_at=None):
    """Depth suite rows: {depth: (accuracy, final_train_loss)} per architecture."""
    rows = []
    for arch, curve in (("plain_net", plain), ("resnet", residual)):
        for depth, (accuracy, loss) in curve.items():
            for s in seeds:
                status = (status_at or {}).get((arch, depth), "ok")
                rows.append(cell("digits", arch, "deep", s, accuracy=accuracy + 0.002 * s, suite="depth",
                                 variant=f"depth={depth}", final_train_loss=loss + 0.001 * s, status=status))
    return pd.DataFrame(rows)


HEALTHY = {1: (0.95, 0.05), 4: (0.96, 0.03), 24: (0.96, 0.02)}
DEGRADED = {1: (0.95, 0.05), 4: (0.93, 0.10), 24: (0.70, 0.90)}


def test_a9_supported_contradicted_mixed():
    v = verdict_of("A9-depth", depth_rows(DEGRADED, HEALTHY))
    assert v.verdict == "supported" and "1→24" in v.evidence
    v = verdict_of("A9-depth", depth_rows(HEALTHY, HEALTHY))
    assert v.verdict == "contradicted" and "no degradation" in v.evidence
    assert verdict_of("A9-depth", depth_rows(DEGRADED, DEGRADED)).verdict == "mixed"


def test_a9_compares_the_deepest_with_the_shallower_depth_each_network_trains_best_at():
    # one block underfits (the loss of a too-small network), four train best, 24 train worse than four: that is
    # the degradation problem, though 24 blocks still beat the single block
    underfit_then_degraded = {1: (0.80, 0.60), 4: (0.97, 0.01), 24: (0.90, 0.40)}
    v = verdict_of("A9-depth", depth_rows(underfit_then_degraded, HEALTHY))
    assert v.verdict == "supported" and "plain 4→24 accuracy" in v.evidence and "training loss +0.39 nats" in v.evidence
    # the reference is chosen on the other seeds: a seed's own loss never picks the depth it is compared with
    from harness.claims.rows import prepare
    from harness.claims.rules.depth import depth_of, reference_depths

    rows = prepare(depth_rows(underfit_then_degraded, HEALTHY))
    rows = rows.assign(depth=[depth_of(r) for r in rows[["variant", "model"]].itertuples()])
    plain = rows[rows["arch"] == "plain_net"]
    lucky = plain.index[(plain["seed"] == 0) & (plain["depth"] == 1)]
    rows.loc[lucky, "final_train_loss"] = 0.0  # seed 0 alone trains best at one block
    refs = reference_depths(rows[rows["arch"] == "plain_net"], 24)
    assert refs == {0: 4.0, 1: 4.0, 2: 4.0}


def test_a9_a_spread_over_seeds_is_undecided_not_no_degradation():
    # at 24 blocks the plain network collapses on one seed of three: worse on average, but not beyond the noise
    spread = depth_rows(HEALTHY, HEALTHY)
    deep_plain = (spread["model"] == "plain_net") & (spread["variant"] == "depth=24")
    spread.loc[deep_plain, "accuracy"] = spread.loc[deep_plain, "seed"].map({0: 0.90, 1: 0.46, 2: 0.80})
    spread.loc[deep_plain, "final_train_loss"] = spread.loc[deep_plain, "seed"].map({0: 0.21, 1: 0.35, 2: 0.53})
    v = verdict_of("A9-depth", spread)
    assert v.verdict == "inconclusive" and "plain 4→24 undecided (training loss +0.33 nats [" in v.evidence


def test_a9_diverged_plain_cells_count_as_degradation():
    df = depth_rows(HEALTHY, HEALTHY, status_at={("plain_net", 24): "diverged"})
    df.loc[df["status"] == "diverged", ["accuracy", "final_train_loss"]] = np.nan
    v = verdict_of("A9-depth", df)
    assert v.verdict == "supported" and "diverged" in v.evidence


def test_a9_inconclusive_with_one_depth_and_not_run_without_rows():
    assert verdict_of("A9-depth", depth_rows({4: (0.9, 0.1)}, {4: (0.9, 0.1)})).verdict == "inconclusive"
    assert verdict_of("A9-depth", duel(0.95, 0.9)).verdict == "not-run"


def test_a9_unknown_when_residual_cells_failed():
    df = depth_rows(DEGRADED, HEALTHY, status_at={("resnet", 24): "error"})
    v = verdict_of("A9-depth", df)
    assert v.verdict == "inconclusive" and "no finished cells" in v.evidence


def test_a9_judges_highway_beside_residual_where_the_suite_ran_it():
    def with_highway(plain, residual, highway):
        rows = depth_rows(plain, residual).assign(suite="foundations")
        extra = depth_rows(highway, {}).assign(suite="foundations")
        return pd.concat([rows, extra[extra["model"] == "plain_net"].assign(model="highway_net")])

    v = verdict_of("A9-depth", with_highway(DEGRADED, HEALTHY, HEALTHY))
    assert v.verdict == "supported" and "highway 4→24 no degradation" in v.evidence and "highway accuracy" in v.detail
    v = verdict_of("A9-depth", with_highway(DEGRADED, HEALTHY, DEGRADED))
    assert v.verdict == "mixed" and "highway 1→24 accuracy" in v.evidence
    assert verdict_of("A9-depth", with_highway(HEALTHY, HEALTHY, HEALTHY)).verdict == "contradicted"
    # Each suite is judged on its own: depth (no highway) supports, foundations (highway degrades) does not.
    both = pd.concat([depth_rows(DEGRADED, HEALTHY), with_highway(DEGRADED, HEALTHY, DEGRADED)])
    v = verdict_of("A9-depth", both)
    assert v.verdict == "mixed" and "depth digits" in v.evidence and "foundations digits" in v.evidence
    # other experiments of the suite (XOR) do not enter the verdict
    xor = xor_rows({"perceptron": [0.5] * 3, "mlp[hidden=[8]]": [1.0] * 3})
    v = verdict_of("A9-depth", pd.concat([with_highway(DEGRADED, HEALTHY, HEALTHY), xor]))
    assert v.verdict == "supported" and "xor" not in v.scope


def xor_rows(acc_by_model: dict, dataset="xor", status_at=None):
    """Foundations rows on an XOR set: {model[variant]: [accuracy per seed]}."""
    rows = []
    for key, accs in acc_by_model.items():
        model, _, variant = key.partition("[")
        family = "classical" if model == "perceptron_sklearn" else "deep"
        for s, a in enumerate(accs):
            status = (status_at or {}).get((key, s), "ok")
            rows.append(cell(dataset, model, family, s, n_train=4, accuracy=a if status == "ok" else np.nan,
                             suite="foundations", variant=variant[:-1], status=status, n_test=4))
    return pd.DataFrame(rows)


SOLVES = {"perceptron": [0.5, 0.75, 0.5], "perceptron_sklearn": [0.5, 0.5, 0.25],
          "mlp[hidden=[2]]": [1.0, 0.5, 1.0], "mlp[hidden=[8]]": [1.0, 1.0, 1.0]}


def test_a1_supported_when_perceptrons_stay_at_the_ceiling_and_an_mlp_learns_every_seed():
    v = verdict_of("A1-xor", xor_rows(SOLVES))
    assert v.verdict == "supported"
    assert "perceptron best 75.0%" in v.evidence and "mlp[hidden=[2]] learned it on 2/3 seeds" in v.evidence
    assert "| mlp[hidden=[2]] | 3 | 100 50 100 |" in v.detail  # every seed is reported, the stuck one too
    cloud = xor_rows({"perceptron": [0.73, 0.76], "mlp[hidden=[8]]": [0.995, 0.98]}, dataset="xor_cloud")
    assert verdict_of("A1-xor", pd.concat([xor_rows(SOLVES), cloud])).verdict == "supported"


def test_a1_contradicted_mixed_inconclusive_and_not_run():
    beaten = {"perceptron": [1.0, 0.5, 0.5], "mlp[hidden=[2]]": [0.5, 0.75, 0.5]}
    assert verdict_of("A1-xor", xor_rows(beaten)).verdict == "contradicted"
    stuck = {"perceptron": [0.5, 0.75, 0.5], "mlp[hidden=[2]]": [1.0, 0.5, 1.0]}
    v = verdict_of("A1-xor", xor_rows(stuck))
    assert v.verdict == "mixed" and "2/3 seeds" in v.evidence
    above = {"perceptron": [0.5, 0.8], "mlp[hidden=[8]]": [1.0, 1.0]}  # beyond the slack on a sampled test set
    assert verdict_of("A1-xor", xor_rows(above, dataset="xor_cloud")).verdict == "mixed"
    failed = xor_rows(SOLVES, status_at={("mlp[hidden=[8]]", 1): "error"})
    assert verdict_of("A1-xor", failed).verdict == "mixed"  # a failed cell is a seed not learned
    assert verdict_of("A1-xor", xor_rows({"perceptron": [0.5] * 3})).verdict == "inconclusive"
    assert verdict_of("A1-xor", duel(0.95, 0.9)).verdict == "not-run"
