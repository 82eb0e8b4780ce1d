"""The catalogue of every indicator the recorder writes: name, register, unit and scales.

Specification files name indicators (an experiment's ``outputs.indicators``, a sensitivity
analysis's outcomes, a calibration target's ``indicator``); they are checked against this fixed
list, without running the model. ``tests/test_indicator_catalogue.py`` runs a small model and
checks that the names it records, with their register and scales, equal the catalogue (both
directions), and that the catalogue table of ``docs/indicators.md`` is the one
:func:`markdown_table` writes (regenerate it with
``python -m mixsim.model.indicators.catalogue --write-docs``).

A new indicator is one line in :data:`CATALOGUE`; the definitions are in docs/indicators.md.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from .trajectories import QPV_CLASSES, TERCILE_CLASSES

__all__ = ["CATALOGUE", "Indicator", "REGISTERS", "SCALES", "by_name", "names_at",
           "markdown_table"]

#: Levels of the areas an indicator row describes (the ``scale`` column).
SCALES = ("epci", "commune", "neighbourhood", "holder")
#: Families of indicators (the ``register`` column), in the order of docs/indicators.md.
REGISTERS = ("income", "age", "household_type", "allocation", "mobility", "demography",
             "trajectory", "context")
#: When a row is recorded.
WHEN = {
    "yearly": "year 0 and every December",
    "flows": "every December from year 1",
    "horizon": "the horizon year only",
}


@dataclass(frozen=True)
class Indicator:
    """One indicator of the tidy table.

    Attributes:
        name: The ``indicator`` column.
        register: The ``register`` column (one of :data:`REGISTERS`).
        unit: Unit of the ``value`` column.
        scales: Scales at which it is recorded (subset of :data:`SCALES`).
        when: ``"yearly"`` (year 0 and each December), ``"flows"`` (each December from year
            1: the allocation and mobility of the year) or ``"horizon"`` (the last year only).
    """

    name: str
    register: str
    unit: str
    scales: tuple[str, ...] = ("epci",)
    when: str = "yearly"

    def __post_init__(self) -> None:
        if self.register not in REGISTERS or not set(self.scales) <= set(SCALES) \
                or self.when not in WHEN or not self.scales:
            raise ValueError(f"bad catalogue entry {self!r}")


def _i(name: str, register: str, unit: str, scales: str = "epci", when: str = "yearly"
       ) -> Indicator:
    return Indicator(name, register, unit, tuple(scales.split(",")), when)


def _both(name: str, register: str, unit: str, scales: str = "epci") -> tuple[Indicator, ...]:
    """Return an index on all housed households and on social tenants (suffix ``_social``)."""
    return (_i(name, register, unit, scales), _i(f"{name}_social", register, unit, scales))


_D = "index in [0, 1]"
_SHARE = "share in [0, 1]"
_EC = "epci,commune"

_POLARISATION = (
    *_both("dissimilarity_q1_by_neighbourhoods", "income", _D, _EC),
    *_both("dissimilarity_q1_by_communes", "income", _D),
    *_both("dissimilarity_q1_by_neighbourhoods_outside_qpv", "income", _D),
    *_both("theil_h_quartiles_by_neighbourhoods", "income", _D, _EC),
    *_both("theil_h_quartiles_by_communes", "income", _D),
    _i("dissimilarity_q1_by_residences_social", "income", _D, _EC),
    _i("theil_h_quartiles_by_residences_social", "income", _D),
    *_both("isolation_q1_by_neighbourhoods", "income", _D),
    *_both("exposure_q1_to_q4_by_neighbourhoods", "income", _D),
    *_both("q1_share", "income", _SHARE, "epci,commune,neighbourhood"),
    *_both("q1_share_in_qpv", "income", _SHARE),
    *_both("q1_share_of_qpv_households", "income", _SHARE),
    *_both("q1_share_max_min_ratio", "income", "ratio"),
    *_both("q1_share_range", "income", "difference of shares"),
    *_both("q1_share_gini", "income", _D),
    *_both("dissimilarity_60_plus_by_neighbourhoods", "age", _D),
    *_both("dissimilarity_60_plus_by_communes", "age", _D),
    *_both("theil_h_ages_by_neighbourhoods", "age", _D),
    *_both("theil_h_ages_by_communes", "age", _D),
    *_both("isolation_60_plus_by_neighbourhoods", "age", _D),
    *_both("dissimilarity_single_parent_by_neighbourhoods", "household_type", _D),
    *_both("dissimilarity_single_parent_by_communes", "household_type", _D),
    *_both("theil_h_types_by_neighbourhoods", "household_type", _D),
    *_both("theil_h_types_by_communes", "household_type", _D),
    *_both("isolation_single_parent_by_neighbourhoods", "household_type", _D),
)

_ALLOCATION = (
    _i("leases", "allocation", "leases", when="flows"),
    _i("leases_outside_qpv", "allocation", "leases", when="flows"),
    _i("q1_share_leases_outside_qpv", "allocation", "share of leases", when="flows"),
    _i("q234_share_leases_inside_qpv", "allocation", "share of leases", when="flows"),
    _i("transfer_share", "allocation", "share of leases", when="flows"),
    _i("relocations", "allocation", "leases", when="flows"),
    _i("priority_share", "allocation", "share of leases", "epci,holder", when="flows"),
    _i("allocations", "allocation", "leases", "holder", when="flows"),
    _i("unlet_for_lack_of_candidate", "allocation", "vacancy-months", "epci,holder",
       when="flows"),
    _i("unlet_for_lack_of_candidate_share", "allocation", "share of vacancy-months",
       when="flows"),
    _i("unlet_after_refusals", "allocation", "vacancy-months", when="flows"),
    _i("vacancies_offered", "allocation", "vacancy-months", when="flows"),
    _i("applicants", "allocation", "applications", when="flows"),
    _i("applicants_per_allocation", "allocation", "applications per lease", when="flows"),
    _i("median_wait_months", "allocation", "months", when="flows"),
    _i("p90_wait_months", "allocation", "months", when="flows"),
    _i("mean_wait_days", "allocation", "days", when="flows"),
    _i("median_wait_months_pending", "allocation", "months", when="flows"),
    _i("mean_wait_days_pending", "allocation", "days", when="flows"),
    *(_i(f"{stat}_wait_months_{group}", "allocation", "months", when="flows")
      for group in ("q1", "q2", "q3", "q4", "priority", "non_priority")
      for stat in ("median", "p90")),
    _i("offers", "allocation", "offers", when="flows"),
    _i("refusals", "allocation", "offers", when="flows"),
    _i("refusal_rate", "allocation", "refusals per offer", when="flows"),
    _i("advertised_lease_share", "allocation", "share of leases", when="flows"),
    _i("refusing_applicant_share", "allocation",
       "share of households offered", when="flows"),
    _i("turnover", "allocation", "share of the social stock per year", when="flows"),
    *(_i(f"turnover_t{r}", "allocation", "share of the social stock of that size per year",
         when="flows") for r in range(1, 6)),
    _i("tenants_below_60pct_ceiling_share", "allocation", "share of social tenants",
       when="flows"),
    _i("sls_payer_share", "allocation", "share of social tenants", when="flows"),
    _i("vacancy", "allocation", "share of the lettable social stock", when="flows"),
    _i("vacancy_over_3_months", "allocation", "share of the lettable social stock",
       when="flows"),
    _i("new_units", "allocation", "dwellings", when="flows"),
    _i("demolished", "allocation", "dwellings", when="flows"),
)

_MOBILITY = (
    _i("exits_to_ownership", "mobility", "households", when="flows"),
    _i("sales_to_tenants", "mobility", "households", when="flows"),
    _i("exits_to_private_rental", "mobility", "households", when="flows"),
    _i("exits_to_ownership_per_1000_tenants", "mobility", "per 1,000 social tenants",
       when="flows"),
    _i("exits_to_private_rental_per_1000_tenants", "mobility", "per 1,000 social tenants",
       when="flows"),
    _i("moves", "mobility", "moves", when="flows"),
    _i("moves_qpv_to_non_qpv", "mobility", "moves", when="flows"),
    _i("moves_non_qpv_to_qpv", "mobility", "moves", when="flows"),
    _i("transfers_qpv_to_non_qpv", "mobility", "moves", when="flows"),
    *(_i(f"attractiveness_change_per_move_q{q}", "mobility", "attractiveness points per move",
         when="flows") for q in range(1, 5)),
    _i("arrivals", "mobility", "households", when="flows"),
    _i("departures", "mobility", "households", when="flows"),
    _i("deaths", "mobility", "households", when="flows"),
)

_DEMOGRAPHY = (
    _i("persons_per_household", "demography", "persons per household"),
    _i("one_person_share", "demography", "share of housed households"),
    *(_i(f"type_share_{t}", "demography", "share of housed households")
      for t in ("single", "couple", "couple_children", "single_parent", "other")),
    _i("persons_living", "demography", "persons"),
    _i("births", "demography", "persons"),
    _i("deaths_persons", "demography", "persons"),
    _i("births_per_1000", "demography", "per 1,000 persons"),
    _i("deaths_per_1000", "demography", "per 1,000 persons"),
    _i("unions", "demography", "couples"),
    _i("separations", "demography", "couples"),
    _i("children_leaving", "demography", "persons"),
    _i("applicants_single_person_share", "demography", "share of applicants"),
    *(_i(f"vacancy_t{r}", "demography", "share of the lettable social stock")
      for r in range(1, 6)),
    _i("private_rental_vacancy", "demography", "share of dwellings"),
    _i("owner_vacancy", "demography", "share of dwellings"),
    _i("private_vacancy", "demography", "share of dwellings"),
    _i("dwellings", "demography", "dwellings"),
    _i("social_share_of_dwellings", "demography", "share of dwellings"),
    _i("qpv_share_of_social_dwellings", "demography", "share of social dwellings"),
    _i("poverty_rate", "demography", "share of housed households"),
    _i("poverty_rate_qpv", "demography", "share of housed households in QPV"),
    _i("household_rows", "demography", "rows"),
    _i("living_households", "demography", "households"),
)

_TRAJECTORY = tuple(
    entry
    for pop in ("", "_social")
    for system, classes in (("qpv", QPV_CLASSES), ("tercile", TERCILE_CLASSES))
    for a in classes
    for entry in (
        _i(f"cohort_{system}_{a}{pop}", "trajectory", "households", when="horizon"),
        *(_i(f"transition_{system}_{a}_to_{b}{pop}", "trajectory", "share of the cohort row",
             when="horizon") for b in (*classes, "gone")),
    )
)

_CONTEXT = (
    _i("households", "context", "households", "epci,neighbourhood"),
    _i("attractiveness", "context", "attractiveness points", "neighbourhood"),
    _i("persons", "context", "persons"),
    _i("hosted_households", "context", "households"),
    _i("social_dwellings", "context", "dwellings"),
    _i("social_dwellings_in_qpv", "context", "dwellings"),
    _i("median_income_uc", "context", "€ per consumption unit per year"),
    _i("q1_threshold_applicants", "context", "€ per consumption unit per year"),
)

#: Every indicator the recorder writes, in the order of docs/indicators.md.
CATALOGUE: tuple[Indicator, ...] = (*_POLARISATION, *_ALLOCATION, *_MOBILITY, *_DEMOGRAPHY,
                                    *_TRAJECTORY, *_CONTEXT)

by_name = MappingProxyType({e.name: e for e in CATALOGUE})
if len(by_name) != len(CATALOGUE):  # pragma: no cover - a duplicated line in the catalogue
    raise RuntimeError("duplicate indicator names in the catalogue")


def names_at(*scales: str) -> tuple[str, ...]:
    """Sorted names of the indicators recorded at any of ``scales`` (all scales if none)."""
    want = set(scales or SCALES)
    return tuple(sorted(e.name for e in CATALOGUE if want & set(e.scales)))


BEGIN = "<!-- catalogue: begin (generated by python -m mixsim.model.indicators.catalogue) -->"
END = "<!-- catalogue: end -->"


def markdown_table() -> str:
    """Return the catalogue as the markdown table of docs/indicators.md (between its markers)."""
    lines = [BEGIN, "", "| indicator | register | unit | scales | recorded |",
             "|---|---|---|---|---|"]
    lines += [f"| `{e.name}` | {e.register} | {e.unit} | {', '.join(e.scales)} | {WHEN[e.when]} |"
              for e in CATALOGUE]
    return "\n".join([*lines, "", END])


def _docs_path() -> Path:
    return Path(__file__).resolve().parents[2] / "docs" / "indicators.md"


def write_docs(path: Path | None = None) -> None:
    """Replace the catalogue table of docs/indicators.md by :func:`markdown_table`."""
    path = path or _docs_path()
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        raise RuntimeError(f"{path}: no catalogue markers")
    path.write_text(pattern.sub(lambda _: markdown_table(), text), encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover - maintenance command
    if sys.argv[1:] == ["--write-docs"]:
        write_docs()
    else:
        sys.stdout.write(markdown_table() + "\n")
