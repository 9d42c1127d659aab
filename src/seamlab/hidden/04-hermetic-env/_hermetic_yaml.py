"""Reading docker-compose and GitHub Actions files as data, for the checks of exercise 04.

Everything here works on the parsed YAML (PyYAML), never on the text with regexes: a file can
spell the same thing many ways (lists or mappings, short or long port syntax, CMD or CMD-SHELL),
and every spelling that means the right thing must pass.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

DEFAULT_PORTS = {"postgres": 5432, "redis": 6379}
KIND_LABELS = {"postgres": "Postgres", "redis": "Redis"}
#: A health check must keep trying at least this long before it declares a service dead.
MIN_PATIENCE_S = 15.0
#: ...and look often enough that the tests do not idle once the service is up.
MAX_INTERVAL_S = 10.0
#: Docker's defaults when a health check leaves them out.
DOCKER_INTERVAL_S = 30.0
DOCKER_RETRIES = 3


def load_yaml(path: Path, label: str) -> dict[str, Any]:
    if not path.is_file():
        raise AssertionError(
            f"There is no {label} at {path}. Restore it with `seamlab reset 04` and edit it again."
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise AssertionError(f"{label} is not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise AssertionError(  # noqa: TRY004 - a failed check, shown to the learner
            f"{label} should be a YAML mapping at the top, got {type(data).__name__}"
        )
    return data


def image_kind(image: Any) -> str | None:
    """'postgres' for postgres/postgis images, 'redis' for redis images, else None."""
    if not isinstance(image, str):
        return None
    name = image.rsplit("/", 1)[-1].split(":", 1)[0].split("@", 1)[0].lower()
    if "postgres" in name or "postgis" in name:
        return "postgres"
    if "redis" in name or "valkey" in name:
        return "redis"
    return None


def env_mapping(environment: Any) -> dict[str, str]:
    """`environment:` / `env:` as a dict, from either the mapping or the list (`A=b`) form."""
    if isinstance(environment, dict):
        return {str(k): "" if v is None else str(v) for k, v in environment.items()}
    if isinstance(environment, list):
        pairs = {}
        for item in environment:
            name, _, value = str(item).partition("=")
            pairs[name.strip()] = value
        return pairs
    return {}


def seconds(value: Any) -> float | None:
    """Docker durations: '1s', '500ms', '1m30s', '2.5s' (a bare number counts as seconds)."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip().lower()
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        try:
            return float(text)
        except ValueError:
            return None
    return sum(float(number) * units[unit] for number, unit in parts)


def split_command(command: Any) -> list[str]:
    if isinstance(command, list):
        return [str(part) for part in command]
    if isinstance(command, str):
        try:
            return shlex.split(command)
        except ValueError:
            return command.split()
    return []


def compose_check_command(test: Any) -> str | None:
    """The command a compose `healthcheck.test` runs, as one string; None when disabled/absent."""
    if isinstance(test, str):
        return test
    if isinstance(test, list) and test:
        head = str(test[0]).upper()
        if head == "NONE":
            return None
        if head == "CMD-SHELL":
            return " ".join(str(part) for part in test[1:])
        if head == "CMD":
            return shlex.join(str(part) for part in test[1:])
        return shlex.join(str(part) for part in test)
    return None


def _has_host_option(tokens: list[str]) -> bool:
    for token in tokens:
        if token in ("-h", "--host") or token.startswith("--host="):
            return True
        if token.startswith("-h") and len(token) > 2 and not token.startswith("--"):
            return True
    return False


def probe_problem(kind: str, command: str | None) -> str | None:
    """Why `command` is not a real readiness probe for a `kind` server, or None when it is."""
    label = KIND_LABELS[kind]
    if not command or not command.strip():
        return f"it has no health check command, so nothing ever asks {label} whether it is ready"
    tokens = split_command(command.replace(";", " ; ").replace("&&", " && ").replace("||", " || "))
    words = [token.rsplit("/", 1)[-1].lower() for token in tokens]
    if kind == "postgres":
        if "pg_isready" in words or "psql" in words:
            if not _has_host_option(tokens):
                tool = "pg_isready" if "pg_isready" in words else "psql"
                return (
                    f"its health check `{command}` runs {tool} without -h, so it asks over the "
                    f"Unix socket. While the postgres image initialises a new database it runs a "
                    f"temporary server that listens on the socket only, then stops it and starts "
                    f"the real one: the socket check says 'ready' too early and the first test "
                    f"connection over TCP fails. Add -h 127.0.0.1 so the check uses TCP, like "
                    f"the tests"
                )
            return None
        return (
            f"its health check `{command}` does not ask Postgres anything; use "
            f"`pg_isready -h 127.0.0.1 -U <user>`, which succeeds only when the server accepts "
            f"connections"
        )
    if "redis-cli" in words and "ping" in words:
        return None
    return (
        f"its health check `{command}` does not ask Redis anything; use `redis-cli ping`, "
        f"which succeeds only when Redis answers"
    )


def patience_problem(interval: float | None, retries: Any, start_period: float | None,
                     where: str) -> str | None:
    interval_s = DOCKER_INTERVAL_S if interval is None else interval
    if interval_s > MAX_INTERVAL_S:
        shown = (
            "not set, so Docker's default of 30 s applies"
            if interval is None
            else f"{interval_s:g} s"
        )
        return (
            f"{where}: the check interval is {shown}; the first check only runs after one "
            f"interval, so every run idles that long. Check every second or two"
        )
    try:
        retries_n = DOCKER_RETRIES if retries is None else int(retries)
    except (TypeError, ValueError):
        return f"{where}: retries {retries!r} is not a number"
    patience = (start_period or 0.0) + interval_s * retries_n
    if patience < MIN_PATIENCE_S:
        return (
            f"{where}: it gives up after about {patience:g} s ({retries_n} retries every "
            f"{interval_s:g} s), and a database initialising on a busy CI machine can take "
            f"longer: raise the retries (or a start period) to allow at least "
            f"{MIN_PATIENCE_S:g} s"
        )
    return None


def published_ports(ports: Any) -> list[tuple[int | None, int | None]]:
    """(host port, container port) for each entry of a compose/Actions `ports:` list."""
    found: list[tuple[int | None, int | None]] = []
    for entry in ports or []:
        if isinstance(entry, dict):
            found.append((_port(entry.get("published")), _port(entry.get("target"))))
            continue
        text = str(entry).split("/", 1)[0]
        parts = text.rsplit(":", 2)
        if len(parts) == 1:
            found.append((None, _port(parts[0])))
        else:
            found.append((_port(parts[-2]), _port(parts[-1])))
    return found


def _port(value: Any) -> int | None:
    try:
        return int(str(value).strip().strip('"'))
    except (TypeError, ValueError):
        return None


def url_host_port(url: str, default_port: int) -> tuple[str | None, int | str | None]:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = parts.netloc.rsplit(":", 1)[-1]
    return parts.hostname, port or default_port


def runs_pytest(command: Any) -> bool:
    if isinstance(command, list):
        command = " ".join(str(part) for part in command)
    return isinstance(command, str) and "pytest" in command
