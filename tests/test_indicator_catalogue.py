"""The indicator catalogue equals what a run records, and docs/indicators.md shows it."""

from pathlib import Path

import pytest

from mixsim.calibration.targets import default_targets
from mixsim.experiments.spec import known_indicators
from mixsim.model import Scenario, run_scenario
from mixsim.model.indicators import catalogue
from mixsim.model.indicators.catalogue import CATALOGUE, markdown_table

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def recorded():
    # 3 years so that year 0 (initial state), a middle year and the horizon are all present
    df = run_scenario(Scenario(years=3), scale=0.02, seed=1, keep_moves=False).indicators
    return df.assign(scale=df.scale.astype(str), register=df.register.astype(str))


@pytest.mark.invariants
def test_recorded_names_registers_and_scales_equal_the_catalogue(recorded):
    got = set(zip(recorded.indicator, recorded.register, recorded.scale, strict=True))
    listed = {(e.name, e.register, s) for e in CATALOGUE for s in e.scales}
    assert sorted(got - listed) == [], "recorded but not in model/indicators/catalogue.py"
    assert sorted(listed - got) == [], "in the catalogue but not recorded"


@pytest.mark.invariants
def test_recorded_years_follow_the_catalogue(recorded):
    years = recorded.groupby("indicator")["year"].agg(lambda y: tuple(sorted(set(y))))
    expected = {"yearly": (0, 1, 2, 3), "flows": (1, 2, 3), "horizon": (3,)}
    wrong = {e.name: (e.when, years[e.name]) for e in CATALOGUE
             if years[e.name] != expected[e.when]}
    assert wrong == {}


@pytest.mark.unit
def test_docs_table_is_the_generated_one():
    text = (ROOT / "docs" / "indicators.md").read_text(encoding="utf-8")
    assert markdown_table() in text, ("docs/indicators.md is out of date: run "
                                      "python -m mixsim.model.indicators.catalogue --write-docs")


@pytest.mark.unit
def test_write_docs_replaces_only_the_table(tmp_path):
    doc = tmp_path / "indicators.md"
    doc.write_text(f"before\n{catalogue.BEGIN}\nstale\n{catalogue.END}\nafter\n")
    catalogue.write_docs(doc)
    assert doc.read_text() == f"before\n{markdown_table()}\nafter\n"
    doc.write_text("no markers\n")
    with pytest.raises(RuntimeError, match="no catalogue markers"):
        catalogue.write_docs(doc)


@pytest.mark.unit
def test_spec_validation_reads_the_catalogue_without_running_the_model(monkeypatch):
    import mixsim.model
    import mixsim.model.api

    def no_run(*args, **kwargs):
        raise AssertionError("a specification was validated by running the model")

    for mod in (mixsim.model, mixsim.model.api):
        monkeypatch.setattr(mod, "run_scenario", no_run)
    targets = default_targets()
    known = known_indicators()
    assert {t.indicator for t in targets.targets} <= known["epci"]
    assert known["holder"] == {"allocations", "priority_share", "unlet_for_lack_of_candidate"}
    assert "q1_share" in known["neighbourhood"] and "leases" not in known["commune"]


@pytest.mark.unit
def test_entries_are_checked():
    with pytest.raises(ValueError):
        catalogue.Indicator("x", "no_such_register", "share")
    with pytest.raises(ValueError):
        catalogue.Indicator("x", "income", "share", scales=("country",))
