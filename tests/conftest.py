import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

# The real programs a test may start only when it is marked slow: `make test-fast`
# (SLOFORGE_FAST=1, -m "not slow") proves the fast lane really runs none of them,
# from the test itself or from any fixture it sets up.
REAL_TOOLS = {"promtool", "amtool", "prometheus", "alertmanager", "prometheus-alertmanager"}
_running: list[pytest.Item] = []


def pytest_configure(config):
    if not os.environ.get("SLOFORGE_FAST"):
        return
    start = subprocess.Popen.__init__

    def refuse(self, args, *rest, **kwargs):
        program = args if isinstance(args, str | os.PathLike) else args[0]
        item = _running[-1] if _running else None
        slow = item is not None and item.get_closest_marker("slow")
        if Path(str(program).split()[0]).name in REAL_TOOLS and not slow:
            where = item.nodeid if item else "collection"
            raise AssertionError(f"{where} runs {program}: mark it slow")
        start(self, args, *rest, **kwargs)

    subprocess.Popen.__init__ = refuse  # type: ignore[method-assign]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    _running.append(item)
    yield
    _running.pop()
