"""A small TOML writer for volley's model files (no third-party TOML package needed).

Values map as follows:

* ``bool`` -> ``true``/``false``; ``int`` -> integer; ``float`` -> float (``inf``/``nan`` allowed)
* ``str`` -> a basic string (``"10 ms"``); quantities are strings with a unit
* ``(value, "unit")`` -> the quantity string ``"value unit"`` (a 2-tuple of a number and a str)
* ``list``/other ``tuple``/1-d numpy arrays -> arrays; numpy scalars -> numbers
* ``dict`` -> an inline table ``{ key = value, ... }``

Anything else (``None``, objects) raises TypeError naming the field.
"""
from __future__ import annotations

import math
import numbers
import re
from typing import Any, Mapping

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def key(k: Any, where: str = "") -> str:
    """A TOML key: bare when it can be, else quoted."""
    if not isinstance(k, str):
        raise TypeError(f"{where or 'key'}: keys must be strings, got {type(k).__name__} {k!r}")
    if not k:
        raise ValueError(f"{where or 'key'}: empty key")
    return k if _BARE_KEY.match(k) else string(k)


def string(s: str) -> str:
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif o < 0x20 or o == 0x7F:
            out.append(f"\\u{o:04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _number(x: numbers.Real, where: str) -> str:
    if isinstance(x, numbers.Integral):
        return str(int(x))
    f = float(x)
    if math.isnan(f):
        return "nan"
    if math.isinf(f):
        return "inf" if f > 0 else "-inf"
    r = repr(f)
    # TOML floats need a '.' or an exponent; repr gives both forms ('1.0', '1e-05').
    return r


def is_quantity(v: Any) -> bool:
    return (isinstance(v, tuple) and len(v) == 2 and isinstance(v[1], str)
            and isinstance(v[0], numbers.Real) and not isinstance(v[0], bool))


def quantity(v: Any, where: str = "") -> str:
    """``(value, unit)`` -> ``"value unit"``; a str is returned as it is."""
    if isinstance(v, str):
        return v
    if is_quantity(v):
        num = v[0]
        text = str(int(num)) if isinstance(num, numbers.Integral) else repr(float(num))
        return f"{text} {v[1]}".strip()
    raise TypeError(f"{where or 'quantity'}: expected a quantity such as \"10 ms\" or (10, \"ms\"), "
                    f"got {type(v).__name__} {v!r}")


def value(v: Any, where: str = "value") -> str:
    """The TOML text of one value (see the module docstring)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if is_quantity(v):
        return string(quantity(v, where))
    if isinstance(v, numbers.Real):
        return _number(v, where)
    if isinstance(v, str):
        return string(v)
    if isinstance(v, Mapping):
        items = [f"{key(k, where)} = {value(x, f'{where}.{k}')}" for k, x in v.items()]
        return "{ " + ", ".join(items) + " }" if items else "{}"
    # numpy arrays and scalars without importing numpy here
    if hasattr(v, "tolist") and hasattr(v, "ndim"):
        if v.ndim > 1:
            raise ValueError(f"{where}: arrays must be one-dimensional, got shape {v.shape}")
        return value(v.tolist(), where)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(value(x, f"{where}[{i}]") for i, x in enumerate(v)) + "]"
    if v is None:
        raise TypeError(f"{where}: None has no TOML form (leave the key out instead)")
    raise TypeError(f"{where}: cannot write a {type(v).__name__} ({v!r}) to a model file; "
                    "use numbers, strings, (value, unit) tuples, lists and dicts")


def table(header: str, fields: Mapping[str, Any], where: str) -> str:
    """``[header]`` followed by ``key = value`` lines."""
    lines = [f"[{header}]"]
    for k, v in fields.items():
        lines.append(f"{key(k, where)} = {value(v, f'{where}.{k}')}")
    return "\n".join(lines) + "\n"
