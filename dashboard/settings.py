"""What the dashboard needs from the configuration file and the environment.

``DRIFTSCOPE_CONFIG`` names the configuration file (optional: without it the dashboard runs with
defaults and login off); ``DRIFTSCOPE_DATABASE_URL`` overrides the store (``driftscope dashboard``
sets both); ``DRIFTSCOPE_DASHBOARD_USERS`` adds login users (see :mod:`driftscope.config.passwords`).
Login is on when the config enables it, when OIDC is configured, or when users come from the
environment.
"""

import os
from dataclasses import dataclass, field
from pathlib import Path

from driftscope.config import Config, load_config
from driftscope.config.passwords import USERS_ENV, parse_users
from driftscope.config.schema import UserConfig
from driftscope.errors import ConfigError
from driftscope.naming import DEFAULT_DATABASE_URL, DEFAULT_REPORTS_DIR, DEMO_MARKER

CONFIG_ENV = "DRIFTSCOPE_CONFIG"
DATABASE_ENV = "DRIFTSCOPE_DATABASE_URL"



@dataclass(frozen=True)
class Settings:
    """The dashboard's settings, resolved once per configuration change."""

    database_url: str
    config_path: str | None = None
    dashboard_url: str = "http://localhost:8501"
    reports_dir: Path = Path(DEFAULT_REPORTS_DIR)
    auth_enabled: bool = False
    oidc: bool = False
    users: tuple[UserConfig, ...] = ()
    oidc_operators: frozenset[str] = field(default_factory=frozenset)
    models: tuple[str, ...] = ()
    metric_floors: tuple[tuple[str, str, float], ...] = ()
    metric_ceilings: tuple[tuple[str, str, float], ...] = ()
    demo: bool = False

    def metric_floor(self, model: str, metric: str) -> float | None:
        """The highest ``metric_below`` alert floor configured for ``model``'s ``metric``, if any."""
        values = [v for m, name, v in self.metric_floors if m == model and name == metric]
        return max(values) if values else None

    def metric_ceiling(self, model: str, metric: str) -> float | None:
        """The lowest ``latency_above`` / ``error_rate_above`` limit configured for ``model``'s ``metric``, if any."""
        values = [v for m, name, v in self.metric_ceilings if m == model and name == metric]
        return min(values) if values else None


def _metric_floors(config: Config) -> tuple[tuple[str, str, float], ...]:
    """(model, metric, floor) of every ``metric_below`` rule."""
    monitors = {m.name: m.model for m in config.monitors}
    return tuple(
        (rule.model or monitors.get(rule.monitor or "", ""), str(rule.metric), float(rule.value))
        for rule in config.alerts.rules
        if rule.when == "metric_below" and rule.metric is not None and rule.value is not None
    )


def _metric_ceilings(config: Config) -> tuple[tuple[str, str, float], ...]:
    """(model, metric, limit) of every ``latency_above`` (``latency_p<P>``, ms) and ``error_rate_above`` rule."""
    monitors = {m.name: m.model for m in config.monitors}
    return tuple(
        (monitors.get(rule.monitor or "", ""), rule.latency_metric if rule.when == "latency_above" else "error_rate",
         float(rule.value))
        for rule in config.alerts.rules
        if rule.when in ("latency_above", "error_rate_above") and rule.value is not None
    )


def environment_key() -> tuple[str | None, float | None, str | None, str | None]:
    """What :func:`load_settings` depends on: the config path and its mtime, and the two variables."""
    path = os.environ.get(CONFIG_ENV) or None
    mtime = Path(path).stat().st_mtime if path and Path(path).is_file() else None
    return path, mtime, os.environ.get(DATABASE_ENV) or None, os.environ.get(USERS_ENV) or None


def load_settings(config_path: str | None, database_env: str | None, users_env: str | None) -> Settings:
    """Resolve the settings from a config file (or none) and the environment values given.

    Raises
    ------
    ConfigError
        The file named by ``DRIFTSCOPE_CONFIG`` is missing or invalid, or a user entry is malformed.
    """
    env_users = tuple(parse_users(users_env)) if users_env else ()
    if config_path is None:
        return Settings(
            database_url=database_env or DEFAULT_DATABASE_URL, users=env_users, auth_enabled=bool(env_users)
        )
    path = Path(config_path)
    if not path.is_file():
        raise ConfigError(f"{CONFIG_ENV}={config_path}: no such configuration file; fix the path or unset it")
    config: Config = load_config(path)
    auth = config.dashboard.auth
    reports = Path(config.dashboard.reports_dir)
    return Settings(
        database_url=database_env or config.database_url,
        config_path=str(path.resolve()),
        dashboard_url=config.dashboard_url,
        reports_dir=reports if reports.is_absolute() else path.resolve().parent / reports,
        auth_enabled=auth.enabled or auth.oidc or bool(env_users),
        oidc=auth.oidc,
        users=(*auth.users, *env_users),
        oidc_operators=frozenset(e.lower() for e in auth.operators),
        models=tuple(m.name for m in config.models),
        metric_floors=_metric_floors(config),
        metric_ceilings=_metric_ceilings(config),
        demo=(path.resolve().parent / DEMO_MARKER).is_file(),
    )
