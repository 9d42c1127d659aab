"""The `seamlab` executable. `seamlab check` starts without typer (a learner runs it hundreds of
times, and typer with click costs more to import than a warm check takes); every other command,
``--help`` and any argument the quick parser does not know go to `seamlab.cli`."""

from __future__ import annotations

import sys

from seamlab.invoke import call, stop_on_term_and_hangup


def main() -> None:
    stop_on_term_and_hangup()
    args = sys.argv[1:]
    if args[:1] == ["check"]:
        options = _check_options(args[1:])
        if options is not None:
            from seamlab.commands.check import check

            try:
                code = call(check, options.pop("exercise"), **options)
            except KeyboardInterrupt:  # as click reports it
                print("\nAborted!", file=sys.stderr)
                code = 1
            sys.exit(code)
    from seamlab.cli import app

    app()


def _check_options(args: list[str]) -> dict | None:
    """`seamlab check`'s options, as `seamlab.cli.check` declares them; None: let typer parse."""
    import argparse
    from pathlib import Path

    if {"-h", "--help"} & set(args):
        return None
    parser = argparse.ArgumentParser(add_help=False, exit_on_error=False, allow_abbrev=False)
    parser.add_argument("exercise", nargs="?")
    parser.add_argument("--target", type=Path)
    parser.add_argument("--json", dest="as_json", action="store_true")
    parser.add_argument("--junit", type=Path)
    parser.add_argument("--timeout", type=float)
    try:
        parsed, unknown = parser.parse_known_args(args)
    except (argparse.ArgumentError, SystemExit):
        return None
    return None if unknown else vars(parsed)


if __name__ == "__main__":
    main()
