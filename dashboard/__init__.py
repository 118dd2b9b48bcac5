"""The Streamlit dashboard (``driftscope dashboard``): reads the store through :mod:`driftscope.dashboard.data` only.

Nothing imports this package; it imports :mod:`storage` and the base (:mod:`driftscope.config`,
:mod:`driftscope.errors`) and never SQLAlchemy.
"""
