import os

import pytest
from django.core.exceptions import ImproperlyConfigured

from diplohub.lib.env import (
    env_bool,
    env_database,
    env_int,
    env_list,
    env_str,
    env_time_zone,
    load_env_file,
)


def test_it_reads_booleans(monkeypatch):
    monkeypatch.setenv("X_FLAG", "yes")
    assert env_bool("X_FLAG") is True
    monkeypatch.setenv("X_FLAG", "0")
    assert env_bool("X_FLAG", True) is False


def test_it_refuses_a_bad_boolean(monkeypatch):
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="X_FLAG='maybe' is not a boolean"):
        env_bool("X_FLAG")


def test_it_refuses_a_bad_integer(monkeypatch):
    monkeypatch.setenv("X_N", "ten")
    with pytest.raises(ImproperlyConfigured, match="X_N='ten' is not an integer"):
        env_int("X_N", 1)
    monkeypatch.setenv("X_N", "-1")
    with pytest.raises(ImproperlyConfigured, match="below the minimum"):
        env_int("X_N", 1, minimum=0)


def test_it_reads_secrets_from_files(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("s3cret\n")
    monkeypatch.setenv("X_SECRET_FILE", str(secret))
    assert env_str("X_SECRET") == "s3cret"
    monkeypatch.setenv("X_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="X_SECRET_FILE: cannot read"):
        env_str("X_SECRET")


def test_it_splits_lists(monkeypatch):
    monkeypatch.setenv("X_LIST", "en, es,,ca ")
    assert env_list("X_LIST") == ["en", "es", "ca"]


def test_it_checks_time_zones(monkeypatch):
    assert env_time_zone("X_TZ", "Europe/Madrid") == "Europe/Madrid"
    monkeypatch.setenv("X_TZ", "Europe/Atlantis")
    with pytest.raises(ImproperlyConfigured, match="not a known time zone"):
        env_time_zone("X_TZ", "UTC")


@pytest.mark.parametrize("url", ["mysql://x@y/z", "not a url", "postgres://user@host:5432/", ""])
def test_it_refuses_unusable_database_urls(monkeypatch, url):
    monkeypatch.setenv("X_DB", url)
    with pytest.raises(ImproperlyConfigured, match="X_DB="):
        env_database("X_DB", "sqlite:///x.sqlite3")


def test_it_parses_postgres_and_sqlite(monkeypatch):
    monkeypatch.setenv("X_DB", "postgres://postgres@127.0.0.1:5432/diplohub")
    config = env_database("X_DB", "")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert config["NAME"] == "diplohub"
    sqlite = env_database("X_MISSING", "sqlite:////srv/hub/hub.sqlite3")
    assert sqlite["NAME"] == "/srv/hub/hub.sqlite3"
    assert sqlite["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_it_loads_an_env_file_without_overriding_the_environment(monkeypatch, tmp_path):
    env_file = tmp_path / "hub.env"
    env_file.write_text(
        '# the hub\nX_CITY="Boston"\n\nexport X_TZ=America/New_York\nX_SET=from-file\n'
    )
    monkeypatch.delenv("X_CITY", raising=False)
    monkeypatch.delenv("X_TZ", raising=False)
    monkeypatch.setenv("X_SET", "from-environment")
    load_env_file(str(env_file))
    assert os.environ["X_CITY"] == "Boston"
    assert os.environ["X_TZ"] == "America/New_York"
    assert os.environ["X_SET"] == "from-environment"
    for key in ("X_CITY", "X_TZ"):
        monkeypatch.delenv(key)


def test_it_names_the_line_of_a_bad_env_file(tmp_path):
    env_file = tmp_path / "hub.env"
    env_file.write_text("X_OK=1\nthis is not a setting\n")
    with pytest.raises(ImproperlyConfigured, match="line 2: expected KEY=VALUE"):
        load_env_file(str(env_file))
    with pytest.raises(ImproperlyConfigured, match="cannot read"):
        load_env_file(str(tmp_path / "missing.env"))
