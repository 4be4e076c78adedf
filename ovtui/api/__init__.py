"""The engine's JSON REST API (FastAPI): the only way in for the TUI, the CLI and scripts."""
