"""Lets a plain ``pytest`` in this folder use the fixtures that ``seamlab check 02`` gives your
layer tests (``subscriber_rows``, plus seamlab's ``db_engine``, ``mail_provider``,
``live_server``), and gives every test that uses ``db_engine`` an empty ``subscribers`` table.

They are defined once, in seamlab's hidden folder for this exercise; this file only loads them.
Start the services first (``seamlab up``).
"""

from __future__ import annotations

import importlib.util

from seamlab.paths import HIDDEN_DIR

_FIXTURES = HIDDEN_DIR / "02-bottom-up" / "layer_fixtures.py"
if not _FIXTURES.is_file():
    raise RuntimeError(
        f"The fixtures for exercise 02 are not installed ({_FIXTURES} is missing). "
        "Fix: reinstall seamlab (`pip install -e .` in the course folder), or use `seamlab check 02`."
    )
_spec = importlib.util.spec_from_file_location("seamlab_layer_fixtures", _FIXTURES)
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)
globals().update(
    {name: value for name, value in vars(_module).items() if not name.startswith("__")}
)
