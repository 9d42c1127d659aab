"""Rich rendering for the learner: grade results, the exercise list and the progress overview.

Everything here takes data and a console and prints; nothing grades, reads files or decides.
Written for a stuck person: which seam broke, what the real service did, where in their code,
and the command that gives the next hint.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from rich.console import Console, ConsoleOptions, RenderResult
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from seamlab.course import Course, Exercise
from seamlab.progress import ATTEMPTED, PASSED, Progress

if TYPE_CHECKING:  # the grading engine is imported lazily by the commands
    from seamlab.grading import GradeResult, TestOutcome

#: How many failing tests to spell out; the rest are counted.
SHOWN_FAILURES = 3
STATUS_STYLE = {PASSED: "green", ATTEMPTED: "yellow"}
STATUS_MARK = {PASSED: "✔ passed", ATTEMPTED: "✘ not yet"}
#: How services are named to people (course.toml uses short ids).
SERVICE_NAMES = {"postgres": "Postgres", "redis": "Redis", "rabbitmq": "RabbitMQ",
                 "mail": "the mail provider"}
#: Never wrap text narrower than this, however narrow the terminal.
MIN_TEXT_WIDTH = 40


def paragraph(console: Console, text: str, indent: int = 0, style: str | None = None) -> None:
    """Print plain ``text`` wrapped to the console, every line indented by ``indent`` spaces.

    Rich's own wrapping pads indented blocks with trailing spaces and starts continuation lines
    at column 0; this wraps first, then prints each line as it is. A line that starts with
    spaces or a list marker (``- ``) keeps that indent on its continuation lines, so a list
    stays a list. Markup in ``text`` is not interpreted.
    """
    width = max(MIN_TEXT_WIDTH, console.width - indent)
    for line in text.splitlines() or [""]:
        own = len(line) - len(line.lstrip(" "))
        marker = re.match(r"(?:[-*•]|\d+[.)]) ", line[own:])
        hang = own + (len(marker.group(0)) if marker else 0)
        wrapped = textwrap.wrap(
            line.strip(), width=max(MIN_TEXT_WIDTH // 2, width - own),
            subsequent_indent=" " * (hang - own), break_on_hyphens=False,
        ) or [""]
        for piece in wrapped:
            out = Text(" " * (indent + own) + piece if piece else "")
            if style:
                out.stylize(style)
            console.print(out, soft_wrap=True, highlight=False)


def say(console: Console, markup: str = "") -> None:
    """Print one line of console markup, wrapped without trailing spaces.

    Leading spaces are an indent that continuation lines keep; ``\\n`` starts a new line.
    """
    for raw in markup.split("\n"):
        indent = len(raw) - len(raw.lstrip(" "))
        text = Text.from_markup(raw.lstrip(" "))
        if not text.plain:
            console.print(soft_wrap=True)
            continue
        width = max(MIN_TEXT_WIDTH, console.width - indent)
        for line in text.wrap(console, width, overflow="fold"):
            line.rstrip()
            console.print(Text(" " * indent) + line, soft_wrap=True, highlight=False)


def services_phrase(services: Iterable[str]) -> str:
    """``["postgres", "mail"]`` -> ``"real Postgres and the mail provider"``."""
    names = [SERVICE_NAMES.get(name, name) for name in services]
    if not names:
        return "the real services"
    if not names[0].startswith("the "):
        names[0] = f"real {names[0]}"
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def sentence(test_name: str) -> str:
    """``test_a_day_after_the_twelfth_is_stored[28/06/1985-...]`` -> a readable sentence."""
    base, _, params = test_name.partition("[")
    words = " ".join(  # file names (``Importing test_dates.py``) keep their underscores
        word if re.search(r"\.py\b|/", word) else word.replace("_", " ")
        for word in re.sub(r"^test_?", "", base).split(" ")
    ).strip()
    words = words[:1].upper() + words[1:]
    return f"{words} ({params.rstrip(']')})" if params else words


def exercise_heading(exercise: Exercise) -> str:
    return f"[bold]{exercise.id} · {escape(exercise.title)}[/]  [dim]seam: {escape(exercise.seam)}[/]"


def hint_nudge(exercise: Exercise, revealed: int) -> str:
    total = len(exercise.hints)
    if revealed < total:
        return (
            f"Stuck? [bold cyan]seamlab hint {exercise.id}[/] (hint {revealed + 1} of {total})"
        )
    return (
        f"All {total} hints are out: [bold cyan]seamlab hint {exercise.id}[/] shows them again; "
        f"chapter {exercise.chapter}'s notebook walks through this seam."
    )


# --- grade results --------------------------------------------------------------------------


def exercise_title(exercise: Exercise) -> str:
    """The heading of a check: the verdict line below it names the seam."""
    return f"[bold]{exercise.id} · {escape(exercise.title)}[/]"


def grade_result(
    console: Console,
    exercise: Exercise,
    result: GradeResult,
    *,
    hints_revealed: int,
    next_exercise: Exercise | None = None,
) -> None:
    say(console, exercise_title(exercise))
    verdict = result.verdict
    if verdict == "passed":
        _passed(console, exercise, result, next_exercise)
        return
    if verdict == "infra_error":
        say(console, "[bold magenta]! Could not grade: a service is not ready.[/] This is not your code.")
        paragraph(console, result.summary.strip(), indent=2)
        for test in _failing(result.tests):
            if test.message and test.message.strip() not in result.summary:
                paragraph(console, test.first_line, indent=2)
                break
        if "against you" not in result.summary:
            say(console, "  Nothing was recorded against you; check again once it is fixed.")
        return

    own = own_tests(exercise, result.tests)
    hidden = [t for t in result.tests if t not in own]
    failing = _failing(result.tests)
    code_fails = any(t.outcome != "passed" for t in hidden)
    tests_fail = any(t.outcome != "passed" for t in own)
    missed = sum(1 for m in result.mutants if not m.caught)
    writes_tests = exercise.writes_tests
    faults_line = (f"Your tests let {missed} of {len(result.mutants)} planted faults through."
                   if missed else "")
    if verdict == "failed" and writes_tests and missed and not code_fails:
        say(console, f"[bold red]✘ {faults_line}[/] Each is a bug they would not have noticed:")
        faults_line = ""
    elif verdict == "failed" and writes_tests and (tests_fail or not exercise.fixes_code) \
            and not code_fails:
        say(
            console,
            "[bold red]✘ Your tests fail on the correct system.[/] They must pass there before "
            "they can catch a planted fault: the failure below is in your test, not in the code."
        )
    elif verdict == "failed":
        say(console, f"[bold red]✘ The seam {escape(exercise.seam)} is still broken.[/]")
    elif verdict == "learner_error" and writes_tests and (tests_fail or not exercise.fixes_code) \
            and not code_fails:
        say(console, "[bold red]✘ Your tests raised an error on the correct system.[/] Fix the "
                     "test itself first (the line is named below).")
    elif verdict == "learner_error":
        say(console, "[bold red]✘ Your code raised an error before the seam could be checked.[/]")
    elif verdict == "timed_out":
        say(
            console,
            "[bold red]✘ A test ran out of time.[/] Something in the code waits for ever or "
            "loops: a missing commit, a lock, a loop without an exit?"
        )
    else:
        say(console, f"[bold red]✘ {escape(verdict)}[/]")
    if result.summary and not result.tests and not result.mutants:
        paragraph(console, result.summary.strip(), indent=2, style="dim")

    for test in failing[:SHOWN_FAILURES]:
        _failure(console, test)
    if len(failing) > SHOWN_FAILURES:
        say(console, f"  … and {len(failing) - SHOWN_FAILURES} more failing test(s).")
    if result.mutants:
        if faults_line:  # the verdict line was about the code: say it here
            say(console, f"\n  [bold red]✘ {faults_line}[/] Each is a bug they would not have "
                         "noticed:")
        _mutants(console, result)
    if hidden:
        passing = sum(1 for t in hidden if t.outcome == "passed")
        say(console, f"  {passing} of {len(hidden)} hidden tests pass.")
    if own:
        passing = sum(1 for t in own if t.outcome == "passed")
        say(console, f"  {passing} of {len(own)} of your tests pass on the correct system.")
    say(console)
    say(console, hint_nudge(exercise, hints_revealed))


def _passed(console: Console, exercise: Exercise, result: GradeResult, nxt: Exercise | None) -> None:
    services = escape(services_phrase(exercise.services))
    count = len(result.tests)
    tests = f"test{'s' if count != 1 else ''}"
    score = f"Score {result.score}/{result.max_score}."
    faults = len(result.mutants)
    caught = f"all {faults} planted fault{'s' if faults != 1 else ''}"
    if exercise.is_write_tests:
        say(
            console,
            f"[bold green]✔ Passed.[/] Your {count} {tests} pass on the correct system and catch "
            f"{caught}, against {services}. {score}"
        )
    elif exercise.writes_tests:
        own = len(own_tests(exercise, result.tests))
        hidden = count - own
        say(
            console,
            f"[bold green]✔ Passed.[/] The seam {escape(exercise.seam)} holds: {hidden} hidden "
            f"test{'s' if hidden != 1 else ''} against {services}, and your {own} "
            f"test{'s' if own != 1 else ''} pass on the correct system and catch {caught}. "
            f"{score}"
        )
    else:
        say(
            console,
            f"[bold green]✔ Passed.[/] The seam {escape(exercise.seam)} holds: {count} hidden "
            f"{tests} against {services}. {score}"
        )
    # The time has a short line of its own: in the paragraph above, a longer figure would move
    # a word to the next line, and a notebook's stored verdict would no longer match a re-run.
    say(
        console,
        f"  Graded in {result.duration:.1f} s. Compare with the reference: "
        f"[bold cyan]seamlab solution {exercise.id}[/]"
    )
    if nxt is not None:
        say(console, f"  Next: [bold]{nxt.id} · {escape(nxt.title)}[/]  ([cyan]seamlab check {nxt.id}[/])")
    else:
        say(console, "  That was the last exercise not yet passed. Well done.")


def own_tests(exercise: Exercise, tests: Iterable[TestOutcome]) -> list[TestOutcome]:
    """The learner's own tests among a result's (run on the correct system): all of them for
    write-tests, none for fix; for fix-and-write-tests those in one of the exercise's files."""
    if not exercise.writes_tests:
        return []
    if not exercise.fixes_code:
        return list(tests)
    files = set(exercise.tests)
    return [t for t in tests if t.nodeid.split("::", 1)[0] in files]


def _failing(tests: Iterable[TestOutcome]) -> list[TestOutcome]:
    """Failing tests, the seam tests first (they say the most)."""
    bad = [t for t in tests if t.outcome != "passed"]
    return sorted(bad, key=lambda t: (not t.seam, t.outcome == "infra"))


#: At most this many lines of one test's message (after wrapping, the screen shows more).
SHOWN_MESSAGE_LINES = 8


def _failure(console: Console, test: TestOutcome) -> None:
    label = {"error": "error in your code", "timeout": "timed out", "infra": "service trouble"}
    kind = label.get(test.outcome)
    mark = "[bold red]✘[/]"
    suffix = f" [dim]({kind})[/]" if kind else ""
    say(console, f"\n  {mark} [bold]{escape(sentence(test.name))}[/]{suffix}")
    lines = readable_lines(test.message)
    if lines:
        paragraph(console, "\n".join(lines[:SHOWN_MESSAGE_LINES]), indent=6)
        if len(lines) > SHOWN_MESSAGE_LINES:
            say(console, "      [dim]…[/]")
    if test.location:
        say(console, f"      at [bold]{escape(test.location)}[/]")


def _mutants(console: Console, result: GradeResult) -> None:
    """The planted faults the learner's tests let through (the verdict line gives the count)."""
    for mutant in result.mutants:
        if not mutant.caught:
            paragraph(console, f"- {mutant.description or mutant.name}", indent=4)
            if mutant.detail:
                paragraph(console, mutant.detail, indent=6, style="dim")


def readable_lines(message: str) -> list[str]:
    """The message without pytest's introspection when a sentence already explains it.

    pytest appends ``assert <expression>`` and its diff (``Right contains one more item``,
    ``Use -v to get more diff``, ``+ where ...``) after the test's own message: everything from
    that first ``assert`` line on is for the author, not the learner. A bare ``assert x == y``
    (no message) is kept as it is, since it is all there is.
    """
    lines = [line.rstrip() for line in message.strip().splitlines() if line.strip()]
    if not lines or lines[0].lstrip().startswith("assert "):
        return lines
    for index, line in enumerate(lines):
        if re.match(r"^assert ", line):
            return lines[:index]
    return lines


# --- list and overview ----------------------------------------------------------------------


#: Below this many columns the exercise list leaves out the seam column (it would wrap to mush).
SEAM_COLUMN_FROM_WIDTH = 110


class ExerciseTable:
    """The exercise list: the course title, then one row per exercise.

    A renderable rather than a ``Table``, so that it can choose its columns for the terminal it
    is printed on: the seam column only when there is room for it.
    """

    def __init__(self, course: Course, progress: Progress, current: Exercise | None,
                 waiting: Mapping[str, str] | None = None) -> None:
        self.course, self.progress, self.current = course, progress, current
        #: service -> title ("rabbitmq" -> "RabbitMQ") for each service nothing answers for.
        self.waiting = dict(waiting or {})

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield Text(self.course.title, style="bold")
        yield self.table(with_seam=options.max_width >= SEAM_COLUMN_FROM_WIDTH)

    def table(self, *, with_seam: bool = True) -> Table:
        table = Table(show_lines=False)
        table.add_column("ch", style="dim", no_wrap=True, min_width=2)
        table.add_column("exercise", min_width=24, ratio=3)
        if with_seam:
            table.add_column("seam", min_width=16, ratio=2)
        table.add_column("time", justify="right", no_wrap=True, min_width=len("45 min"))
        table.add_column("status", no_wrap=True, min_width=len("· not started"))
        table.add_column("points", justify="right", no_wrap=True, min_width=len("10/10"))
        for exercise in self.course.exercises:
            entry = self.progress.of(exercise.slug)
            text = STATUS_MARK.get(entry.status, "· not started")
            style = STATUS_STYLE.get(entry.status, "dim")
            absent = [self.waiting[s] for s in exercise.services if s in self.waiting]
            if absent and not self.progress.passed(exercise.slug):
                text, style = f"⏸ waiting for {' and '.join(absent)}", "yellow"
            here = self.current is not None and exercise.slug == self.current.slug
            points = f"{_score(entry.best_score, exercise.points, entry.max_score)}/{exercise.points}"
            cells = [exercise.chapter, f"{'→ ' if here else '  '}{exercise.id} {escape(exercise.title)}"]
            if with_seam:
                cells.append(escape(exercise.seam))
            cells += [f"{exercise.minutes} min", f"[{style}]{text}[/]", points]
            table.add_row(*cells)
        return table


def exercise_table(course: Course, progress: Progress, current: Exercise | None,
                   waiting: Mapping[str, str] | None = None) -> ExerciseTable:
    return ExerciseTable(course, progress, current, waiting)


def overview(console: Console, course: Course, progress: Progress, current: Exercise | None) -> None:
    total = sum(e.points for e in course.exercises)
    earned = sum(
        _score(progress.of(e.slug).best_score, e.points, progress.of(e.slug).max_score)
        for e in course.exercises
    )
    done = sum(1 for e in course.exercises if progress.passed(e.slug))
    say(console, f"[bold]{escape(course.title)}[/]")
    say(
        console,
        f"{done} of {len(course.exercises)} exercises passed, {earned} of {total} points."
    )
    if not course.exercises:
        say(console, "This course has no exercises yet.")
        return
    if current is None:
        say(console, "[green]Every exercise passes.[/] `seamlab list` shows them all.")
        return
    chapter = course.chapter(current.chapter)
    say(console)
    say(console, f"Next: {exercise_heading(current)}")
    say(console, f"  Read   exercises/{current.slug}/README.md  (chapter {chapter.id}: {escape(chapter.title)})")
    say(console, f"  Check  [bold cyan]seamlab check {current.id}[/]   or re-check on save: [cyan]seamlab watch[/]")
    revealed = progress.of(current.slug).hints_revealed
    say(console, f"  {hint_nudge(current, revealed)}")


def _score(best: float, points: int, max_score: float) -> int:
    """Scale a grader score (out of ``max_score``) to the exercise's points."""
    if not best:
        return 0
    if max_score and max_score != points:
        return round(points * best / max_score)
    return round(best)
