"""The SQL store: SQLAlchemy 2.x models, engine factory and query functions grouped by entity.

Nothing here imports collectors, monitors, dashboard or the CLI, and nothing runs at import time.
"""
