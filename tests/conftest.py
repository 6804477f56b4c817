"""Shared test settings: hypothesis profiles sized for CI on 2 cores.

CI derandomizes hypothesis (the same examples every run, so a landing cannot hinge on a
lucky draw); developers' runs explore new examples each time.
"""

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(scope="module")
def client():
    """A 2-worker, 1-thread-each process cluster of dask.distributed, one per test module
    (a module that kills workers does not disturb another's cluster)."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, memory_limit="1GiB"
    )
    cl = distributed.Client(cluster)
    yield cl
    cl.close()
    cluster.close()
