"""Running one command: open the workspace, turn expected trouble into a message and an exit
code, and stop on SIGTERM/SIGHUP the way Ctrl-C does. Shared by the quick `seamlab check` path
(`seamlab.entry`) and every typer command (`seamlab.cli`); imports neither."""

from __future__ import annotations

from collections.abc import Callable


def call(action: Callable[..., int], *args, **kwargs) -> int:
    """Open the workspace, run a command, and turn expected trouble into a message + exit code."""
    from rich.console import Console

    from seamlab.commands import INFRA, USAGE
    from seamlab.commands.workspace import Workspace
    from seamlab.errors import SeamlabError, ServiceUnavailable

    console = Console(highlight=False)
    try:
        return action(Workspace.open(console), *args, **kwargs)
    except ServiceUnavailable as error:
        console.print(str(error), markup=False)
        return INFRA
    except SeamlabError as error:
        console.print(str(error), markup=False)
        return USAGE


def stop_on_term_and_hangup() -> None:
    """SIGTERM and SIGHUP (the terminal closed) stop a command the way Ctrl-C does, so the
    grading child is killed and its private database, Redis lease and folder are released."""
    import signal

    def interrupt(signum, frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)

    for number in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(number) is signal.SIG_DFL:
            signal.signal(number, interrupt)
