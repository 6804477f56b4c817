"""Shared test settings: hypothesis profiles sized for CI on 2 cores.

CI derandomizes hypothesis (the same examples every run, so a landing cannot hinge on a
lucky draw); developers' runs explore new examples each time.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "dev")
