"""What `make dist` builds installs with pipx and works outside this repository.

Both must carry the packaged data (default templates, burn-rate tiers, the
`init` starter files); the wheel, built from the sdist and installed with pipx,
writes exactly the committed out/ from slo/, and its `sloforge init` gives a
repository that validates.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from sloforge.output.writer import read_tree
from toolbox import ROOT

pytestmark = pytest.mark.slow  # builds and installs into fresh virtual environments

PY = Path(sys.executable)


def run(*args: str | Path, cwd: Path = ROOT, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, f"{args}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run(PY, "-m", "build", "--outdir", out, ROOT)
    return out


def pipx(tmp: Path, package: Path) -> Path:
    """Install ``package`` with pipx into ``tmp``; the path of its sloforge command."""
    env = {"PIPX_HOME": str(tmp / "pipx"), "PIPX_BIN_DIR": str(tmp / "bin")}
    run(PY, "-m", "pipx", "install", package, env=env)
    return tmp / "bin" / "sloforge"


PACKAGED = (
    "sloforge/model/data/tiers.yaml",
    "sloforge/templates/runbooks/burn-rate.md.j2",
    "sloforge/templates/alertmanager/slack.tmpl",
    "sloforge/starter/slo/example-api.yaml",
    "sloforge/starter/dot-github/workflows/slo.yml",
)


def test_the_wheel_and_the_sdist_carry_the_templates_tiers_and_starter_files(dist: Path) -> None:
    (wheel,) = dist.glob("sloforge-*.whl")
    (sdist,) = dist.glob("sloforge-*.tar.gz")
    in_wheel = set(zipfile.ZipFile(wheel).namelist())
    with tarfile.open(sdist) as archive:
        in_sdist = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for packaged in PACKAGED:
        assert packaged in in_wheel
        assert f"generator/{packaged}" in in_sdist


def test_pipx_installed_wheel_writes_the_committed_output_and_starts_a_repository(
    dist: Path, tmp_path: Path
) -> None:
    # `python -m build` makes the wheel from the sdist, so this installs what both hold.
    (wheel,) = dist.glob("sloforge-*.whl")
    sloforge = pipx(tmp_path, wheel)
    run(sloforge, "generate", "slo", "--out", tmp_path / "out")
    assert read_tree(tmp_path / "out") == read_tree(ROOT / "out")
    run(sloforge, "init", tmp_path / "slos", cwd=tmp_path)
    assert run(sloforge, "validate", "slo", cwd=tmp_path / "slos") == (
        "ok: 3 files, 1 service, 2 SLOs, 0 plain alerts\n"
    )
    run(sloforge, "check", "slo", "--out", "out", cwd=tmp_path / "slos")
