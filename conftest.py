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


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = Path(str(item.fspath))
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
