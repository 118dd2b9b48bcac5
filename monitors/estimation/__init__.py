"""Label-free performance estimation: CBPE for classifiers, DLE for regressors, the monitor that runs them.

Pure statistics (:mod:`~driftscope.monitors.estimation.cbpe`, :mod:`~driftscope.monitors.estimation.dle`,
:mod:`~driftscope.monitors.estimation.calibration`) on arrays and frames; the monitor
(:mod:`~driftscope.monitors.estimation.monitor`) adds states (estimated, realized) and the limits
under which an estimate is flagged unreliable. Conventions: ``docs/statistics.md``.
"""
