"""High availability: host liveness -> fencing (with oVirt's guards) -> HA restarts by priority.

A pure state machine (model, guards, fencing, recovery, machine) that a deterministic
simulator (simulator.py) drives in tests the way pve-ha-manager's src/test/ cases do, and an
I/O service (service.py) that the engine composes and hands what it needs: the published
snapshot, the power drivers, a VM starter, the store and the audit. Nothing here imports
ovtui.engine.
"""
