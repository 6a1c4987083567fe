"""Load YAML and Jsonnet documents, keeping the line and column of every value.

Stage 1 of the pipeline: files in, ``Document`` values out. Nothing here knows
what a ServiceLevels document means.
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import Location, Problem, SpecError, excerpt

YAML_SUFFIXES = (".yaml", ".yml")
JSONNET_SUFFIXES = (".jsonnet",)
MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_NODES = 200_000
MAX_DEPTH = 64
JSONNET_MAX_STACK = 500
JSONNET_TIMEOUT = 10.0
JSONNET_MAX_MEMORY = 1024 * 1024 * 1024
JSONNET_MESSAGE_CHARS = 300  # an error() may hold anything; show its start only

PathKey = tuple[str | int, ...]


@dataclass
class Document:
    """One input document with a position for every field path inside it.

    A document converted from another tool's format (spec/foreign/) has no
    positions of its own: ``origin`` maps its fields to the source document's,
    so every problem names the file, line and field the user wrote.
    """

    file: str
    index: int
    data: Any
    positions: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    origin: Origin | None = None
    # The text of every plain scalar YAML 1.1 read as a number, boolean or date (`012`,
    # `0x1F`, `on`, `1_000`, `12:30`): a field meant as text keeps it as written.
    written: dict[PathKey, str] = field(default_factory=dict)

    def source(self, path: Iterable[str | int]) -> tuple[Document, PathKey]:
        """The document and field path that ``path`` was written as."""
        key = tuple(path)
        return self.origin.source(key) if self.origin is not None else (self, key)

    def locate(self, path: Iterable[str | int]) -> Location:
        """The position of ``path``, or of its nearest located parent."""
        document, key = self.source(path)
        while key:
            if key in document.positions:
                line, col = document.positions[key]
                return Location(document.file, line, col)
            key = key[:-1]
        line, col = document.positions.get((), (1, 1))
        return Location(document.file, line, col)

    def show(self, path: Iterable[str | int]) -> str:
        """``path`` as the user wrote it: ``spec.objectives[0].target`` in an OpenSLO file."""
        return format_path(self.source(path)[1])


@dataclass(frozen=True)
class Origin:
    """Where the fields of a converted document come from.

    ``fields`` maps a converted path to the source document and path it was made
    from; a path not listed takes its nearest listed parent's source, followed
    down the same keys as far as the source has them.
    """

    fields: dict[PathKey, tuple[Document, PathKey]]

    def source(self, path: PathKey) -> tuple[Document, PathKey]:
        for length in range(len(path), -1, -1):
            found = self.fields.get(path[:length])
            if found is None:
                continue
            document, base = found
            rest = path[length:]
            while rest and (*base, *rest) not in document.positions:
                rest = rest[:-1]
            return document, (*base, *rest)
        raise LookupError(f"no origin for {format_path(path)!r}")  # the root is always listed


def format_path(path: Iterable[str | int]) -> str:
    """('slos', 0, 'objective') -> 'slos[0].objective'."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def discover(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Every YAML/Jsonnet file under ``paths``, recursively, in a stable order."""
    found: set[Path] = set()
    problems = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in path.rglob("*"):
                if child.suffix not in YAML_SUFFIXES + JSONNET_SUFFIXES or any(
                    part.startswith(".") for part in child.relative_to(path).parts
                ):
                    continue
                if child.is_file():
                    found.add(child)
                elif child.is_symlink() and not child.exists():
                    problems.append(dangling(child))
        elif path.is_file():
            found.add(path)
        elif path.is_symlink():
            problems.append(dangling(path))
        else:
            problems.append(Problem(Location(str(path)), "", "no such file or directory"))
    if problems:
        raise SpecError(problems)
    return sorted(found, key=lambda p: p.as_posix())


def dangling(link: Path) -> Problem:
    """A link whose target is gone is an error, never a silently skipped input."""
    target = excerpt(os.readlink(link), 80)
    return Problem(Location(link.as_posix()), "", f"is a link to {target}, which does not exist")


def source_namer(paths: Iterable[str | os.PathLike[str]]) -> Callable[[str], str]:
    """How generated files name their sources, whatever the spelling of the paths or the
    working directory: relative to the git repository holding the inputs; outside one,
    to the working directory when the inputs are inside it, else to their common parent.

    So ``slo``, ``./slo`` and ``$CI_PROJECT_DIR/slo`` all name ``slo/payments.yaml`` and
    ``check`` in CI agrees with ``generate`` on a laptop. Problems keep the path as typed:
    that is the one a terminal can open.
    """
    inputs = [os.path.abspath(p) for p in paths if not is_stdin(p)]
    if not inputs:
        return str
    common = os.path.commonpath(inputs)
    cwd = os.getcwd()
    root = _repository_root(common)
    if root is None:
        root = cwd if os.path.commonpath([cwd, common]) == cwd else os.path.dirname(common)

    def name(file: str) -> str:
        if file == STDIN_NAME:
            return file
        return Path(os.path.relpath(os.path.abspath(file), root)).as_posix()

    return name


def _repository_root(path: str) -> str | None:
    """The nearest folder at or above ``path`` holding ``.git`` (a folder, or a worktree's file)."""
    here = Path(path)
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return str(folder)
    return None


STDIN = "-"  # the input path that reads one YAML stream from standard input
STDIN_NAME = "<stdin>"


def is_stdin(path: str | os.PathLike[str]) -> bool:
    return str(path) == STDIN


def load_paths(paths: Iterable[str | os.PathLike[str]]) -> tuple[list[Document], list[Problem]]:
    """Load every document under ``paths`` (``-``: standard input); problems are collected."""
    paths = list(paths)
    given = [Path(p) for p in paths if not is_stdin(p)]
    roots = [p if p.is_dir() else p.parent for p in given]
    documents: list[Document] = []
    problems: list[Problem] = []
    if len(given) < len(paths):
        documents, problems = load_yaml_text(sys.stdin.read(), STDIN_NAME)
    for path in discover(given):
        docs, errs = load_file(path, roots)
        documents.extend(docs)
        problems.extend(errs)
    return documents, problems


def load_file(path: Path, roots: Iterable[Path] = ()) -> tuple[list[Document], list[Problem]]:
    """One file's documents; a Jsonnet file may import only from ``roots`` (default: its folder)."""
    name = path.as_posix()
    try:
        size = path.stat().st_size
    except OSError as exc:
        return [], [Problem(Location(name), "", f"cannot read file: {exc.strerror}")]
    if size > MAX_FILE_BYTES:
        limit = MAX_FILE_BYTES // (1024 * 1024)
        return [], [Problem(Location(name), "", f"file is {size} bytes; the limit is {limit} MiB")]
    if path.suffix in JSONNET_SUFFIXES:
        return load_jsonnet(path, list(roots) or [path.parent])
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return [], [Problem(Location(name), "", f"cannot read file: {exc.strerror}")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return [], [Problem(Location(name, line, column), "", "file is not valid UTF-8 text")]
    return load_yaml_text(text, name)


def load_yaml_text(text: str, name: str) -> tuple[list[Document], list[Problem]]:
    documents: list[Document] = []
    try:
        for index, node in enumerate(_compose_all(text)):
            if node is None or _empty(node):
                continue  # `---` with nothing after it, as kustomize and editors leave them
            walker = _NodeWalker(name)
            data = walker.build(node)
            if walker.problems:
                return documents, walker.problems
            documents.append(Document(name, index, data, walker.positions, written=walker.written))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        message = _yaml_message(exc)
        return documents, [Problem(Location(name, line, col), "", message)]
    except yaml.YAMLError as exc:
        return documents, [Problem(Location(name), "", f"invalid YAML: {exc}")]
    if not documents:
        return [], [Problem(Location(name, 1, 1), "", "file holds no document")]
    return documents, []


def _empty(node: yaml.Node) -> bool:
    """A document with no content at all (not even an explicit ``null`` or ``~``)."""
    return (
        isinstance(node, yaml.ScalarNode)
        and node.tag == "tag:yaml.org,2002:null"
        and node.value == ""
        and not node.style
    )


def _yaml_message(exc: yaml.MarkedYAMLError) -> str:
    problem = exc.problem or "invalid YAML"
    if "found character '\\t'" in problem:
        return "invalid YAML: tab characters cannot indent YAML; use spaces"
    if problem == "mapping values are not allowed here":
        return (
            "invalid YAML: a `key: value` where none can start; check this line's indentation, "
            "or quote a value that contains ': '"
        )
    if exc.context:
        return f"invalid YAML: {exc.context}, {problem}"
    return f"invalid YAML: {problem}"


_CLoader: type | None = getattr(yaml, "CSafeLoader", None)


def _compose_all(text: str) -> Iterator[yaml.Node | None]:
    # libyaml composes several times faster; on an error the pure-Python parser
    # runs again, because its messages are more precise (it names a tab, for one).
    if _CLoader is not None:
        try:
            nodes = list(_compose(_CLoader, text))
        except yaml.YAMLError:
            pass
        else:
            yield from nodes
            return
    yield from _compose(yaml.SafeLoader, text)


def _compose(loader_class: type, text: str) -> Iterator[yaml.Node | None]:
    loader = loader_class(text)
    try:
        while loader.check_node():
            yield loader.get_node()
    finally:
        loader.dispose()


_SAFE_SCALAR_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "timestamp")
)


_TYPED_SCALAR_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("int", "float", "bool", "timestamp")
)


class _NodeWalker:
    """Turns a YAML node tree into plain data while recording positions.

    Only YAML's safe core types are built; any other tag (``!!python/object``…) is
    refused before anything is constructed. Aliases are expanded with a node
    budget, so an alias bomb is an error instead of an exhausted machine.
    """

    _SAFE = yaml.SafeLoader("")

    def __init__(self, name: str) -> None:
        self.name = name
        self.positions: dict[PathKey, tuple[int, int]] = {}
        self.written: dict[PathKey, str] = {}
        self.problems: list[Problem] = []
        self.nodes = 0

    def _problem(self, node: yaml.Node, message: str, path: PathKey) -> None:
        mark = node.start_mark
        self.problems.append(
            Problem(Location(self.name, mark.line + 1, mark.column + 1), format_path(path), message)
        )

    def build(self, node: yaml.Node, path: PathKey = (), depth: int = 0) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _TooLarge(node)
        if depth > MAX_DEPTH:
            self._problem(node, f"nesting deeper than {MAX_DEPTH} levels", path)
            return None
        self.positions.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != "tag:yaml.org,2002:seq":
                tag = node.tag.replace("tag:yaml.org,2002:", "!!")
                self._problem(
                    node, f"unsupported YAML tag {tag}; only plain data is accepted", path
                )
                return None
            return [self.build(child, (*path, i), depth + 1) for i, child in enumerate(node.value)]
        if node.tag in _TYPED_SCALAR_TAGS and not getattr(node, "style", None):  # plain
            self.written[path] = node.value
        return self._scalar(node, path)

    def _mapping(self, node: yaml.MappingNode, path: PathKey, depth: int) -> Any:
        if node.tag != "tag:yaml.org,2002:map":
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            self._problem(node, f"unsupported YAML tag {tag}; only plain data is accepted", path)
            return None
        self._SAFE.flatten_mapping(node)
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = self._scalar(key_node, path) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str | int | float | bool) or key is None:
                self._problem(key_node, "mapping keys must be plain strings", path)
                continue
            key = str(key) if not isinstance(key, str) else key
            if key in out:
                self._problem(key_node, f"duplicate key `{key}`", (*path, key))
                continue
            child = (*path, key)
            self.positions[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            out[key] = self.build(value_node, child, depth + 1)
        return out

    def _scalar(self, node: yaml.Node, path: PathKey) -> Any:
        if node.tag not in _SAFE_SCALAR_TAGS:
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            self._problem(node, f"unsupported YAML tag {tag}; only plain data is accepted", path)
            return None
        try:
            return self._SAFE.construct_object(node, deep=False)
        except yaml.constructor.ConstructorError as exc:
            self._problem(node, f"invalid value: {exc.problem}", path)
            return None


class _TooLarge(yaml.MarkedYAMLError):
    def __init__(self, node: yaml.Node) -> None:
        super().__init__(
            problem=(
                f"document expands to more than {MAX_NODES} values (too large, or an alias bomb)"
            ),
            problem_mark=node.start_mark,
        )


def load_jsonnet(path: Path, roots: Iterable[Path] = ()) -> tuple[list[Document], list[Problem]]:
    """Evaluate a Jsonnet file to one document or a list of documents.

    Evaluation runs in a child process with a time and memory limit: Jsonnet is
    a full language, and an endless loop or a huge allocation must end in a
    message, not a hung CI job or an exhausted machine. ``import`` and
    ``importstr`` read only files inside ``roots`` (default: the file's folder),
    links followed, so an input cannot pull a host file into the output.
    """
    name = path.as_posix()
    allowed = json.dumps([os.path.realpath(r) for r in (list(roots) or [path.parent])])
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _JSONNET_CHILD, str(path), str(JSONNET_MAX_STACK), allowed],
            capture_output=True,
            timeout=JSONNET_TIMEOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_limit_memory,  # noqa: PLW1509 - no threads hold locks here
            check=False,
        )
    except subprocess.TimeoutExpired:
        limit = f"{JSONNET_TIMEOUT:g}s"
        message = f"Jsonnet evaluation did not finish within {limit} (endless recursion or loop?)"
        return [], [Problem(Location(name, 1, 1), "", message)]
    stderr = proc.stderr.decode("utf-8", "replace")
    if proc.returncode == 3:
        return [], [_jsonnet_problem(name, stderr)]
    if proc.returncode != 0:
        mib = JSONNET_MAX_MEMORY >> 20
        if "memory" in stderr.lower() or proc.returncode in (-6, 134, 4):
            message = f"Jsonnet evaluation needed more than {mib} MiB of memory"
        else:
            message = f"Jsonnet evaluation failed (exit {proc.returncode})"
        return [], [Problem(Location(name, 1, 1), "", message)]
    value = json.loads(proc.stdout)
    items = value if isinstance(value, list) else [value]
    docs = [Document(name, i, item, {(): (1, 1)}) for i, item in enumerate(items)]
    if not docs:
        return [], [Problem(Location(name, 1, 1), "", "Jsonnet evaluated to an empty list")]
    return docs, []


# The child evaluates one file: JSON on stdout and exit 0, or Jsonnet's message
# on stderr and exit 3 (4 when Python itself runs out of memory). Its import
# callback refuses absolute paths and anything that resolves outside the roots.
_JSONNET_CHILD = """
import json, os, sys
import _jsonnet
ROOTS = json.loads(sys.argv[3])
def read(folder, rel):
    if os.path.isabs(rel):
        raise RuntimeError("absolute paths cannot be imported; import from the input directories")
    path = os.path.normpath(os.path.join(folder, rel))
    real = os.path.realpath(path)
    if not any(real == r or real.startswith(r.rstrip("/") + "/") for r in ROOTS):
        raise RuntimeError("outside the input directories; imports stay inside them")
    if not os.path.isfile(real):
        raise RuntimeError("no match locally or in the Jsonnet library paths.")
    with open(real, "rb") as handle:
        return path, handle.read()
try:
    out = _jsonnet.evaluate_file(
        sys.argv[1], max_stack=int(sys.argv[2]), max_trace=5, import_callback=read
    )
except RuntimeError as exc:
    sys.stderr.write(str(exc))
    sys.exit(3)
except MemoryError:
    sys.exit(4)
sys.stdout.write(out)
"""


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (JSONNET_MAX_MEMORY, JSONNET_MAX_MEMORY))


def _jsonnet_problem(name: str, message: str) -> Problem:
    """Jsonnet names ``file:L:C(-C)`` in its message or trace: keep the first one in this file."""
    text = message.strip()
    first = text.splitlines()[0][:JSONNET_MESSAGE_CHARS] if text else "Jsonnet evaluation failed"
    line, col = 1, 1
    found = re.search(re.escape(name) + r":(\d+):(\d+)", text)
    if found:
        line, col = int(found.group(1)), int(found.group(2))
    kinds = (
        ("RUNTIME ERROR: ", "Jsonnet runtime error"),
        ("STATIC ERROR: ", "Jsonnet syntax error"),
    )
    for prefix, kind in kinds:
        if first.startswith(prefix):
            detail = first.removeprefix(prefix)
            detail = re.sub("^" + re.escape(name) + r":\d+:\d+(-\d+)?: ", "", detail)
            first = f"{kind}: {detail}"
            break
    return Problem(Location(name, line, col), "", first)
