"""`seamlab notebook`: JupyterLab on the course folder, opening chapter 00.

The Lab is rooted at the course folder, so a chapter's pointer to ``exercises/01-date-seam`` opens
in it; the file browser lists each chapter once (the jupytext ``.py`` twin of every notebook is
hidden, and so is ``solutions/``: ``seamlab solution`` shows one when the learner asks). Its
terminals start in the course folder with the course's virtual environment first on PATH, so
``seamlab`` works there without activating anything. The chapters are trusted (their stored
outputs came from us), and Jupyter's start-up chatter and the warnings a learner cannot act on
are left out; anything else Jupyter says is shown.
"""

from __future__ import annotations

import importlib.util
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from seamlab.commands import OK, USAGE
from seamlab.commands.workspace import Workspace

#: The chapter the Lab opens on.
FIRST_CHAPTER = "notebooks/00-welcome.ipynb"
#: Jupyter's own hidden names, plus each chapter's jupytext twin and the reference solutions.
HIDDEN = ("__pycache__", "*.pyc", "*.pyo", ".DS_Store", "*~", "[0-9][0-9]-*.py", "solutions")
#: Lines of Jupyter's (and its kernels') stderr that a learner can do nothing about.
NOISE = re.compile(
    r"Kernel is running over TCP without encryption"  # a local kernel on 127.0.0.1
    r"|is not trusted"  # a notebook edited since we trusted it
    r"|WebSocket ping timeout|Websocket closed|Replacing stale connection|No session ID"
    r"|Starting buffering|Discarding \d+ buffered messages"  # a closed tab, a reconnecting one
    r"|websocket_ping_timeout|^\s+Setting websocket_ping_timeout"  # Jupyter's own defaults disagree
    # jupytext: a fresh clone gives the .ipynb and its .py arbitrary times; the inputs agree
    r"|is more recent than .*\.py|so the mismatch in timestamps was ignored"
    r"|nbclassic|Could not determine jupyterlab build status"  # extensions that are not used
)


@dataclass(frozen=True)
class Lab:
    """How JupyterLab is started: its command line, environment and first URL."""

    command: list[str]
    env: dict[str, str]
    url: str


def lab(root: Path, *, port: int, token: str, open_browser: bool) -> Lab:
    venv_bin = str(Path(sys.executable).parent)
    env = dict(os.environ)
    # Terminals inherit the server's environment. A login shell (what Jupyter starts when it
    # has no terminal of its own, as under `make start`) would reset PATH from /etc/profile:
    # start the learner's shell as a plain interactive one instead.
    env["PATH"] = os.pathsep.join([venv_bin, *(p for p in env.get("PATH", "").split(os.pathsep)
                                               if p and p != venv_bin)])
    env["VIRTUAL_ENV"] = str(Path(venv_bin).parent)
    shell = env.get("SHELL") or ("powershell.exe" if os.name == "nt" else "sh")
    hidden = "[" + ",".join(f"'{glob}'" for glob in HIDDEN) + "]"
    command = [
        sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={root}",
        f"--port={port}", "--ip=127.0.0.1", f"--IdentityProvider.token={token}",
        f"--ContentsManager.hide_globs={hidden}",
        f"--ServerApp.terminado_settings={{'shell_command': ['{shell}']}}",
        # Keep the URL above readable: Jupyter's start-up chatter is info-level.
        "--ServerApp.log_level=WARN", "--LabApp.log_level=WARN",
        # Nobody reads the news feed or an upgrade notice in the middle of a course.
        "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    command.append(FIRST_CHAPTER if open_browser else "--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    url = f"http://127.0.0.1:{port}/lab/tree/{FIRST_CHAPTER}?token={token}"
    return Lab(command=command, env=env, url=url)


def notebook(ws: Workspace, *, port: int | None = None, open_browser: bool | None = None) -> int:
    if not (ws.root / FIRST_CHAPTER).is_file():
        ws.console.print(
            f"[red]There is no {FIRST_CHAPTER} in {ws.root}.[/] Fix: run seamlab from the "
            f"course folder (or set SEAMLAB_HOME to it)."
        )
        return USAGE
    if importlib.util.find_spec("jupyterlab") is None:
        ws.console.print(
            "[red]JupyterLab is not installed in this environment.[/] Fix: "
            "`pip install -e '.[notebooks]'` (or `make start`)."
        )
        return USAGE
    if open_browser is None:
        open_browser = has_display()
    trust(ws.root)
    quiet_lab_settings()
    started = lab(ws.root, port=port or free_port(), token=secrets.token_hex(16),
                  open_browser=open_browser)
    ws.console.print(f"JupyterLab on {ws.root}, opening chapter 00")
    ws.console.print(f"Open [bold]{started.url}[/]"
                     + ("" if open_browser else "  (no display here: copy it into a browser)"),
                     soft_wrap=True)
    ws.console.print("Its terminals have `seamlab` on PATH. Stop it with Ctrl-C.")
    server = subprocess.Popen(started.command, cwd=ws.root, env=started.env,
                              stderr=subprocess.PIPE, text=True, errors="replace")
    threading.Thread(target=pass_on, args=(server.stderr, sys.stderr), daemon=True).start()
    try:
        return server.wait()
    except KeyboardInterrupt:
        stop(server)
        ws.console.print("JupyterLab stopped.")
        return OK


def trust(root: Path) -> None:
    """Sign the chapters, so Jupyter neither warns "not trusted" nor hides their outputs."""
    import nbformat
    from nbformat.sign import NotebookNotary

    notary = NotebookNotary()
    for path in sorted((root / "notebooks").glob("[0-9][0-9]-*.ipynb")):
        try:
            notary.sign(nbformat.read(path, as_version=4))
        except Exception:  # a notebook being rewritten, a read-only signature store: harmless
            continue


#: JupyterLab settings for the course's Lab: no "get notified about Jupyter news?" question and no
#: update check on a learner's first screen.
LAB_SETTINGS = {"@jupyterlab/apputils-extension:notification":
                {"fetchNews": "false", "checkForUpdates": False}}


def quiet_lab_settings() -> None:
    """Install :data:`LAB_SETTINGS` as defaults of this environment's JupyterLab (an
    ``overrides.d`` file under ``sys.prefix``; a learner can still change them in the Lab)."""
    import json

    folder = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.d"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "seamlab.json").write_text(json.dumps(LAB_SETTINGS, indent=2) + "\n")
    except OSError:  # a read-only environment: the Lab just asks its question
        pass


def pass_on(lines, out) -> None:
    """Copy Jupyter's stderr to ``out``, without the lines in :data:`NOISE`."""
    for line in lines:
        if not NOISE.search(line):
            out.write(line)
            out.flush()


def stop(server: subprocess.Popen) -> None:
    """One Ctrl-C stops JupyterLab: a second SIGINT skips its "are you sure?" question."""
    if server.poll() is None:
        server.send_signal(signal.SIGINT)
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.terminate()
        server.wait(timeout=10)


def has_display() -> bool:
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
