"""`prepare`: rows of older versions get the schema's defaults, and configurations stay apart."""
import pandas as pd

from harness.claims.rows import prepare
from harness.results.schema import OPTIONAL_COLUMNS
from tests.claims.cells import AT_SCALE, cell, duel, verdict_of


def test_rows_without_optional_columns_get_their_defaults():
    old = pd.DataFrame([cell()]).drop(columns=[c for c in OPTIONAL_COLUMNS if c != "run"], errors="ignore")
    rows = prepare(old)
    assert (rows["variant"] == "").all() and (rows["features"] == "raw").all() and (rows["device"] == "cpu").all()
    assert rows["key"].tolist() == ["cnn"] and rows["machine"].tolist() == ["cpu (unknown CPU)"]


def test_tuned_and_untuned_runs_stay_apart():
    df = pd.concat([duel(0.95, 0.90), duel(0.80, 0.90, datasets=("digits", "mnist5k")).assign(tuned=True)])
    v = verdict_of("D1-accuracy", df.assign(n_train=AT_SCALE))
    assert v.verdict == "supported" and "cnn · not tuned" in v.evidence
