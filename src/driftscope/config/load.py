"""Read ``driftscope.yaml``: YAML -> environment interpolation -> pydantic -> cross-references.

Relative paths (references, file sources, SQLite URLs) are resolved against the file's folder.
"""

import logging
import re
import types
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, SecretStr, ValidationError

from driftscope.config.env import interpolate
from driftscope.config.references import reference_errors
from driftscope.config.schema import Config
from driftscope.errors import ConfigError
from driftscope.redact import MIN_SECRET_CHARS, remember, secrets_in, short_secrets

log = logging.getLogger(__name__)

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_SQLITE_RELATIVE = re.compile(r"^(sqlite(?:\+\w+)?:///)(?!/)(?!:memory:)(.+)$")
_UNION_TAGS = {"email", "webhook"}
# A PBKDF2 hash of a dashboard password grants nothing: it may be written in the file.
_HASHES = {("dashboard", "auth", "users", "*", "password_hash")}
_ENV_ONLY = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}$")


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> Config:
    """Load and validate the configuration file at ``path``.

    Raises
    ------
    ConfigError
        The file is missing, is not YAML, or a key is invalid; the message lists every problem as
        ``key.path: what was expected``.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read the configuration file ({exc.strerror})") from exc
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{file}: not valid YAML: {exc}") from exc
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise ConfigError(f"{file}: expected a mapping of sections at the top, got {type(document).__name__}")
    return parse_config(document, base_dir=file.resolve().parent, env=env, origin=str(file))


def parse_config(
    document: dict[str, Any],
    *,
    base_dir: Path,
    env: Mapping[str, str] | None = None,
    origin: str = "<config>",
) -> Config:
    """Validate an already parsed document; see :func:`load_config`."""
    literal_secrets = _literal_secrets(document)
    if literal_secrets:
        raise ConfigError(
            f"{origin}: secrets must come from the environment, not the file; write ${{VAR}} at "
            + ", ".join(literal_secrets)
        )
    values = _resolve_paths(interpolate(document, env), base_dir)
    try:
        config = Config.model_validate(values)
    except ValidationError as exc:
        raise ConfigError(f"{origin}: invalid configuration\n" + _format(exc)) from exc
    problems = reference_errors(config)
    if problems:
        raise ConfigError(f"{origin}: invalid configuration\n" + "\n".join(f"  {p}" for p in problems))
    remember(secrets_in(config))
    for where in short_secrets(config):
        log.warning("%s: the secret at %s is shorter than %d characters and cannot be scrubbed from logs and "
                    "stored errors; use a longer one (`driftscope config check` refuses it)", origin, where,
                    MIN_SECRET_CHARS)
    return config


def resolve_path(value: str, base_dir: Path) -> str:
    """Make a local path or SQLite URL absolute against ``base_dir``; leave other URLs alone."""
    sqlite = _SQLITE_RELATIVE.match(value)
    if sqlite:
        return sqlite.group(1) + str((base_dir / sqlite.group(2)).resolve())
    if _SCHEME.match(value):
        return value
    return str(base_dir / value) if not Path(value).is_absolute() else value


def _resolve_paths(values: Any, base_dir: Path) -> Any:
    if not isinstance(values, dict):
        return values
    out = dict(values)
    if isinstance(out.get("database_url"), str):
        out["database_url"] = resolve_path(out["database_url"], base_dir)
    for model in _dicts(out.get("models")):
        for version in _dicts(model.get("versions")):
            if isinstance(version.get("reference"), str):
                version["reference"] = resolve_path(version["reference"], base_dir)
    for source in _dicts(out.get("sources")):
        if isinstance(source.get("url"), str) and source.get("kind") in ("files", "sql"):
            source["url"] = resolve_path(source["url"], base_dir)
    retention = out.get("retention")
    if isinstance(retention, dict) and isinstance(retention.get("archive"), str):
        out["retention"] = {**retention, "archive": resolve_path(retention["archive"], base_dir)}
    dashboard = out.get("dashboard")
    if isinstance(dashboard, dict) and isinstance(dashboard.get("reports_dir"), str):
        out["dashboard"] = {**dashboard, "reports_dir": resolve_path(dashboard["reports_dir"], base_dir)}
    elif dashboard is None:
        out["dashboard"] = {"reports_dir": str(base_dir / "reports")}
    return out


def _literal_secrets(document: dict[str, Any]) -> list[str]:
    """Key paths of secret fields (every ``SecretStr`` of the schema) given as literal text, not ``${VAR}``."""
    found = []
    for keys in _secret_keys(Config):
        if keys in _HASHES:
            continue
        for where, value in _values_at(document, keys):
            if value not in (None, "") and not (isinstance(value, str) and _ENV_ONLY.match(value)):
                found.append(where)
    return found


@cache
def _secret_keys(model: type[BaseModel]) -> tuple[tuple[str, ...], ...]:
    """Key paths of every ``SecretStr`` field of ``model`` and its sections; ``*`` is each item of a list.

    Examples
    --------
    >>> ("sources", "*", "security", "password") in _secret_keys(Config)
    True
    """
    keys: list[tuple[str, ...]] = []
    for name, info in model.model_fields.items():
        keys += [(name, *rest) for rest in _secret_tails(info.annotation)]
    return tuple(keys)


def _secret_tails(annotation: Any) -> Iterator[tuple[str, ...]]:
    if annotation is SecretStr:
        yield ()
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield from _secret_keys(annotation)
    elif get_origin(annotation) in (list, tuple, set, frozenset):
        yield from (("*", *rest) for arg in get_args(annotation) for rest in _secret_tails(arg))
    elif get_origin(annotation) in (Union, types.UnionType) or hasattr(annotation, "__metadata__"):
        seen = set()
        for arg in get_args(annotation):
            for rest in _secret_tails(arg):
                if rest not in seen:
                    seen.add(rest)
                    yield rest


def _values_at(node: Any, keys: tuple[str, ...], where: str = "") -> Iterator[tuple[str, Any]]:
    """``(key path, value)`` of the document at ``keys`` (``*``: every item of a list)."""
    if not keys:
        yield where, node
    elif keys[0] == "*":
        for i, item in enumerate(node if isinstance(node, list) else []):
            yield from _values_at(item, keys[1:], f"{where}[{i}]")
    elif isinstance(node, dict) and keys[0] in node:
        yield from _values_at(node[keys[0]], keys[1:], f"{where}.{keys[0]}" if where else keys[0])


def _dicts(items: Any) -> list[dict[str, Any]]:
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def _format(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors(include_url=False):
        path = _key_path(error["loc"])
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown key (check the spelling; see docs/configuration.md)"
        elif error["type"] == "missing":
            message = "required key is missing"
        given = error.get("input")
        suffix = f" (got {given!r})" if error["type"] not in ("missing", "extra_forbidden") and _small(given) else ""
        lines.append(f"  {path}: {message}{suffix}")
    return "\n".join(lines)


def _key_path(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part in _UNION_TAGS or str(part).startswith("function-"):
            continue
        else:
            path += f".{part}" if path else str(part)
    return path or "<root>"


def _small(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) and len(str(value)) <= 80
