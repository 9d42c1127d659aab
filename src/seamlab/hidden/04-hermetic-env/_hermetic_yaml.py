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
from urllib.parse import unquote, urlsplit

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


#: A GitHub Actions expression, `${{ ... }}`: its value is known only on the runner.
EXPRESSION = re.compile(r"\$\{\{.*?\}\}", re.DOTALL)


def _option_value(tokens: list[str], short: str, long: str) -> str | None:
    """The last value given to `-h x`, `-hx`, `--host x` or `--host=x` (None when absent)."""
    value = None
    for index, token in enumerate(tokens):
        if token in (short, long):
            value = tokens[index + 1] if index + 1 < len(tokens) else ""
        elif token.startswith(long + "="):
            value = token[len(long) + 1:]
        elif token.startswith(short) and len(token) > 2 and not token.startswith("--"):
            value = token[2:]
    return value


def _conninfo_host(conninfo: str) -> str | None:
    """The host a libpq connection string names: URI (`postgresql://u@host/db`, `?host=`) or
    key/value (`host=127.0.0.1 dbname=x`); `hostaddr` always means TCP. None when it names none."""
    if conninfo.startswith(("postgresql://", "postgres://")):
        parts = urlsplit(EXPRESSION.sub("expr", conninfo))
        query = dict(pair.partition("=")[::2] for pair in parts.query.split("&") if pair)
        if query.get("hostaddr"):
            return query["hostaddr"]
        if query.get("host"):
            return unquote(query["host"])
        netloc = parts.netloc.rpartition("@")[2]
        host = netloc.rsplit(":", 1)[0] if netloc.count(":") == 1 else netloc
        return unquote(host) or None
    pairs = dict(re.findall(r"(\w+)\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", conninfo))
    if pairs.get("hostaddr"):
        return pairs["hostaddr"]
    host = pairs.get("host")
    return host.strip("'") if host else None


def _over_tcp(host: str | None) -> bool:
    """libpq: an empty host or one starting with `/` (or `@`) is a Unix socket; the rest is TCP."""
    return bool(host) and not host.startswith(("/", "@"))


def probe_host(tokens: list[str], tool: str, environment: dict[str, str] | None = None) -> str | None:
    """The host `pg_isready`/`psql` in `tokens` connects to, the way libpq decides it: `-h`, then
    a connection string in `-d`/`--dbname` (or psql's first argument), then PGHOST (set inline,
    with `env`, or in the container's environment). None means the Unix socket."""
    words = [token.rsplit("/", 1)[-1].lower() for token in tokens]
    start = words.index(tool)
    args = tokens[start + 1:]
    for stop, token in enumerate(args):
        if token in (";", "&&", "||", "|"):
            args = args[:stop]
            break
    inline = {}
    for token in tokens[:start]:
        name, equals, value = token.partition("=")
        if equals and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            inline[name] = value
    host = _option_value(args, "-h", "--host")
    dbname = _option_value(args, "-d", "--dbname")
    if dbname is None and tool == "psql":
        options_with_values = {"-c", "-U", "-p", "-f", "-v", "--command", "--username", "--port"}
        positional = [a for i, a in enumerate(args) if not a.startswith("-")
                      and (i == 0 or args[i - 1] not in options_with_values)]
        dbname = positional[0] if positional else None
    if host is None and dbname and ("=" in dbname or "://" in dbname):
        host = _conninfo_host(dbname)
    if host is None:
        host = inline.get("PGHOST") or inline.get("PGHOSTADDR")
    if host is None and environment:
        host = environment.get("PGHOST") or environment.get("PGHOSTADDR")
    return host


def _names_a_tool(script: str) -> bool:
    return re.search(r"(^|[\s/])(pg_isready|psql|redis-cli)(\s|$)", script) is not None


def probe_problem(kind: str, command: str | None,
                  environment: dict[str, str] | None = None) -> str | None:
    """Why `command` is not a real readiness probe for a `kind` server, or None when it is.

    ``environment`` is the container's (a PGHOST there counts, as it does for the command)."""
    label = KIND_LABELS[kind]
    if not command or not command.strip():
        return f"it has no health check command, so nothing ever asks {label} whether it is ready"
    tokens = split_command(command.replace(";", " ; ").replace("&&", " && ").replace("||", " || "))
    # `sh -c "pg_isready ..."`: the quoted script is a command too.
    tokens = [part for token in tokens
              for part in (split_command(token) if " " in token and _names_a_tool(token)
                           else [token])]
    words = [token.rsplit("/", 1)[-1].lower() for token in tokens]
    if kind == "postgres":
        if "pg_isready" in words or "psql" in words:
            tool = "pg_isready" if "pg_isready" in words else "psql"
            host = probe_host(tokens, tool, environment)
            if not _over_tcp(host):
                how = ("without a host" if not host else
                       f"with host {host!r}, a socket directory")
                return (
                    f"its health check `{command}` runs {tool} {how}, so it asks over the "
                    f"Unix socket. While the postgres image initialises a new database it runs a "
                    f"temporary server that listens on the socket only, then stops it and starts "
                    f"the real one: the socket check says 'ready' too early and the first test "
                    f"connection over TCP fails. Give it a TCP host (-h 127.0.0.1, a "
                    f"postgresql://user@127.0.0.1/db connection string, or PGHOST=127.0.0.1) so "
                    f"the check uses TCP, like the tests"
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
    """Host and port of a URL; a `${{ ... }}` expression in it (GitHub Actions fills it in on the
    runner, e.g. `${{ job.services.redis.ports[6379] }}`) is returned as written."""
    expressions: list[str] = []

    def hide(match: re.Match) -> str:
        expressions.append(match.group(0))
        return f"seamlabexpr{len(expressions) - 1}x"

    def shown(value: str | None) -> str | None:
        if value is None:
            return None
        return re.sub(r"seamlabexpr(\d+)x", lambda m: expressions[int(m.group(1))], value)

    parts = urlsplit(EXPRESSION.sub(hide, url))
    try:
        port: int | str | None = parts.port
    except ValueError:
        port = parts.netloc.rsplit(":", 1)[-1]
    if isinstance(port, str):
        port = shown(port)
    return shown(parts.hostname), port or default_port


def runs_pytest(command: Any) -> bool:
    if isinstance(command, list):
        command = " ".join(str(part) for part in command)
    return isinstance(command, str) and "pytest" in command
