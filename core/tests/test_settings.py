import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "SECRET_KEY": "test-" + "abcdefghij0123456789" * 3,
    "ALLOWED_HOSTS": "tracker.example.com",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/clickledger",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
}


def _run_check(env_overrides: dict[str, str | None], *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.production"
    for key, value in env_overrides.items():
        if value is not None:
            env[key] = value
    return subprocess.run(
        [sys.executable, "manage.py", "check", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL"])
def test_production_refuses_to_start_without_a_required_setting(missing):
    result = _run_check({**PRODUCTION_ENV, missing: None})

    assert result.returncode == 1
    assert f"Set the {missing} environment variable" in result.stderr


def test_production_passes_check_deploy_at_warning_level():
    result = _run_check(PRODUCTION_ENV, "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_test_settings_run_on_postgresql(settings):
    assert settings.DATABASES["default"]["ENGINE"] == "core.db.postgresql"


def _settings_cache(
    env_overrides: dict[str, str | None], module: str
) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {*PRODUCTION_ENV, "CACHE_URL"}}
    env["DJANGO_SETTINGS_MODULE"] = module
    env.update({k: v for k, v in env_overrides.items() if v is not None})
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "cache = settings.CACHES['default']; print(cache['BACKEND'], cache['LOCATION'])"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_caches_on_the_brokers_redis_next_database_by_default():
    result = _settings_cache(PRODUCTION_ENV, "config.settings.production")

    assert result.stdout.split()[-2:] == [
        "django.core.cache.backends.redis.RedisCache",
        "redis://127.0.0.1:6379/1",
    ], result.stderr


def test_production_takes_cache_url_when_given():
    env = {**PRODUCTION_ENV, "CACHE_URL": "redis://cache.internal:6379/3"}

    result = _settings_cache(env, "config.settings.production")

    assert result.stdout.split()[-1] == "redis://cache.internal:6379/3", result.stderr


@pytest.mark.parametrize("cache_url", ["locmemcache://", "dummycache://"])
def test_production_refuses_a_cache_each_process_keeps_to_itself(cache_url):
    result = _settings_cache(
        {**PRODUCTION_ENV, "CACHE_URL": cache_url}, "config.settings.production"
    )

    assert result.returncode == 1
    assert "CACHE_URL names a cache each process keeps to itself" in result.stderr


def test_production_needs_cache_url_when_the_broker_is_not_redis():
    env = {**PRODUCTION_ENV, "CELERY_BROKER_URL": "amqp://rabbit:5672//"}

    result = _settings_cache(env, "config.settings.production")

    assert result.returncode == 1
    assert "Set the CACHE_URL environment variable" in result.stderr


def test_the_quickstarts_cache_is_a_folder_every_local_process_shares():
    result = _settings_cache({}, "config.settings.local")

    assert result.stdout.split()[-2:] == [
        "django.core.cache.backends.filebased.FileBasedCache",
        str(ROOT / "var" / "cache"),
    ], result.stderr


def _production_setting(name: str, env_overrides: dict[str, str] | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV}
    env.update(PRODUCTION_ENV, DJANGO_SETTINGS_MODULE="config.settings.production")
    env.update(env_overrides or {})
    result = subprocess.run(
        [sys.executable, "-c", f"from django.conf import settings; print(settings.{name})"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout.strip()


def test_production_switches_the_keyless_legacy_postback_off_unless_asked():
    assert _production_setting("LEGACY_POSTBACK_ENABLED") == "False"
    assert _production_setting("LEGACY_POSTBACK_ALLOWED_IPS") == "[]"
    assert _production_setting("LEGACY_POSTBACK_ENABLED", {"LEGACY_POSTBACK_ENABLED": "true"}) == (
        "True"
    )


def test_a_malformed_legacy_postback_allowlist_stops_the_start():
    result = _run_check({**PRODUCTION_ENV, "LEGACY_POSTBACK_ALLOWED_IPS": "10.0.0.0/8,nonsense"})

    assert result.returncode == 1
    assert (
        "clickledger.E001) LEGACY_POSTBACK_ALLOWED_IPS: 'nonsense' is not an IP address or CIDR "
        "range." in result.stderr
    )
