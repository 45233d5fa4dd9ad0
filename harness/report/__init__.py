"""The report of finished runs (report.md, report.html): `write_report` is its entry point."""
from harness.report.page import write_report

__all__ = ["write_report"]
