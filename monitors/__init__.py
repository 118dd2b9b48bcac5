"""Drift monitors: the pure statistics core (``driftscope.monitors.stattests``) and the monitors built on it."""
