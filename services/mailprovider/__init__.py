"""A fake email provider for the course: a real HTTP server with a journal and faults.

``create_app(version)`` (the ASGI app), ``MailProviderServer`` (run it in a thread) and
``MailProviderHandle`` (drive its admin API) are the parts tests use.
"""

from __future__ import annotations

__all__ = ["MailProviderHandle", "MailProviderServer", "create_app"]


def __getattr__(name: str):  # lazy: importing the package must not import FastAPI/uvicorn
    if name == "create_app":
        from mailprovider.app import create_app

        return create_app
    if name == "MailProviderServer":
        from mailprovider.server import MailProviderServer

        return MailProviderServer
    if name == "MailProviderHandle":
        from mailprovider.admin import MailProviderHandle

        return MailProviderHandle
    raise AttributeError(f"module 'mailprovider' has no attribute {name!r}")
