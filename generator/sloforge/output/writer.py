"""The only module that touches the output directory.

A run writes the whole tree into a temporary directory beside the target and
swaps it in with one rename, so a failed or killed run leaves either the old
or the new output, never a mix; files no input produces any more disappear
with the old tree. A lock on the parent directory itself (not a lock file, so
nothing is left beside the output) serialises concurrent runs. An output path
that is a symbolic link is followed: the directory it points to is replaced and
the link stays as it was.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from ..errors import OutputError

_RENAME_EXCHANGE = 2


def write_tree(out: Path, files: Mapping[str, bytes], owned: Iterable[str] | None = None) -> None:
    """Replace ``out`` with exactly ``files`` (relative POSIX paths -> bytes).

    With ``owned`` (the top-level names a run may write), an existing ``out`` holding
    anything else is refused instead of replaced: it is not an earlier output, and
    replacing it would delete those files.
    """
    out = Path(out)
    if out.is_symlink():
        out = Path(os.path.realpath(out))
    _check_target(out)
    if owned is not None:
        _check_only_output(out, {rel.split("/")[0] for rel in files} | set(owned))
    parent = out.parent if str(out.parent) else Path(".")
    blocker = next((p for p in (parent, *parent.parents) if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise OutputError(f"{out}: cannot create the output directory: {blocker} is a file")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out}: cannot create the output directory: {exc.strerror}") from None
    with _locked(parent):
        _recover(out)
        staging = _stage(parent, out.name, files)
        try:
            _swap(staging, out)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def _check_target(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: output path exists and is not a directory")
    if out.resolve() in (Path("/").resolve(), Path.home().resolve()):
        raise OutputError(f"{out}: refusing to replace this directory with generated output")


def _check_only_output(out: Path, owned: set[str]) -> None:
    if not out.is_dir():
        return
    foreign = sorted(p.name for p in out.iterdir() if p.name not in owned)
    if foreign:
        shown = ", ".join(foreign[:3]) + (
            f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
        )
        raise OutputError(
            f"{out}: holds {shown}, which sloforge does not write; generate replaces the whole "
            "directory, so it refuses rather than delete them: move them, or choose another --out"
        )


@contextlib.contextmanager
def _locked(parent: Path) -> Iterator[None]:
    """An exclusive lock on the parent directory for the whole write; where the file system
    cannot lock a directory, the run goes on unlocked (the swap itself is still atomic)."""
    try:
        fd = os.open(parent, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        yield  # the write below reports why the directory is unusable
        return
    try:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _unwritable(out: Path, exc: OSError) -> str:
    parent = out.parent if str(out.parent) else Path(".")
    return (
        f"{out}: cannot write in {parent} ({exc.strerror}); the new tree is built beside "
        "the output directory and swapped in, so its parent must be writable"
    )


def _stage(parent: Path, name: str, files: Mapping[str, bytes]) -> Path:
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{name}.new-", dir=parent))
    except OSError as exc:
        raise OutputError(_unwritable(parent / name, exc)) from None
    try:
        folders: set[Path] = set()
        for rel, content in sorted(files.items()):
            target = staging / rel
            if ".." in Path(rel).parts or Path(rel).is_absolute():
                raise OutputError(f"refusing to write outside the output directory: {rel}")
            if target.parent not in folders:
                target.parent.mkdir(parents=True, exist_ok=True)
                folders.add(target.parent)
            target.write_bytes(content)
        os.chmod(staging, 0o755)
        _flush_to_disk(staging)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise OutputError(f"{parent}: cannot write output: {exc.strerror}") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging


def _flush_to_disk(root: Path) -> None:
    """Everything under ``root`` reaches the disk before the swap makes it the output.

    One syncfs(2) of the file system flushes every file and folder at once;
    an fsync per file costs more than writing them when there are thousands.
    """
    if _syncfs(root):
        return
    for path in sorted(root.rglob("*")):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())


def _syncfs(root: Path) -> bool:
    func = getattr(_libc(), "syncfs", None)
    if func is None:
        return False
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        return bool(func(fd) == 0)
    finally:
        os.close(fd)


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    return ctypes.CDLL(name, use_errno=True) if name else None


def _swap(staging: Path, out: Path) -> None:
    """Atomically exchange ``staging`` and ``out``; ``staging`` then holds the old tree."""
    if not out.exists():
        os.rename(staging, out)
        staging.mkdir()
        return
    if _renameat2_exchange(staging, out):
        return
    # No atomic exchange here: move the old tree aside first; _recover() puts it
    # back if a run dies between the two renames.
    old = out.parent / f".{out.name}.old"
    shutil.rmtree(old, ignore_errors=True)
    os.rename(out, old)
    os.rename(staging, out)
    os.rename(old, staging)


def _recover(out: Path) -> None:
    # Earlier versions left a lock file beside the output; nothing uses it now.
    (out.parent / f".{out.name}.lock").unlink(missing_ok=True)
    old = out.parent / f".{out.name}.old"
    if old.exists():
        if not out.exists():
            os.rename(old, out)
        else:
            shutil.rmtree(old, ignore_errors=True)
    for stale in out.parent.glob(f".{out.name}.new-*"):
        shutil.rmtree(stale, ignore_errors=True)


def _renameat2_exchange(a: Path, b: Path) -> bool:
    func = getattr(_libc(), "renameat2", None)
    if func is None:
        return False
    at_fdcwd = -100
    result = func(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    if ctypes.get_errno() in (errno.EINVAL, errno.ENOSYS, errno.EXDEV):
        return False
    raise OutputError(f"{b}: cannot replace output: {os.strerror(ctypes.get_errno())}")


def read_tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` as relative POSIX path -> bytes (for check and diff)."""
    root = Path(root)
    if not root.is_dir():
        return {}
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }
