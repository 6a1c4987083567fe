# ruff: noqa: E501 - whole messages read best on one line each
"""The defences of issue 14, class by class: each bad input is refused by `validate` and by
`generate`, with the whole located message asserted and nothing changed on disk.

Layouts may hold symbolic links ("-> target" as the content). A file outside the
working directory, ``secret.txt`` beside it, stands for a host file that must never
be read into the output or quoted in a message.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from sloforge.cli import app
from sloforge_testlib import SHOP_SERVICE
from typer.testing import CliRunner

runner = CliRunner()
SECRET = "TOP-SECRET-LINE root:x:0:0:root:/root:/bin/bash and a long tail of private words\n"


@dataclass(frozen=True)
class Case:
    id: str
    files: dict[str, str]  # path -> content, or "-> target" for a symbolic link
    expect: list[str]  # every problem line, in order
    args: tuple[str, ...] = ("in",)


def lay_out(root: Path, files: dict[str, str]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content.startswith("-> "):
            path.symlink_to(content[3:])
        else:
            path.write_text(content)


def hashes(root: Path) -> dict[str, str]:
    found = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            found[rel] = "-> " + os.readlink(path)
        elif path.is_file():
            found[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            found[rel] = "dir"
    return found


def summary(expect: list[str]) -> str:
    count = sum(1 for line in expect if ": warning: " not in line)
    files = len({line.split(":")[0] for line in expect})
    return f"{count} problem{'s' if count != 1 else ''} in {files} file{'s' if files != 1 else ''}"


def refused(case: Case, tmp_path: Path) -> None:
    """validate and generate both exit 1 with exactly ``case.expect``; nothing changes."""
    work = tmp_path / "work"
    (tmp_path / "secret.txt").write_text(SECRET)
    lay_out(work, {"in/shop.yaml": SHOP_SERVICE, **case.files})
    before = hashes(tmp_path)
    for command in ("validate", "generate"):
        args = [command, *case.args] + (["--out", "out"] if command == "generate" else [])
        with contextlib.chdir(work):
            result = runner.invoke(app, args)
        assert "Traceback" not in result.output
        assert (result.exit_code, result.stderr) == (
            1,
            "\n".join([*case.expect, summary(case.expect)]) + "\n",
        ), command
        assert "private" not in result.output  # the end of the host file's line
        assert hashes(tmp_path) == before, f"{command} changed the disk"


# --- class 2: reads stay inside the input directories -------------------------------------------

OUTSIDE = "is a link leading outside the input directories; keep the file itself here"
JSONNET_HEAD = (
    "{apiVersion: 'sloforge/v1', kind: 'ServiceLevels', service: 'web', owner: 'web', slos: [], "
)

READS = [
    Case(
        "a kept runbook that is a link to a host file is refused",
        {"in/runbooks/shop/ShopAvailabilityBudgetBurn.md": "-> ../../../../secret.txt"},
        [f"in/runbooks/shop/ShopAvailabilityBudgetBurn.md: {OUTSIDE}"],
    ),
    Case(
        "a template override that is a link to a host file is refused",
        {"in/templates/runbooks/burn-rate.md.j2": "-> ../../../../secret.txt"},
        [f"in/templates/runbooks/burn-rate.md.j2: {OUTSIDE}"],
    ),
    Case(
        "a runbooks folder that is a link to a folder elsewhere is refused file by file",
        {"in/runbooks": "-> ../../elsewhere", "../elsewhere/shop/Kept.md": "# private\n"},
        [f"in/runbooks/shop/Kept.md: {OUTSIDE}"],
    ),
    Case(
        "a kept runbook that is a link whose target is gone is named",
        {"in/runbooks/shop/Gone.md": "-> nowhere.md"},
        ["in/runbooks/shop/Gone.md: is a link to 'nowhere.md', which does not exist"],
    ),
    Case(
        "Jsonnet importstr of an absolute path is refused",
        {"in/web.jsonnet": JSONNET_HEAD + "description: importstr '/etc/hostname'}\n"},
        [
            'in/web.jsonnet:1:105: Jsonnet runtime error: couldn\'t open import "/etc/hostname": absolute paths cannot be imported; import from the input directories'
        ],
    ),
    Case(
        "Jsonnet importstr climbing out with .. is refused",
        {"in/web.jsonnet": JSONNET_HEAD + "description: importstr '../../secret.txt'}\n"},
        [
            'in/web.jsonnet:1:105: Jsonnet runtime error: couldn\'t open import "../../secret.txt": outside the input directories; imports stay inside them'
        ],
    ),
    Case(
        "Jsonnet import of a link inside the input that leads outside is refused",
        {
            "in/lib.libsonnet": "-> ../../secret.txt",
            "in/web.jsonnet": JSONNET_HEAD + "description: import 'lib.libsonnet'}\n",
        },
        [
            'in/web.jsonnet:1:105: Jsonnet runtime error: couldn\'t open import "lib.libsonnet": outside the input directories; imports stay inside them'
        ],
    ),
    Case(
        "a text file given as input is quoted only by a short escaped excerpt",
        {"notes.yaml": SECRET * 3},
        [
            "notes.yaml:1:1: a document must be a mapping with apiVersion and kind (got str 'TOP-SECRET-LINE root:x:0:0:root:/root:…)"
        ],
        ("notes.yaml",),
    ),
    Case(
        "a dangling link among the input files is an error, not silently skipped",
        {"in/web.yaml": "-> ../moved/web.yaml"},
        ["in/web.yaml: is a link to '../moved/web.yaml', which does not exist"],
    ),
    Case(
        "an input path that is a dangling link is named as one",
        {"web.yaml": "-> moved.yaml"},
        ["web.yaml: is a link to 'moved.yaml', which does not exist"],
        ("in", "web.yaml"),
    ),
]


@pytest.mark.parametrize("case", READS, ids=[c.id for c in READS])
def test_reads_stay_inside_the_input_directories(case: Case, tmp_path: Path) -> None:
    refused(case, tmp_path)


def test_a_jsonnet_import_inside_the_input_directories_still_works(tmp_path: Path) -> None:
    lay_out(
        tmp_path,
        {
            "in/lib/text.txt": "Requests served.",
            "in/web.jsonnet": JSONNET_HEAD + "description: importstr 'lib/text.txt'}\n",
        },
    )
    with contextlib.chdir(tmp_path):
        result = runner.invoke(app, ["validate", "in"])
    assert result.exit_code == 0, result.output
