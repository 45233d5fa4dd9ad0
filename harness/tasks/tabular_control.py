"""Task kind `tabular_control`: a control task whose states are a finite set (a grid game: frozen
lake, taxi, cliff walking), which tabular agents can hold a value per state for. Everything else is
the control kind's (harness/tasks/control.py)."""
from __future__ import annotations

from harness.tasks.control import Control


class TabularControl(Control):
    name = "tabular_control"


KIND = TabularControl()
