"""Launcher that locks a grading child in before it runs one line of learner code.

Run as root by the sandbox (``python -I -S jail.py CONFIG_JSON -- argv...``): it joins the
job's network namespace, builds a new root holding only what the run may see (an allow-list:
the run's folder, the interpreter and its packages, the system libraries; its own /tmp, /dev
and /proc) and chroots into it, sets resource limits, drops to the job's own user and group,
and execs ``argv``.
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
MS_REMOUNT = 32
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


def build_root(root: dict) -> None:
    """A new root holding only what the run may see, then chroot into it.

    ``root`` = ``{"stage": folder, "binds": [[path, writable], ...], "hide": [paths],
    "tmp_mb": n}``: the stage becomes a tmpfs; each bound path appears at its own place, read-only
    unless writable (links are recreated as links); ``/tmp`` and ``/dev/shm`` are fresh tmpfs,
    ``/dev`` has only the harmless devices, ``/proc`` is a new instance that shows only the run's
    own processes; each ``hide`` path (inside a bound tree) becomes an empty root-only folder.
    Nothing else exists: no other folder, no Unix socket but the ones the run makes itself.
    """
    stage = root["stage"]
    _check(_libc.mount(b"tmpfs", stage.encode(), b"tmpfs", MS_NOSUID | MS_NODEV,
                       b"size=1m,mode=755"), "mount tmpfs for the new root")
    tmpfs = MS_NOSUID | MS_NODEV
    for folder, options in (("/tmp", f"size={root.get('tmp_mb', 256)}m,mode=1777"),
                            ("/dev", "size=64k,mode=755")):
        os.makedirs(stage + folder, exist_ok=True)
        _check(_libc.mount(b"tmpfs", (stage + folder).encode(), b"tmpfs", tmpfs,
                           options.encode()), f"mount tmpfs on {folder}")
    for device in ("null", "zero", "full", "random", "urandom", "tty"):
        spot = f"{stage}/dev/{device}"
        open(spot, "w").close()
        _check(_libc.mount(f"/dev/{device}".encode(), spot.encode(), None, MS_BIND, None),
               f"bind /dev/{device}")
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(target, f"{stage}/dev/{name}")
    os.makedirs(f"{stage}/dev/shm")
    _check(_libc.mount(b"tmpfs", f"{stage}/dev/shm".encode(), b"tmpfs", tmpfs,
                       b"size=64m,mode=1777"), "mount tmpfs on /dev/shm")
    for path, writable in sorted(root["binds"]):
        if not os.path.lexists(path):
            continue
        spot = stage + path
        if os.path.lexists(spot):
            continue  # already there through a parent
        os.makedirs(os.path.dirname(spot), exist_ok=True)
        if os.path.islink(path):
            os.symlink(os.readlink(path), spot)
            continue
        if os.path.isdir(path):
            os.makedirs(spot, exist_ok=True)
        else:
            open(spot, "w").close()
        flags = MS_BIND if writable else MS_BIND | MS_REC
        _check(_libc.mount(path.encode(), spot.encode(), None, flags, None), f"bind {path}")
        if not writable:
            _check(_libc.mount(None, spot.encode(), None,
                               MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID, None),
                   f"read-only {path}")
    os.makedirs(f"{stage}/proc", exist_ok=True)
    proc_flags = MS_NOSUID | MS_NODEV | MS_NOEXEC
    if _libc.mount(b"proc", f"{stage}/proc".encode(), b"proc", proc_flags, b"hidepid=2") != 0:
        _check(_libc.mount(b"proc", f"{stage}/proc".encode(), b"proc", proc_flags, None),
               "mount /proc")
    hide([stage + path for path in root.get("hide", [])])
    _check(_libc.chroot(stage.encode()), "chroot")
    os.chdir("/")


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
        if config.get("root"):
            cwd = os.getcwd()
            private_mounts()
            build_root(config["root"])
            os.chdir(cwd)
        limit(config.get("limits", {}))
        become(config["uid"], config["gid"])
    except OSError as error:
        sys.stderr.write(f"seamlab jail: could not confine the grading run ({error}).\n")
        os._exit(EXIT_JAIL)
    os.execve(command[0], command, os.environ)


if __name__ == "__main__":
    main(sys.argv)
