"""The project's own tests. The seamlab fixtures come from the plugin's pytest11 entry point."""

pytest_plugins = ("pytester",)

# Throwaway exercises that the grading tests copy and grade; never collected directly.
collect_ignore = ["fixtures"]
