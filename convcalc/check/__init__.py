"""`convcalc check`: expectations in specs, file discovery, and the in-place editor of --update.

The output formats live in the rendering layer (``convcalc.report.check_output``)."""

from convcalc.check.editor import UpdateResult, update_paths, update_text
from convcalc.check.expectations import CheckResult, Failure, FileResult, check_paths

__all__ = ["CheckResult", "Failure", "FileResult", "UpdateResult", "check_paths", "update_paths", "update_text"]
