"""The names of what monitors compute, without importing how: what configuration checks read.

Validating a config (``driftscope config check``, and every command that loads one) needs the
names of the drift tests, concept-drift detectors and estimable metrics, not scipy, scikit-learn
or river, which take seconds to import. The registries that implement them
(:func:`driftscope.monitors.stattests.registry.names`, :data:`driftscope.monitors.concept_drift.DETECTORS`,
:mod:`driftscope.monitors.estimation`) use or are tested against these tuples, so the two cannot
disagree.
"""

STAT_TESTS = ("anderson", "chisquare", "cramer_von_mises", "energy", "hellinger", "jensenshannon", "kl_div", "ks",
              "psi", "tvd", "wasserstein", "ztest")
"""Registered drift tests (``tests:`` values), sorted."""

DETECTORS = ("label_drift", "calibration_drift", "adwin", "page_hinkley", "ddm", "domain_classifier")
"""Concept-drift detectors (``detectors:`` values)."""

CBPE_METRICS = ("accuracy", "precision", "recall", "f1", "specificity", "roc_auc")
"""Metrics CBPE estimates for binary and multiclass classifiers."""

DLE_METRICS = ("mae", "rmse")
"""Metrics DLE estimates for regressors."""

ESTIMATED_METRICS = {"binary_classification": CBPE_METRICS, "multiclass_classification": CBPE_METRICS,
                     "regression": DLE_METRICS}
"""Task -> the metrics an ``estimated_performance`` monitor can estimate for it."""
