#!/usr/bin/env python3
"""NIR files between volley and h5py, without the nir package (h5py and numpy only).

  nir_h5py_check.py check PATH...   Reads each NIR file (or every *.nir file of a directory)
                                    the way NIR's Python reader walks one (nir/read.py,
                                    nir/serialization.py: /version, then /node recursively:
                                    `type`, one dataset per parameter, `nodes`, `edges` as pairs
                                    of byte strings) and checks the graph: known node types, the
                                    parameters NIR's reader asks for, one shape for all
                                    parameters of a neuron (NIR's dataclasses assert it), edges
                                    between existing nodes of matching sizes. Exit status 1 and
                                    a message naming the file and node on the first problem.
  nir_h5py_check.py write FILE      Writes a graph laid out as nir.write lays one out (h5py's
                                    defaults: variable-length UTF-8 strings, numpy dtypes as
                                    given, edges as a list of pairs), with a subgraph in
                                    snnTorch's style (a recurrent CubaLIF with its Linear cycle),
                                    float32 and gzip-compressed weights, int32 and int64 shapes
                                    and metadata. tests/io/test_nir.cpp reads it back.
"""
import pathlib
import sys

import h5py
import numpy as np

# Parameters per type, as NIR's reader asks for them: required, optional.
PARAMS = {
    "Input": (["shape"], []),
    "Output": (["shape"], []),
    "Affine": (["weight", "bias"], []),
    "Linear": (["weight"], []),
    "Scale": (["scale"], []),
    "LIF": (["tau", "r", "v_leak", "v_threshold"], ["v_reset"]),
    "CubaLIF": (["tau_mem", "tau_syn", "r", "v_leak", "v_threshold", "w_in"], ["v_reset"]),
    "LI": (["tau", "r", "v_leak"], []),
    "CubaLI": (["tau_mem", "tau_syn", "r", "v_leak", "w_in"], []),
    "IF": (["r", "v_threshold"], ["v_reset"]),
    "I": (["r"], []),
    "Threshold": (["threshold"], []),
    "Delay": (["delay"], []),
    "Flatten": (["start_dim", "end_dim"], ["input_type"]),
}
ELEMENTWISE = {"Scale", "LIF", "CubaLIF", "LI", "CubaLI", "IF", "I", "Threshold", "Delay"}


class Invalid(Exception):
    pass


def text(x, what):
    if not isinstance(x, bytes):
        raise Invalid(f"{what} is a {type(x).__name__}, not a string (h5py reads NIR strings as bytes)")
    return x.decode("utf8")


def read_node(group, path):
    label = f"node '{path}'" if path else "/node"
    if "type" not in group:
        raise Invalid(f"{label}: no 'type'")
    kind = text(group["type"][()], f"{label}: 'type'")
    if kind == "NIRGraph":
        for key in ("nodes", "edges"):
            if key not in group:
                raise Invalid(f"{label} (NIRGraph): missing '{key}'")
        nodes = {k: read_node(n, f"{path}.{k}" if path else k) for k, n in group["nodes"].items()}
        edges = [(text(a, f"{label}: an edge"), text(b, f"{label}: an edge")) for a, b in group["edges"][()]]
        graph = {"type": kind, "nodes": nodes, "edges": edges}
        check_graph(graph, path)
        return graph
    if kind not in PARAMS:
        raise Invalid(f"{label}: unknown type '{kind}'")
    required, optional = PARAMS[kind]
    params = {}
    for p in required + optional:
        if p not in group:
            if p in required:
                raise Invalid(f"{label} ({kind}): missing parameter '{p}'")
            continue
        value = np.asarray(group[p][()])
        if value.dtype.kind not in "iuf":
            raise Invalid(f"{label} ({kind}): parameter '{p}' is {value.dtype}, not numbers")
        if not np.all(np.isfinite(value)):
            raise Invalid(f"{label} ({kind}): parameter '{p}' is not finite")
        params[p] = value
    node = {"type": kind, "params": params}
    if kind in ELEMENTWISE:
        shapes = {p: v.shape for p, v in params.items()}
        if len(set(shapes.values())) != 1:
            raise Invalid(f"{label} ({kind}): parameters of different shapes {shapes}")
        node["in"] = node["out"] = int(np.prod(next(iter(shapes.values()))))
    elif kind in ("Affine", "Linear"):
        w = params["weight"]
        if w.ndim != 2:
            raise Invalid(f"{label} ({kind}): weight of shape {w.shape}, not out x in")
        node["in"], node["out"] = w.shape[1], w.shape[0]
        if kind == "Affine" and params["bias"].shape != (w.shape[0],):
            raise Invalid(f"{label} (Affine): bias {params['bias'].shape} for weight {w.shape}")
    elif kind in ("Input", "Output"):
        node["in"] = node["out"] = int(np.prod(params["shape"]))
    return node


def resolve(graph, name):
    if name in graph["nodes"]:
        return graph["nodes"][name]
    head, _, tail = name.partition(".")
    sub = graph["nodes"].get(head)
    if tail and sub is not None and sub["type"] == "NIRGraph":
        return resolve(sub, tail)
    return None


def port(node, end):
    """A node's size at an edge end; a subgraph's through its single Input/Output."""
    if node["type"] != "NIRGraph":
        return node.get(end)
    want = "Output" if end == "out" else "Input"
    ports = [n for n in node["nodes"].values() if n["type"] == want]
    return ports[0].get(end) if len(ports) == 1 else None


def check_graph(graph, path):
    where = f"graph '{path}'" if path else "the graph"
    for a, b in graph["edges"]:
        pa, pb = resolve(graph, a), resolve(graph, b)
        for end, p in ((a, pa), (b, pb)):
            if p is None:
                raise Invalid(f"{where}: edge '{a}' -> '{b}' names '{end}', which does not exist")
        out, inp = port(pa, "out"), port(pb, "in")
        if out is not None and inp is not None and out != inp:
            raise Invalid(f"{where}: edge '{a}' -> '{b}' connects {out} outputs to {inp} inputs")


def count(graph):
    n = 0
    for node in graph["nodes"].values():
        n += count(node) if node["type"] == "NIRGraph" else 1
    return n


def check(path):
    with h5py.File(path, "r") as f:
        if "version" not in f:
            raise Invalid("no /version")
        version = text(f["version"][()], "/version")
        if "node" not in f:
            raise Invalid("no /node")
        graph = read_node(f["node"], "")
    if graph["type"] != "NIRGraph":
        raise Invalid("/node is not a NIRGraph")
    types = sorted({n["type"] for n in graph["nodes"].values()})
    print(f"ok: {path}: NIR version {version}, {count(graph)} nodes ({', '.join(types)}), "
          f"{len(graph['edges'])} edges")


def write(path):
    f32 = np.float32
    tau_mem = np.array([0.01, 0.02, 0.015], dtype=f32)
    tau_syn = np.array([0.005, 0.005, 0.008], dtype=f32)
    dt = 1e-4  # snnTorch's export: r = tau_mem/dt, w_in = tau_syn/dt
    rsyn = {
        "type": "NIRGraph",
        "nodes": {
            "input": {"type": "Input", "shape": np.array([3])},
            "lif": {"type": "CubaLIF", "tau_mem": tau_mem, "tau_syn": tau_syn,
                    "r": (tau_mem / dt).astype(f32), "v_leak": np.zeros(3, f32),
                    "v_threshold": np.ones(3, f32), "v_reset": np.zeros(3, f32),
                    "w_in": (tau_syn / dt).astype(f32)},
            "w_rec": {"type": "Linear", "weight": (np.arange(9).reshape(3, 3) / 100 - 0.04).astype(f32)},
            "output": {"type": "Output", "shape": np.array([3])},
        },
        "edges": [("input", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "output")],
    }
    graph = {
        "type": "NIRGraph",
        "nodes": {
            "input": {"type": "Input", "shape": np.array([4])},
            "fc": {"type": "Affine", "weight": ((np.arange(12).reshape(3, 4) - 5) / 10).astype(f32),
                   "bias": np.zeros(3, f32)},
            "rsyn": rsyn,
            "fc2": {"type": "Linear", "weight": np.array([[0.5, -0.25, 1.0], [2.0, 0.0, -1.5]])},
            "li": {"type": "LI", "tau": np.array([0.02, 0.03]), "r": np.array([200.0, 300.0]),
                   "v_leak": np.zeros(2)},
            "output": {"type": "Output", "shape": np.array([2], dtype=np.int32)},
        },
        "edges": [("input", "fc"), ("fc", "rsyn"), ("rsyn", "fc2"), ("fc2", "li"), ("li", "output")],
        "metadata": {"source": "h5py", "dt": dt},
    }

    def put(group, node):
        for key, value in node.items():
            if isinstance(value, str):
                group.create_dataset(key, data=value, dtype=h5py.string_dtype())
            elif isinstance(value, dict):
                put(group.create_group(key), value)
            elif isinstance(value, np.ndarray) and value.ndim == 2:
                group.create_dataset(key, data=value, dtype=value.dtype, compression="gzip")
            elif isinstance(value, np.ndarray):
                group.create_dataset(key, data=value, dtype=value.dtype)
            else:
                group.create_dataset(key, data=value)

    pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        f.create_dataset("version", data="1.0.6")
        put(f.create_group("node"), graph)
    print(f"wrote {path}")


def main(argv):
    if len(argv) >= 2 and argv[0] == "write":
        write(argv[1])
        return 0
    if len(argv) < 2 or argv[0] != "check":
        print(__doc__, file=sys.stderr)
        return 2
    files = []
    for arg in argv[1:]:
        p = pathlib.Path(arg)
        files += sorted(p.glob("*.nir")) if p.is_dir() else [p]
    if not files:
        print(f"error: no .nir files in {' '.join(argv[1:])}", file=sys.stderr)
        return 1
    for path in files:
        try:
            check(path)
        except (Invalid, KeyError, OSError) as e:
            print(f"error: {path}: {e}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
