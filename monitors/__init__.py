"""Drift monitors: the pure statistics core (``monitors.stattests``) and the monitors built on it."""
