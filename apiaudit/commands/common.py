"""Options every audit command shares, and the one path from a finished report to an exit code.

Kept import-light: heavy modules (rich renderers, httpx, psycopg) load inside functions only.
"""

from __future__ import annotations

import json
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from apiaudit.errors import ConfigError, UsageError

FORMAT_NAMES = ("table", "json", "html", "sarif", "junit", "markdown", "github", "gitlab", "compact")

ConfigOpt = Annotated[
    str | None, typer.Option("--config", "-c", help="Config file (default: ./apiaudit.yaml if present).")
]
FormatOpt = Annotated[
    list[str] | None,
    typer.Option("--format", "-f", help="Output format, repeatable: table (default on a TTY), json, html, "
                 "sarif, junit, markdown, github (workflow commands), gitlab (Code Quality), compact (one "
                 "line per finding). Default for -o FILE: from its extension."),
]
OutputOpt = Annotated[str | None, typer.Option("--output", "-o", help="Write the (single) format to FILE.")]
OutputDirOpt = Annotated[
    str | None, typer.Option("--output-dir", help="Write one file per format into DIR (report.json, ...).")
]
FailOnOpt = Annotated[
    str | None,
    typer.Option("--fail-on", help="Fail (exit 1) on a finding at or above: critical, high (default), "
                 "medium, low, info, or none."),
]
MinScoreOpt = Annotated[int | None, typer.Option("--min-score", help="Fail (exit 1) when the score is below N.")]
BaselineOpt = Annotated[
    str | None, typer.Option("--baseline", help="Earlier JSON report: only findings not in it fail the gate.")
]
CompareOpt = Annotated[
    str | None, typer.Option("--compare", help="Earlier JSON report: show the score delta and new/fixed findings.")
]
WriteBaselineOpt = Annotated[
    str | None, typer.Option("--write-baseline", help="Also write this report's fingerprints as a baseline FILE.")
]
QuietOpt = Annotated[
    bool, typer.Option("--quiet", "-q", help="Print nothing but errors and, when it fails, the gate line.")
]
ExitZeroOpt = Annotated[
    bool, typer.Option("--exit-zero", help="Report the gate's verdict but exit 0 even when it fails (exit 2/3 "
                       "for usage errors and audits that could not run stay as they are).")
]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Show full evidence and progress details.")]
ColorOpt = Annotated[
    str, typer.Option("--color", help="Colour on the terminal: auto (default; off when NO_COLOR is set or "
                      "output is not a terminal), always, never.")
]
DeadlineOpt = Annotated[
    float | None,
    typer.Option("--deadline", help="Stop collecting after SECONDS and report what was finished "
                 "(default: scan 300, db 120, cache 60; config http/db/cache.deadline_s)."),
]


@dataclass
class CommonOptions:
    config: str | None = None
    formats: list[str] | None = None
    output: str | None = None
    output_dir: str | None = None
    fail_on: str | None = None
    min_score: int | None = None
    baseline: str | None = None
    write_baseline: str | None = None
    quiet: bool = False
    verbose: bool = False
    exit_zero: bool = False
    color: str = "auto"
    compare: str | None = None

    def validate(self) -> None:
        from apiaudit.report import FORMATS

        for fmt in self.formats or []:
            if fmt not in FORMAT_NAMES:
                raise UsageError(f"--format: unknown format {fmt!r} (choose from {', '.join(FORMAT_NAMES)})")
            if fmt not in FORMATS:
                raise UsageError(f"--format: {fmt} output is not available in this version")
        check_number("--min-score", self.min_score)
        if self.min_score is not None and not 0 <= self.min_score <= 100:
            raise UsageError(f"--min-score must be between 0 and 100 (got {self.min_score})")
        if self.fail_on is not None:
            _parse_fail_on(self.fail_on)
        if self.output and self.output_dir:
            raise UsageError("--output and --output-dir cannot be used together")
        if self.output and len(self.formats or []) > 1:
            raise UsageError("--output takes one format; use --output-dir for several")
        if self.color not in ("auto", "always", "never"):
            raise UsageError(f"--color: expected auto, always or never (got {self.color!r})")
        if self.output and not self.formats:
            self.formats = [format_for_path(self.output)]


# File extensions that name one format without doubt; anything else stays JSON, the contract.
EXTENSION_FORMATS: dict[str, str] = {
    ".json": "json", ".html": "html", ".htm": "html", ".sarif": "sarif", ".xml": "junit",
    ".md": "markdown", ".markdown": "markdown", ".txt": "compact",
}


def format_for_path(path: str) -> str:
    """The format an ``--output`` file name asks for (``-o out.sarif`` writes SARIF, not JSON)."""
    name = path.lower()
    if name.endswith(".sarif.json"):
        return "sarif"
    if name.endswith("gl-code-quality-report.json") or name.endswith(".codequality.json"):
        return "gitlab"
    return EXTENSION_FORMATS.get(Path(name).suffix, "json")


def check_number(name: str, value: float | None, *, positive: bool = False, maximum: float | None = None) -> None:
    """A numeric option must be finite and not negative (``positive``: above zero); one-line UsageError.

    typer turns ``nan``, ``inf`` and ``1e309`` into floats without complaint; unchecked, a NaN timeout
    crashes deep inside the event loop and an infinite one switches every bound off."""
    if value is None:
        return
    if isinstance(value, float) and not math.isfinite(value):
        raise UsageError(f"{name} must be a finite number (got {value})")
    if value < 0 or (positive and value == 0):
        raise UsageError(f"{name} must be {'above zero' if positive else 'zero or more'} (got {value:g})")
    if maximum is not None and value > maximum:
        raise UsageError(f"{name} must be at most {maximum:g} (got {value:g})")


def deadline_seconds(command: str, given: float | None, section: dict[str, Any] | None) -> float:
    """``--deadline`` if given, else the config section's ``deadline_s``, else the command's default."""
    from apiaudit.deadline import DEFAULT_DEADLINE_S, MAX_SECONDS

    check_number("--deadline", given, positive=True, maximum=MAX_SECONDS)
    if given is not None:
        return float(given)
    configured = (section or {}).get("deadline_s")
    if configured is not None:
        check_number("deadline_s (config)", configured, positive=True, maximum=MAX_SECONDS)
        return float(configured)
    return DEFAULT_DEADLINE_S[command]


def _parse_fail_on(text: str) -> Any:
    from apiaudit.model import Severity

    if text.lower() in ("none", "never", "off"):
        return None
    try:
        return Severity.parse(text)
    except ValueError as exc:
        raise UsageError(f"--fail-on: {exc}") from None


def load_config(opts: CommonOptions) -> Any:
    from apiaudit.config import load_config as _load

    opts.validate()
    return _load(opts.config, explicit=opts.config is not None)


def finish(report: Any, opts: CommonOptions, cfg: Any) -> int:
    """Baseline, gate, render and write; returns the exit code."""
    from apiaudit.errors import EXIT_OK
    from apiaudit.gate import decide, mark_known, record
    from apiaudit.model import Severity

    baseline = opts.baseline or cfg.gate.get("baseline")
    if baseline:
        known = read_baseline(baseline)
        mark_known(report, known)
        current = {f.fingerprint for f in report.findings}
        report.stats["baseline"] = {"file": baseline, "known": len(current & known), "new": len(current - known),
                                    "fixed": len(known - current)}
    if opts.compare:
        report.stats["compare"] = compare_with(report, read_report_file(opts.compare), opts.compare)
    fail_on = _parse_fail_on(opts.fail_on) if opts.fail_on is not None else cfg.gate.get("fail_on", Severity.HIGH)
    min_score = opts.min_score if opts.min_score is not None else cfg.gate.get("min_score")
    result = decide(report, fail_on=fail_on, min_score=min_score)
    record(report, result, exit_zero=opts.exit_zero)
    write_outputs(report, opts, ruleset=cfg.ruleset)
    if opts.write_baseline:
        write_baseline(report, opts.write_baseline)
    # -q silences the report, never a failed gate: a CI log must say why the job went red.
    if not opts.quiet or not result.passed:
        verdict = "passed" if result.passed else "FAILED: " + "; ".join(result.reasons)
        suffix = " (--exit-zero: exit 0)" if opts.exit_zero and not result.passed else ""
        print(f"apiaudit: gate {verdict}{suffix}", file=sys.stderr)
    return EXIT_OK if opts.exit_zero else result.exit_code


def compare_with(report: Any, base: Any, path: str) -> dict[str, Any]:
    """What changed since ``base``: its score, this run's new finding ids, the findings it fixed."""
    from apiaudit.report.view import location_text

    before = {f.fingerprint for f in base.findings}
    now = {f.fingerprint for f in report.findings}
    return {
        "file": path,
        "score_before": base.score.get("overall"),
        "new": [f.id for f in report.findings if f.fingerprint not in before],
        "fixed": [{"rule": f.rule, "where": location_text(f.location), "fingerprint": f.fingerprint}
                  for f in base.findings if f.fingerprint not in now],
    }


def write_outputs(report: Any, opts: CommonOptions, *, ruleset: Any = None) -> None:
    """Render each format; renderers get the (config-overridden) ruleset for rule metadata (SARIF, HTML)."""
    from apiaudit.report import FORMATS, RenderOptions, render

    tty = sys.stdout.isatty()
    extra = {"ruleset": ruleset} if ruleset is not None else {}
    files = RenderOptions(color=False, verbose=True, extra=extra)
    screen = RenderOptions(color=use_color(opts.color, tty), width=terminal_width(tty), verbose=opts.verbose,
                           extra=extra)
    formats = opts.formats or (["table"] if tty else ["json"])
    if opts.output_dir:
        out_dir = Path(opts.output_dir)
        _mkdir(out_dir)
        for fmt in formats:
            _write(out_dir / FORMATS[fmt][1], render(fmt, report, files), named=False)
        if not opts.quiet and "table" not in formats:
            print(render("table", report, screen), end="")
        _append_step_summary(report, files)
        return
    if opts.output:
        _write(Path(opts.output), render(formats[0], report, files))
        _append_step_summary(report, files)
        return
    if len(formats) > 1:
        raise UsageError("several --format values need --output-dir")
    if not opts.quiet:
        sys.stdout.write(render(formats[0], report, screen).encode("utf-8", "replace").decode("utf-8"))
    _append_step_summary(report, files)


def use_color(mode: str, tty: bool) -> bool:
    """--color always/never win; auto colours a terminal unless NO_COLOR is set (no-color.org)."""
    if mode in ("always", "never"):
        return mode == "always"
    return tty and not os.environ.get("NO_COLOR")


def terminal_width(tty: bool) -> int | None:
    """The terminal's width (COLUMNS first), None off a terminal: the renderer's default then."""
    if not tty and not os.environ.get("COLUMNS"):
        return None
    import shutil

    return max(60, shutil.get_terminal_size((110, 24)).columns)


def _append_step_summary(report: Any, opts: Any) -> None:
    from apiaudit.fileio import atomic_append
    from apiaudit.report import FORMATS, render

    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if path and "markdown" in FORMATS:
        # The summary is a courtesy: a file the runner made unwritable must not change the gate's exit code.
        try:
            atomic_append(path, render("markdown", report, opts), named=True)
        except (OSError, UnicodeDecodeError) as exc:
            print(f"apiaudit: warning: cannot write GITHUB_STEP_SUMMARY {path}: "
                  f"{getattr(exc, 'strerror', None) or exc}", file=sys.stderr)


def _mkdir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create output directory {path}: {exc.strerror or exc}") from None


def _write(path: Path, text: str, *, named: bool = True) -> None:
    """``named``: the user gave exactly this path (see apiaudit.fileio for the symlink rule)."""
    from apiaudit.fileio import atomic_write

    try:
        atomic_write(path, text, named=named)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def read_report_file(path: str) -> Any:
    from apiaudit.fileio import bounded_text
    from apiaudit.model import Report

    try:
        raw = bounded_text(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read report {path}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("the top level is not an object")
        return Report.from_dict(data)
    except RecursionError:
        raise ConfigError("not an apiaudit JSON report: nested too deeply", where=path) from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"not an apiaudit JSON report: {exc}", where=path) from None


def read_baseline(path: str) -> set[str]:
    """Fingerprints from a baseline: a full JSON report or a ``{"fingerprints": [...]}`` file."""
    from apiaudit.fileio import bounded_text

    try:
        data = json.loads(bounded_text(path))
    except RecursionError:
        raise UsageError(f"cannot read baseline {path}: nested too deeply") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"cannot read baseline {path}: {getattr(exc, 'strerror', None) or exc}") from None
    if isinstance(data, dict) and isinstance(data.get("fingerprints"), list):
        return {str(fp) for fp in data["fingerprints"]}
    if isinstance(data, dict) and isinstance(data.get("findings"), list):
        from apiaudit.model import fingerprint_of

        found = [f for f in data["findings"] if isinstance(f, dict)]
        # A report written before fingerprints dropped the host: recompute from rule + location.
        again = {fingerprint_of(str(f["rule"]), f["location"]) for f in found
                 if isinstance(f.get("rule"), str) and isinstance(f.get("location"), dict)}
        return {str(f.get("fingerprint")) for f in found} | again
    raise ConfigError("baseline must be an apiaudit JSON report or a fingerprints file", where=path)


def write_baseline(report: Any, path: str) -> None:
    data = {
        "schema_version": 1,
        "kind": "baseline",
        "fingerprints": sorted(f.fingerprint for f in report.findings),
        "findings": [{"fingerprint": f.fingerprint, "rule": f.rule, "location": f.location} for f in report.findings],
    }
    _write(Path(path), json.dumps(data, indent=2) + "\n")


_COMMON_PARAMS: dict[str, Any] = {
    "config": (ConfigOpt, None),
    "formats": (FormatOpt, None),
    "output": (OutputOpt, None),
    "output_dir": (OutputDirOpt, None),
    "fail_on": (FailOnOpt, None),
    "min_score": (MinScoreOpt, None),
    "baseline": (BaselineOpt, None),
    "compare": (CompareOpt, None),
    "write_baseline": (WriteBaselineOpt, None),
    "quiet": (QuietOpt, False),
    "verbose": (VerboseOpt, False),
    "exit_zero": (ExitZeroOpt, False),
    "color": (ColorOpt, "auto"),
}


def with_common_options(fn: Any) -> Any:
    """Give an audit command the shared options; it receives them as ``common: CommonOptions``.

    Typer reads parameters from ``inspect.signature`` and ``get_type_hints``; the wrapper presents
    the command's own parameters followed by the shared ones, annotations already evaluated.
    """
    import functools
    import inspect
    import typing

    hints = typing.get_type_hints(fn, include_extras=True)
    own = [
        p.replace(annotation=hints.get(p.name, p.annotation))
        for p in inspect.signature(fn).parameters.values()
        if p.name != "common"
    ]
    shared = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=ann, default=default)
        for name, (ann, default) in _COMMON_PARAMS.items()
    ]

    @functools.wraps(fn)
    def wrapper(**kwargs: Any) -> Any:
        common = CommonOptions(**{name: kwargs.pop(name) for name in _COMMON_PARAMS})
        return fn(common=common, **kwargs)

    params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own] + shared
    wrapper.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in params}
    del wrapper.__wrapped__
    return wrapper
