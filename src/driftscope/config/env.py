"""``${VAR}`` and ``${VAR:-default}`` interpolation of configuration values from the environment.

Interpolation works on parsed string values, never on raw YAML text, so a variable cannot inject
YAML structure. ``${VAR}`` with ``VAR`` unset is an error naming the key path; ``$${`` is a literal
``${``.
"""

import os
import re
from collections.abc import Mapping
from typing import Any

from driftscope.errors import ConfigError

_PATTERN = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def interpolate(value: Any, env: Mapping[str, str] | None = None, path: str = "") -> Any:
    """Return ``value`` with every ``${VAR}`` / ``${VAR:-default}`` in its strings replaced.

    Parameters
    ----------
    value
        A parsed YAML document: nested dicts, lists and scalars.
    env
        The environment to read; ``os.environ`` when None.
    path
        Key path of ``value`` in the document, used in error messages.

    Examples
    --------
    >>> interpolate({"url": "${DB:-sqlite:///x.db}"}, env={})
    {'url': 'sqlite:///x.db'}
    >>> interpolate(["${A}-$${B}"], env={"A": "1"})
    ['1-${B}']
    """
    environ = os.environ if env is None else env
    if isinstance(value, dict):
        return {k: interpolate(v, environ, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, environ, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, str):
        return _substitute(value, environ, path)
    return value


def _substitute(text: str, environ: Mapping[str, str], path: str) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        name, default = match.group(1), match.group(2)
        if name in environ:
            return environ[name]
        if default is not None:
            return default
        raise ConfigError(
            f"{path or '<root>'}: environment variable {name} is not set; "
            f"export it or write ${{{name}:-default}} to give a default"
        )

    return _PATTERN.sub(replace, text)
