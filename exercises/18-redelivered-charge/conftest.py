# Intentionally empty: this file tells pytest to put this folder on sys.path,
# so the tests in tests/ can import the modules next to it.
