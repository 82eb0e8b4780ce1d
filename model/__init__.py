"""mixsim model: households, dwellings and neighbourhoods of an EPCI under social-housing levers."""

from .api import RunResult, build_model, run_indicators, run_scenario
from .config import Behaviour, Levers, Scenario, load_scenario
from .errors import InputError
from .model import HousingModel
from .territory import Territory, default_territory, load_folder, load_territory, scale_territory

__version__ = "0.1.0"

__all__ = [
    "Behaviour",
    "HousingModel",
    "InputError",
    "Levers",
    "RunResult",
    "Scenario",
    "Territory",
    "build_model",
    "default_territory",
    "load_folder",
    "load_scenario",
    "load_territory",
    "run_indicators",
    "run_scenario",
    "scale_territory",
]
