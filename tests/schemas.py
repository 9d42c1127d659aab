"""Validate files against published JSON schemas, for any test (workflows, compose files, ...).

One way to do it: the ``check-jsonschema`` CLI with a schema it vendors (``vendor.NAME``,
e.g. ``vendor.github-workflows``, ``vendor.github-actions``, ``vendor.compose-spec``), so the
schema is the published one at the version pinned by the package, and YAML is read as YAML 1.2
(``on:`` stays a key, not ``True``). Works offline: no schema is downloaded.

    from schemas import schema_errors   # tests/ is on sys.path, as for fixtures.demo
    assert schema_errors(path, builtin="vendor.compose-spec") == ""
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

GITHUB_WORKFLOW = "vendor.github-workflows"


def schema_errors(*paths: Path | str, builtin: str = GITHUB_WORKFLOW) -> str:
    """"" when every path is valid against the built-in schema ``builtin``, else what is
    wrong (one run of the CLI for all of them: it takes a second or two to start)."""
    run = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", builtin,
         *map(str, paths)],
        capture_output=True, text=True, timeout=120, check=False)
    if run.returncode == 0:
        return ""
    return (run.stdout + run.stderr).strip() or f"check-jsonschema exited {run.returncode}"
