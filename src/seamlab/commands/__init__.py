"""What each learner command does. ``seamlab.cli`` parses arguments and calls these.

Every function takes the resolved course, progress and a console, prints for a person and
returns the process exit code. ``services.py`` (up, down, doctor) belongs to the backends.
"""

#: Exit codes shared by the commands (scripts and CI rely on them).
OK = 0
FAILED = 1  # the exercise does not pass (yet)
USAGE = 2  # no such exercise, bad manifest, gated command
INFRA = 3  # a service is down: not the learner's fault
