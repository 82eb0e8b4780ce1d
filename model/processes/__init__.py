"""The monthly processes of ODD §3, one module each."""
