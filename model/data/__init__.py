"""Package data: the embedded default territory and the script that rebuilds it."""
