"""policies: pure planning (maintenance evacuation, load balancing, power saving).

Functions of a Snapshot, parameters and Observations; no I/O and no I/O libraries
(tests/test_boundaries.py checks it).
"""
