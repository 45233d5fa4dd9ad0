"""Run metadata: per run folder where and when it ran, on what, with which packages and overrides."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from harness.report.blocks import Cell, Heading, Table, note


def metadata_blocks(df: pd.DataFrame, run_infos: dict[str, dict]) -> list:
    blocks = [Heading(2, "Runs", "runs")]
    for folder, info in run_infos.items():
        rows = df[df["run"] == folder]
        machine = info.get("machine") or {}
        versions = info.get("versions") or {}
        facts = [
            ("suite", info.get("suite") or ", ".join(dict.fromkeys(rows["suite"]))),
            ("folder", folder),
            ("started / ended", f"{info.get('started') or '–'} / {info.get('ended') or 'not recorded (interrupted?)'}"),
            ("git commit", info.get("git_commit") or "–"),
            ("device for deep models", machine.get("device") or "–"),
            ("CPU", f"{machine.get('cpu_model') or '–'}, {machine.get('cpu_cores') or '?'} cores, "
                    f"torch threads {machine.get('torch_threads') or '?'}"),
            ("GPU", machine.get("gpu_name") or "none"),
            ("platform", f"{machine.get('platform') or '–'}, Python {machine.get('python') or '?'}"),
            ("packages", ", ".join(f"{k} {v}" for k, v in versions.items()) or "–"),
            ("profile", ", ".join(sorted(rows["profile"].astype(str).unique())) or "–"),
            ("seeds", ", ".join(map(str, sorted(rows["seed"].unique()))) or "–"),
            ("overrides", " ".join(info.get("overrides") or []) or "none"),
            ("cells", f"{len(rows)} ({int((rows['status'] == 'ok').sum())} finished)"),
        ]
        blocks += [Heading(3, Path(folder).name),
                   *([] if info else [note("run.json is missing: provenance below comes from result rows only.")]),
                   Table(["", ""], [[Cell(k, cls="key"), v] for k, v in facts])]
    return blocks
