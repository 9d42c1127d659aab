"""What a probe finds when it starts: rows and keys that some earlier test left behind.

Every probe writes only data that carries its own name (emails ``who@<probe>.probe``, tools
``"<tool> #<probe>"``), so leftovers say whose they are.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from wishlist_store import Member, Wish

OWNER_PROPERTY = "leftovers"
TABLES_PROPERTY = "table_oids"


def email(who: str, probe: str) -> str:
    return f"{who}@{probe}.probe"


def tool(name: str, probe: str) -> str:
    return f"{name} #{probe}"


def owner(text: str) -> str:
    """The probe that wrote ``text`` (an email, a tool, a Redis key), or '?' if unknown."""
    if "#" in text:
        return text.rsplit("#", 1)[1]
    if text.endswith(".probe") and "@" in text:
        return text.rsplit("@", 1)[1][: -len(".probe")]
    return "?"


def assert_clean(db_session, redis, request) -> None:
    """Fail the probe, naming the owners, unless Postgres and Redis start out empty.

    Also notes the tables' identities (their oids): a fixture that drops and recreates the
    tables for every test gives every probe new ones.
    """
    oids = db_session.execute(
        sa.text("SELECT to_regclass('members')::oid, to_regclass('wishes')::oid")
    ).one()
    request.node.user_properties.append((TABLES_PROPERTY, json.dumps([int(o or 0) for o in oids])))
    found = {
        "members": sorted(db_session.scalars(sa.select(Member.email))),
        "wishes": sorted(db_session.scalars(sa.select(Wish.tool))),
        "redis_keys": sorted(key.decode() for key in redis.scan_iter(count=1000)),
        "leaderboard": sorted(
            member.decode() for member in redis.zrange("wishlist:most-wished", 0, -1)
        ),
    }
    if not any(found.values()):
        return
    owners = {owner(item) for key in ("members", "wishes", "leaderboard") for item in found[key]}
    owners |= {owner(key) for key in found["redis_keys"]}
    owners = sorted(owners - {"?"}) or ["an unknown test"]
    found["owners"] = owners
    request.node.user_properties.append((OWNER_PROPERTY, json.dumps(found)))
    raise AssertionError(
        f"{request.node.name} did not start clean; left by {', '.join(owners)}: {found}"
    )
