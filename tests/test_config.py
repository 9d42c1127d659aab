"""seamlab.config.Settings: TEST_* variables in, typed settings out, clear errors for bad values."""

from __future__ import annotations

import pytest

from seamlab.config import COMPOSE_PORTS, ENV_VARS, Settings
from seamlab.errors import ConfigError


def test_defaults_point_at_the_compose_ports_on_localhost():
    settings = Settings.from_env({})
    assert settings.db_where == "127.0.0.1:5433"
    assert settings.redis_where == "127.0.0.1:6380"
    assert settings.amqp_where == "127.0.0.1:5673"
    assert settings.mail_where == "127.0.0.1:8025"
    assert (settings.db_name, settings.db_user, settings.db_password) == ("seamlab",) * 3
    assert settings.explicit == frozenset()


def test_no_default_points_at_a_developers_own_servers():
    defaults = Settings.from_env({})
    wheres = {defaults.db_where, defaults.redis_where, defaults.amqp_where, defaults.mail_where}
    assert not {w for w in wheres if w.endswith((":5432", ":6379", ":5672"))}
    assert set(COMPOSE_PORTS.values()) == {5433, 6380, 5673, 8025}


def test_reads_every_variable_and_remembers_which_were_given():
    env = {
        "TEST_DB_HOST": "db.internal",
        "TEST_DB_PORT": "6543",
        "TEST_DB_NAME": "grading",
        "TEST_DB_USER": "ci",
        "TEST_DB_PASSWORD": "s3cret",
        "TEST_REDIS_URL": "redis://cache:6390/4",
        "TEST_AMQP_URL": "amqp://u:p@mq:5680/%2F",
        "TEST_MAIL_URL": "http://mail:9000/",
    }
    settings = Settings.from_env(env)
    assert settings.db_where == "db.internal:6543"
    assert settings.db_conninfo() == "postgresql://ci:s3cret@db.internal:6543/grading"
    assert settings.redis_where == "cache:6390"
    assert settings.redis_db == 4
    assert settings.amqp_where == "mq:5680"
    assert settings.mail_url == "http://mail:9000"
    assert settings.explicit == frozenset(ENV_VARS)


def test_empty_variables_count_as_unset():
    settings = Settings.from_env({"TEST_DB_PORT": "", "TEST_REDIS_URL": ""})
    assert settings == Settings()
    assert settings.explicit == frozenset()


def test_a_port_that_is_not_a_number_is_a_config_error_that_says_what_to_do():
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"TEST_DB_PORT": "five-four-three-three"})
    message = str(caught.value)
    assert "TEST_DB_PORT='five-four-three-three'" in message
    assert "Fix:" in message


@pytest.mark.parametrize(
    "name, value",
    [
        ("TEST_REDIS_URL", "localhost:6380"),
        ("TEST_AMQP_URL", "amqp://guest@mq:notaport/"),
        ("TEST_MAIL_URL", "8025"),
    ],
)
def test_a_malformed_url_is_a_config_error_naming_the_variable(name, value):
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})


def test_derived_settings_point_at_another_database_and_redis_index():
    settings = Settings().with_database("seamlab_t_1_ab").with_redis_db(17)
    assert settings.db_url().endswith("/seamlab_t_1_ab")
    assert settings.redis_url == "redis://127.0.0.1:6380/17"
    assert settings.redis_db == 17


def test_to_env_reproduces_the_same_settings_in_a_child_process():
    settings = Settings.from_env({"TEST_DB_PORT": "6000", "TEST_REDIS_URL": "redis://h:1/3"})
    assert Settings.from_env(settings.to_env()) == settings


def test_seamlab_port_variables_move_the_course_ports_without_making_them_explicit():
    settings = Settings.from_env({"SEAMLAB_POSTGRES_PORT": "15433", "SEAMLAB_REDIS_PORT": "16380"})
    assert settings.db_where == "127.0.0.1:15433"
    assert settings.redis_url == "redis://127.0.0.1:16380/0"
    assert settings.mail_url == "http://127.0.0.1:8025"
    assert settings.explicit == frozenset()


def test_a_seamlab_port_variable_that_is_not_a_port_says_which_and_how_to_fix():
    with pytest.raises(ConfigError, match=r"SEAMLAB_REDIS_PORT='six' is not a port number. Fix"):
        Settings.from_env({"SEAMLAB_REDIS_PORT": "six"})
