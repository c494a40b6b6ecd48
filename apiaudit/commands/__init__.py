"""One module per CLI command; each exposes ``command`` (a typer function returning an exit code)."""
