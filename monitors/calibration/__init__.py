"""Calibrated drift thresholds: null distributions learned from the reference at the window's size.

:mod:`~driftscope.monitors.calibration.bands` maps a window size to its size band,
:mod:`~driftscope.monitors.calibration.cells` lays out the reference cells every calibrated
statistic is computed on, :mod:`~driftscope.monitors.calibration.statistics` computes the
statistics of many count vectors at once and :mod:`~driftscope.monitors.calibration.null` draws
the null distribution and turns it into a threshold and a Monte Carlo p-value. Conventions are in
``docs/statistics.md`` ("Calibrated thresholds").
"""
