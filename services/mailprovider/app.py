"""The mail provider's HTTP API: send an email, plus a WireMock-like admin API under ``/__admin``.

``create_app(version=1)`` is the provider the sample system was written against;
``create_app(version=2)`` is a newer release of the same provider (field ``to`` renamed to
``recipient``, success is ``201 {"id"}``), used to show contract drift.

Every request to a non-admin path is written to the journal (with the status it got), and the
next calls of ``POST /api/emails/send`` can be made to fail, hang or drop the connection.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from mailprovider.journal import Fault, FaultError, FaultQueue, Journal

SEND_PATH = "/api/emails/send"
ADMIN_PREFIX = "/__admin"
#: ASGI scope extension our uvicorn protocol adds: ``{"abort": callable}`` closes the socket.
DROP_EXTENSION = "mailprovider.drop_connection"
VERSIONS = (1, 2)

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class ConnectionDropped(ConnectionError):
    """Raised to abandon a response when the server cannot close the socket for us."""


def create_app(
    version: int = 1, *, journal: Journal | None = None, faults: FaultQueue | None = None
) -> FastAPI:
    """A mail provider speaking API ``version`` (1 or 2), with its own journal and faults."""
    if version not in VERSIONS:
        raise ValueError(f"mail provider version must be one of {VERSIONS}, got {version!r}")
    journal = journal if journal is not None else Journal()
    faults = faults if faults is not None else FaultQueue()
    app = FastAPI(title=f"mail provider (API version {version})", docs_url=None, redoc_url=None)
    app.state.version = version
    app.state.journal = journal
    app.state.faults = faults
    app.add_middleware(JournalAndFaults, journal=journal, faults=faults)

    @app.post(SEND_PATH)
    async def send_email(request: Request) -> JSONResponse:
        try:
            payload = json.loads(await request.body() or b"null")
        except ValueError:
            return _invalid("the body is not valid JSON")
        problem = _check_email(payload, version)
        if problem:
            return _invalid(problem)
        message_id = f"msg_{uuid.uuid4().hex}"
        if version == 1:
            return JSONResponse({"messageId": message_id}, status_code=202)
        return JSONResponse({"id": message_id}, status_code=201)

    @app.get(f"{ADMIN_PREFIX}/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "version": version}

    @app.get(f"{ADMIN_PREFIX}/requests")
    def list_requests() -> dict[str, Any]:
        entries = journal.entries()
        return {"requests": entries, "total": len(entries)}

    @app.delete(f"{ADMIN_PREFIX}/requests")
    def clear_requests() -> dict[str, Any]:
        journal.clear()
        return {"status": "cleared"}

    @app.post(f"{ADMIN_PREFIX}/reset")
    def reset() -> dict[str, Any]:
        journal.clear()
        faults.clear()
        return {"status": "reset"}

    @app.get(f"{ADMIN_PREFIX}/faults")
    def list_faults() -> dict[str, Any]:
        return {"faults": faults.pending()}

    @app.post(f"{ADMIN_PREFIX}/faults", status_code=201)
    async def add_fault(request: Request) -> JSONResponse:
        try:
            data = json.loads(await request.body() or b"null")
            fault, times = Fault.from_json(data)
        except ValueError as error:  # FaultError and JSON errors
            reason = str(error) if isinstance(error, FaultError) else "the body is not valid JSON"
            return JSONResponse({"message": f"Invalid fault: {reason}"}, status_code=422)
        faults.add(fault, times)
        return JSONResponse({**fault.to_json(), "times": times}, status_code=201)

    return app


def _invalid(problem: str) -> JSONResponse:
    return JSONResponse({"message": f"Invalid email: {problem}"}, status_code=422)


def _check_email(payload: Any, version: int) -> str | None:
    """What is wrong with a send request, in words, or None if it is fine."""
    if not isinstance(payload, dict):
        return "send a JSON object with the recipient, subject and text"
    recipient_field = "to" if version == 1 else "recipient"
    if version == 2 and "to" in payload:
        return "unknown field 'to' (API version 2 calls the recipient 'recipient')"
    if version == 1 and "recipient" in payload:
        return "unknown field 'recipient' (API version 1 calls the recipient 'to')"
    for name in (recipient_field, "subject", "text"):
        if name not in payload:
            return f"'{name}' is required"
        if not isinstance(payload[name], str):
            return f"'{name}' must be a string, got {type(payload[name]).__name__}"
    if "@" not in payload[recipient_field].strip(" @"):
        return f"'{recipient_field}' must be an email address, got {payload[recipient_field]!r}"
    for name in ("from", "html"):
        if name in payload and not isinstance(payload[name], str):
            return f"'{name}' must be a string, got {type(payload[name]).__name__}"
    return None


class JournalAndFaults:
    """ASGI middleware: journal non-admin requests and apply programmed faults to sends."""

    def __init__(self, app: Callable, journal: Journal, faults: FaultQueue) -> None:
        self.app = app
        self.journal = journal
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        index = self.journal.record(_entry(scope, body))
        fault = None
        if scope["method"] == "POST" and scope["path"] == SEND_PATH:
            fault = self.faults.take()
        if fault is not None:
            self.journal.update(index, fault=fault.to_json())
            if fault.delay and await _client_left_during(fault.delay, receive):
                self.journal.update(index, outcome="client disconnected during the delay")
                return
            if fault.drop:
                self.journal.update(index, outcome="connection dropped without a response")
                await _drop_connection(scope, receive, send)
                return
            if fault.status is not None:
                await _send_fault_response(fault, send)
                self.journal.update(index, response_status=fault.status, outcome="fault")
                return

        async def replay() -> Message:
            nonlocal body
            if body is not None:
                message = {"type": "http.request", "body": body, "more_body": False}
                body = None
                return message
            return await receive()

        async def record_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.journal.update(index, response_status=message["status"])
            await send(message)

        await self.app(scope, replay, record_status)


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _entry(scope: Scope, body: bytes) -> dict[str, Any]:
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", []):
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        parsed = None
    return {
        "method": scope["method"],
        "path": scope["path"],
        "query": scope.get("query_string", b"").decode("latin-1"),
        "headers": headers,
        "json": parsed,
        "body": body.decode("utf-8", errors="replace"),
        "received_at": datetime.now(UTC).isoformat(),
        "response_status": None,
    }


async def _client_left_during(seconds: float, receive: Receive) -> bool:
    """Wait ``seconds`` like a slow provider; True if the client hung up before then."""

    async def until_disconnect() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    watcher = asyncio.ensure_future(until_disconnect())
    done, _ = await asyncio.wait({watcher}, timeout=seconds)
    watcher.cancel()
    return bool(done)


async def _drop_connection(scope: Scope, receive: Receive, send: Send) -> None:
    drop = scope.get("extensions", {}).get(DROP_EXTENSION)
    if drop is not None:
        drop["abort"]()
        # Returning before the server notices the lost connection would make it answer 500.
        while (await receive())["type"] != "http.disconnect":
            pass
        return
    # Another server: start a response and abandon it, so the client sees a broken reply.
    await send({"type": "http.response.start", "status": 200, "headers": []})
    raise ConnectionDropped("mail provider fault: connection dropped")


async def _send_fault_response(fault: Fault, send: Send) -> None:
    body = fault.body
    if body is None:
        try:
            phrase = HTTPStatus(fault.status).phrase
        except ValueError:
            phrase = f"HTTP {fault.status}"
        body = {"message": phrase, "injected": True}
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": fault.status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
