"""Small helpers the course notebooks import: a private sandbox, pytest runs, timings, a plot.

A notebook kernel is a long-lived process that a learner re-runs cell by cell, in any order. So
everything here is safe to call twice, keeps its state private to the kernel, and prints short,
stable summaries (nbval compares stored outputs with fresh ones).

- :func:`ready` finds the services the one way the project does (``Settings.from_env()`` and
  ``seamlab.backends.wait_ready``) and prints which ones answer.
- :func:`sandbox` gives the kernel its own Postgres database (cloned from the course template)
  and its own Redis database, both dropped when the kernel exits.
- :func:`workdir` is the kernel's scratch folder. Chapters write the code they show into it with
  IPython's ``%%writefile {work}/name.py`` cell magic, so the code is a real, highlighted cell
  (not a string); while the kernel uses the folder, writing there is silent (no "Writing
  /tmp/..." line, which would differ on every run).
- :func:`run_tests` runs pytest on files in that folder in a subprocess with only the seamlab
  plugin loaded, then prints one line per test; :func:`run_pytest` does the same for sources
  given as strings.
- :func:`per_call_ms` and :func:`bar_chart` are the timing and plotting helpers behind the
  measured plot in the state chapter.
"""

from __future__ import annotations

import atexit
import io
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager, redirect_stdout, suppress
from dataclasses import dataclass, field
from pathlib import Path

from seamlab.config import Settings

# Starlette asks FastAPI users to move the TestClient to another HTTP library; the notice is
# about a future version, not about the learner's code, and would show up as a cell's stderr.
warnings.filterwarnings("ignore", message=r"Using `httpx` with `starlette.testclient`")

# --- finding the services --------------------------------------------------------------------


def ready(
    services: Sequence[str] = ("postgres", "redis"),
    timeout: float = 15.0,
    quiet: bool = False,
) -> Settings:
    """Wait until ``services`` answer and return the settings; print one line per service.

    Raises :class:`seamlab.errors.ServiceUnavailable` (one line: where, why, the fix) when one
    does not answer within ``timeout`` seconds.
    """
    from seamlab.backends import wait_ready

    settings = Settings.from_env()
    wait_ready(settings, services=tuple(services), timeout=timeout)
    if not quiet:
        for service in services:
            print(f"{service:<9} ready at {where(settings, service)}")
    return settings


def services_status(
    services: Sequence[str] = ("postgres", "redis", "rabbitmq", "mail"),
    timeout: float = 15.0,
) -> Settings | None:
    """Print which of ``services`` answer and, for each one that does not, what to do; never
    raises. Returns the settings (None when a ``TEST_*`` variable cannot be used).

    The welcome chapter's first cell: a learner on a laptop without RabbitMQ reads one line
    about it and goes on; the cells that need it say so again (:func:`needs`).
    """
    from seamlab.backends import wait_ready
    from seamlab.errors import SeamlabError

    try:
        settings = Settings.from_env()
    except SeamlabError as error:
        print(f"The course settings cannot be used: {error}")
        return None
    down: list[str] = []
    for service in services:
        try:
            wait_ready(settings, services=(service,), timeout=timeout)
        except SeamlabError as error:
            down.append(service)
            print(f"{service:<9} NOT running: {error}")
            continue
        print(f"{service:<9} ready at {where(settings, service)}")
    if down:
        print(_missing_advice(down))
    return settings


def needs(*services: str, timeout: float = 15.0) -> bool:
    """True when every one of ``services`` answers; else print one line (what this cell needs,
    what is missing, the fix) and return False, so a cell can skip its work without a traceback::

        if lab.needs("rabbitmq"):
            ...
    """
    from seamlab.backends import TITLES, wait_ready
    from seamlab.errors import SeamlabError

    try:
        settings = Settings.from_env()
        wait_ready(settings, services=services, timeout=timeout)
    except SeamlabError as error:
        named = " and ".join(TITLES.get(s, s) for s in services)
        print(f"Skipped: this cell needs {named}. {error}")
        return False
    return True


def _missing_advice(down: Sequence[str]) -> str:
    from seamlab.backends import TITLES, who_needs

    titles = " and ".join(TITLES.get(s, s) for s in down)
    users = "; ".join(filter(None, (who_needs(s) for s in down)))
    waits = f" Used by {users}; everything else works." if users else ""
    return (
        f"Not running: {titles}.{waits} Cells that need it say so in one line and skip. "
        "Start it with `seamlab up` in a terminal (it prints the command that installs a missing "
        "server), then re-run this cell."
    )


def where(settings: Settings, service: str) -> str:
    """host:port of ``service`` in ``settings`` (for messages)."""
    return {
        "postgres": settings.db_where,
        "redis": settings.redis_where,
        "rabbitmq": settings.amqp_where,
        "mail": settings.mail_where,
    }[service]


# --- a private sandbox per kernel ------------------------------------------------------------


@dataclass
class Sandbox:
    """A private database and Redis db for one notebook kernel (see :func:`sandbox`)."""

    settings: Settings
    database: str
    redis_db: int
    _stack: ExitStack = field(repr=False)
    _engine: object = field(default=None, repr=False)
    _redis: object = field(default=None, repr=False)

    @property
    def engine(self):
        """A SQLAlchemy engine (psycopg 3) on the sandbox database, created on first use."""
        if self._engine is None:
            from sqlalchemy import create_engine

            self._engine = create_engine(self.settings.db_url(), pool_size=2, max_overflow=2)
        return self._engine

    @property
    def redis(self):
        """A ``redis.Redis`` client (bytes, like production code) on the sandbox Redis db."""
        if self._redis is None:
            import redis

            self._redis = redis.Redis.from_url(self.settings.redis_url)
        return self._redis

    def connect(self):
        """A new autocommit psycopg connection to the sandbox database (close it yourself)."""
        import psycopg

        return psycopg.connect(self.settings.db_conninfo(), autocommit=True)

    def close(self) -> None:
        """Dispose of connections and drop the database and Redis db (safe to call twice)."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        if self._redis is not None:
            self._redis.close()
            self._redis = None
        self._stack.close()

    def __str__(self) -> str:
        return (
            "sandbox ready: a private Postgres database and Redis db for this notebook, "
            "dropped when the kernel stops"
        )


_SANDBOX: Sandbox | None = None
SANDBOX_PREFIX = "seamlab_nb"


def sandbox(services: Sequence[str] = ("postgres", "redis"), timeout: float = 15.0) -> Sandbox:
    """The kernel's private sandbox, created on the first call and reused after that.

    The database is cloned from the course template (``seamlab.isolation``); the Redis db is a
    leased index, flushed before and after. Both go away at kernel exit; a kernel that was
    killed leaves a database named after its pid, which the next sandbox (in any notebook)
    drops, and a Redis lease that is reclaimed once its pid is gone.
    """
    global _SANDBOX
    if _SANDBOX is not None:
        return _SANDBOX
    from seamlab.isolation import drop_stale_databases, private_database, private_redis_db

    settings = ready(services, timeout=timeout, quiet=True)
    # Kernels are often killed rather than asked to exit (nbval, "Restart kernel"), so atexit
    # does not always run: sweep up databases of notebook kernels that are gone.
    drop_stale_databases(settings, SANDBOX_PREFIX)
    stack = ExitStack()
    try:
        database = stack.enter_context(private_database(settings, prefix=SANDBOX_PREFIX))
        redis_db = stack.enter_context(private_redis_db(settings))
    except BaseException:
        stack.close()
        raise
    _SANDBOX = Sandbox(
        settings=settings.with_database(database).with_redis_db(redis_db),
        database=database,
        redis_db=redis_db,
        _stack=stack,
    )
    atexit.register(_close_sandbox)
    return _SANDBOX


def _close_sandbox() -> None:
    global _SANDBOX
    if _SANDBOX is not None:
        box, _SANDBOX = _SANDBOX, None
        with suppress(Exception):  # at exit a service may already be gone
            box.close()


# --- servers in the kernel --------------------------------------------------------------------

_SERVERS: list = []


def mail_provider(version: int = 1):
    """A private mail provider (real HTTP, own journal) for this kernel, on a free port.

    Returns the started ``mailprovider.server.MailProviderServer``; ``.url`` is its address and
    ``.handle()`` drives its admin API (journal, faults). It stops when the kernel exits. A
    private one keeps this notebook's journal free of other people's emails.
    """
    from mailprovider.server import MailProviderServer

    return _keep(MailProviderServer(port=0, version=version).start())


def serve(app, name: str = "app server"):
    """Run an ASGI ``app`` on a real socket (uvicorn in a thread); stopped at kernel exit."""
    from mailprovider.server import AppServer

    return _keep(AppServer(app, name=name).start())


def _keep(server):
    if not _SERVERS:
        atexit.register(_stop_servers)
    _SERVERS.append(server)
    return server


def _stop_servers() -> None:
    while _SERVERS:
        with suppress(Exception):  # stopping at exit is best effort
            _SERVERS.pop().stop()


def show_logs(*names: str, level: int = logging.INFO) -> None:
    """Print log records of the named loggers to stdout as ``LEVEL name: message``.

    Without this, Python's last-resort handler writes warnings to stderr with no name, and a
    notebook check treats stderr as part of the output. Safe to call again.
    """
    for name in names or ("signup",):
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.propagate = False
        for handler in list(logger.handlers):
            if getattr(handler, "_seamlab_lab", False):
                logger.removeHandler(handler)
        handler = logging.StreamHandler(_Stdout())
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handler._seamlab_lab = True
        logger.addHandler(handler)


class _Stdout:
    """Resolve sys.stdout at write time (Jupyter swaps it per cell)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


@contextmanager
def muted_fd_stdout() -> Iterator[None]:
    """Silence output written straight to file descriptor 1 (by native code, e.g. Pact's
    verifier), which Jupyter would otherwise show with timings that change on every run.
    Python's own ``print`` still works inside the block."""
    sys.stdout.flush()
    saved = os.dup(1)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    try:
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(null)


# --- a scratch folder for the code a chapter shows ------------------------------------------

_WORKDIR: Path | None = None
WORKDIR_PREFIX = "seamlab_lab_"


def _sweep_workdirs_of_gone_kernels() -> None:
    """Remove scratch folders of kernels that were killed (atexit never ran for them)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{WORKDIR_PREFIX}*_*"):
        pid = folder.name[len(WORKDIR_PREFIX) :].split("_", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def workdir() -> Path:
    """This kernel's scratch folder (created on the first call, removed at kernel exit).

    A chapter writes the modules and tests it shows into it with a ``%%writefile`` cell::

        %%writefile {work}/test_booking.py
        def test_...

    and runs them with :func:`run_tests`. In IPython, the first call also makes
    ``%%writefile`` quiet for files in this folder: its usual "Writing /tmp/..." line names a
    temporary path, which changes on every run.
    """
    global _WORKDIR
    if _WORKDIR is None or not _WORKDIR.is_dir():
        _sweep_workdirs_of_gone_kernels()
        _WORKDIR = Path(tempfile.mkdtemp(prefix=f"{WORKDIR_PREFIX}{os.getpid()}_"))
        atexit.register(shutil.rmtree, _WORKDIR, True)
    _quiet_writefile_in(_WORKDIR)
    return _WORKDIR


def _quiet_writefile_in(folder: Path) -> None:
    """Wrap IPython's ``%%writefile`` so that writing inside ``folder`` prints nothing."""
    try:
        from IPython import get_ipython
    except ImportError:  # not in a notebook: nothing to quiet
        return
    shell = get_ipython()
    if shell is None:
        return
    original = shell.find_cell_magic("writefile")
    if original is None or getattr(original, "_seamlab_quiet", False):
        return

    def writefile(line: str, cell: str):
        if str(folder) not in line:
            return original(line, cell)
        with redirect_stdout(io.StringIO()):
            return original(line, cell)

    writefile._seamlab_quiet = True
    writefile.__doc__ = original.__doc__
    shell.register_magic_function(writefile, magic_kind="cell", magic_name="writefile")


# --- running pytest on small files -----------------------------------------------------------


@dataclass(frozen=True)
class TestOutcome:
    """One test's result: ``file::name``, outcome, and the first line of its failure."""

    nodeid: str
    outcome: str  # "passed", "failed", "error", "skipped"
    message: str = ""


@dataclass
class PytestRun:
    """What :func:`run_pytest` saw: outcomes per test and pytest's exit code."""

    outcomes: list[TestOutcome]
    exit_code: int
    output: str = field(repr=False, default="")

    @property
    def passed(self) -> bool:
        return self.exit_code == 0

    def count(self, outcome: str) -> int:
        return sum(1 for item in self.outcomes if item.outcome == outcome)

    def summary(self) -> str:
        lines = []
        for item in self.outcomes:
            lines.append(f"{item.outcome.upper():<7} {item.nodeid}")
            if item.message:
                lines.append(textwrap.indent(textwrap.fill(item.message, 88), "        "))
        parts = [
            f"{self.count(name)} {name}"
            for name in ("passed", "failed", "error", "skipped")
            if self.count(name)
        ]
        total = len(self.outcomes)
        lines.append(f"{total} test{'s' if total != 1 else ''}: " + ", ".join(parts or ["none"]))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def run_tests(
    *paths: str,
    args: Iterable[str] = (),
    plugins: Iterable[str] = ("seamlab.pytest_plugin",),
    env: Mapping[str, str] | None = None,
    timeout: float = 60.0,
    show: bool = True,
) -> PytestRun:
    """Run pytest on ``paths`` (names in :func:`workdir`; all of it when none are given).

    pytest runs in a subprocess, in the scratch folder, with plugin autoloading switched off
    and only ``plugins`` loaded (fast, and immune to whatever else is installed); a
    ``conftest.py`` written there applies. Prints a stable summary unless ``show`` is false;
    the result keeps pytest's full output in ``.output`` for when you want to read it.
    """
    return _run_in(workdir(), list(paths), args, plugins, env, timeout, show)


def run_pytest(
    files: Mapping[str, str],
    args: Iterable[str] = (),
    plugins: Iterable[str] = ("seamlab.pytest_plugin",),
    env: Mapping[str, str] | None = None,
    timeout: float = 60.0,
    show: bool = True,
) -> PytestRun:
    """Write ``files`` (name -> source) to a fresh temporary folder and run pytest on it.

    Like :func:`run_tests`, for code built as strings. Sources are dedented, so they can be
    indented triple-quoted strings. Prefer ``%%writefile`` cells and :func:`run_tests` in
    chapters: a learner reads code in a code cell, not in a string.
    """
    with tempfile.TemporaryDirectory(prefix="seamlab_lab_files_") as folder:
        root = Path(folder)
        for name, source in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(source).lstrip("\n"))
        return _run_in(root, [], args, plugins, env, timeout, show)


def _run_in(
    root: Path,
    paths: list[str],
    args: Iterable[str],
    plugins: Iterable[str],
    env: Mapping[str, str] | None,
    timeout: float,
    show: bool,
) -> PytestRun:
    from seamlab import pytest_child

    with tempfile.TemporaryDirectory(prefix="seamlab_lab_report_") as reports:
        report = Path(reports) / "report.xml"
        command = ["-q", "-p", "no:cacheprovider"]
        for plugin in plugins:
            command += ["-p", plugin]
        command += ["--rootdir", str(root), f"--junitxml={report}", *args, *paths]
        child_env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", **(env or {})}
        child_env.pop("PYTEST_ADDOPTS", None)
        # A file rewritten within the same second keeps its size and mtime often enough for
        # a cached .pyc to win over the new source: write no bytecode for these small files.
        child_env["PYTHONDONTWRITEBYTECODE"] = "1"
        spec = pytest_child.ChildSpec(
            args=command, cwd=root, env=child_env, python_flags=(),
            limits=pytest_child.Limits(wall=timeout), output_dir=Path(reports),
            merge_output=False)
        finished = pytest_child.run(spec)
        if finished.timed_out:
            raise subprocess.TimeoutExpired(command, timeout)
        cases = pytest_child.read_junit(report) or []
        outcomes = [TestOutcome(case.nodeid, case.outcome, case.message) for case in cases]
        stdout, stderr = finished.output, finished.tail(10**7, "stderr")
        returncode = finished.returncode
    # Messages name files by their path in the (temporary) folder: keep just their names.
    folder = f"{root}{os.sep}"
    outcomes = [
        TestOutcome(item.nodeid, item.outcome, item.message.replace(folder, ""))
        for item in outcomes
    ]
    run = PytestRun(outcomes, returncode, stdout + stderr)
    if not outcomes and returncode not in (0, 5):
        # pytest could not even collect: show its own words, they name the problem.
        words = _last_lines(run.output).replace(folder, "")
        run.outcomes.append(TestOutcome("(collection)", "error", words))
    if show:
        print(run.summary())
    return run


def _last_lines(text: str, count: int = 3) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return " | ".join(lines[-count:])


# --- timing and the measured plot ------------------------------------------------------------


def per_call_ms(
    action: Callable[[], object],
    repeat: int = 20,
    setup: Callable[[], object] | None = None,
) -> float:
    """Median wall time of ``action()`` in milliseconds over ``repeat`` calls.

    ``setup()`` runs before each call and is not timed (e.g. insert the rows a test would
    leave behind, then time only the cleanup). One untimed warm-up call comes first.
    """
    samples = []
    for index in range(repeat + 1):
        if setup is not None:
            setup()
        started = time.perf_counter()
        action()
        elapsed = (time.perf_counter() - started) * 1000
        if index:
            samples.append(elapsed)
    return statistics.median(samples)


def bar_chart(figures: Mapping[str, float], title: str, unit: str = "ms per test"):
    """A horizontal bar chart of ``figures`` (label -> value) on a log axis; returns the figure.

    Matplotlib's first import on a fresh machine logs that it is building a font cache; that
    notice is silenced here so it cannot show up as unexpected stderr in a notebook check.
    """
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    import matplotlib.pyplot as plt

    labels = list(figures)
    values = [figures[label] for label in labels]
    fig, ax = plt.subplots(figsize=(8, 0.6 * len(labels) + 1.2))
    bars = ax.barh(labels, values, color="#4c72b0")
    ax.set_xscale("log")
    ax.invert_yaxis()
    ax.set_xlabel(f"{unit} (log scale)")
    ax.set_title(title)
    for bar, value in zip(bars, values):
        ax.text(value * 1.08, bar.get_y() + bar.get_height() / 2, f"{value:.2f}", va="center")
    ax.set_xlim(min(values) / 2, max(values) * 4)
    fig.tight_layout()
    return fig
