"""docs/python.md's API reference against the module: every function, class and member the
reference lists exists, and every public function and method has a docstring (for help())."""
import inspect
import os
import re

import volley

SOURCE = os.environ.get("VOLLEY_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))

# Reference sections whose table rows name members of a class.
CLASS_SECTIONS = {"`Network`": volley.Network, "`Population`": volley.Population,
                  "`Projection`": volley.Projection}


def reference_rows():
    """(section heading, first cell) of every table row under '## API reference'."""
    text = open(os.path.join(SOURCE, "docs", "python.md"), encoding="utf-8").read()
    ref = text.split("## API reference", 1)[1].split("\n## ", 1)[0]
    section = ""
    for line in ref.splitlines():
        if line.startswith("### "):
            section = line[4:].strip()
        elif line.startswith("| `"):
            yield section, line.split("|")[1].strip()


def names_in(cell):
    """The identifiers a cell documents: `a`, `b(x)` -> ["a", "b"]; `volley.f(...)` -> ["volley.f"]."""
    out = []
    for code in re.findall(r"`([^`]+)`", cell):
        m = re.match(r"(volley\.)?([A-Za-z_][A-Za-z0-9_]*)", code)
        if m and not (m.group(2) == "len" and not m.group(1)):  # `len()`: the builtin
            out.append((m.group(1) or "") + m.group(2))
    return out


def test_every_documented_name_exists():
    checked = 0
    for section, cell in reference_rows():
        cls = next((c for key, c in CLASS_SECTIONS.items() if section.startswith(key)), None)
        for name in names_in(cell):
            if name.startswith("volley."):
                assert hasattr(volley, name[7:]), f"docs/python.md ({section}): {name} does not exist"
                checked += 1
            elif cls is not None:
                assert hasattr(cls, name), f"docs/python.md ({section}): {cls.__name__}.{name} does not exist"
                checked += 1
    assert checked > 30  # the reference was found and read


def test_public_functions_and_methods_have_docstrings():
    missing = []
    public = [(name, getattr(volley, name)) for name in volley.__all__]
    public += [(f"analysis.{n}", getattr(volley.analysis, n)) for n in volley.analysis.__all__]
    for name, obj in public:
        if not (inspect.getdoc(obj) or "").strip():
            missing.append(name)
        if inspect.isclass(obj) and not issubclass(obj, BaseException):
            for member, value in vars(obj).items():
                if member.startswith("_") or not (inspect.isfunction(value) or isinstance(value, property)):
                    continue
                if not (inspect.getdoc(value) or "").strip():
                    missing.append(f"{name}.{member}")
    assert not missing, f"no docstring: {', '.join(missing)}"
