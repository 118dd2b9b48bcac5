"""Building blocks of every configuration section: strict pydantic models and shared field types.

Each layer owns the section it consumes (sources in :mod:`driftscope.collectors.config`, monitors
in :mod:`driftscope.monitors.config`, rules and channels in :mod:`driftscope.alerting.config`);
:mod:`driftscope.config` composes them into the whole file. This module is part of the shared base
every layer may import.
"""

from collections.abc import Iterable
from datetime import timedelta
from typing import Annotated, Any, Protocol, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, SecretStr

from driftscope.durations import Months, parse_duration, parse_period, validate_schedule
from driftscope.errors import NotFoundError


def blank_to_none(value: Any) -> Any:
    """Treat ``""`` (an unset ``${VAR:-}``) as absent.

    Examples
    --------
    >>> blank_to_none("  ") is None, blank_to_none("x")
    (True, 'x')
    """
    return None if isinstance(value, str) and value.strip() == "" else value


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
Period = Annotated[timedelta | Months, BeforeValidator(parse_period)]
OptionalStr = Annotated[str | None, BeforeValidator(blank_to_none)]
OptionalSecret = Annotated[SecretStr | None, BeforeValidator(blank_to_none)]
Schedule = Annotated[str, BeforeValidator(validate_schedule)]


class Strict(BaseModel):
    """Base of every section: unknown keys are refused, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Named(Protocol):
    """Anything listed by name in the configuration (a model, source, monitor, channel, rule)."""

    @property
    def name(self) -> str: ...


N = TypeVar("N", bound=Named)


def by_name(items: Iterable[N], name: str, what: str) -> N:
    """The item called ``name``; a :class:`~driftscope.errors.NotFoundError` lists the valid names.

    Examples
    --------
    >>> from types import SimpleNamespace as S
    >>> by_name([S(name="a")], "a", "model").name
    'a'
    """
    listed = list(items)
    for item in listed:
        if item.name == name:
            return item
    valid = ", ".join(i.name for i in listed) or "none configured"
    raise NotFoundError(f"no {what} named {name!r}; configured: {valid}")
