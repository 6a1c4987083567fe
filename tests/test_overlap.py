# ruff: noqa: E501 - whole messages read best on one line each
"""Inputs and the output directory never overlap: no input file is ever changed.

Every arrangement in which `generate` (which replaces the output directory) could
delete an input, or in which its output would be read back as input, is run
through the real command line, symbolic links included. Every file under the
working directory is hashed before and after: not one byte may change, and the
whole refusal message is asserted.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from sloforge.cli import app
from sloforge_testlib import SHOP_SERVICE, hashes, lay_out
from typer.testing import CliRunner

runner = CliRunner()
ADVICE = "choose an output directory outside the inputs, e.g. out beside them"
DELETE = f"generate replaces it, which would delete your files: {ADVICE}"
READ_BACK = f"its files would be read back as input on the next run: {ADVICE}"


@dataclass(frozen=True)
class Arrangement:
    id: str
    files: dict[str, str]  # path -> content, or "-> target" for a symbolic link
    args: tuple[str, ...]  # input paths, then the output directory last
    message: str


def arrangement(
    id: str, args: str, message: str, files: dict[str, str] | None = None
) -> Arrangement:
    return Arrangement(
        id, {"in/shop.yaml": SHOP_SERVICE, **(files or {})}, tuple(args.split()), message
    )


ARRANGEMENTS = [
    arrangement(
        "the output directory is the input directory",
        "in in",
        f"in: the output directory is the input directory in; {DELETE}",
    ),
    arrangement(
        "the output directory is the input directory spelt with a trailing dot",
        "in ./in/.",
        f"in: the output directory is the input directory in; {DELETE}",
    ),
    arrangement(
        "the output directory is the input directory spelt through a parent",
        "in in/../in",
        f"in/../in: the output directory is the input directory in; {DELETE}",
    ),
    arrangement(
        "the input directory is inside the output directory",
        "work/in work",
        f"work: the input directory work/in is inside the output directory; {DELETE}",
        {"work/in/shop.yaml": SHOP_SERVICE},
    ),
    arrangement(
        "the output directory is the working directory holding the inputs",
        "in .",
        f".: the input directory in is inside the output directory; {DELETE}",
    ),
    arrangement(
        "an input file is inside the output directory",
        "work/in/shop.yaml work",
        f"work: the input work/in/shop.yaml is inside the output directory; {DELETE}",
        {"work/in/shop.yaml": SHOP_SERVICE},
    ),
    arrangement(
        "the output directory is the folder holding the input file",
        "in/shop.yaml in",
        f"in: the input in/shop.yaml is inside the output directory; {DELETE}",
    ),
    arrangement(
        "the output directory is inside the input directory",
        "in in/out",
        f"in/out: the output directory is inside the input directory in; {READ_BACK}",
    ),
    arrangement(
        "the output directory is deep inside the input directory",
        "in in/a/b/c",
        f"in/a/b/c: the output directory is inside the input directory in; {READ_BACK}",
    ),
    arrangement(
        "the input is the working directory and the output a folder in it",
        ". out",
        f"out: the output directory is inside the input directory .; {READ_BACK}",
    ),
    arrangement(
        "the output directory is the hand-kept runbooks folder beside an input file",
        "in/shop.yaml in/runbooks",
        f"in/runbooks: the output directory is the input directory in/runbooks; {DELETE}",
        {"in/runbooks/shop/Kept.md": "# kept by hand\n"},
    ),
    arrangement(
        "the output directory is inside the template overrides beside an input file",
        "in/shop.yaml in/templates/gen",
        f"in/templates/gen: the output directory is inside the input directory in/templates; {READ_BACK}",
        {"in/templates/runbooks/burn-rate.md.j2": "{{ alert }}\n"},
    ),
    arrangement(
        "the second of two inputs is the output directory",
        "other in in",
        f"in: the output directory is the input directory in; {DELETE}",
        {"other/web.yaml": SHOP_SERVICE.replace("shop", "web")},
    ),
    arrangement(
        "the output directory is a link to the input directory",
        "in link",
        f"link: the output directory is the input directory in; {DELETE}",
        {"link": "-> in"},
    ),
    arrangement(
        "the output directory is a link to a folder inside the input directory",
        "in link",
        f"link: the output directory is inside the input directory in; {READ_BACK}",
        {"in/gen/keep.txt": "keep\n", "link": "-> in/gen"},
    ),
    arrangement(
        "the input directory is a link to a folder inside the output directory",
        "src gen",
        f"gen: the input directory src is inside the output directory; {DELETE}",
        {"gen/src/shop.yaml": SHOP_SERVICE, "src": "-> gen/src"},
    ),
    arrangement(
        "an input file is a link to a file inside the output directory",
        "in gen",
        f"gen: the input in/web.yaml (a link to {{tmp}}/gen/web.yaml) is inside the output directory; {DELETE}",
        {"gen/web.yaml": SHOP_SERVICE.replace("shop", "web"), "in/web.yaml": "-> ../gen/web.yaml"},
    ),
]


@pytest.mark.parametrize("command", ["generate", "check"])
@pytest.mark.parametrize("case", ARRANGEMENTS, ids=[a.id for a in ARRANGEMENTS])
def test_an_output_directory_overlapping_the_inputs_is_refused_and_no_input_changes(
    case: Arrangement, command: str, tmp_path: Path
) -> None:
    lay_out(tmp_path, case.files)
    before = hashes(tmp_path)
    *inputs, out = case.args
    with contextlib.chdir(tmp_path):
        result = runner.invoke(app, [command, *inputs, "--out", out])
    message = case.message.replace("{tmp}", str(tmp_path.resolve()))
    assert (result.exit_code, result.stderr) == (1, f"error: {message}\n")
    assert "Traceback" not in result.output
    assert hashes(tmp_path) == before


def test_a_sibling_output_directory_is_accepted(tmp_path: Path) -> None:
    """The refusals above are not a blanket one: the usual layout still generates."""
    lay_out(tmp_path, {"in/shop.yaml": SHOP_SERVICE})
    with contextlib.chdir(tmp_path):
        result = runner.invoke(app, ["generate", "in/shop.yaml", "--out", "out"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "prometheus" / "rules" / "shop.rules.yml").is_file()


def test_an_output_path_that_is_a_link_is_followed_and_the_link_kept(tmp_path: Path) -> None:
    lay_out(tmp_path, {"in/shop.yaml": SHOP_SERVICE, "volume/runbooks/old.md": "stale\n"})
    (tmp_path / "out").symlink_to("volume")
    with contextlib.chdir(tmp_path):
        result = runner.invoke(app, ["generate", "in", "--out", "out"])
    assert result.exit_code == 0, result.output
    assert os.readlink(tmp_path / "out") == "volume"
    assert (tmp_path / "volume" / "prometheus" / "rules" / "shop.rules.yml").is_file()
    assert not (tmp_path / "volume" / "runbooks" / "old.md").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out", "volume"]


@pytest.mark.parametrize(
    ("service", "code"),
    [(SHOP_SERVICE, 0), (SHOP_SERVICE.replace("99.9", "100"), 1)],
    ids=["after a run that succeeds", "after a run that fails"],
)
def test_nothing_but_the_output_directory_is_left_beside_it(
    tmp_path: Path, service: str, code: int
) -> None:
    lay_out(tmp_path, {"in/shop.yaml": service})
    with contextlib.chdir(tmp_path):
        for _ in range(2):
            result = runner.invoke(app, ["generate", "in", "--out", "out"])
            assert result.exit_code == code, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == (["in", "out"] if code == 0 else ["in"])


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"docs/shop.yaml": SHOP_SERVICE},
            "error: docs: holds shop.yaml, which sloforge does not write; generate replaces the "
            "whole directory, so it refuses rather than delete them: move them, or choose another --out",
        ),
        (
            {
                "docs/a.md": "a",
                "docs/b.md": "b",
                "docs/c.md": "c",
                "docs/d.md": "d",
                "docs/prometheus/x": "x",
            },
            "error: docs: holds a.md, b.md, c.md and 1 more, which sloforge does not write; generate "
            "replaces the whole directory, so it refuses rather than delete them: move them, or choose another --out",
        ),
    ],
    ids=[
        "an output directory holding SLO files that are not this run's inputs",
        "an output directory holding other files beside an output folder",
    ],
)
def test_an_output_directory_holding_other_files_is_not_replaced(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    """Found by the property test: `generate other --out docs` would replace docs/ and delete
    files that are no input of this run."""
    lay_out(tmp_path, {"in/shop.yaml": SHOP_SERVICE, **files})
    before = hashes(tmp_path)
    with contextlib.chdir(tmp_path):
        result = runner.invoke(app, ["generate", "in", "--out", "docs"])
    assert (result.exit_code, result.stderr) == (1, message + "\n")
    assert hashes(tmp_path) == before
