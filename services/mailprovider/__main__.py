"""``python -m mailprovider --host 127.0.0.1 --port 8025 [--version 2]``: serve until stopped."""

from __future__ import annotations

import argparse
import socket
import sys

VERSIONS = (1, 2)  # mailprovider.app.VERSIONS; not imported so a busy port is reported at once


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m mailprovider",
        description="A fake email provider with a request journal and programmable faults.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8025, help="port to listen on (0 = any)")
    parser.add_argument(
        "--version",
        type=int,
        choices=VERSIONS,
        default=1,
        help="API version: 2 renames 'to' to 'recipient' and answers 201",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
    except OSError as error:
        print(
            f"mail provider: cannot listen on {args.host}:{args.port} ({error.strerror}). "
            "Fix: stop whatever uses that port, or pass another --port.",
            file=sys.stderr,
        )
        return 2
    port = sock.getsockname()[1]
    import uvicorn

    from mailprovider.app import create_app
    from mailprovider.server import DroppingH11Protocol

    print(f"mail provider (API version {args.version}) on http://{args.host}:{port}", flush=True)
    config = uvicorn.Config(
        create_app(args.version),
        http=DroppingH11Protocol,
        lifespan="off",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=2,
    )
    uvicorn.Server(config).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
