"""First-call costs that each cell process would otherwise pay inside its timed fit, paid once here.

The forkserver that forks every cell imports this module (harness/core/forkserver.py PRELOAD), so
its children start with the caches filled. Measured in a cell process on digits (2026-12-04):
the task kinds' registry imported itself on the first `task.training_data()` (44 ms), and
scikit-learn's first check of an input's feature names looked up narwhals' plugins, an entry-point
scan (25 ms): together most of a Gaussian naive Bayes fit's 65 ms in bench against 10 ms in a plain
script. Nothing here starts a thread pool (the children must not inherit one).
"""
from __future__ import annotations

import numpy as np


def warm() -> None:
    from sklearn.preprocessing import FunctionTransformer

    from harness.tasks import kinds

    kinds()
    FunctionTransformer().fit(np.zeros((2, 2)))  # validate_data -> feature names -> narwhals' plugins


warm()
