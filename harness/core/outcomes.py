"""How a model tells the engine that its cell ended otherwise than `ok`: raised from inside `fit`,
read by harness/core/cell.py `failure` into the row's status."""


class Diverged(RuntimeError):
    """Training produced a NaN or infinite loss: the cell's status is `diverged`."""


class TimeBudgetExceeded(RuntimeError):
    """Training ran past its time limit; raised between epochs: the cell's status is `timeout`."""
