"""Dataset loaders. Each returns a :class:`Task`; none downloads anything."""
from harness.data.task import DatasetError, Task

__all__ = ["DatasetError", "Task"]
