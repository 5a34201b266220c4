"""Configuration comes from the environment; mistakes stop the process with a clear message."""

import json
import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "x" * 30 + "production-secret-key-for-the-check-only",
    "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    "ALLOWED_HOSTS": "switchboard.example.org",
    "SITE_URL": "https://switchboard.example.org",
}


def run_manage(*args, env=None, tmp_path):
    # A clean environment, as an operator's shell would have (browser tests set DJANGO_ALLOW_ASYNC_UNSAFE).
    inherited = ("DEBUG", "REDIS_URL", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
    environment = {k: v for k, v in os.environ.items() if k not in inherited}
    environment.update(SWITCHBOARD_VAR_DIR=str(tmp_path), **(env or {}))
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )


def settings_seen(tmp_path, env, *names):
    code = (
        "from django.conf import settings; import json; "
        f"print(json.dumps({{n: str(getattr(settings, n)) for n in {names!r}}}))"
    )
    result = run_manage("shell", "-c", code, env=env, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_production_configuration_passes_the_deploy_check(tmp_path):
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION, tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_a_malformed_boolean_stops_the_process_with_its_name(tmp_path):
    result = run_manage("check", env={**PRODUCTION, "DEBUG": "maybe"}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "DEBUG must be true or false, not 'maybe'" in result.stderr


def test_a_malformed_encryption_key_stops_the_process_and_says_how_to_make_one(tmp_path):
    result = run_manage("check", env={**PRODUCTION, "FIELD_ENCRYPTION_KEY": "hunter2"}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEY must be one or more comma-separated Fernet keys" in result.stderr
    assert "hunter2" not in result.stderr


def test_with_nothing_configured_keys_are_made_once_and_kept(tmp_path):
    first = settings_seen(tmp_path, {}, "SECRET_KEY", "FIELD_ENCRYPTION_KEY")
    second = settings_seen(tmp_path, {}, "SECRET_KEY", "FIELD_ENCRYPTION_KEY")
    assert first == second
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"


def test_without_redis_the_demo_uses_sqlite_and_the_filesystem_broker(tmp_path):
    seen = settings_seen(tmp_path, {}, "CELERY_BROKER_URL", "DATABASES")
    assert seen["CELERY_BROKER_URL"] == "filesystem://"
    assert "sqlite3" in seen["DATABASES"]


def test_with_redis_and_postgres_configured_both_are_used(tmp_path):
    env = {"REDIS_URL": "redis://127.0.0.1:6379/3", "DATABASE_URL": "postgres://sb@127.0.0.1:5432/sb"}
    seen = settings_seen(tmp_path, env, "CELERY_BROKER_URL", "CACHES", "DATABASES")
    assert seen["CELERY_BROKER_URL"] == "redis://127.0.0.1:6379/3"
    assert "RedisCache" in seen["CACHES"]
    assert "postgresql" in seen["DATABASES"]


def test_the_cache_and_the_broker_can_each_have_their_own_redis(tmp_path):
    env = {
        "REDIS_URL": "redis://127.0.0.1:6379/3",
        "CACHE_URL": "redis://cache.example.org:6379/0",
        "BROKER_URL": "redis://broker.example.org:6379/0",
    }
    seen = settings_seen(tmp_path, env, "CELERY_BROKER_URL", "CACHES")
    assert seen["CELERY_BROKER_URL"] == "redis://broker.example.org:6379/0"
    assert "cache.example.org" in seen["CACHES"] and "broker.example.org" not in seen["CACHES"]
    assert "FallbackRedisCache" in seen["CACHES"]  # logins survive the cache's Redis going down


def test_the_deploy_check_warns_when_keys_were_made_on_this_host(tmp_path):
    env = {k: v for k, v in PRODUCTION.items() if k not in ("SECRET_KEY", "FIELD_ENCRYPTION_KEY")}
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "coop.W001" in result.stderr and "coop.W002" in result.stderr
    assert "FIELD_ENCRYPTION_KEY is not set in the environment" in result.stderr


def test_a_deployment_whose_alert_links_point_at_localhost_is_warned(tmp_path):
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING", env={**PRODUCTION, "SITE_URL": ""}, tmp_path=tmp_path
    )

    assert result.returncode != 0
    assert "alerts.W001" in result.stderr + result.stdout and "acknowledge links" in result.stderr + result.stdout
