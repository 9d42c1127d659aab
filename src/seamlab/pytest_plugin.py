"""pytest plugin: fixtures shared by hidden tests, notebooks and our own tests (being built)."""
