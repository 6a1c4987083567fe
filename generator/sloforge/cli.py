"""The command line: parse options, call the library, map errors to exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
import traceback
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from typer.core import TyperArgument, TyperGroup, TyperOption

from . import __version__
from .errors import Problem, SloforgeError, SpecError

if TYPE_CHECKING:  # typer 0.29 carries its own click; its classes are these
    from typer._click import Command, Context, Parameter

    from .tools.testing import Selection

_state = {"debug": False}
GLOBAL_FLAGS = ("--debug", "-V", "--version")


class _Commands(TyperGroup):
    """``--debug`` and ``-V``/``--version`` are read anywhere before ``--``, so they work
    after the command too (``sloforge validate slo --debug``), as the contract says."""

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        end = args.index("--") if "--" in args else len(args)
        head, tail = args[:end], args[end:]
        _state["debug"] = "--debug" in head
        if "-V" in head or "--version" in head:
            typer.echo(f"sloforge {__version__}")
            ctx.exit(0)
        if ctx.resilient_parsing:  # shell completion: leave the words as typed
            return super().parse_args(ctx, args)
        return super().parse_args(ctx, [a for a in head if a != "--debug"] + tail)

    def get_params(self, ctx: Context) -> list[Parameter]:
        return _plain(super().get_params(ctx))

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _plain(command.params)
        return command


class _PlainArgument(TyperArgument):
    """Help names an argument by its metavar alone: no Python type such as <list[Path]>."""

    def display_type_rich(self, ctx: Context) -> str | None:
        return None

    def _usage_display_name(self) -> str:
        return self.display_name_raw if self.required else f"[{self.display_name_raw}]"


class _PlainOption(TyperOption):
    """An option's value is shown as its metavar (``--out DIR``), never as a Python type."""

    def display_type_rich(self, ctx: Context) -> str | None:
        if self.metavar:
            return self.metavar
        longest = max(self.opts, key=len)
        return longest.lstrip("-").replace("-", "_").upper()


def _plain(params: list[Parameter]) -> list[Parameter]:
    for param in params:
        if type(param) is TyperArgument:
            param.__class__ = _PlainArgument
        elif type(param) is TyperOption:
            param.__class__ = _PlainOption
    return params


app = typer.Typer(
    cls=_Commands,
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    help=(
        "SLO rules-as-code: compile SLO YAML into tested Prometheus rules, Alertmanager routing, "
        "runbooks and dashboards."
    ),
)

T = TypeVar("T")

Paths = Annotated[
    list[Path],
    typer.Argument(
        metavar="PATH...",
        help="SLO files or directories (searched recursively); - reads standard input.",
    ),
]
OutDir = Annotated[Path, typer.Option("--out", "-o", metavar="DIR", help="Output directory.")]


def _known_targets(values: list[str] | None) -> list[str] | None:
    """An unknown --target is a usage error (exit 2), like any bad option."""
    from .build.targets import TARGETS

    for value in values or []:
        if value not in TARGETS:
            raise typer.BadParameter(f"unknown target {value!r}; choose from {', '.join(TARGETS)}")
    return values


TargetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--target",
        "-t",
        metavar="NAME",
        help="Deployment target (repeatable): prometheus, prometheus-operator, mimir, thanos, "
        "mixin. Overrides `targets:` of the Settings document.",
        callback=_known_targets,
    ),
]


def _err(text: str) -> None:
    typer.echo(text, err=True)


def _print_problems(problems: list[Problem]) -> None:
    for problem in problems:
        _err(str(problem))


def run(action: Callable[[], T]) -> T:
    """Run a command body; known errors become messages and exit 1, never tracebacks."""
    try:
        return action()
    except SpecError as exc:
        _print_problems(exc.problems)
        errors = sum(1 for p in exc.problems if not p.warning)
        files = len({p.location.file for p in exc.problems})
        _err(
            f"{errors} problem{'s' if errors != 1 else ''} "
            f"in {files} file{'s' if files != 1 else ''}"
        )
        raise typer.Exit(1) from None
    except SloforgeError as exc:
        _err(f"error: {exc}")
        raise typer.Exit(1) from None
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except Exception as exc:  # noqa: BLE001 - last resort: a bug, reported without a traceback
        if _state["debug"]:
            traceback.print_exc()
        else:
            _err(
                f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for a traceback)"
            )
        raise typer.Exit(1) from None


@app.callback()
def _main(
    debug: Annotated[
        bool,
        typer.Option(
            "--debug", help="Show Python tracebacks for internal errors (before or after COMMAND)."
        ),
    ] = False,
    version: Annotated[
        bool, typer.Option("-V", "--version", help="Print the version and exit.")
    ] = False,
) -> None:
    # Both are read by _Commands.parse_args wherever they stand; declared here for --help.
    del debug, version


@app.command()
def validate(paths: Paths) -> None:
    """Check every document; print each problem as file:line:col: field.path: message."""
    from . import load

    loaded = run(lambda: load(paths))
    _print_problems(list(loaded.warnings))
    project = loaded.project
    slos = sum(len(s.slos) for s in project.services)
    alerts = sum(len(s.alerts) for s in project.services)
    typer.echo(
        f"ok: {_count(len(project.sources), 'file')}, {_count(len(project.services), 'service')}, "
        f"{_count(slos, 'SLO')}, {_count(alerts, 'plain alert')}"
    )


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


@app.command()
def generate(paths: Paths, out: OutDir = Path("out"), target: TargetOption = None) -> None:
    """Validate, then write every output into DIR atomically (stale files are removed)."""
    from . import compile, load, write
    from .pipeline import Loaded

    def body() -> tuple[Loaded, dict[str, bytes]]:
        loaded = load(paths, out=out)
        files = compile(loaded.project, target or None)
        write(files, out)
        return loaded, files

    loaded, files = run(body)
    _print_problems(list(loaded.warnings))
    typer.echo(f"wrote {len(files)} files to {out}")


@app.command()
def check(paths: Paths, out: OutDir = Path("out"), target: TargetOption = None) -> None:
    """Exit 1 when DIR is not exactly what generate would write;
    name every stale, missing or extra file."""
    from . import compile, load
    from .review.check import compare

    def body() -> bool:
        loaded = load(paths, out=out)
        report = compare(compile(loaded.project, target or None), out)
        if report.ok:
            typer.echo(f"ok: {out} is up to date")
            return True
        _err(report.render(out))
        _err(
            f"{out} is out of date: run `sloforge generate {' '.join(map(str, paths))} --out {out}`"
        )
        return False

    if not run(body):
        raise typer.Exit(1)


@app.command()
def lint(
    paths: Paths,
    output_format: Annotated[
        str,
        typer.Option(
            "--format", "-f", metavar="FORMAT", help="text, json, or github (workflow annotations)."
        ),
    ] = "text",
    strict: Annotated[bool, typer.Option("--strict", help="Fail on warnings too.")] = False,
) -> None:
    """Review checks beyond promtool: annotations, severities, for:, windows, names, tests."""
    from .review.lint import Format, render
    from .review.lint import lint as do_lint

    formats = [f.value for f in Format]
    if output_format not in formats:
        raise typer.BadParameter(
            f"must be one of {', '.join(formats)} (got {output_format!r})", param_hint="--format"
        )
    report = run(lambda: do_lint(paths))
    typer.echo(render(report, Format(output_format)))
    if report.failed(strict):
        raise typer.Exit(1)


@app.command()
def diff(
    old: Annotated[
        str,
        typer.Argument(metavar="OLD", help="Output directory, or a git commit (e.g. origin/main)."),
    ],
    new: Annotated[
        str,
        typer.Argument(metavar="NEW", help="Output directory, or a git commit (e.g. HEAD)."),
    ],
    out_dir: Annotated[
        str,
        typer.Option(
            "--path", metavar="DIR", help="The committed output directory read from git commits."
        ),
    ] = "out",
    repo: Annotated[
        Path, typer.Option("--repo", metavar="DIR", help="Git repository for commits.")
    ] = Path("."),
) -> None:
    """Markdown for a pull request: the SLOs, budgets, alerts, rules and routes that changed."""
    from .review.diff import diff as do_diff
    from .review.diff import open_side

    report = run(lambda: do_diff(open_side(old, out_dir, repo), open_side(new, out_dir, repo)))
    typer.echo(report.markdown(), nl=False)


@app.command()
def explain(
    path: Paths,
    slo: Annotated[
        str | None,
        typer.Option(
            "--slo",
            metavar="NAME",
            help="Only this SLO or baseline alert (name or service/name).",
        ),
    ] = None,
) -> None:
    """Per tier: windows, burn rate, threshold, budget spent, detection and reset time."""
    from . import load
    from .review.explain import explain as do_explain

    loaded = run(lambda: load(path))
    text = do_explain(loaded.project, slo)
    if not text:
        known = [f"{s.name}/{o.name}" for s in loaded.project.services for o in s.slos]
        _err(f"error: no SLO named {slo!r}; choose from {', '.join(known) or 'none (no SLOs)'}")
        raise typer.Exit(1)
    typer.echo(text)


FOREIGN_TOOLS = ("sloth", "pyrra", "openslo")


@app.command("import")
def import_(
    sources: Annotated[
        list[str],
        typer.Argument(
            metavar="PATH",
            help="Files or directories of Sloth, Pyrra or OpenSLO YAML; name a format first "
            "to convert only that one (detected otherwise).",
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            metavar="DIR",
            help="Write one converted file per source file, mirroring the tree, and "
            "MIGRATION.md (a directory input always needs it).",
        ),
    ] = None,
    keep_labels: Annotated[
        bool,
        typer.Option(
            "--keep-labels",
            help="Keep the source tool's label names (sloth_service, sloth_slo, …) on the "
            "generated rules, so existing routes and dashboards still match.",
        ),
    ] = False,
) -> None:
    """Convert Sloth, Pyrra and OpenSLO files into sloforge/v1 YAML:
    sloforge import [sloth|pyrra|openslo] PATH... [--out DIR] [--keep-labels].

    One file prints the converted YAML; a directory (or --out) writes a converted tree and
    a migration report. Nothing that validate would refuse is printed or written; what
    cannot be converted is an error naming the original file, line and field.
    """
    from .migrate.importer import import_paths, render, summary, write

    tool = sources[0] if sources[0] in FOREIGN_TOOLS and len(sources) > 1 else None
    first = sources[0]
    looks_like_a_format = "/" not in first and "." not in first and not Path(first).exists()
    if tool is None and len(sources) > 1 and looks_like_a_format:
        raise typer.BadParameter(
            f"unknown format {sources[0]!r}; choose from {', '.join(FOREIGN_TOOLS)}",
            param_hint="FORMAT",
        )
    paths = [Path(p) for p in (sources[1:] if tool else sources)]
    results = run(lambda: import_paths(paths, tool, keep_labels))
    single = out is None and len(paths) == 1 and paths[0].is_file()
    if not results:
        _err(f"error: no YAML files under {', '.join(map(str, paths))}")
        raise typer.Exit(1)
    if single:
        result = results[0]
        if result.converted:
            typer.echo(render(result), nl=False)
            return
        if result.problems or result.not_foreign:
            run(lambda: _refuse([*result.problems, *result.not_foreign]))
        _err(f"error: {paths[0]}: nothing to convert: {result.skipped}")
        raise typer.Exit(1)
    if out is None:
        raise typer.BadParameter(
            "a directory converts to a tree: name where with --out DIR", param_hint="--out"
        )
    written = run(lambda: write(results, out, paths))
    for line in summary(results):
        _err(line)
    _err(f"wrote {written} files to {out} (see {out / 'MIGRATION.md'})")
    if any(r.problems for r in results):
        raise typer.Exit(1)


@app.command()
def test(
    out: OutDir = Path("out"),
    junit: Annotated[
        Path | None,
        typer.Option("--junit", metavar="FILE", help="Also write a JUnit XML report here."),
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs", "-j", metavar="N", help="promtool runs at once (default: CPU count)."
        ),
    ] = None,
    changed_since: Annotated[
        str | None,
        typer.Option(
            "--changed-since",
            metavar="REF",
            help="Run only the test files that changed, or whose rule files changed, since "
            "git REF (or against a base output directory REF); the others are reported "
            "skipped-unchanged.",
        ),
    ] = None,
) -> None:
    """promtool check + test rules, amtool check-config and routing expectations on DIR;
    one summary."""
    from .tools import testing
    from .tools.progress import FileProgress

    selection = None
    if changed_since is not None:
        selection = run(lambda: _changed_selection(out, changed_since))
        if selection is None:
            typer.echo(f"nothing changed in {out} since {changed_since}: no tests to run")
            return
    progress = FileProgress(sys.stderr, f"testing {out}")
    try:
        report = run(lambda: testing.run_all(out, progress, jobs, selection))
    finally:
        progress.close()
    typer.echo(testing.summary(report))
    if junit is not None:
        junit.parent.mkdir(parents=True, exist_ok=True)
        junit.write_bytes(testing.junit(report))
    if not report.ok:
        raise typer.Exit(1)


def _changed_selection(out: Path, ref: str) -> Selection | None:
    """The test files of ``out`` changed since ``ref`` (a git commit, or a base output
    directory); None when nothing in ``out`` changed."""
    from .output.writer import read_tree
    from .review.diff import DiffError, open_side
    from .tools import testing

    if not out.is_dir():
        raise DiffError(
            f"{out}: no such output directory; run `sloforge generate … --out {out}` first"
        )
    if Path(ref).is_dir():
        base = read_tree(Path(ref))
    else:
        try:
            top = subprocess.run(
                ["git", "-C", str(out), "rev-parse", "--show-toplevel"],
                capture_output=True,
                text=True,
                check=False,
            )
        except FileNotFoundError:
            raise DiffError(f"--changed-since {ref}: git is not installed") from None
        if top.returncode != 0:
            raise DiffError(
                f"--changed-since {ref}: {out} is not inside a git repository "
                "(give a base output directory instead)"
            )
        repo = Path(top.stdout.strip())
        inside = out.resolve().relative_to(repo.resolve()).as_posix()
        side = open_side(ref, inside, repo)
        base = side.files
    if read_tree(out) == base:
        return None
    return testing.Selection(testing.changed_tests(out, base), f"{testing.UNCHANGED} {ref}")


@app.command()
def schema() -> None:
    """Print the JSON Schema of the input documents (for editors)."""
    from .spec.schema import json_schema

    typer.echo(json.dumps(json_schema(), indent=2, sort_keys=True))


# --- live commands: a running Prometheus --------------------------------------------------------

PrometheusURL = Annotated[
    str, typer.Option("--prometheus", "-p", metavar="URL", help="Prometheus base URL.")
]
TokenFile = Annotated[
    Path | None,
    typer.Option("--bearer-token-file", metavar="FILE", help="Send this file's token as Bearer."),
]
User = Annotated[str | None, typer.Option("--user", metavar="NAME", help="Basic-auth user name.")]
PasswordFile = Annotated[
    Path | None,
    typer.Option("--password-file", metavar="FILE", help="Basic-auth password, read from FILE."),
]
CAFile = Annotated[
    Path | None,
    typer.Option("--ca-file", metavar="FILE", help="CA certificates to verify the server with."),
]
SkipVerify = Annotated[
    bool,
    typer.Option("--insecure-skip-verify", help="Do not verify the server's TLS certificate."),
]
Timeout = Annotated[
    float, typer.Option("--timeout", metavar="SECONDS", help="Per-request timeout.")
]
LivePaths = Annotated[
    list[Path], typer.Argument(metavar="PATH...", help="SLO files or directories.")
]


def _prometheus(
    url: str,
    bearer_token_file: Path | None,
    user: str | None,
    password_file: Path | None,
    ca_file: Path | None,
    insecure_skip_verify: bool,
    timeout: float,
) -> Any:
    from .live.client import Connection, Prometheus

    return run(
        lambda: Prometheus(
            Connection(
                url, bearer_token_file, user, password_file, ca_file, insecure_skip_verify, timeout
            )
        )
    )


def _progress(text: str) -> None:
    """Progress on a terminal only: CI logs and pipes get the results alone."""
    if sys.stderr.isatty():
        sys.stderr.write(f"\r\033[K{text}")
        sys.stderr.flush()


def _progress_done() -> None:
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()


@app.command()
def verify(
    paths: LivePaths,
    prometheus: PrometheusURL,
    bearer_token_file: TokenFile = None,
    user: User = None,
    password_file: PasswordFile = None,
    ca_file: CAFile = None,
    insecure_skip_verify: SkipVerify = False,
    timeout: Timeout = 30.0,
) -> None:
    """Check against a running Prometheus that every selector finds series, histogram buckets
    exist at each threshold, and the generated rules are loaded and recording."""
    from . import load
    from .live.verify import verify as do_verify

    loaded = run(lambda: load(paths))
    prom = _prometheus(
        prometheus, bearer_token_file, user, password_file, ca_file, insecure_skip_verify, timeout
    )
    result = run(lambda: do_verify(loaded.project, paths, prom, _progress))
    _progress_done()
    for finding in result.findings:
        typer.echo(str(finding))
    summary = (
        f"{result.selectors} selectors, {result.groups} rule groups, "
        f"{result.records} SLO recordings checked against {prom.base}"
    )
    if result.ok:
        typer.echo(f"ok: {summary}")
        return
    count = len(result.findings)
    typer.echo(f"{count} problem{'s' if count != 1 else ''}: {summary}")
    raise typer.Exit(1)


class StatusFormat(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"


@app.command()
def status(
    paths: LivePaths,
    prometheus: PrometheusURL,
    output_format: Annotated[
        StatusFormat, typer.Option("--format", "-f", help="table, json or markdown.")
    ] = StatusFormat.table,
    service: Annotated[
        str | None, typer.Option("--service", "-s", help="Only this service.")
    ] = None,
    bearer_token_file: TokenFile = None,
    user: User = None,
    password_file: PasswordFile = None,
    ca_file: CAFile = None,
    insecure_skip_verify: SkipVerify = False,
    timeout: Timeout = 30.0,
) -> None:
    """Per SLO: objective, SLI over the period, budget left (share, time, events),
    burn rate per alert window and the alerts firing."""
    from .live.status import FORMATS
    from .live.status import status as do_status

    project = _live_project(paths, service)
    prom = _prometheus(
        prometheus, bearer_token_file, user, password_file, ca_file, insecure_skip_verify, timeout
    )
    rows = run(lambda: do_status(project, prom, service, _progress))
    _progress_done()
    typer.echo(FORMATS[output_format.value](rows), nl=False)


@app.command()
def gate(
    paths: LivePaths,
    prometheus: PrometheusURL,
    service: Annotated[
        str | None, typer.Option("--service", "-s", help="Only this service.")
    ] = None,
    min_budget: Annotated[
        float,
        typer.Option(
            "--min-budget", metavar="PCT", help="Fail when less than PCT% of a budget is left."
        ),
    ] = 0.0,
    bearer_token_file: TokenFile = None,
    user: User = None,
    password_file: PasswordFile = None,
    ca_file: CAFile = None,
    insecure_skip_verify: SkipVerify = False,
    timeout: Timeout = 30.0,
) -> None:
    """Deployment gate: one line per SLO; exit 3 when a budget is below --min-budget or a
    page alert is firing, 0 when every SLO passes."""
    from .live.status import gate as do_gate
    from .live.status import status as do_status

    if not 0 <= min_budget <= 100:
        raise typer.BadParameter(
            f"must be a percentage 0-100 (got {min_budget:g})", param_hint="--min-budget"
        )
    project = _live_project(paths, service)
    prom = _prometheus(
        prometheus, bearer_token_file, user, password_file, ca_file, insecure_skip_verify, timeout
    )
    rows = run(lambda: do_status(project, prom, service, _progress))
    _progress_done()
    verdicts = do_gate(rows, min_budget)
    for verdict in verdicts:
        typer.echo(str(verdict))
    failed = sum(1 for v in verdicts if not v.passed)
    if failed:
        typer.echo(f"gate closed: {failed} of {len(verdicts)} SLOs fail")
        raise typer.Exit(3)
    typer.echo(f"gate open: {len(verdicts)} SLOs pass")


@app.command()
def report(
    paths: LivePaths,
    prometheus: PrometheusURL,
    out: Annotated[Path, typer.Option("--out", "-o", metavar="DIR", help="Report directory.")],
    bearer_token_file: TokenFile = None,
    user: User = None,
    password_file: PasswordFile = None,
    ca_file: CAFile = None,
    insecure_skip_verify: SkipVerify = False,
    timeout: Timeout = 60.0,
) -> None:
    """Write a self-contained static HTML report: budget burn-down per SLO over its period,
    error ratio per alert window, alert timeline."""
    from . import load
    from .live.report import report as do_report

    loaded = run(lambda: load(paths))
    prom = _prometheus(
        prometheus, bearer_token_file, user, password_file, ca_file, insecure_skip_verify, timeout
    )
    files = run(lambda: do_report(loaded.project, prom, out, progress=_progress))
    _progress_done()
    typer.echo(f"wrote {len(files)} files to {out}; open {out / 'index.html'}")


def _refuse(problems: list[Problem]) -> None:
    raise SpecError(problems)


def _live_project(paths: list[Path], service: str | None) -> Any:
    from . import load

    project = run(lambda: load(paths)).project
    known = [s.name for s in project.services]
    if service is not None and service not in known:
        raise typer.BadParameter(
            f"no service {service!r}; choose from {', '.join(known)}", param_hint="--service"
        )
    return project


@app.command()
def init(
    directory: Annotated[
        Path, typer.Argument(metavar="DIR", help="Where to create the repository.")
    ],
    force: Annotated[
        bool, typer.Option("--force", help="Add to a non-empty DIR (existing files are kept).")
    ] = False,
    install: Annotated[
        str | None,
        typer.Option(
            "--install",
            metavar="REQUIREMENT",
            help="What the CI files pip-install, e.g. 'sloforge @ git+https://…/sloforge@v1.2'.",
        ),
    ] = None,
) -> None:
    """Create a new SLO repository: an example service, routing, settings, Makefile, CI,
    pre-commit and editor schema files, and its generated out/."""
    from .init import init as do_init

    done = run(lambda: do_init(directory, force, install))
    for name in done.kept:
        _err(f"kept existing {directory / name}")
    typer.echo(
        f"created {directory}: {len(done.written)} files, and {done.generated} generated in "
        f"{directory / 'out'}"
    )
    if done.install is None:
        _err(
            "note: set SLOFORGE_INSTALL in .github/workflows/slo.yml and .gitlab-ci.yml to "
            "where you install sloforge from (or rerun with --install)"
        )
    typer.echo(f"next: cd {directory} && make && make test")


def main(argv: list[str] | None = None) -> Any:
    return app(args=argv if argv is not None else sys.argv[1:], prog_name="sloforge")


if __name__ == "__main__":
    main()
