"""Markers for the whole run (pytest.ini lists them): the quick development subset is
``pytest -m "not slow"``; ``pytest`` alone runs everything.

* ``notebook`` and ``slow``: every nbval cell of notebooks/ (each notebook re-runs in a kernel);
* ``browser`` and ``slow``: tests/ui (a real JupyterLab in Chromium);
* ``flower``: tests/test_flower.py; those that start Flower's processes are also ``slow``.
"""
from __future__ import annotations

from pathlib import Path

import pytest

#: tests of tests/test_flower.py that start real Flower processes (SuperLink, SuperNodes, Ray)
FLOWER_PROCESSES = ("test_flower_simulation_engine_gives_the_kits_model",
                    "test_deployment_over_tls_matches_the_kit_and_cleans_up",
                    "test_superlink_refuses_an_unregistered_supernode")


#: notebook 10 and Flower's own tests start Flower and Ray: they run one at a time, on one worker
FLOWER_GROUP = "flower"


def _xdist_group(item, path: Path) -> str | None:
    """The group whose tests pytest-xdist (``-n 2 --dist loadgroup``, pytest.ini) keeps on one worker, in order:
    the cells of one notebook (nbval runs them in one kernel), everything that starts Flower, and the browser
    tests of one edition (a worker starts one JupyterLab server and one Chromium for all the tests it is given:
    tests/ui/conftest.py's session fixtures; the lab and voila tests go with the English edition)."""
    if path.name == "test_flower.py" or "10_from_classroom_to_deployment" in item.nodeid:
        return FLOWER_GROUP
    if path.suffix == ".ipynb":
        return str(path)
    if path.parent.name == "ui" and path.name != "test_server_log_filter.py":
        return "browser-zh" if "[zh/" in item.nodeid else "browser-en"
    return None


@pytest.hookimpl(tryfirst=True)          # before pytest-xdist reads the xdist_group marks
def pytest_collection_modifyitems(config, items):
    for item in items:
        path = Path(str(item.fspath))
        group = _xdist_group(item, path)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(name=group))
        if path.suffix == ".ipynb":
            item.add_marker(pytest.mark.notebook)
            item.add_marker(pytest.mark.slow)
        elif "ui" in path.parts and path.parent.name == "ui":
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)
        elif path.name == "test_flower.py":
            item.add_marker(pytest.mark.flower)
            if item.originalname in FLOWER_PROCESSES:
                item.add_marker(pytest.mark.slow)
