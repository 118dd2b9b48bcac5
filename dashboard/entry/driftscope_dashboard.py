"""Streamlit's entry script for the driftscope dashboard: ``streamlit run <this file>``.

It sits alone in its folder because Streamlit puts the script's folder first on ``sys.path``; a
folder holding nothing else exposes no module under a generic top-level name.
"""

from driftscope.dashboard.app import main

main()
