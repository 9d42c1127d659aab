"""Launcher that locks a grading child in before it runs one line of learner code.

Run as root by the sandbox (``python -I -S jail.py CONFIG_JSON -- argv...``): it joins the
job's network namespace, hides folders the learner must not read behind empty root-only
mounts, sets resource limits, drops to the job's own user and group, and execs ``argv``.
Standard library only, so it starts in a few milliseconds and imports nothing from the course.
Any failure here exits 125 with a one-line message on stderr (the grader reports it as an
infrastructure error: the learner is never blamed for the jail).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import resource
import sys

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REC = 0x4000
MS_BIND = 0x1000
MS_MOVE = 0x2000
MS_PRIVATE = 1 << 18
EXIT_JAIL = 125

RLIMITS = {
    "cpu": resource.RLIMIT_CPU,
    "as": resource.RLIMIT_AS,
    "nproc": resource.RLIMIT_NPROC,
    "fsize": resource.RLIMIT_FSIZE,
    "nofile": resource.RLIMIT_NOFILE,
    "core": resource.RLIMIT_CORE,
}

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def join_network(fd: int) -> None:
    _check(_libc.setns(fd, CLONE_NEWNET), "setns(network)")
    os.close(fd)


def private_mounts() -> None:
    _check(_libc.unshare(CLONE_NEWNS), "unshare(mount)")
    _check(_libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "mount --make-rprivate /")


def expose(groups: list[list], stage: str) -> None:
    """Make folders under a closed parent reachable: for ``[parent, [inside...]]`` the parent
    (``/root``, mode 0700, holding the Python install) is replaced by an empty tmpfs holding
    only the ``inside`` folders, bind-mounted from the originals."""
    for number, (parent, inside) in enumerate(groups):
        staged = []
        for index, path in enumerate(inside):
            spot = os.path.join(stage, f"{number}-{index}")
            os.makedirs(spot, exist_ok=True)
            _check(_libc.mount(path.encode(), spot.encode(), None, MS_BIND | MS_REC, None),
                   f"bind {path}")
            staged.append((spot, path))
        _check(_libc.mount(b"tmpfs", parent.encode(), b"tmpfs", MS_NOSUID | MS_NODEV,
                           b"size=64k,mode=755"), f"mount tmpfs over {parent}")
        for spot, path in staged:
            os.makedirs(path, exist_ok=True)
            _check(_libc.mount(spot.encode(), path.encode(), None, MS_MOVE, None), f"move {path}")


def hide(paths: list[str]) -> None:
    """Each path becomes an empty tmpfs only root may open."""
    flags = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY
    for path in paths:
        if os.path.isdir(path):
            _check(_libc.mount(b"tmpfs", path.encode(), b"tmpfs", flags, b"size=4k,mode=000"),
                   f"mount tmpfs over {path}")


def limit(limits: dict[str, int]) -> None:
    for name, value in limits.items():
        resource.setrlimit(RLIMITS[name], (value, value))


def become(uid: int, gid: int) -> None:
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)


def main(argv: list[str]) -> None:
    config = json.loads(argv[1])
    command = argv[argv.index("--") + 1:]
    try:
        if config.get("netns_fd") is not None:
            join_network(config["netns_fd"])
        if config.get("hide") or config.get("expose"):
            private_mounts()
            expose(config.get("expose", []), config.get("stage", "/"))
            hide(config.get("hide", []))
        limit(config.get("limits", {}))
        become(config["uid"], config["gid"])
    except OSError as error:
        sys.stderr.write(f"seamlab jail: could not confine the grading run ({error}).\n")
        os._exit(EXIT_JAIL)
    os.execve(command[0], command, os.environ)


if __name__ == "__main__":
    main(sys.argv)
