"""The `ovtui` command line."""
