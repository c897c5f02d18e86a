import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env

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


@pytest.mark.parametrize(
    "missing", ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "CELERY_BROKER_URL"]
)
def test_production_refuses_to_start_without_a_required_setting(missing):
    result = _run_check({**PRODUCTION_ENV, missing: None})

    assert result.returncode == 1
    assert f"Set the {missing} environment variable" in result.stderr


def test_production_passes_check_deploy_at_warning_level():
    result = _run_check(PRODUCTION_ENV, "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_requires_a_second_factor_of_admins_unless_told_otherwise():
    without_admins = _run_check(
        {**PRODUCTION_ENV, "OTP_REQUIRED_ROLES": "advertiser"},
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    on_purpose = _run_check(
        {**PRODUCTION_ENV, "OTP_REQUIRED_ROLES": "advertiser", "OTP_ADMIN_OPTIONAL": "true"},
        "--deploy",
        "--fail-level",
        "WARNING",
    )

    assert without_admins.returncode == 1
    assert "clickledger.W001" in without_admins.stderr
    assert on_purpose.returncode == 0, on_purpose.stderr


def test_production_settings_require_admins_to_use_a_second_factor():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings; print(settings.OTP_REQUIRED_ROLES)",
        ],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k != "OTP_REQUIRED_ROLES"},
            **PRODUCTION_ENV,
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.stdout.strip() == "['admin']", result.stderr


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


# --- How the settings are laid out (config/settings/base.py's docstring) -----------------------
SETTINGS_DIR = ROOT / "config" / "settings"
COMPONENTS = sorted((SETTINGS_DIR / "components").glob("[!_]*.py"))
ENVIRONMENT_MODULES = ["local.py", "test.py", "test_sqlite.py", "production.py"]


def _module_tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


# Methods that change a list or dict in place.
_MUTATORS = {"append", "extend", "insert", "update", "setdefault", "pop", "remove", "clear"}


def _setting_writes(path: Path) -> list[str]:
    """Uppercase names a module writes, once per statement: `NAME = ...`, `NAME[...] = ...`,
    `NAME.update(...)`, `NAME.setdefault(...).update(...)`."""
    written = []
    for node in ast.walk(_module_tree(path)):
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets = [node.target]
        elif (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Attribute)
            and node.value.func.attr in _MUTATORS
        ):
            targets = [node.value.func.value]
        for target in targets:
            while isinstance(target, (ast.Subscript, ast.Attribute, ast.Call)):
                target = target.func if isinstance(target, ast.Call) else target.value
            if isinstance(target, ast.Name) and target.id.isupper():
                written.append(target.id)
    return written


def _environment_variables_read(path: Path) -> list[str]:
    """Variables a module reads through `env`: `env.<cast>("NAME", ...)` or `env("NAME")`."""
    read = []
    for node in ast.walk(_module_tree(path)):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        on_env = (isinstance(func, ast.Name) and func.id == "env") or (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id == "env"
        )
        first = node.args[0]
        if on_env and isinstance(first, ast.Constant) and isinstance(first.value, str):
            read.append(first.value)
    return read


def _environment_defaults(path: Path) -> set[str]:
    """Variable names an environment module passes to `env.use_defaults(...)`."""
    names = set()
    for node in ast.walk(_module_tree(path)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "use_defaults"
        ):
            names.update(keyword.arg for keyword in node.keywords)
    return names


def test_base_imports_every_settings_component():
    imported = {
        node.module
        for node in ast.walk(_module_tree(SETTINGS_DIR / "base.py"))
        if isinstance(node, ast.ImportFrom) and any(alias.name == "*" for alias in node.names)
    }

    assert COMPONENTS
    assert imported == {f"config.settings.components.{path.stem}" for path in COMPONENTS}


def test_each_setting_is_written_by_one_statement_of_one_module():
    """Base and the components declare each setting whole, once; only the environment modules
    (local, test, test_sqlite, production) override."""
    written_in: dict[str, list[str]] = {}
    for path in [SETTINGS_DIR / "base.py", *COMPONENTS]:
        for name in _setting_writes(path):
            written_in.setdefault(name, []).append(path.name)

    assert {name: files for name, files in written_in.items() if len(files) > 1} == {}


def test_each_environment_variable_is_read_in_one_place():
    modules = [ROOT / "config" / "env.py", *SETTINGS_DIR.glob("*.py"), *COMPONENTS]
    read_in: dict[str, list[str]] = {}
    for path in modules:
        for variable in _environment_variables_read(path):
            read_in.setdefault(variable, []).append(str(path.relative_to(ROOT)))

    assert {variable: files for variable, files in read_in.items() if len(files) > 1} == {}


@pytest.mark.parametrize("module", ENVIRONMENT_MODULES)
def test_environment_defaults_name_variables_the_settings_read(module):
    read = {
        variable
        for path in [SETTINGS_DIR / "base.py", *COMPONENTS]
        for variable in _environment_variables_read(path)
    }

    assert _environment_defaults(SETTINGS_DIR / module) - read == set()


def test_environment_defaults_come_too_late_once_the_settings_are_read():
    with pytest.raises(ImproperlyConfigured, match="for DEBUG must run before the settings read"):
        env.use_defaults(DEBUG=True)

    assert "DEBUG" not in env.environment_defaults


def _local_setting(name: str, env_overrides: dict[str, str]) -> str:
    environment = {k: v for k, v in os.environ.items() if k != name}
    environment.update(env_overrides, DJANGO_SETTINGS_MODULE="config.settings.local")
    result = subprocess.run(
        [sys.executable, "-c", f"from django.conf import settings; print(settings.{name})"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout.strip()


def test_an_environments_default_gives_way_to_the_variable():
    assert _local_setting("LEGACY_POSTBACK_ENABLED", {}) == "True"
    assert _local_setting("LEGACY_POSTBACK_ENABLED", {"LEGACY_POSTBACK_ENABLED": "false"}) == (
        "False"
    )


def _dot_env_probe(tmp_path: Path, env_overrides: dict[str, str]) -> str:
    """What `config.env` leaves in the environment from a `.env` beside a copy of `config/`."""
    shutil.copytree(
        ROOT / "config", tmp_path / "config", ignore=shutil.ignore_patterns("__pycache__")
    )
    (tmp_path / ".env").write_text("CLICKLEDGER_DOT_ENV_PROBE=from-the-file\n")
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_READ_DOT_ENV_FILE", "CLICKLEDGER_DOT_ENV_PROBE"}
    }
    environment.update(env_overrides)
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os, config.env; print(os.environ.get('CLICKLEDGER_DOT_ENV_PROBE', 'unset'))",
        ],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout.strip()


def test_the_dot_env_file_is_ignored_unless_asked_for(tmp_path):
    assert _dot_env_probe(tmp_path, {}) == "unset"


def test_the_dot_env_file_is_read_when_asked_for(tmp_path):
    assert _dot_env_probe(tmp_path, {"DJANGO_READ_DOT_ENV_FILE": "true"}) == "from-the-file"


def test_the_shell_wins_over_the_dot_env_file(tmp_path):
    result = _dot_env_probe(
        tmp_path,
        {"DJANGO_READ_DOT_ENV_FILE": "true", "CLICKLEDGER_DOT_ENV_PROBE": "from-the-shell"},
    )

    assert result == "from-the-shell"
