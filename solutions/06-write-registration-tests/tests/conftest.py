"""Lets a plain ``pytest`` run in this folder use the fixtures that ``seamlab check 06`` gives
your tests (``client``, ``mail_provider``, ``user_rows``, ``app``, ``db_engine``).

They are defined once, in seamlab's hidden folder for this exercise; this file only loads them.
Start the services first (``seamlab up``).
"""

from __future__ import annotations

import importlib.util

from seamlab.paths import HIDDEN_DIR

_FIXTURES = HIDDEN_DIR / "06-write-registration-tests" / "conftest.py"
if not _FIXTURES.is_file():
    raise RuntimeError(
        f"The fixtures for exercise 06 are not installed ({_FIXTURES} is missing). "
        "Fix: reinstall seamlab (`pip install -e .` in the course folder), or use `seamlab check 06`."
    )
_spec = importlib.util.spec_from_file_location("seamlab_registration_fixtures", _FIXTURES)
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)
globals().update(
    {name: value for name, value in vars(_module).items() if not name.startswith("__")}
)
