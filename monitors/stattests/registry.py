"""Name -> :class:`~monitors.stattests.base.StatTest` for every drift method.

The registry maps each name to the module that implements it and imports that module on first
:func:`get`, so listing or validating names (what loading a config does) imports no scipy. The
loaded module's ``STAT_TEST.name`` must equal its key.

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

import importlib
from types import MappingProxyType

from driftscope.monitors.stattests.base import StatTest, UnknownMethodError

_PACKAGE = "driftscope.monitors.stattests"
_MODULES = MappingProxyType({
    name: f"{_PACKAGE}.{name}"
    for name in ("anderson", "chisquare", "cramer_von_mises", "energy", "hellinger", "jensenshannon", "kl_div",
                 "ks", "psi", "tvd", "wasserstein", "ztest")
})
"""Method name -> the module whose ``STAT_TEST`` implements it."""


def names() -> tuple[str, ...]:
    """Registered method names, sorted."""
    return tuple(sorted(_MODULES))


def get(name: str) -> StatTest:
    """Return the registered test called ``name``, importing its module on first use.

    Raises
    ------
    UnknownMethodError
        If no test has that name; the message lists the valid names.
    """
    try:
        path = _MODULES[name]
    except (KeyError, TypeError) as exc:
        raise UnknownMethodError(
            f"unknown drift method {name!r}; valid methods are: {', '.join(names())}"
        ) from exc
    test: StatTest = importlib.import_module(path).STAT_TEST
    assert test.name == name, f"{path} registers {test.name!r} under {name!r}: its STAT_TEST.name must be the key"
    return test
