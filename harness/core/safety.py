"""What a config may build: `_target_` classes and torch module paths from trusted packages only.

A model or dataset config names the class to build (`_target_: baselines.kernel.rbf_svm`), and a
deep model names its network (`module: harness.models.cnn.LeNet5`). Both are imported and called, so
a config shared by someone else, or composed from a folder given with `--config-dir`, could run any
function on this machine (`_target_: os.system`). bench builds only from its own packages and an
allow-list of libraries unless the user opts out with `allow_any_target=true`.
"""
from __future__ import annotations

from typing import Any

# Packages whose callables a config may name. Their constructors build models and data; none of
# them runs shell commands, evaluates strings or unpickles files when called with config values.
TRUSTED_PREFIXES = ("harness.", "baselines.", "suites.", "sklearn.", "torch.nn.", "torch.optim.")
# Keys whose string value is imported as a callable by bench itself (not by Hydra).
IMPORTED_KEYS = ("_target_", "module")


class UntrustedTarget(Exception):
    """A config asks to build something outside the allow-list."""


def is_trusted(path: str) -> bool:
    return isinstance(path, str) and path.startswith(TRUSTED_PREFIXES) and ".." not in path


def check_targets(node: Any, where: str, allow_any: bool = False) -> None:
    """Raise UntrustedTarget if `node` (a plain dict/list tree) names a class outside the allow-list."""
    if allow_any:
        return
    for path, value in imported_values(node, where):
        if not is_trusted(value):
            raise UntrustedTarget(
                f"{path} = {value!r} is not in bench's allow-list ({', '.join(p.rstrip('.') for p in TRUSTED_PREFIXES)}); "
                f"a config can only build from these unless you trust it and pass allow_any_target=true")


def imported_values(node: Any, path: str = ""):
    """(dotted key, value) of every string that bench or Hydra would import from this config tree."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}"
            if key in IMPORTED_KEYS and isinstance(value, str):
                yield here, value
            else:
                yield from imported_values(value, here)
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from imported_values(value, f"{path}[{i}]")
