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
    import dask

    # A LocalCluster gives up on a worker whose nanny has not brought it back within
    # `distributed.deploy.lost-worker-timeout` (15 s) of its loss: it closes the nanny, and
    # the cluster stays one worker short for good. A restart (a new process importing dask
    # and tsconv) can take longer on a loaded 2-core machine, so the tests that kill a worker
    # give it minutes.
    with dask.config.set({"distributed.deploy.lost-worker-timeout": "600s"}):
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, memory_limit="1GiB"
        )
        cl = distributed.Client(cluster)
        yield cl
        cl.close()
        cluster.close()
