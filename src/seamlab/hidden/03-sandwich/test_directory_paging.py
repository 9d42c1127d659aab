"""Exercise 03: paging through real data returns every user exactly once, in order."""

from __future__ import annotations

import base64
from collections import Counter

import pytest


def walk(directory, limit: int, expected_total: int) -> tuple[list[int], int]:
    """Follow next_cursor from the first page to the end; return the ids seen and pages read."""
    seen: list[int] = []
    cursor = None
    max_pages = expected_total // limit + 3
    for pages in range(1, max_pages + 1):
        params = {"limit": limit} if cursor is None else {"limit": limit, "cursor": cursor}
        response = directory.get("/users", params=params)
        assert response.status_code == 200, (
            f"GET /users?limit={limit} (page {pages}, cursor {cursor!r}) answered "
            f"{response.status_code}: {response.text[:300]}. Expected 200 with a page of users."
        )
        body = response.json()
        seen += [user["id"] for user in body["users"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return seen, pages
    raise AssertionError(
        f"Paging through {expected_total} users {limit} at a time, the API still gave a "
        f"next_cursor after {max_pages} pages ({len(seen)} users shown, "
        f"{len(set(seen))} different)"
        + (": the cursors keep leading back to users already shown" if len(set(seen)) < len(seen)
           else "")
        + ". Expected the last page to have next_cursor null."
    )


def sample(ids: list[int]) -> str:
    if not ids:
        return ""
    more = ", ..." if len(ids) > 8 else ""
    return f" (ids {', '.join(map(str, ids[:8]))}{more})"


def explain(expected: list[int], seen: list[int], limit: int, per_instant: int) -> str:
    shown = set(seen)
    missing = [i for i in expected if i not in shown]
    twice = sorted(i for i, n in Counter(seen).items() if n > 1)
    instants = (
        f"all {len(expected)} created at the same instant (one transaction)"
        if per_instant >= len(expected)
        else f"{per_instant} of them created at each instant"
    )
    said = (
        f"{len(expected)} users in Postgres, {instants}; paging through GET /users {limit} "
        f"at a time showed {len(seen)} users"
    )
    if missing or twice:
        found = []
        if missing:
            found.append(f"{len(missing)} never appeared{sample(missing)}")
        if twice:
            found.append(f"{len(twice)} appeared more than once{sample(twice)}")
        return (
            f"{said}: {' and '.join(found)}. Expected every user exactly once. Look at the "
            f"users around the end of each page: which ones share a created_at with the last "
            f"user shown?"
        )
    return f"{said}, each once but out of order. Expected oldest first, then by id."


@pytest.mark.seam
def test_paging_through_three_hundred_users_shows_each_exactly_once_in_order(directory, seed_users):
    expected = seed_users(300, per_instant=7)

    seen, _ = walk(directory, limit=25, expected_total=300)

    assert seen == expected, explain(expected, seen, 25, 7)


@pytest.mark.seam
def test_users_imported_in_one_transaction_all_appear(directory, directory_engine):
    from sqlalchemy import text

    with directory_engine.begin() as connection:  # one transaction: now() is the same for all
        connection.execute(
            text(
                "INSERT INTO directory_users (name, email) "
                "SELECT 'Imported ' || g, 'imported' || g || '@example.com' "
                "FROM generate_series(1, 30) AS g"
            )
        )
        expected = [r.id for r in connection.execute(text("SELECT id FROM directory_users"))]

    seen, _ = walk(directory, limit=10, expected_total=30)

    assert sorted(seen) == sorted(expected) and len(seen) == 30, explain(
        sorted(expected), seen, 10, 30
    )


def test_users_created_at_different_instants_page_in_order(directory, seed_users):
    expected = seed_users(40, per_instant=1)

    seen, _ = walk(directory, limit=15, expected_total=40)

    assert seen == expected, explain(expected, seen, 15, 1)


def test_a_short_directory_fits_on_one_page_with_no_next_cursor(directory, seed_users):
    expected = seed_users(4, per_instant=2)

    response = directory.get("/users", params={"limit": 10})

    body = response.json()
    assert [u["id"] for u in body["users"]] == expected, (
        f"4 users in Postgres; GET /users?limit=10 showed ids {[u['id'] for u in body['users']]}"
        f", expected {expected}."
    )
    assert body["next_cursor"] is None, (
        f"All 4 users fit on one page of 10, but next_cursor is {body['next_cursor']!r}; "
        f"expected null so that a client stops."
    )


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


#: Cursors this directory never issued, whatever the format of the ones it does issue.
MADE_UP_CURSORS = {
    "garbage that happens to be base64": "bm90LWEtY3Vyc29y",
    "not base64 at all": "%%%-not base64-%%%",
    "base64 of 'hello|world'": b64("hello|world"),
    "a timestamp and an empty id": b64("2024-03-01T09:00:00+00:00|"),
    "an id with no timestamp": b64("|17"),
    "a JSON cursor from another API": b64('{"page": 2, "per_page": 25}'),
    "a JSON list": b64("[1, 2]"),
}


def what_the_service_raised(directory_engine, cursor: str) -> str:
    """Call the learner's service directly, to name what its decoding did with the cursor."""
    from directory_repo import DirectoryRepository
    from directory_service import DirectoryService, InvalidCursor

    try:
        DirectoryService(DirectoryRepository(directory_engine)).page(cursor, 2)
    except InvalidCursor:
        return "DirectoryService.page raised InvalidCursor"
    except Exception as error:  # noqa: BLE001 - naming whatever the learner's code raised
        return (f"DirectoryService.page raised {type(error).__name__}: {error}, which is not "
                f"InvalidCursor, so the API could not turn it into a 400")
    return "DirectoryService.page accepted it and returned a page"


@pytest.mark.parametrize("kind", list(MADE_UP_CURSORS))
def test_a_cursor_the_directory_did_not_issue_is_a_400(directory, directory_engine, seed_users,
                                                        kind):
    seed_users(3, per_instant=1)
    cursor = MADE_UP_CURSORS[kind]

    response = directory.get("/users", params={"cursor": cursor, "limit": 2})

    assert response.status_code == 400, (
        f"GET /users with a cursor the directory never issued ({kind}: {cursor!r}) answered "
        f"{response.status_code}: {response.text[:200]}. "
        f"{what_the_service_raised(directory_engine, cursor)}. Expected 400 with a message, not "
        f"a crash or a page that starts somewhere arbitrary."
    )


def test_a_cursor_in_the_old_timestamp_only_format_is_never_a_server_error(
    directory, directory_engine, seed_users
):
    """Clients may still hold a cursor of the old format: a 400 (start again) or a page is
    fine, a 500 is not."""
    seed_users(3, per_instant=1)
    cursor = b64("2024-03-01T09:00:00+00:00")

    response = directory.get("/users", params={"cursor": cursor, "limit": 2})

    assert response.status_code in (200, 400), (
        f"GET /users with a cursor that holds only a timestamp (the format the directory issued "
        f"before the fix: {cursor!r}) answered {response.status_code}: {response.text[:200]}. "
        f"{what_the_service_raised(directory_engine, cursor)}. Expected 400 (or a page), never "
        f"a server error."
    )


def test_users_created_microseconds_apart_page_in_order(directory, seed_users):
    """Postgres keeps timestamps to the microsecond: a cursor that keeps less loses users."""
    expected = seed_users(40, per_instant=2, step="1 microsecond")
    why = (" These users were created one microsecond apart: does the cursor keep the whole "
           "timestamp, microseconds included?")

    try:
        seen, _ = walk(directory, limit=3, expected_total=40)
    except AssertionError as error:
        raise AssertionError(f"{error}{why}") from None

    assert seen == expected, explain(expected, seen, 3, 2) + why


@pytest.mark.parametrize(("count", "limit"), [(50, 1), (49, 7), (50, 100), (100, 100)])
def test_every_page_size_from_one_to_the_largest_shows_each_user_once(
    directory, seed_users, count, limit
):
    """One user a page (every page ends inside a group of seven), pages that end exactly where
    a group ends, and the largest page the API allows, full to the last user or beyond it."""
    expected = seed_users(count, per_instant=7)

    seen, _ = walk(directory, limit=limit, expected_total=count)

    assert seen == expected, explain(expected, seen, limit, 7)
