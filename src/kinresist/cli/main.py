"""``kinresist`` entry point: one command group per workflow.

``main()`` catches only kinresist's own errors (and the OS's file errors), prints
``ErrorType: message`` on one line to stderr and returns exit code 2. ``--debug``
(or ``KINRESIST_DEBUG=1``) shows the traceback instead.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import sys
import zlib
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, NoReturn

import click
import typer

from kinresist._version import __version__
from kinresist.core.batchrun import batch_run
from kinresist.errors import KinresistError

_HELP = (
    "kinresist: resistance to targeted kinase inhibitors, from instrument files to referenced "
    "answers. Research use only."
)

#: Hand-written command modules: (module, group, help). ``help`` None: the module registers
#: one top-level command named ``group`` (``register(app)``); else it has a Typer ``app``.
_GROUPS = (
    ("kinresist.cli.kb", "kb", "Knowledge base: show, validate, import CIViC."),
    (
        "kinresist.cli.store",
        "store",
        "Project store: initialise, migrate, list studies and samples.",
    ),
    ("kinresist.cli.study", "study", "Studies: import a manifest of samples and therapy lines."),
    ("kinresist.cli.timeline", "timeline", None),
    ("kinresist.cli.lineage", "lineage", "Resistant-line lineage: dose escalation, IC50s, clones."),
    ("kinresist.cli.demo", "demo", None),
    ("kinresist.cli.serve", "serve", None),
    ("kinresist.cli.users", "users", "Web accounts: add users, API tokens, study membership."),
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"kinresist {__version__}")
        raise typer.Exit


def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Print the version."
    ),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors."),
) -> None:
    if debug:
        os.environ["KINRESIST_DEBUG"] = "1"


def build_app(only: str | None = None) -> typer.Typer:
    """The ``kinresist`` Typer app: every command group, or (``only``) just the group or
    top-level command named so, when that name exists. ``main`` builds only the group it
    runs, so that ``kinresist dose fit`` does not import every workflow's command module or
    build every command (start-up weighs on screen-scale runs)."""
    from kinresist.cli.generated import command_names

    if only is not None and only not in {g for _, g, _ in _GROUPS} | command_names():
        only = None  # unknown name or an option: the full app (its help, its usage error)
    return _build_app(only)


@cache
def _build_app(only: str | None) -> typer.Typer:
    import importlib

    from kinresist.cli.generated import attach

    app = typer.Typer(
        name="kinresist",
        help=_HELP,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    app.callback()(_root)
    existing: dict[str, typer.Typer] = {}
    for module_name, group, help_text in _GROUPS:
        if only is not None and group != only:
            continue
        module = importlib.import_module(module_name)
        if help_text is None:
            module.register(app)  # a top-level command (timeline, demo, serve)
        else:
            app.add_typer(module.app, name=group, help=help_text)
            existing[group] = module.app
    attach(app, existing, only=only)
    return app


def __getattr__(name: str) -> Any:
    if name == "app":  # the full app (documentation tools, CliRunner)
        return build_app()
    raise AttributeError(name)


def _vendored_click_exception() -> type[click.ClickException]:
    """The ClickException class of the click that Typer runs on (Typer >= 0.20 vendors one)."""
    try:
        from typer._click.exceptions import ClickException  # type: ignore[import-not-found]
    except ImportError:
        return click.ClickException
    return ClickException  # type: ignore[no-any-return,return-value]


_VendoredClickException = _vendored_click_exception()


#: Width of ``--help`` when stdout is not a terminal (a pipe, a file, a CI log), instead of the
#: 80 columns rich assumes there; tables (rich, pandas) get :data:`PIPE_TABLE_WIDTH`.
PIPE_HELP_WIDTH = 120
PIPE_TABLE_WIDTH = 200


def _wide_when_piped() -> Callable[[], None]:
    """Widen help and tables when stdout is not a terminal; returns the undo."""
    isatty = getattr(sys.stdout, "isatty", None)
    if (
        (callable(isatty) and isatty())
        or os.environ.get("COLUMNS")
        or os.environ.get("TERMINAL_WIDTH")
    ):
        return lambda: None
    # typer.rich_utils (help and usage errors) is imported only when it prints: until then
    # it is told through TERMINAL_WIDTH, which it reads on import
    rich_utils: Any = sys.modules.get("typer.rich_utils")
    old = getattr(rich_utils, "MAX_WIDTH", None)
    if rich_utils is not None:
        rich_utils.MAX_WIDTH = PIPE_HELP_WIDTH
    os.environ["TERMINAL_WIDTH"] = str(PIPE_HELP_WIDTH)
    os.environ["COLUMNS"] = str(PIPE_TABLE_WIDTH)  # read by every rich Console made later

    def undo() -> None:
        os.environ.pop("TERMINAL_WIDTH", None)
        os.environ.pop("COLUMNS", None)
        now: Any = sys.modules.get("typer.rich_utils")
        if now is not None:
            now.MAX_WIDTH = old

    return undo


def _printable_streams() -> Callable[[], None]:
    """Let stdout/stderr print any file name: a name that is not valid UTF-8 (held by Python
    as surrogate escapes) is printed backslash-escaped instead of raising UnicodeEncodeError
    after the work is done. Returns the undo."""
    undo: list[tuple[Any, str]] = []
    for stream in (sys.stdout, sys.stderr):
        errors = getattr(stream, "errors", None)
        if errors == "strict" and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
            undo.append((stream, errors))

    def restore() -> None:
        for stream, errors in undo:
            with contextlib.suppress(ValueError):  # closed meanwhile
                stream.reconfigure(errors=errors)

    return restore


def run() -> NoReturn:
    """The ``kinresist`` console script: :func:`main` for this process's arguments, then exit
    with its code. The process ends with the command, so the objects alive at its end are
    frozen instead of collected (:func:`kinresist.core.batchrun.batch_run`, ``exiting``)."""
    sys.exit(main(exiting=True))


def main(argv: Sequence[str] | None = None, *, exiting: bool = False) -> int:
    """Run the CLI; return the exit code (0 ok, 1 internal error, 2 bad input or usage).
    ``exiting``: the process ends when the command does (the console script, :func:`run`)."""
    args = list(sys.argv[1:] if argv is None else argv)
    undo = _wide_when_piped()
    restore = _printable_streams()
    try:
        # process settings of a batch command (core.batchrun)
        with batch_run(_invoked(args), exiting=exiting):
            return _main(args)
    finally:
        restore()
        undo()


def _invoked(args: Sequence[str]) -> str | None:
    """The group or top-level command the arguments name (the first non-option)."""
    for arg in args:
        if not arg.startswith("-"):
            return arg
    return None


def _main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("KINRESIST_DEBUG") == "1"
    command = typer.main.get_command(build_app(_invoked(args)))
    try:
        command.main(args=args, prog_name="kinresist", standalone_mode=False)
    except KinresistError as exc:
        if debug:
            raise
        sys.stderr.write(exc.one_line() + "\n")
        return 2
    except (click.exceptions.Exit, typer.Exit) as exc:
        return int(getattr(exc, "exit_code", 0) or 0)
    except (click.exceptions.Abort, typer.Abort) as exc:
        if isinstance(exc.__context__, EOFError) and not debug:
            # click turns an EOFError into Abort: here it came from a reader, not the keyboard
            sys.stderr.write(_truncated(exc.__context__, args) + "\n")
            return 2
        sys.stderr.write("Aborted.\n")
        return 1
    except (click.ClickException, _VendoredClickException) as exc:
        if any(c.__name__ == "BadParameter" for c in type(exc).__mro__):
            # a bad value (missing file, unknown choice): one line, like every input error
            sys.stderr.write(f"InputError: {' '.join(exc.format_message().split())}\n")
        else:
            exc.show()
        return 2
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError) as exc:
        if debug:
            raise
        sys.stderr.write(f"InputError: {exc.strerror or exc}: {exc.filename}\n")
        return 2
    except UnicodeDecodeError as exc:
        if debug:
            raise
        sys.stderr.write(_undecodable(exc, args) + "\n")
        return 2
    except (gzip.BadGzipFile, zlib.error) as exc:
        if debug:
            raise
        # a reader that infers compression from the name (.gz) met a file that is not gzip
        files = ", ".join(_input_files(args)) or "the input"
        sys.stderr.write(
            f"InputError: {files}: not a valid gzip-compressed file ({' '.join(str(exc).split())});"
            " a file named .gz must be gzip-compressed: rename it or compress it again\n"
        )
        return 2
    except Exception as exc:
        if debug:
            raise
        sys.stderr.write(
            f"InternalError: {type(exc).__name__}: {' '.join(str(exc).split())} "
            "(a bug in kinresist; rerun with --debug and report the traceback)\n"
        )
        return 1
    return 0


#: Starts of binary inputs (gzip/BGZF, zip/XLSX, FCS, TIFF, PNG, Parquet, SQLite) that
#: :func:`_undecodable` does not blame for a text decoding error.
_BINARY_MAGIC = (b"\x1f\x8b", b"PK\x03\x04", b"FCS", b"II*\x00", b"MM\x00*", b"\x89PNG", b"PAR1",
                 b"SQLite format 3")  # fmt: skip


def _input_files(args: Sequence[str]) -> list[str]:
    from pathlib import Path

    out = []
    for arg in args:
        try:
            if Path(arg).is_file():
                out.append(arg)
        except (OSError, ValueError):
            continue
    return out


def _truncated(exc: EOFError, args: Sequence[str]) -> str:
    """One line for an EOFError a reader let escape: the data ended early."""
    files = ", ".join(_input_files(args)) or "the input"
    detail = f" ({' '.join(str(exc).split())})" if str(exc) else ""
    return (
        f"InputError: the data ended unexpectedly while reading {files}{detail}; a file is "
        "truncated (copy it again from the instrument or export it again)"
    )


def _undecodable(exc: UnicodeDecodeError, args: Sequence[str]) -> str:
    """One line naming the input file (among the arguments) that is not UTF-8 text."""
    from pathlib import Path

    for arg in args:
        p = Path(arg)
        try:
            if not p.is_file():
                continue
            raw = p.read_bytes()
        except (OSError, ValueError):
            continue
        if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
            return (
                f"InputError: {p}: UTF-16 text; expected UTF-8 (save as 'CSV UTF-8', or convert "
                "with iconv -f utf-16 -t utf-8)"
            )
        if raw.startswith(_BINARY_MAGIC):
            continue  # compressed or binary: not the text file that failed to decode
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as bad:
            line = raw.count(b"\n", 0, bad.start) + 1
            byte = raw[bad.start : bad.start + 1]
            return (
                f"InputError: {p}, line {line}: byte {byte!r} is not valid UTF-8; expected UTF-8 "
                "text (re-save as UTF-8, e.g. iconv -f latin1 -t utf-8)"
            )
    byte = exc.object[exc.start : exc.start + 1]
    return (
        f"InputError: an input is not valid UTF-8 text (byte {exc.start}: {byte!r}); save the "
        "file as UTF-8"
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
