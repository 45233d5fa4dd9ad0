"""`bench list`: what exists, with its description; everything, one suite, or one group.

    bench list                        every suite, profile, hardware, dataset and model
    bench list vision                 the vision suite: its datasets, models and profiles
    bench list models [--suite S]     every model (or suite S's); likewise datasets, suites, profiles
"""
from __future__ import annotations

from omegaconf import OmegaConf
from rich.markup import escape
from rich.table import Table

from harness.app import ALL
from harness.core.config import (
    GROUPS,
    SCOPED,
    ConfigError,
    group_options,
    suite_choices,
)
from harness.core.display import console
from harness.core.schema import did_you_mean
from suites import CONFIG_DIR

# `bench list GROUP`: the plural a user types, for each config group
GROUP_OF = {"hardware" if g == "hardware" else g if g in ("scaling", "interpret") else f"{g}s": g for g in GROUPS}


def describe(group: str, name: str) -> str:
    """One line about a config item: its description, and for a model its family, for a profile its sizes."""
    node = OmegaConf.load(CONFIG_DIR / group / f"{name}.yaml")
    note = escape(str(node.get("description") or ""))
    if group == "model":
        note = f"[{'cyan' if node.family == 'classical' else 'magenta'}]{node.family:<9}[/] {note}"
    if group == "hardware":
        note = f"device={node.device}"
    if group == "profile":
        note = (f"seeds={list(node.seeds)} max_epochs={node.max_epochs} "
                f"max_train={node.max_train} max_test={node.max_test}")
    return note


def group_table(group: str, names: dict[str, list[str]] | None = None, title: str | None = None,
                notes: dict[str, str] | None = None) -> Table:
    """The items of one group (all, or `names` with the profiles that alone add each), one line each,
    with `notes` added to the lines they name."""
    t = Table(title=title or next(k for k, g in GROUP_OF.items() if g == group), title_justify="left",
              show_header=False, box=None, padding=(0, 2))
    chosen = names if names is not None else {n: [] for n in group_options(group)}
    for name, profiles in chosen.items():
        only = f"  [dim](profile {', '.join(profiles)} only)[/]" if profiles else ""
        note = f"  [dim]({escape((notes or {}).get(name, ''))})[/]" if (notes or {}).get(name) else ""
        t.add_row(f"[bold]{escape(name)}[/]", describe(group, name) + only + note)
    if group == "suite" and names is None:
        from harness.all_suites import MEMBERS_FILE, load_members

        about = OmegaConf.load(MEMBERS_FILE).get("description", "")
        t.add_row(f"[bold]{ALL}[/]", f"{escape(str(about))} ({', '.join(m.suite for m in load_members())})")
    return t


def suite_tables(suite: str) -> list[Table]:
    """One suite: its description, datasets, models and the profiles it runs under."""
    node = OmegaConf.load(CONFIG_DIR / "suite" / f"{suite}.yaml")
    tables = [group_table(g, suite_choices(suite, g), f"suite {suite}: {g}s") for g in SCOPED]
    tweaks = node.get("profiles") or {}
    notes = {str(p): f"this suite sets its {', '.join(map(str, tweaks[p] or {}))}" for p in tweaks}
    return tables + [group_table("profile", {p: [] for p in group_options("profile")}, f"suite {suite}: profiles", notes)]


def list_items(what: str | None = None, suite: str | None = None) -> None:
    """Print what was asked; ConfigError for an unknown suite or group (with the nearest name)."""
    suites = group_options("suite")
    if suite is not None and suite not in suites:
        raise ConfigError(f"unknown suite {suite!r}{did_you_mean(suite, suites)}; suites: {', '.join(suites)}")
    if what is None and suite is not None:
        what = suite
    if what is None:
        tables = [group_table(g) for g in GROUPS]
    elif what in suites:
        console.print(f"[bold]{escape(what)}[/]: {escape(str(OmegaConf.load(CONFIG_DIR / 'suite' / f'{what}.yaml').get('description') or ''))}",
                      soft_wrap=True)
        tables = suite_tables(what)
    elif what in GROUP_OF:
        group = GROUP_OF[what]
        scoped = suite is not None and group in SCOPED
        tables = [group_table(group, suite_choices(suite, group) if scoped else None,
                              f"suite {suite}: {what}" if scoped else None)]
    else:
        choices = [*GROUP_OF, *suites]
        raise ConfigError(f"`bench list {what}`: no such suite or group{did_you_mean(what, choices)}; "
                          f"groups: {', '.join(GROUP_OF)}; suites: {', '.join(suites)}")
    for t in tables:
        console.print(t)
        console.print()
