"""How many bad inputs the fuzz tests try, by kind: `python -m tests.count_bad_inputs` (from the repository root).

Every parametrised case of a fuzz test carries its kind as the prefix of its id (`config:seed=-1`,
`data:table-one-row`, `damage:cell-empty`, `path:full-disk-after-2-writes`); this collects the tests
(without running them) and counts the ids per kind. Exit code 1 if fewer than --min in all.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import re
import sys
from collections import Counter

import pytest

FUZZ_TESTS = ["tests/test_bad_input.py", "tests/core/test_fuzz_config.py", "tests/data/test_fuzz_files.py",
              "tests/results/test_fuzz_paths.py"]
KIND = re.compile(r"\[(\w+):")


class Ids:
    def __init__(self):
        self.ids: list[str] = []

    def pytest_collection_finish(self, session):
        self.ids = [item.nodeid for item in session.items]


def count() -> Counter:
    ids, log = Ids(), io.StringIO()
    with contextlib.redirect_stdout(log):
        code = pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider", "-n", "0", "-m", "", *FUZZ_TESTS],
                           plugins=[ids])
    if code != 0:  # a module that does not import would be counted as no cases at all
        sys.exit(f"collecting the fuzz tests failed:\n{log.getvalue()[-3000:]}")
    return Counter(m.group(1) for nodeid in ids.ids if (m := KIND.search(nodeid)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min", type=int, default=300, help="fewest bad inputs in all (default 300)")
    by_kind = count()
    for kind, n in sorted(by_kind.items()):
        print(f"{kind:<8} {n:>4}")
    total = sum(by_kind.values())
    print(f"{'total':<8} {total:>4}")
    return 0 if total >= parser.parse_args().min else 1


if __name__ == "__main__":
    sys.exit(main())
