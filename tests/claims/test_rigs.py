"""Rows of several rigs (kinds of machine, and the device the deep models used): a verdict never pairs a
seed on one rig with a seed on another, nor averages one cell run on two. Only the time and hardware
claims (T3, T8, D4) read every rig, and they compare within each."""
import pandas as pd

from harness.claims import evaluate_claims, load_registry
from harness.claims.registry import RULES
from harness.claims.rows import main_rig, prepare
from harness.report.rows import with_labels
from tests.claims.cells import AT_SCALE, duel, noisy

# the claims that read the vision suite: the ones these rows can decide
REGISTRY = [e for e in load_registry() if "vision" in e.get("evidence", {}).get("suites", [])]
HOST_A, HOST_B = "results/vision/host-a", "results/vision/host-b"
INFOS = {HOST_A: {"machine": {"cpu_cores": 2}}, HOST_B: {"machine": {"cpu_cores": 16}}}


def on_host(df, run, **columns):
    return df.assign(run=run, **columns)


def evidence():
    """The same learning curve of a suite on two kinds of host: seed-noisy accuracies, and on host B
    (a server) other accuracies and times, as a second machine gives."""
    sizes = (100, 1_000, AT_SCALE)
    a = pd.concat([duel(noisy(0.93 + 0.01 * i), noisy(0.90 + 0.01 * i), train_seconds=40.0 + i).assign(n_train=n)
                   for i, n in enumerate(sizes)])
    deep = a["family"] == "deep"
    b = a.assign(accuracy=a["accuracy"] - 0.04 * deep, train_seconds=a["train_seconds"] / 3)
    return on_host(a, HOST_A), on_host(b, HOST_B, cpu_model="Server CPU").iloc[1:]  # host A: the most cells


def by_claim(df, infos=INFOS, ids=None):
    return {v.id: v for v in evaluate_claims(df, infos, registry=[e for e in REGISTRY if ids is None or e["id"] in ids])}


MACHINES = ("T3-time", "T8-hardware", "D4-compute")


def test_each_run_gets_its_host_and_rig_and_each_suite_one_main_rig():
    a, b = evidence()
    gpu = b[b["family"] == "deep"].assign(device="cuda", gpu_name="H100", run="results/vision/host-b-gpu")
    rows = prepare(pd.concat([a, b, gpu]), {**INFOS, "results/vision/host-b-gpu": {"machine": {"cpu_cores": 16}}})
    assert set(rows["rig"]) == {"cpu (Test CPU, 2 cores)", "cpu (Server CPU, 16 cores)",
                                "cuda (H100) beside Server CPU, 16 cores"}
    assert set(rows.loc[rows["run"] == "results/vision/host-b-gpu", "host"]) == {"Server CPU, 16 cores"}
    # the rig with the most finished cells: one cell fewer on a host makes the other the main rig
    assert set(main_rig(rows)["rig"]) == {"cpu (Test CPU, 2 cores)"}
    assert set(main_rig(prepare(pd.concat([a.iloc[2:], b]), INFOS))["rig"]) == {"cpu (Server CPU, 16 cores)"}
    # a tie goes to a CPU rig: the GPU run here has as many cells as host B's CPU-only run
    tie = prepare(pd.concat([b[b["family"] == "deep"], gpu]), INFOS)
    assert set(main_rig(tie)["rig"]) == {"cpu (Server CPU, 16 cores)"}


def test_a_second_rig_changes_no_verdict_but_the_time_and_hardware_claims():
    a, b = evidence()
    alone, both = by_claim(a), by_claim(pd.concat([a, b]))
    compares = {e["id"] for e in REGISTRY if getattr(RULES.get(e["rule"]), "compares_machines", False)}
    assert compares == {"T3-time", "T8-hardware", "D4-compute"}
    judged = [i for i in alone if alone[i].verdict not in ("not-run", "definitional")]
    assert {"T1-data", "D1-accuracy", "T2-complexity"} <= set(judged)
    for i in judged:
        if i in compares:
            continue
        assert (both[i].verdict, both[i].evidence) == (alone[i].verdict, alone[i].evidence), i
        assert any("not read, run on another rig" in line and "Server CPU, 16 cores" in line
                   for line in both[i].conditions.lines()), i
    assert "not read" not in alone["D1-accuracy"].conditions.text()
    # what the rows of host B alone say differs: so pooling them would have moved the verdicts above
    assert by_claim(b, ids=["D1-accuracy"])["D1-accuracy"].evidence != alone["D1-accuracy"].evidence


def test_time_and_hardware_claims_compare_within_each_rig():
    a, b = evidence()
    both = by_claim(pd.concat([a, b]), ids=MACHINES)
    t3 = both["T3-time"]
    assert "on cpu (Test CPU, 2 cores)" in t3.evidence and "on cpu (Server CPU, 16 cores)" in t3.evidence
    # each host's ratio is that host's alone: pooling them would give neither
    for part, host in (("Test CPU", a), ("Server CPU", b)):
        only = by_claim(host, ids=["T3-time"])["T3-time"].evidence
        ratio = only.split("takes ")[1].split(" the time")[0]
        line = next(x for x in t3.evidence.split("; ") if part in x)
        assert f"takes {ratio} the time" in line
    t8 = both["T8-hardware"]
    assert "| machine |" in t8.detail and "Server CPU, 16 cores" in t8.detail
    d4 = both["D4-compute"]
    assert "on cpu (Test CPU, 2 cores)" in d4.evidence and "on cpu (Server CPU, 16 cores)" in d4.evidence


def test_a_gpu_is_paired_only_with_the_cpu_of_its_own_kind_of_host():
    a, b = evidence()
    gpu_run = "results/vision/host-b-gpu"
    gpu = b[b["family"] == "deep"].assign(device="cuda", gpu_name="H100", run=gpu_run,
                                          train_seconds=b.loc[b["family"] == "deep", "train_seconds"] / 10)
    infos = {**INFOS, gpu_run: {"machine": {"cpu_cores": 16}}}
    t8 = by_claim(pd.concat([a, b, gpu]), infos, ids=["T8-hardware"])["T8-hardware"]
    assert "GPU speedup cnn 10.0x" in t8.evidence and "vs its host CPU (Server CPU, 16 cores)" in t8.detail
    # the same GPU beside a host whose CPU model matches host A's but not its core count: no pair at all
    elsewhere = gpu.assign(cpu_model="Test CPU")
    t8 = by_claim(pd.concat([a, elsewhere]), {**INFOS, gpu_run: {"machine": {"cpu_cores": 64}}},
                  ids=["T8-hardware"])["T8-hardware"]
    assert "speedup" not in t8.evidence


def test_report_labels_keep_hosts_apart_only_where_they_differ():
    a, b = evidence()
    one = with_labels(a.copy())
    assert not one["label"].str.contains(" · on ").any()
    two = with_labels(pd.concat([a, b], ignore_index=True))
    assert set(two.loc[two["model"] == "cnn", "label"]) == {"cnn · on Test CPU", "cnn · on Server CPU"}


def test_a_gpu_run_of_the_deep_models_alone_borrows_the_classical_side_of_its_host():
    a, b = evidence()
    gpu_run = "results/vision/host-b-gpu"
    gpu = b[b["family"] == "deep"].assign(device="cuda", gpu_name="H100", run=gpu_run, train_seconds=1.0)
    t3 = by_claim(pd.concat([a, b, gpu]), {**INFOS, gpu_run: {"machine": {"cpu_cores": 16}}}, ids=["T3-time"])["T3-time"]
    line = next(x for x in t3.evidence.split("; ") if "on cuda" in x)
    assert "the time of rbf_svm" in line  # host B's classical rows, timed on its CPU
    # a GPU beside another kind of host gets no classical side: no T3 line for it
    alone = gpu.assign(cpu_model="Laptop CPU")
    t3 = by_claim(pd.concat([a, b, alone]), {**INFOS, gpu_run: {"machine": {"cpu_cores": 8}}}, ids=["T3-time"])["T3-time"]
    assert "on cuda" not in t3.evidence
