"""The ``mixsim`` sub-commands, one module each (the table is ``mixsim.experiments.cli.COMMANDS``).

Each module defines ``add_parser(subparsers)``, which registers its command and sets the handler
``func(args) -> int`` (the exit code). A command module parses arguments, calls the library
(:mod:`mixsim.experiments.runner`, :mod:`~mixsim.experiments.sensitivity_cli`,
:mod:`mixsim.calibration.cli`, ...) and prints; no library module imports a command module.
"""
