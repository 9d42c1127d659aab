"""`seamlab notebook`: JupyterLab on the course notebooks, with the URL printed when headless."""

from __future__ import annotations

import importlib.util
import os
import secrets
import signal
import socket
import subprocess
import sys

from seamlab.commands import OK, USAGE
from seamlab.commands.workspace import Workspace


def notebook(ws: Workspace, *, port: int | None = None, open_browser: bool | None = None) -> int:
    folder = ws.root / "notebooks"
    if not folder.is_dir():
        ws.console.print(
            f"[red]There is no notebooks/ folder in {ws.root}.[/] Fix: run seamlab from the "
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
    port = port or free_port()
    token = secrets.token_hex(16)
    command = [
        sys.executable, "-m", "jupyter", "lab", f"--notebook-dir={folder}",
        f"--port={port}", "--ip=127.0.0.1", f"--IdentityProvider.token={token}",
        # Keep the URL above readable: Jupyter's start-up chatter is info-level.
        "--ServerApp.log_level=WARN", "--LabApp.log_level=WARN",
    ]
    if not open_browser:
        command.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    url = f"http://127.0.0.1:{port}/lab?token={token}"
    ws.console.print(f"JupyterLab on {folder}")
    ws.console.print(f"Open [bold]{url}[/]" + ("" if open_browser else "  (no display here: copy it into a browser)"))
    ws.console.print("Stop it with Ctrl-C.")
    server = subprocess.Popen(command)
    try:
        return server.wait()
    except KeyboardInterrupt:
        stop(server)
        ws.console.print("JupyterLab stopped.")
        return OK


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
