"""One module per hash-set format; `hashsets.registry` lists them all (a test checks)."""
