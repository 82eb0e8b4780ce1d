"""The monthly processes of SPEC §2, one module each."""
