"""Test settings: under CI (CI=true) Hypothesis draws the same examples every run, so that a red
CI is a change's doing, not a new draw's; elsewhere it explores."""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
