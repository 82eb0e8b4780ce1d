"""One `[low, high]` range type: the three specification files accept and refuse the same ranges."""

import math

import pytest

from mixsim.calibration.targets import load_targets
from mixsim.experiments.sensitivity import _check_parameters
from mixsim.experiments.sensitivity_cli import load_spec
from mixsim.experiments.spec import load_experiment
from mixsim.model.errors import InputError
from mixsim.model.ranges import Range, parse_range

pytestmark = pytest.mark.unit

# bad ranges as TOML text, with a word the message must hold (TOML spells nan and inf)
BAD = [
    ("[nan, 0.5]", "two finite numbers"),
    ("[0.1, inf]", "two finite numbers"),
    ("[-inf, 0.5]", "two finite numbers"),
    ("[0.4, 0.1]", "low must be below high"),
    ("[0.2, 0.2]", "low must be below high"),
    ('["a", 0.5]', "two finite numbers"),
    ("[true, 0.5]", "two finite numbers"),
    ("[0.1]", "two finite numbers"),
    ("[0.1, 0.2, 0.3]", "two finite numbers"),
    ("0.3", "two finite numbers"),
]

EXPERIMENT = '[[scenarios]]\nname = "a"\n[uncertainties]\n"behaviour.apply_rate" = {}\n'
SENSITIVITY = """years = 1
[territory]
scale = 0.02
[sensitivity]
method = "morris"
n = 2
[sensitivity.parameters]
"behaviour.apply_rate" = {}
[sensitivity.outcomes]
indicators = ["q1_share_in_qpv"]
years = [1]
"""
TARGETS = """[targets.turnover]
value = 0.088
tolerance = 0.01
source = "SDES 2022"
[parameters]
"behaviour.apply_rate" = {}
"""

SPECS = [
    (EXPERIMENT, load_experiment, "uncertainties.behaviour.apply_rate"),
    (SENSITIVITY, load_spec, "sensitivity.parameters.behaviour.apply_rate"),
    (TARGETS, load_targets, "parameters.behaviour.apply_rate"),
]


@pytest.mark.parametrize("template, load, field", SPECS, ids=["experiment", "sensitivity",
                                                               "targets"])
@pytest.mark.parametrize("text, words", BAD)
def test_every_spec_refuses_a_bad_range_naming_file_and_field(tmp_path, template, load, field,
                                                               text, words):
    path = tmp_path / "spec.toml"
    path.write_text(template.replace("{}", text))
    with pytest.raises(InputError) as err:
        load(path)
    assert err.value.source == str(path) and err.value.field == field
    assert words in str(err.value) and str(path) in str(err.value)


@pytest.mark.parametrize("template, load, field", SPECS, ids=["experiment", "sensitivity",
                                                               "targets"])
def test_every_spec_refuses_a_range_outside_the_allowed_bounds(tmp_path, template, load, field):
    path = tmp_path / "spec.toml"
    path.write_text(template.replace("{}", "[0.1, 1.5]"))  # apply_rate is a probability
    with pytest.raises(InputError, match=r"leaves the allowed range \[0, 1\]") as err:
        load(path)
    assert err.value.field == field


@pytest.mark.parametrize("template, load, field", SPECS, ids=["experiment", "sensitivity",
                                                               "targets"])
def test_every_spec_reads_a_good_range_as_floats(tmp_path, template, load, field):
    path = tmp_path / "spec.toml"
    path.write_text(template.replace("{}", "[0, 1]"))
    spec = load(path)
    if hasattr(spec, "uncertainties"):
        got = [(u.low, u.high) for u in spec.uncertainties]
    else:
        got = [spec.parameters["behaviour.apply_rate"]]
    assert got == [(0.0, 1.0)] and all(type(x) is float for x in got[0])


def test_the_python_api_of_sensitivity_uses_the_same_checks():
    names, bounds = _check_parameters({"x1": (0, 2), "x2": [0.5, 1.0]})
    assert names == ["x1", "x2"] and bounds.tolist() == [[0.0, 2.0], [0.5, 1.0]]
    for bad in ((math.nan, 1.0), (0.0, math.inf), (1.0, 0.0), ("a", 1.0)):
        with pytest.raises(InputError) as err:
            _check_parameters({"x1": bad})
        assert err.value.field == "parameters['x1']"


def test_range_type_is_frozen_finite_ordered_and_typed():
    r = parse_range([1, 3], source="f.toml", field="a.b", kind="int", allowed=(0, None))
    assert r == Range(1.0, 3.0, "int") and r.as_tuple() == (1.0, 3.0)
    with pytest.raises(AttributeError):
        r.low = 0.0  # frozen
    for args in ((math.nan, 1.0), (0.0, math.inf), (2.0, 1.0)):
        with pytest.raises(InputError):
            Range(*args)
    with pytest.raises(InputError, match="allowed: float, int"):
        Range(0.0, 1.0, "str")
    with pytest.raises(InputError, match=r"allowed range \[-inf, 1\]"):
        parse_range([0, 2], source="f.toml", field="a.b", allowed=(None, 1))
