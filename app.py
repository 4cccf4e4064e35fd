"""The planner in a browser, from a checkout: `streamlit run app.py` (the same app as `planner app` and
`scripts/run`). The app itself is :mod:`planner.webapp`, so that an installed planner has it too.
"""

from planner.webapp import main

if __name__ == "__main__":
    main()
