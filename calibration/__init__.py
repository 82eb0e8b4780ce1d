"""Calibration: public-data importers, iterative proportional fitting and model calibration."""
