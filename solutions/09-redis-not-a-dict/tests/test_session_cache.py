from dict_redis import DictRedis
from session_cache import SessionCache


def make_cache() -> SessionCache:
    return SessionCache(DictRedis())


def test_a_new_session_token_is_valid_for_its_user():
    cache = make_cache()
    token = cache.start("ada")
    assert cache.is_valid("ada", token)


def test_a_token_is_not_valid_for_another_user():
    cache = make_cache()
    token = cache.start("ada")
    assert not cache.is_valid("grace", token)


def test_an_unknown_token_is_not_valid():
    cache = make_cache()
    cache.start("ada")
    assert not cache.is_valid("ada", "made-up-token")


def test_each_session_gets_a_different_token():
    cache = make_cache()
    assert cache.start("ada") != cache.start("grace")


def test_user_for_names_the_owner_of_the_token():
    cache = make_cache()
    token = cache.start("ada")
    assert cache.user_for(token) == "ada"


def test_rotating_gives_a_new_token_and_retires_the_old_one():
    cache = make_cache()
    old = cache.start("ada")
    new = cache.rotate("ada")
    assert new != old
    assert cache.is_valid("ada", new)
    assert not cache.is_valid("ada", old)


def test_ending_a_session_retires_its_token():
    cache = make_cache()
    token = cache.start("ada")
    cache.end("ada")
    assert not cache.is_valid("ada", token)
