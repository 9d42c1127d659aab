"""A typed view of ``course.toml``: the chapters and exercises, in teaching order.

``load()`` is cheap (parse + type checks) and is what every command calls. ``validate()`` also
looks at the disk (the files an exercise lists, the chapters it points at) and is what the
course invariant tests call.

tomllib gives no line numbers, so errors locate the offending key by searching the text: they
read ``course.toml:42: exercises[3].kind = 'fixx' must be one of fix, write-tests``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seamlab.errors import SeamlabError
from seamlab.paths import HIDDEN_DIR, MUTANTS_DIR, project_root

MANIFEST = "course.toml"
#: What the learner does, and so how an exercise is graded (``seamlab.grading.kinds``): fix the
#: code (the hidden tests must pass), write tests (they must catch the planted faults), or both.
KINDS = ("fix", "write-tests", "fix-and-write-tests")
SERVICES = ("postgres", "redis", "rabbitmq", "mail")
HINTS_PER_EXERCISE = 3


class CourseError(SeamlabError):
    """course.toml is missing or malformed; the message names the file, line and key."""


@dataclass(frozen=True)
class Chapter:
    id: str
    slug: str
    title: str
    notebook: str
    objectives: tuple[str, ...]


@dataclass(frozen=True)
class Exercise:
    id: str
    slug: str
    title: str
    chapter: str
    seam: str
    services: tuple[str, ...]
    kind: str
    points: int
    minutes: int  # the time a learner should expect to spend, shown by `list` and the README
    files: tuple[str, ...]
    tests: tuple[str, ...]
    hints: tuple[str, ...]
    root: Path
    #: Slugs this exercise had before the course was renumbered: progress files and the CLI
    #: still accept them (an old progress file's "08-bottom-up" pass counts for "02-bottom-up").
    formerly: tuple[str, ...] = ()
    #: Seconds one hidden test may take (course.toml ``test_timeout``); None: the grader's.
    test_timeout: float | None = None

    @property
    def folder(self) -> Path:
        """The learner's workspace: ``exercises/<slug>``."""
        return self.root / "exercises" / self.slug

    @property
    def solution_folder(self) -> Path:
        return self.root / "solutions" / self.slug

    @property
    def hidden_dir(self) -> Path:
        return HIDDEN_DIR / self.slug

    @property
    def mutants_dir(self) -> Path:
        return MUTANTS_DIR / self.slug

    @property
    def is_write_tests(self) -> bool:
        """Only tests to write (no code to fix)."""
        return self.kind == "write-tests"

    @property
    def fixes_code(self) -> bool:
        """Graded by hidden tests against the learner's code (``fix``, ``fix-and-write-tests``)."""
        return self.kind in ("fix", "fix-and-write-tests")

    @property
    def writes_tests(self) -> bool:
        """The learner's ``tests`` are graded against planted faults (``src/seamlab/mutants``)."""
        return self.kind in ("write-tests", "fix-and-write-tests")

    @property
    def editable(self) -> tuple[str, ...]:
        """Everything the learner is meant to touch: the code files and, if any, their tests."""
        return self.files + self.tests


@dataclass(frozen=True)
class Course:
    title: str
    chapters: tuple[Chapter, ...]
    exercises: tuple[Exercise, ...]
    root: Path

    def chapter(self, chapter_id: str) -> Chapter:
        for chapter in self.chapters:
            if chapter.id == chapter_id:
                return chapter
        raise CourseError(f"No chapter {chapter_id!r} in {self.root / MANIFEST}.")

    @property
    def renamed(self) -> dict[str, str]:
        """Every former slug and the slug it is now (``{"08-bottom-up": "02-bottom-up"}``)."""
        return {old: exercise.slug for exercise in self.exercises for old in exercise.formerly}

    def exercise(self, ref: str) -> Exercise:
        """Find an exercise by number (``1``, ``01``), slug (``01-date-seam``), name
        (``date-seam``) or former slug (``08-bottom-up``, from before the renumbering).

        A bare number is always today's number: ``08`` is ``08-call-under-lock``."""
        wanted = ref.strip().strip("/").lower()
        if wanted.startswith("exercises/"):
            wanted = wanted.removeprefix("exercises/")
        for exercise in self.exercises:
            names = {exercise.id, exercise.slug, exercise.slug.split("-", 1)[-1], *exercise.formerly}
            if wanted.isdigit() and exercise.id.isdigit() and int(wanted) == int(exercise.id):
                return exercise
            if wanted in names:
                return exercise
        known = ", ".join(e.id for e in self.exercises) or "none yet"
        raise CourseError(
            f"There is no exercise {ref!r}. Use its number or slug (exercises: {known}); "
            f"`seamlab list` shows them all."
        )


# --- loading ------------------------------------------------------------------------------


def load(root: Path | None = None) -> Course:
    """Parse and type-check ``<root>/course.toml`` (default root: ``paths.project_root()``)."""
    root = (root or project_root()).resolve()
    path = root / MANIFEST
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CourseError(
            f"No {MANIFEST} in {root}. Run seamlab from inside the course folder, "
            f"or set SEAMLAB_HOME to it."
        ) from None
    return parse(text, root, source=path.name)


def parse(text: str, root: Path, source: str = MANIFEST) -> Course:
    """Build a :class:`Course` from manifest text; errors carry ``source:line``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        # tomllib's message already ends with "(at line N, column M)".
        raise CourseError(f"{source}: not valid TOML: {error}") from None
    where = _Locator(text, source)

    course = data.get("course")
    if not isinstance(course, dict):
        raise CourseError(f"{source}:1: the [course] table is missing (it holds the title).")
    title = _string(course, "title", "course", where.table_key("course", "title"), where)

    chapters = tuple(
        _chapter(item, index, where) for index, item in enumerate(_array(data, "chapters", where))
    )
    exercises = tuple(
        _exercise(item, index, root, where)
        for index, item in enumerate(_array(data, "exercises", where))
    )
    _check_unique(chapters, "chapters", where)
    _check_unique(exercises, "exercises", where)
    slugs = {exercise.slug for exercise in exercises}
    former: dict[str, int] = {}
    for index, exercise in enumerate(exercises):
        for old in exercise.formerly:
            if old in slugs or old in former:
                raise CourseError(
                    f"{source}:{where.key('exercises', index, 'formerly')}: exercises[{index}]."
                    f"formerly has {old!r}, which already names another exercise"
                )
            former[old] = index
    chapter_ids = {chapter.id for chapter in chapters}
    for index, exercise in enumerate(exercises):
        if exercise.chapter not in chapter_ids:
            line = where.key("exercises", index, "chapter")
            raise CourseError(
                f"{source}:{line}: exercises[{index}].chapter = {exercise.chapter!r} is not a "
                f"chapter id (chapters: {', '.join(sorted(chapter_ids))})"
            )
    return Course(title=title, chapters=chapters, exercises=exercises, root=root)


def validate(root: Path | None = None) -> Course:
    """Load the manifest and check it against the disk: every listed file exists.

    Raises :class:`CourseError` listing every problem found (one per line).
    """
    course = load(root)
    where = _Locator((course.root / MANIFEST).read_text(encoding="utf-8"), MANIFEST)
    problems = []
    for index, exercise in enumerate(course.exercises):
        if not exercise.folder.is_dir():
            problems.append(
                f"{MANIFEST}:{where.key('exercises', index, 'slug')}: exercises[{index}].slug = "
                f"{exercise.slug!r} has no folder exercises/{exercise.slug}/"
            )
            continue
        for key in ("files", "tests"):
            for name in getattr(exercise, key):
                if not (exercise.folder / name).is_file():
                    problems.append(
                        f"{MANIFEST}:{where.key('exercises', index, key)}: exercises[{index}]."
                        f"{key} lists {name!r}, which is not in exercises/{exercise.slug}/"
                    )
    if problems:
        raise CourseError("\n".join(problems))
    return course


# --- field readers ------------------------------------------------------------------------


def _chapter(item: Any, index: int, where: _Locator) -> Chapter:
    label = f"chapters[{index}]"
    line = where.item("chapters", index)
    if not isinstance(item, dict):
        raise CourseError(f"{where.source}:{line}: {label} must be a table")
    _no_unknown_keys(item, {"id", "slug", "title", "notebook", "objectives"}, "chapters", index, where)
    get = lambda key: where.key("chapters", index, key)
    return Chapter(
        id=_ident(item, "id", label, get("id"), where),
        slug=_string(item, "slug", label, get("slug"), where),
        title=_string(item, "title", label, get("title"), where),
        notebook=_string(item, "notebook", label, get("notebook"), where),
        objectives=_strings(item, "objectives", label, get("objectives"), where, required=True),
    )


_EXERCISE_KEYS = {
    "id", "slug", "title", "chapter", "seam", "services", "kind", "points", "minutes", "files",
    "tests", "hints", "formerly", "test_timeout",
}


def _exercise(item: Any, index: int, root: Path, where: _Locator) -> Exercise:
    label = f"exercises[{index}]"
    if not isinstance(item, dict):
        raise CourseError(f"{where.source}:{where.item('exercises', index)}: {label} must be a table")
    _no_unknown_keys(item, _EXERCISE_KEYS, "exercises", index, where)
    get = lambda key: where.key("exercises", index, key)

    ident = _ident(item, "id", label, get("id"), where)
    slug = _string(item, "slug", label, get("slug"), where)
    if not re.fullmatch(r"\d{2}-[a-z0-9]+(-[a-z0-9]+)*", slug) or not slug.startswith(ident + "-"):
        raise CourseError(
            f"{where.source}:{get('slug')}: {label}.slug = {slug!r} must be the id then a "
            f"lowercase name, like '{ident}-date-seam'"
        )
    kind = _string(item, "kind", label, get("kind"), where)
    if kind not in KINDS:
        raise CourseError(
            f"{where.source}:{get('kind')}: {label}.kind = {kind!r} must be one of {', '.join(KINDS)}"
        )
    points = item.get("points")
    if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
        _require(item, "points", label, get("points"), where)
        raise CourseError(
            f"{where.source}:{get('points')}: {label}.points = {points!r} must be a whole number above 0"
        )
    minutes = item.get("minutes")
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 0 < minutes <= 240:
        _require(item, "minutes", label, get("minutes"), where)
        raise CourseError(
            f"{where.source}:{get('minutes')}: {label}.minutes = {minutes!r} must be the minutes a "
            f"learner should expect to spend, a whole number from 1 to 240"
        )
    formerly = _strings(item, "formerly", label, get("formerly"), where, required=False)
    for old in formerly:
        if not re.fullmatch(r"\d{2}-[a-z0-9]+(-[a-z0-9]+)*", old):
            raise CourseError(
                f"{where.source}:{get('formerly')}: {label}.formerly has {old!r}; list former "
                f"slugs, like '08-bottom-up'"
            )
    services = _strings(item, "services", label, get("services"), where, required=False)
    for service in services:
        if service not in SERVICES:
            raise CourseError(
                f"{where.source}:{get('services')}: {label}.services has {service!r}; "
                f"known services are {', '.join(SERVICES)}"
            )
    hints = _strings(item, "hints", label, get("hints"), where, required=True)
    if len(hints) != HINTS_PER_EXERCISE:
        raise CourseError(
            f"{where.source}:{get('hints')}: {label}.hints has {len(hints)} hint(s); it needs exactly "
            f"{HINTS_PER_EXERCISE}: a nudge, a pointer at the seam, and nearly the answer"
        )
    files = _strings(item, "files", label, get("files"), where, required=True)
    tests = _strings(item, "tests", label, get("tests"), where, required=False)
    if kind in ("write-tests", "fix-and-write-tests") and not tests:
        raise CourseError(
            f"{where.source}:{get('tests')}: {label}.tests is empty, but a {kind} exercise "
            f"must list the test file(s) the learner writes"
        )
    for key, names in (("files", files), ("tests", tests)):
        for name in names:
            if Path(name).is_absolute() or ".." in Path(name).parts:
                raise CourseError(
                    f"{where.source}:{get(key)}: {label}.{key} has {name!r}; use a path inside "
                    f"the exercise folder"
                )
    test_timeout = item.get("test_timeout")
    if test_timeout is not None and (isinstance(test_timeout, bool)
                                     or not isinstance(test_timeout, (int, float))
                                     or not 0 < test_timeout <= 600):
        raise CourseError(
            f"{where.source}:{get('test_timeout')}: {label}.test_timeout = {test_timeout!r} must "
            f"be the seconds one hidden test may take, a number above 0 and at most 600"
        )
    return Exercise(
        id=ident,
        slug=slug,
        title=_string(item, "title", label, get("title"), where),
        chapter=_ident(item, "chapter", label, get("chapter"), where),
        seam=_string(item, "seam", label, get("seam"), where),
        services=services,
        kind=kind,
        points=points,
        minutes=minutes,
        files=files,
        tests=tests,
        hints=hints,
        root=root,
        formerly=formerly,
        test_timeout=float(test_timeout) if test_timeout is not None else None,
    )


def _array(data: dict, name: str, where: _Locator) -> list:
    value = data.get(name, [])
    if not isinstance(value, list):
        raise CourseError(
            f"{where.source}:{where.table(name)}: {name} must be written as [[{name}]] tables"
        )
    return value


def _require(item: dict, key: str, label: str, line: int, where: _Locator) -> Any:
    if key not in item:
        raise CourseError(f"{where.source}:{line}: {label} is missing {key!r}")
    return item[key]


def _string(item: dict, key: str, label: str, line: int, where: _Locator) -> str:
    value = _require(item, key, label, line, where)
    if not isinstance(value, str) or not value.strip():
        raise CourseError(
            f"{where.source}:{line}: {label}.{key} = {value!r} must be a non-empty string"
        )
    return value


def _ident(item: dict, key: str, label: str, line: int, where: _Locator) -> str:
    value = _require(item, key, label, line, where)
    if not isinstance(value, str) or not re.fullmatch(r"\d{2}", value):
        raise CourseError(
            f"{where.source}:{line}: {label}.{key} = {value!r} must be a two-digit string like \"01\""
        )
    return value


def _strings(
    item: dict, key: str, label: str, line: int, where: _Locator, *, required: bool
) -> tuple[str, ...]:
    value = _require(item, key, label, line, where) if required else item.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise CourseError(
            f"{where.source}:{line}: {label}.{key} = {value!r} must be a list of non-empty strings"
        )
    if required and not value:
        raise CourseError(f"{where.source}:{line}: {label}.{key} must not be empty")
    return tuple(value)


def _no_unknown_keys(item: dict, known: set[str], array: str, index: int, where: _Locator) -> None:
    for key in item:
        if key not in known:
            raise CourseError(
                f"{where.source}:{where.key(array, index, key)}: {array}[{index}].{key} is not a "
                f"known key (known: {', '.join(sorted(known))})"
            )


def _check_unique(items: tuple, array: str, where: _Locator) -> None:
    for attribute in ("id", "slug"):
        seen: dict[str, int] = {}
        for index, item in enumerate(items):
            value = getattr(item, attribute)
            if value in seen:
                raise CourseError(
                    f"{where.source}:{where.key(array, index, attribute)}: {array}[{index}]."
                    f"{attribute} = {value!r} is already used by {array}[{seen[value]}]"
                )
            seen[value] = index


# --- line numbers -------------------------------------------------------------------------


class _Locator:
    """Finds the line of a table or key in the manifest text (tomllib keeps no positions)."""

    def __init__(self, text: str, source: str) -> None:
        self.source = source
        self.lines = text.splitlines()

    def table(self, name: str) -> int:
        pattern = re.compile(rf"^\s*\[\[?\s*{re.escape(name)}\s*\]\]?")
        for number, line in enumerate(self.lines, start=1):
            if pattern.match(line):
                return number
        pattern = re.compile(rf"^\s*{re.escape(name)}\s*=")
        for number, line in enumerate(self.lines, start=1):
            if pattern.match(line):
                return number
        return 1

    def table_key(self, table: str, key: str) -> int:
        """The line of ``key = ...`` inside the ``[table]`` block (else the header's line)."""
        return self._key_after(self.table(table), key)

    def item(self, array: str, index: int) -> int:
        """The line of the ``index``-th ``[[array]]`` header (1 if not found)."""
        header = re.compile(rf"^\s*\[\[\s*{re.escape(array)}\s*\]\]")
        count = -1
        for number, line in enumerate(self.lines, start=1):
            if header.match(line):
                count += 1
                if count == index:
                    return number
        return 1

    def key(self, array: str, index: int, key: str) -> int:
        """The line of ``key = ...`` inside the ``index``-th ``[[array]]`` block (else its header)."""
        return self._key_after(self.item(array, index), key)

    def _key_after(self, start: int, key: str) -> int:
        pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        for number in range(start + 1, len(self.lines) + 1):
            line = self.lines[number - 1]
            if re.match(r"^\[\[?\s*[A-Za-z_]", line):  # the next table header
                break
            if pattern.match(line):
                return number
        return start
