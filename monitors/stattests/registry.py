"""Name -> :class:`~monitors.stattests.base.StatTest` for every drift method.

Examples
--------
>>> from monitors.stattests import registry
>>> registry.names()  # doctest: +NORMALIZE_WHITESPACE
('anderson', 'chisquare', 'cramer_von_mises', 'energy', 'hellinger', 'jensenshannon',
 'kl_div', 'ks', 'psi', 'tvd', 'wasserstein', 'ztest')
>>> test = registry.get("psi")
>>> test.default_threshold, test.kind, test.rule
(0.1, 'distance', '>=')
"""

from __future__ import annotations

from types import MappingProxyType

from driftscope.monitors.stattests import (
    anderson,
    chisquare,
    cramer_von_mises,
    energy,
    hellinger,
    jensenshannon,
    kl_div,
    ks,
    psi,
    tvd,
    wasserstein,
    ztest,
)
from driftscope.monitors.stattests.base import StatTest, UnknownMethodError

_MODULES = (
    anderson,
    chisquare,
    cramer_von_mises,
    energy,
    hellinger,
    jensenshannon,
    kl_div,
    ks,
    psi,
    tvd,
    wasserstein,
    ztest,
)
_TESTS = MappingProxyType({module.STAT_TEST.name: module.STAT_TEST for module in _MODULES})


def names() -> tuple[str, ...]:
    """Registered method names, sorted."""
    return tuple(sorted(_TESTS))


def get(name: str) -> StatTest:
    """Return the registered test called ``name``.

    Raises
    ------
    UnknownMethodError
        If no test has that name; the message lists the valid names.
    """
    try:
        return _TESTS[name]
    except (KeyError, TypeError) as exc:
        raise UnknownMethodError(
            f"unknown drift method {name!r}; valid methods are: {', '.join(names())}"
        ) from exc
