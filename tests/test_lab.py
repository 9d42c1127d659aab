"""`seamlab notebook` as a learner meets it: the real JupyterLab server on the course folder.

One server for the module (started as `seamlab notebook` would start it, with no terminal of its
own, as under `make start`): its contents API and a real Lab terminal over its websocket.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from seamlab.commands import notebook as command

ROOT = Path(__file__).resolve().parents[1]


VENV_BIN = str(Path(os.sys.executable).parent)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    log = (tmp_path_factory.mktemp("lab") / "stderr.log").open("w+")
    token = secrets.token_hex(8)
    port = command.free_port()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", "/usr/bin:/bin")  # as if the venv had never been activated
        started = command.lab(ROOT, port=port, token=token, open_browser=False)
    process = subprocess.Popen(started.command, cwd=ROOT, env=started.env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=log, text=True,
                               start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            get(base, token, "/api/status")
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                log.seek(0)
                pytest.fail(f"JupyterLab did not answer: {log.read()[-2000:]}")
            time.sleep(0.5)
    yield base, token, started
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


def get(base: str, token: str, path: str, data: bytes | None = None) -> dict:
    request = urllib.request.Request(f"{base}{path}", data=data,
                                     headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")


def names(base: str, token: str, folder: str) -> set[str]:
    return {item["name"] for item in get(base, token, f"/api/contents/{folder}")["content"]}


def test_the_lab_opens_chapter_00_from_the_course_folder(server):
    base, token, started = server

    assert started.url.startswith(f"{base}/lab/tree/notebooks/00-welcome.ipynb?token=")
    assert {"exercises", "notebooks", "course.toml"} <= names(base, token, "")
    assert "README.md" in names(base, token, "exercises/01-date-seam")


def test_the_file_browser_lists_each_chapter_once_and_no_solutions(server):
    base, token, _ = server
    listed = names(base, token, "notebooks")

    assert "00-welcome.ipynb" in listed and "00-welcome.py" not in listed
    assert not [name for name in listed if name.endswith(".py") and name[:2].isdigit()]
    assert ".reference" not in listed
    assert "solutions" not in names(base, token, "")
    assert "validation.py" in names(base, token, "exercises/01-date-seam")  # the learner's code


def test_a_lab_terminal_runs_seamlab_without_activating_anything(server):
    from tornado.httpclient import HTTPRequest
    from tornado.ioloop import IOLoop
    from tornado.websocket import websocket_connect

    base, token, _ = server
    name = get(base, token, "/api/terminals", data=b"")["name"]

    async def run() -> str:
        url = f"{base.replace('http', 'ws')}/terminals/websocket/{name}"
        socket = await websocket_connect(HTTPRequest(url, headers={"Authorization": f"token {token}"}))
        await socket.write_message(json.dumps(["stdin", "command -v seamlab; seamlab list >/dev/null && echo DONE-$((6*7))\r"]))
        seen = ""
        deadline = time.monotonic() + 60
        while "DONE-42" not in seen and time.monotonic() < deadline:
            message = await socket.read_message()
            if message is None:
                break
            kind, *rest = json.loads(message)
            if kind == "stdout":
                seen += rest[0]
        socket.close()
        return seen

    seen = IOLoop.current().run_sync(run, timeout=90)

    assert "DONE-42" in seen, seen
    assert f"{VENV_BIN}/seamlab" in seen, seen
