"""Production settings refuse unsafe configuration (checked in a fresh interpreter each time)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAFE = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "x" * 20 + "-production-secret-key-0123456789",
    "DJANGO_ALLOWED_HOSTS": "shop.example.com",
    "DATABASE_URL": "postgres://shop:secret@db:5432/shoplens",
    "REDIS_URL": "redis://redis:6379/0",
}


def _load_production_settings(**overrides: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_"))}
    env.update(SAFE)
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    code = (
        "import django; from django.conf import settings; django.setup(); "
        "print(settings.DEBUG, settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, "
        "settings.SECURE_HSTS_SECONDS > 0, settings.SECURE_SSL_REDIRECT, 'devtools' in settings.INSTALLED_APPS)"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_production_settings_load_with_a_safe_configuration() -> None:
    result = _load_production_settings()
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "True", "True", "True", "False"]  # no devtools


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"DJANGO_SECRET_KEY": None}, "DJANGO_SECRET_KEY must be set"),
        ({"DJANGO_SECRET_KEY": "short"}, "DJANGO_SECRET_KEY is too weak"),
        ({"DJANGO_DEBUG": "true"}, "DJANGO_DEBUG must not be on"),
        ({"DJANGO_ALLOWED_HOSTS": None}, "DJANGO_ALLOWED_HOSTS must list"),
        ({"DATABASE_URL": None}, "DATABASE_URL must be set"),
        ({"REDIS_URL": None}, "REDIS_URL must be set"),
    ],
)
def test_production_settings_refuse_unsafe_configuration(overrides: dict[str, str | None], message: str) -> None:
    result = _load_production_settings(**overrides)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_check_deploy_reports_no_warnings_with_a_complete_environment() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_"))}
    env |= SAFE | {
        "DJANGO_SECRET_KEY": "q8Zr-2vKx!pL0m#Tn4Wc7yHb1Ds9Fg6Ju3Ea5Ri8Ok2Qw7Xe0Vt",
        "DJANGO_SECURE_HSTS_PRELOAD": "true",
        "SHOPLENS_METRICS_TOKEN": "a-long-random-metrics-token-0123456789",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
