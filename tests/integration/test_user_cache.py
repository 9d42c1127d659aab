"""Reading a user goes through the Redis cache; renaming invalidates it."""

from __future__ import annotations

import json

from signup.models import User
from sqlalchemy import update

KEY = "signup:user:{}"


def registered_id(register, api_client) -> int:
    response = register(api_client)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_reading_a_user_stores_it_in_redis_with_a_time_to_live(register, api_client, redis_client):
    user_id = registered_id(register, api_client)

    response = api_client.get(f"/api/users/{user_id}")

    assert response.status_code == 200
    cached = redis_client.get(KEY.format(user_id))
    assert cached is not None, f"no key {KEY.format(user_id)!r} in Redis after a read"
    assert json.loads(cached) == response.json()
    assert 0 < redis_client.ttl(KEY.format(user_id)) <= 300


def test_the_second_read_is_served_from_redis_not_postgres(register, api_client, db_session):
    user_id = registered_id(register, api_client)
    first = api_client.get(f"/api/users/{user_id}").json()

    # Change the row behind the cache's back: only a cached answer can still show the old name.
    db_session.execute(update(User).where(User.id == user_id).values(name="Changed Directly"))

    second = api_client.get(f"/api/users/{user_id}").json()
    assert second == first


def test_renaming_a_user_invalidates_the_cached_copy(register, api_client, redis_client):
    user_id = registered_id(register, api_client)
    api_client.get(f"/api/users/{user_id}")

    response = api_client.patch(f"/api/users/{user_id}", json={"name": "Countess of Lovelace"})

    assert response.status_code == 200, response.text
    assert redis_client.exists(KEY.format(user_id)) == 0, "the old copy is still cached"
    assert api_client.get(f"/api/users/{user_id}").json()["name"] == "Countess of Lovelace"


def test_an_unknown_user_is_404_and_nothing_is_cached(api_client, redis_client):
    response = api_client.get("/api/users/999999")

    assert response.status_code == 404
    assert redis_client.keys("*") == []
