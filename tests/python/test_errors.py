"""Errors: volley's messages as Python exceptions; bad arguments as TypeError/ValueError."""
import numpy as np
import pytest

import volley
from conftest import TINY


def test_exception_hierarchy():
    assert issubclass(volley.ConfigError, ValueError)
    assert issubclass(volley.ParameterError, ValueError)
    assert issubclass(volley.UnitError, ValueError)
    assert issubclass(volley.IoError, OSError)
    for e in (volley.ConfigError, volley.ParameterError, volley.UnitError, volley.IoError):
        assert issubclass(e, volley.Error)


def test_malformed_toml_names_the_line():
    text = '[simulation]\ndt = "0.1 ms"\n\n[populations.P]\nmodel = "lif"\nsize = = 3\n'
    with pytest.raises(volley.ConfigError, match=r"<string>:6"):
        volley.loads(text)
    with pytest.raises(volley.ConfigError, match=r"mine\.toml:6"):
        volley.loads(text, name="mine.toml")


def test_bad_field_in_a_file_names_file_line_and_field(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(TINY.replace('tau_m = "20 ms"', 'tau_m = "20 mV"'))
    line = TINY.replace('tau_m = "20 ms"', "@@").split("\n").index("@@") + 1
    with pytest.raises(volley.ConfigError) as e:
        volley.load(path)
    msg = str(e.value)
    assert f"bad.toml:{line}: populations.P.tau_m" in msg
    assert "time" in msg


def test_overrides_are_checked():
    with pytest.raises(volley.ConfigError, match=r"populations\.P\.size.*set"):
        volley.loads(TINY, set={"populations.P.size": "many"})
    with pytest.raises(volley.ConfigError, match="populations.Q"):
        volley.loads(TINY, set={"populations.Q.size": 3})
    net = volley.loads(TINY, set=["populations.P.size=20", 'projections.S.delay="2 ms"'])
    assert net.population("P").size == 20
    np.testing.assert_allclose(net.projection("S").delays, 2e-3)


def test_missing_file_is_an_io_or_config_error():
    with pytest.raises((volley.IoError, volley.ConfigError), match="no_such.toml"):
        volley.load("no_such.toml")


def test_bad_argument_types():
    net = volley.loads(TINY)
    with pytest.raises(TypeError, match="path"):
        volley.load(42)
    with pytest.raises(TypeError, match="text"):
        volley.loads(b"[simulation]")
    with pytest.raises(TypeError, match="set"):
        volley.loads(TINY, set="populations.P.size=3")
    with pytest.raises(TypeError, match="set"):
        volley.loads(TINY, set=[3])
    with pytest.raises(TypeError, match="seed"):
        volley.loads(TINY, seed=1.5)
    with pytest.raises(ValueError, match="seed"):
        volley.loads(TINY, seed=-1)
    with pytest.raises(ValueError, match="threads"):
        volley.loads(TINY, threads=0)
    with pytest.raises(TypeError, match="time"):
        net.run([1])
    with pytest.raises(TypeError, match="time"):
        net.run(True)
    with pytest.raises(ValueError, match=">= 0"):
        net.run(-1.0)
    with pytest.raises(ValueError, match=">= 0"):
        net.run(float("nan"))
    with pytest.raises(volley.UnitError, match="time"):
        net.run("5 mV")
    with pytest.raises(ValueError):
        net.run("five seconds")
    with pytest.raises(TypeError, match="threads"):
        net.run("1 ms", threads="2")
    with pytest.raises(TypeError, match="monitor"):
        net.spikes(3)
    with pytest.raises(KeyError, match="spikes"):
        net.spikes("nope")
    with pytest.raises(KeyError, match="state"):
        net.state("spikes")
    with pytest.raises(KeyError, match="known: P"):
        net.population("Q")
    with pytest.raises(KeyError, match="known: S"):
        net.projection("T")
    with pytest.raises(volley.ParameterError, match="no variable 'q'"):
        net.population("P").variable("q")
    with pytest.raises(KeyError, match="not recorded"):
        net.state("v")["q"]
    assert net.t == 0.0  # nothing ran


def test_bad_array_values():
    net = volley.loads(TINY)
    s = net.projection("S")
    with pytest.raises(ValueError, match=f"expected {s.synapse_count} weights"):
        s.weights = np.zeros(3)
    with pytest.raises(ValueError, match="not finite"):
        s.weights = np.full(s.synapse_count, np.nan)
    with pytest.raises(TypeError):
        s.weights = ["a"] * s.synapse_count
    with pytest.raises(ValueError, match="'V'"):
        s.weights = "1 nA"
    with pytest.raises(TypeError):
        s.weights = True
    with pytest.raises(ValueError, match="expected 50 values"):
        net.population("P").set_variable("v", np.zeros(7))
    with pytest.raises(ValueError, match="'V'"):
        net.population("P").set_variable("v", "3 ms")
    with pytest.raises(ValueError, match="differ in length"):
        s.add_synapses([0, 1], [2], 1e-3)
    with pytest.raises(TypeError, match="integers"):
        s.add_synapses([0.5], [2], 1e-3)
    with pytest.raises(volley.ParameterError):
        s.add_synapses([0], [500], 1e-3)


def test_model_builder_type_errors():
    m = volley.Model()
    with pytest.raises(TypeError, match="populations.P.tau_m"):
        m.population("P", model="lif", size=10, tau_m=object()).to_toml()
    m = volley.Model()
    with pytest.raises(TypeError, match="None"):
        m.simulation(seed=None, dt=None).population("P", model="lif", size=3,
                                                     v_init={"dist": None}).to_toml()
    with pytest.raises(TypeError, match="population"):
        volley.Model().population(3, model="lif", size=3)
    m = volley.Model().population("P", model="lif", size=3)
    with pytest.raises(ValueError, match="already used"):
        m.monitor("P", type="spikes", population="P")
    m = volley.Model().population("P", model="lif", size=3, tau_m="20 mV")
    with pytest.raises(volley.ConfigError, match=r"<volley.Model>:\d+: populations.P.tau_m"):
        m.build()
