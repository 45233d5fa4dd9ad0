"""`bench run suite=all`: every suite of suites/all.yaml, then one report and scorecard over all.

Each member is an ordinary run (harness/app.py `run`) of one suite, with the user's overrides and
then the member's own (the learning curves and interpretability that the claims need), into
results/<suite>/<stamp>; every member shares one stamp. Then results/all/<stamp>/ gets `all.json`
(the members, their folders, overrides, exit codes and times) and the combined report.md and
report.html; `bench report` and `bench claims` given that folder read its members
(harness/results/store.py run_folders). Nothing new is scheduled here: members run one after
another, each through Hydra like `bench run suite=NAME`, so a member resumes as any run does. The
reports wait for the last member and are then written side by side, one process per core (each
member's own, and the combined one): written after each member they held both cores for one (the
vision suite's takes ~15 s, most of it judging claims and drawing plots) while no cell ran.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import yaml
from rich.markup import escape
from rich.table import Table

from harness.core.config import ConfigError, group_options
from harness.core.display import console
from harness.core.memo import composed_once
from harness.core.yamlfile import read_yaml
from harness.results.store import ALL_INDEX as INDEX
from harness.results.store import atomic_write_bytes
from suites import CONFIG_DIR

MEMBERS_FILE = CONFIG_DIR / "all.yaml"
# Each member has its own datasets and models: one name cannot restrict all of them.
PER_SUITE_KEYS = ("model", "dataset", "suite")


@dataclass
class Member:
    suite: str
    overrides: list[str] = field(default_factory=list)
    # More overrides under one profile (`profiles: {evidence: [interpret=on]}`), after `overrides`
    profiles: dict[str, list[str]] = field(default_factory=dict)

    def overrides_for(self, profile: str) -> list[str]:
        return [*self.overrides, *self.profiles.get(profile, [])]


def load_members(path: Path | None = None) -> list[Member]:
    """The members of suites/all.yaml, checked: every suite exists, none twice (two members of one
    suite would write into one run folder)."""
    path = path or MEMBERS_FILE
    try:
        raw = read_yaml(path) or {}
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"cannot read the members of suite=all from {path}: {e}") from e
    entries = raw.get("members")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{path}: needs `members:`, a list of {{suite: NAME, overrides: [...]}}")
    valid, members = group_options("suite"), []
    for entry in entries:
        entry = entry if isinstance(entry, dict) else {"suite": entry}
        name, extra = str(entry.get("suite")), entry.get("overrides") or []
        if name not in valid:
            raise ConfigError(f"{path}: unknown suite {name!r} in members; suites: {', '.join(valid)}")
        if any(m.suite == name for m in members):
            raise ConfigError(f"{path}: suite {name!r} is a member twice; give it one entry")
        per_profile = entry.get("profiles") or {}
        if not isinstance(per_profile, dict) or not all(isinstance(v, list) for v in per_profile.values()):
            raise ConfigError(f"{path}: profiles of member {name!r} must map a profile name to a list of overrides")
        unknown = sorted(set(per_profile) - set(group_options("profile")))
        if unknown:
            raise ConfigError(f"{path}: member {name!r} names unknown profiles {unknown}; "
                              f"profiles: {', '.join(group_options('profile'))}")
        members.append(Member(name, [str(o) for o in extra],
                              {str(k): [str(o) for o in v] for k, v in per_profile.items()}))
    return members


def check_overrides(overrides: list[str]) -> None:
    for o in overrides:
        key, _, value = o.partition("=")
        if key.lstrip("+~") == "suite" and value != "all":
            raise ConfigError(f"suite=all runs every suite of {MEMBERS_FILE.name}; run {o} on its own, "
                              "or edit the members there")
        if key.lstrip("+~") in PER_SUITE_KEYS[:2]:
            raise ConfigError(f"suite=all runs each suite's own {key}s; {o} names one of a single suite "
                              f"(run `bench run suite=NAME {o}` instead)")


def run_all(overrides: list[str], *, force: bool = False, split: str | None = None,
            members_file: Path | None = None, dry_run: bool = False) -> int:
    """Run every member, then the combined report; the exit code is the worst member's (130 stops
    at once: the finished members are kept and reported). `dry_run`: every member's plan, nothing run."""
    from harness import app
    from harness.core.hardware import HardwareError

    user = [o for o in overrides if o.split("=", 1)[0].lstrip("+~") != "suite"]
    profile = next((o.split("=", 1)[1] for o in reversed(user) if o.split("=", 1)[0] == "profile"), "default")
    try:
        check_overrides(overrides)
        members = load_members(members_file)
        # Every member's config is checked before any runs: bad input loses no time and no results.
        results, configs = None, {}
        with composed_once():  # each member's checks and plan compose the same overrides
            for m in members:
                cfg, _ = app.preflight([f"suite={m.suite}", *[o for o in user if not o.startswith("-")],
                                        *m.overrides_for(profile)])
                results, configs[m.suite] = results or Path(cfg.paths.results), cfg
            if dry_run:
                flags, fixed = app.hydra_flags_and_overrides(user)
                return app.dry_run_plan([[f"suite={m.suite}", *fixed, *m.overrides] for m in members], flags)
    except (ConfigError, HardwareError) as e:
        console.print(f"[red]error:[/] {escape(str(e))}", soft_wrap=True)
        return app.EXIT_BAD_INPUT

    stamp = app.new_run_stamp(results, [m.suite for m in members] + [app.ALL])
    out = results / app.ALL / stamp
    index = {"stamp": stamp, "overrides": user, "force": force, "split": split,
             "started": now(), "ended": None, "members": []}
    for m in members:
        extra = m.overrides_for(profile)
        console.rule(f"[bold]suite={m.suite}[/] {escape(' '.join(extra))}")
        t0 = time.perf_counter()
        code = app.run([f"suite={m.suite}", *user, *extra], force=force, split=split, stamp=stamp, report=False)
        folder = results / m.suite / stamp
        index["members"].append({"suite": m.suite, "overrides": extra, "exit_code": code,
                                 "seconds": round(time.perf_counter() - t0, 1),
                                 "folder": f"{m.suite}/{stamp}" if (folder / "cells").is_dir() else None})
        write_index(out, index)  # after each member: an interrupted run still says what it holds
        if code == app.EXIT_INTERRUPTED:
            break
    index["ended"] = now()
    write_index(out, index)
    show_members(index)
    folders = [results / m["folder"] for m in index["members"] if m["folder"]]
    if folders:
        console.rule("[bold]reports[/]")
        write_reports(folders, out)
        from harness.results import tracking

        for m in index["members"]:
            if m["folder"] and tracking.enabled(configs[m["suite"]]):
                tracking.log_report(configs[m["suite"]], results / m["folder"])
    console.print(f"results: [bold]{out}[/] ({len(folders)} of {len(members)} suites)")
    codes = [m["exit_code"] for m in index["members"]]
    return app.EXIT_INTERRUPTED if app.EXIT_INTERRUPTED in codes else max(codes, default=app.EXIT_OK)


def write_reports(folders: list[Path], out: Path) -> None:
    """Each member's report in its folder and the combined one in `out`, one process per core (fresh
    interpreters: matplotlib draws in one thread per process), the combined one first: it takes longest."""
    jobs = [(folders, out, False)] + [([f], f, True) for f in folders]
    workers = max(1, min(len(jobs), len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                         else os.cpu_count() or 1))
    if workers == 1:
        for job in jobs:
            write_one_report(*job)
        return
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        for done in [pool.submit(write_one_report, *job) for job in jobs]:
            done.result()


def write_one_report(inputs: list[Path], out: Path, member: bool) -> None:
    """One report (a member's own goes to its bench.log too, as after a run of that suite alone)."""
    from harness import app
    from harness.core.display import run_log
    from harness.results.store import ResultsError

    if member:
        with run_log(out / "bench.log"):
            app.render_run_report(out)
        return
    try:
        app.render_report(inputs, out)
    except ResultsError as e:
        console.print(f"[yellow]report not written[/]: {escape(str(e))}")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def write_index(out: Path, index: dict) -> None:
    atomic_write_bytes(out / INDEX, json.dumps(index, indent=2).encode())


def show_members(index: dict) -> None:
    t = Table(title=f"suite=all ({index['stamp']})", title_justify="left")
    for col in ("suite", "extra overrides", "exit", "seconds"):
        t.add_column(col, justify="right" if col in ("exit", "seconds") else "left")
    for m in index["members"]:
        code = m["exit_code"]
        shown = "ok" if code == 0 else {1: "cells failed", 2: "bad input", 130: "interrupted"}.get(code, str(code))
        t.add_row(m["suite"], escape(" ".join(m["overrides"])), shown, f"{m['seconds']:,.0f}")
    t.add_row("[bold]total[/]", "", "", f"{sum(m['seconds'] for m in index['members']):,.0f}")
    console.print(t)
