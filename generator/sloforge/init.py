"""`sloforge init DIR`: a new SLO repository that passes every command as written.

The starter files live in ``starter/`` inside the package (shipped in the wheel).
A path part spelled ``dot-x`` there is written as ``.x``, so the wheel carries no
hidden files. Besides them, init writes the JSON Schema for editors and runs
``generate`` once, so ``check`` passes before the first edit.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from .errors import SloforgeError
from .pipeline import generate
from .spec.schema import json_schema

STARTER = Path(__file__).resolve().parent / "starter"
SCHEMA_FILE = "sloforge.schema.json"
INPUT_DIR, OUTPUT_DIR = "slo", "out"
# The CI files install sloforge from its repository; init fills in where this one came from.
INSTALL_PLACEHOLDER = "sloforge @ git+https://github.com/<your-org>/sloforge@<tag-or-commit>"
CI_FILES = (".github/workflows/slo.yml", ".gitlab-ci.yml")


class InitError(SloforgeError):
    """The directory cannot take a new repository; nothing was written."""


@dataclass(frozen=True)
class Initialised:
    written: list[str]
    kept: list[str]  # existing files left alone (--force)
    generated: int  # files generate wrote into out/
    install: str | None  # the pinned sloforge the CI files install, None when left to the user


def _written_name(relative: Path) -> str:
    return "/".join("." + p[4:] if p.startswith("dot-") else p for p in relative.parts)


def schema_text() -> str:
    """What `sloforge schema` prints."""
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


def installed_from() -> str | None:
    """``sloforge @ git+URL@commit`` when this sloforge was installed from git (PEP 610)."""
    try:
        text = metadata.distribution("sloforge").read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return None
    data = json.loads(text) if text else {}
    vcs = data.get("vcs_info") or {}
    if vcs.get("vcs") != "git" or not vcs.get("commit_id"):
        return None
    url = str(data["url"]).removeprefix("git+")
    return f"sloforge @ git+{url}@{vcs['commit_id']}"


def starter_files(install: str | None) -> dict[str, bytes]:
    """Every file of a new repository, by its path inside it."""
    files = {
        _written_name(path.relative_to(STARTER)): path.read_bytes()
        for path in sorted(STARTER.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }
    files[SCHEMA_FILE] = schema_text().encode()
    if install:
        for name in CI_FILES:
            text = files[name].decode().replace(INSTALL_PLACEHOLDER, install)
            files[name] = text.encode()
    return files


def init(directory: Path, force: bool = False, install: str | None = None) -> Initialised:
    """Write the starter repository into ``directory`` and generate its out/."""
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise InitError(f"{directory}: exists and is not a directory")
    if directory.is_dir() and any(directory.iterdir()) and not force:
        raise InitError(
            f"{directory} is not empty; choose a new directory, or pass --force to add the "
            "starter files (existing files are kept, out/ is regenerated)"
        )
    install = install or installed_from()
    files = starter_files(install)
    kept = sorted(name for name in files if (directory / name).exists())
    written = sorted(name for name in files if name not in kept)
    for name in written:
        target = directory / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(files[name])
    # Relative paths, as the Makefile and CI pass them: output headers name the input as typed.
    with contextlib.chdir(directory):
        _, out = generate([INPUT_DIR], OUTPUT_DIR)
    return Initialised(written, kept, len(out), install)
