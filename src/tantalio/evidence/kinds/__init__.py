"""One module per evidence source kind; each is listed in `tantalio.evidence.registry`."""
