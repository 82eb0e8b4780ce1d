"""Hooks around the processes of the monthly schedule, for the measurement scripts.

``advance_month`` and ``new_year`` (``mixsim.model.schedule``) look their processes up in the
module at every call, so replacing a module attribute puts a hook around every call of that
process. :func:`wrap_processes` does it for a set of processes and returns the function that
puts the originals back. Used by ``bench_years.py`` (CPU time by process) and
``qpv_poverty_decomposition.py`` (households classified before and after each process).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import mixsim.model.schedule as schedule

#: The processes of ``advance_month``, in its order (``private_market`` runs twice: residents,
#: then arrivals with ``only=``); then ``new_year`` and the processes it calls.
MONTHLY = ("demography", "over_ceiling", "move_intentions", "private_market", "arrivals",
           "settle_arrivals", "give_up_seeking", "policy_events", "allocate",
           "update_attractiveness")
YEARLY = ("new_year", "compact_households", "yearly_income", "update_quartiles",
          "update_q1_threshold", "yearly_private_rents", "private_construction")
PROCESSES = MONTHLY + YEARLY

#: ``around(name, fn, args, kwargs)`` runs ``fn(*args, **kwargs)`` and returns its result.
Around = Callable[[str, Callable[..., Any], tuple, dict], Any]


def wrap_processes(around: Around, names: Iterable[str] = PROCESSES) -> Callable[[], None]:
    """Route every call of the schedule's processes ``names`` through ``around``.

    Returns a function that restores the original processes. An unknown name raises
    ``AttributeError`` naming it, before any process is wrapped (the schedule's processes are
    listed in :data:`PROCESSES`).
    """
    originals = {name: getattr(schedule, name) for name in names}
    for name, fn in originals.items():

        def hooked(*args, _name=name, _fn=fn, **kwargs):
            return around(_name, _fn, args, kwargs)

        setattr(schedule, name, hooked)

    def restore() -> None:
        for name, fn in originals.items():
            setattr(schedule, name, fn)

    return restore
