"""The executor: runs a plan's steps, bounded, re-checked and audited (see plan_runner)."""
