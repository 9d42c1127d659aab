"""Lets a plain ``pytest`` in this folder use the fixtures that ``seamlab check 11`` gives your
contract tests (``pact_dir``, ``provider_url``).

They are defined once, in seamlab's hidden folder for this exercise; this file only loads them.
"""

from __future__ import annotations

import importlib.util

from seamlab.paths import HIDDEN_DIR

_FIXTURES = HIDDEN_DIR / "11-stub-drift" / "contract_fixtures.py"
if not _FIXTURES.is_file():
    raise RuntimeError(
        f"The fixtures for exercise 11 are not installed ({_FIXTURES} is missing). "
        "Fix: reinstall seamlab (`pip install -e .` in the course folder), or use `seamlab check 11`."
    )
_spec = importlib.util.spec_from_file_location("seamlab_contract_fixtures", _FIXTURES)
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)
globals().update(
    {name: value for name, value in vars(_module).items() if not name.startswith("__")}
)
