"""The one exception tree of driftscope.

Every error a user can cause derives from :class:`DriftscopeError`. Messages say what was wrong,
where (model, version, column, file, line, key path) and how to fix it. Subclasses also derive from
``ValueError`` where a caller would expect one (bad input), so generic handlers keep working.
"""


class DriftscopeError(Exception):
    """Base class of every error driftscope raises on purpose."""


class ConfigError(DriftscopeError, ValueError):
    """The configuration file or environment is invalid; the message names the key path."""


class SchemaError(DriftscopeError, ValueError):
    """Data does not fit a model version's column schema (missing columns, changed schema)."""


class StorageError(DriftscopeError):
    """The store could not be reached or is not at the expected schema revision."""


class NotFoundError(DriftscopeError, LookupError):
    """A named model, version, monitor, alert or request does not exist in the store."""


class SourceError(DriftscopeError):
    """A collector source could not be read (unreachable URL, corrupt file, bad page)."""


class NotFittedError(DriftscopeError, RuntimeError):
    """A monitor was evaluated before ``fit(reference)`` was called."""


class MissingExtraError(DriftscopeError, ImportError):
    """A feature needs an optional dependency that is not installed; the message names the extra."""
