"""One command's memo: within `composed_once()`, what `memoized` makes under a key is made once.

A command checks, preflights and plans the same overrides (a dry run of suite=all composed 33 configs
and resolved 22 plans for 11 suites) and reads the same suite files; none of them changes meanwhile.
Callers get copies, never the memo's own; a failure is raised each time, never remembered.
"""
from __future__ import annotations

import copy
from contextlib import contextmanager

_memo: dict | None = None  # while `composed_once()` is open: what was made, by the key that made it


@contextmanager
def composed_once():
    """Make each key once while this is open (nested: the outer memo serves)."""
    global _memo
    outer, _memo = _memo, ({} if _memo is None else _memo)
    try:
        yield
    finally:
        _memo = outer


def active() -> bool:
    return _memo is not None


def memoized(key: tuple, make):
    """make(), or while `composed_once()` is open, a copy of the first make() under this key."""
    if _memo is None:
        return make()
    if key not in _memo:
        _memo[key] = make()  # an exception is raised to the caller and not stored
    return copy.deepcopy(_memo[key])
