"""The resumable result folder shared by experiment, calibrate and sensitivity (outdir.py)."""

from __future__ import annotations

import json

import pytest

from mixsim.experiments.outdir import (
    FolderLayout,
    ResultFolder,
    describe_changes,
    fingerprint_of,
)
from mixsim.model.errors import InputError

LAYOUT = FolderLayout(kind="calibration", results=("evaluations.parquet",),
                      outputs=("calibration.json", "evaluations.parquet", "fit.csv"),
                      noun="points", different="holds a different calibration ({changes}); rerun "
                      "with --force to discard it, or choose another --out")
OLD = {"method": "msm", "seed": 0, "targets": {"vacancy": {"value": 0.03}}}
NEW = {"method": "msm", "seed": 1, "targets": {"vacancy": {"value": 0.03}}}


def _folder(path, identity):
    return ResultFolder(path, LAYOUT, fingerprint=fingerprint_of(identity), identity=identity)


def _write_marker(path, identity):
    path.mkdir(parents=True, exist_ok=True)
    record = {"fingerprint": fingerprint_of(identity), "identity": identity, "created": "x"}
    (path / "calibration.json").write_text(json.dumps(record))


def test_describe_changes_names_what_changed():
    assert describe_changes(OLD, NEW) == "changed: seed 0 → 1"
    assert describe_changes({"targets": {"a": 1}}, {"targets": {"a": 2}}) == \
        "changed: targets.a 1 → 2"
    old = {"scenarios": {"base": {"x": 1}, "strict": {"x": 1}, "gone": {"x": 0}}}
    new = {"scenarios": {"base": {"x": 1}, "strict": {"x": 2}, "new": {"x": 0}}}
    assert describe_changes(old, new, named=("scenarios",)) == \
        "changed: scenarios added new; removed gone; changed strict"
    assert describe_changes(old, new).startswith("changed: scenarios.gone.x 0 → None, ")
    many = {f"k{i}": i for i in range(6)}
    assert describe_changes({}, many).endswith("and 2 more")
    assert describe_changes(OLD, OLD) == "different fingerprint"


def test_an_empty_or_matching_folder_is_accepted(tmp_path):
    assert _folder(tmp_path / "new", NEW).check(force=False) is None
    _write_marker(tmp_path, NEW)
    (tmp_path / "evaluations.parquet").write_bytes(b"")
    folder = _folder(tmp_path, NEW)
    assert folder.matches() and folder.check(force=False)["created"] == "x"  # resumes


def test_another_specification_with_results_is_refused_unless_forced(tmp_path):
    _write_marker(tmp_path, OLD)
    (tmp_path / "evaluations.parquet").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("mine")
    folder = _folder(tmp_path, NEW)
    with pytest.raises(InputError, match=r"different calibration \(changed: seed 0 → 1\).*"
                                         r"--force"):
        folder.check(force=False)
    assert folder.check(force=True) is None
    folder.clear()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]  # only the outputs go


def test_another_specification_without_results_is_replaced(tmp_path):
    _write_marker(tmp_path, OLD)
    assert _folder(tmp_path, NEW).check(force=False) is None


def test_results_without_a_marker_cannot_be_matched(tmp_path):
    (tmp_path / "evaluations.parquet").write_bytes(b"")
    with pytest.raises(InputError, match="has an evaluations.parquet but no calibration.json, "
                                         "so its points cannot be matched"):
        _folder(tmp_path, NEW).check(force=False)


def test_an_unreadable_marker_is_another_specification(tmp_path):
    (tmp_path / "calibration.json").write_text("{not json")
    (tmp_path / "evaluations.parquet").write_bytes(b"")
    with pytest.raises(InputError, match="different calibration"):
        _folder(tmp_path, NEW).check(force=False)
