"""volley's exceptions, as raised by the compiled core.

Every error volley raises on purpose derives from :class:`volley.Error`; each also derives from
the built-in exception a Python user would catch for it (ValueError for bad input, OSError for
files). Messages are volley's own: a model-file error names the file, the line and the dotted
field (``cuba.toml:23: populations.P.tau_m: needs a unit, e.g. "20 ms"``).
"""


class Error(Exception):
    """Base class of every error volley raises on purpose."""


class ConfigError(Error, ValueError):
    """A model file or TOML text is malformed; the message names file, line and field."""


class ParameterError(Error, ValueError):
    """A parameter violates a model or connector constraint (``tau_m must be > 0``), or names
    something that does not exist."""


class UnitError(Error, ValueError):
    """A quantity string is malformed or has the wrong physical dimension."""


class IoError(Error, OSError):
    """Reading or writing a data file failed."""


for _cls in (Error, ConfigError, ParameterError, UnitError, IoError):
    _cls.__module__ = "volley"
del _cls
