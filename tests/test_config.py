import dataclasses

import pytest

from mixsim.model.config import (
    Levers,
    Scenario,
    catalogue,
    from_dict,
    load_scenario,
    to_toml,
)
from mixsim.model.errors import InputError


def test_defaults_are_valid_and_round_trip_through_toml(tmp_path):
    s = Scenario()
    path = tmp_path / "s.toml"
    path.write_text(to_toml(s.to_dict()))
    assert load_scenario(path) == s


def test_unknown_key_suggests_the_close_name(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[levers.quota_q]\nshare = 0.3\n')
    with pytest.raises(InputError) as e:
        load_scenario(path)
    msg = str(e.value)
    assert str(path) in msg and "levers.quota_q" in msg and "did you mean 'quota_q1'" in msg


@pytest.mark.parametrize("toml, field, words", [
    ('[levers.quota_q1]\nshare = 1.5\n', "levers.quota_q1.share", "from 0 to 1"),
    ('[levers.quota_q1]\nenforcement = "strikt"\n', "levers.quota_q1.enforcement", "'strict'"),
    ('years = "ten"\n', "years", "an integer"),
    ('years = 0\n', "years", "from 1 to 100"),
    ('[levers.commission]\ncandidates_per_dwelling = 4\n', "candidates_per_dwelling", "1 to 3"),
    ('[levers.rent]\nrls = 1\n', "levers.rent.rls", "true or false"),
])
def test_bad_values_name_file_field_and_allowed(tmp_path, toml, field, words):
    path = tmp_path / "bad.toml"
    path.write_text(toml)
    with pytest.raises(InputError) as e:
        load_scenario(path)
    msg = str(e.value)
    assert str(path) in msg and field in msg and words in msg


def test_holder_shares_above_one_are_rejected(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[levers.reservation]\nprefet = 0.3\naction_logement = 0.5\ncommune = 0.3\n')
    with pytest.raises(InputError, match="sum to 1.100"):
        load_scenario(path)


def test_include_merges_and_own_values_win(tmp_path):
    (tmp_path / "base.toml").write_text('years = 7\n[levers.quota_q1]\nshare = 0.3\n')
    (tmp_path / "s.toml").write_text('include = ["base.toml"]\nname = "s"\n'
                                     '[levers.quota_q1]\nenforcement = "strict"\n')
    s = load_scenario(tmp_path / "s.toml")
    assert (s.years, s.levers.quota_q1.share, s.levers.quota_q1.enforcement) == (7, 0.3, "strict")


def test_invalid_toml_syntax_is_reported(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("years = = 3\n")
    with pytest.raises(InputError, match="not valid TOML"):
        load_scenario(path)


def test_overrides_are_validated_and_leave_the_original_alone():
    s = Scenario()
    t = s.with_overrides({"levers.quota_q1.share": 0.4, "behaviour.growth": 0.01})
    assert t.levers.quota_q1.share == 0.4 and s.levers.quota_q1.share == 0.25
    assert t.config_hash() != s.config_hash()
    with pytest.raises(InputError, match="did you mean"):
        s.with_overrides({"levers.quota_q1.shar": 0.4})
    with pytest.raises(InputError):
        s.with_overrides({"levers.quota_q1.share": -0.1})


def test_dataclass_replace_revalidates():
    with pytest.raises(InputError):
        dataclasses.replace(Levers().quota_q1, share=2.0)


def test_catalogue_lists_every_lever_family_with_its_range():
    rows = catalogue(Levers())
    names = {r["name"].split(".")[0] for r in rows}
    assert names == {f.name for f in dataclasses.fields(Levers)}
    q = next(r for r in rows if r["name"] == "quota_q1.share")
    assert q["default"] == 0.25 and "0 to 1" in q["allowed"] and "L441-1" in q["source"]


def test_from_dict_rejects_non_table():
    with pytest.raises(InputError, match="expected a table"):
        from_dict(Scenario, {"levers": 3}, source="x.toml")


def test_every_shipped_scenario_file_loads():
    from pathlib import Path
    files = sorted(Path("experiments/scenarios").glob("*.toml"))
    assert len(files) >= 17
    for f in files:
        s = load_scenario(f)
        assert s.name == f.stem
