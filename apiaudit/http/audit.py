"""``apiaudit scan``: options, collection (discovery -> base GETs -> probes), checks, report.

IO lives in :func:`collect` (and the client it drives); everything after the evidence is pure.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from apiaudit.assemble import assemble, utc_now
from apiaudit.checks import CheckContext, run_checks
from apiaudit.deadline import DEFAULT_DEADLINE_S, Deadline
from apiaudit.errors import UsageError
from apiaudit.fileio import bounded_read
from apiaudit.http import discover
from apiaudit.http.availability import refusal, refusal_summary, usable
from apiaudit.http.client import ClientSettings, ScanClient, settings_from
from apiaudit.http.evidence import Endpoint, ScanEvidence, load_evidence, save_evidence
from apiaudit.http.measure import scan_measurements
from apiaudit.http.probes import BudgetExhausted
from apiaudit.http.problems import base_problems, body_problems, nothing_audited, scan_skipped
from apiaudit.http.secrets import is_secret_header
from apiaudit.http.session import base_gets, run_probes
from apiaudit.model import Report
from apiaudit.redact import redact_text, redact_value, register_secret
from apiaudit.targets import http_url

DEFAULT_SAMPLES = 5


def parse_header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip() or any(c in name for c in " \t\r\n"):
        # Never echo the text: a forgotten colon leaves a bearer token or API key in it (H11).
        raise UsageError("-H expects 'Name: value' (no header name followed by ':' in the value given; "
                         "not shown, it may hold a secret)")
    if any(c in value for c in "\r\n\0"):
        raise UsageError(f"-H {name.strip()}: header values cannot contain line breaks")
    if is_secret_header(name.strip()):
        register_secret(value.strip())
    return name.strip(), value.strip()


def target_url(url: str) -> str:
    """``http_url`` that never prints a password it could not parse: a '/' or '@' left unencoded in
    the userinfo breaks the URL (and the URL redaction rule), so on failure the likely password (between
    the first ':' after the scheme and the last '@') is registered and the message redacted again."""
    try:
        return http_url(url)
    except UsageError as exc:
        userinfo = url.partition("://")[2].rpartition("@")[0]
        guess = userinfo.partition(":")[2]
        if guess:
            register_secret(guess)
        raise UsageError(redact_text(str(exc))) from None


def _non_negative(name: str, value: int | float | None) -> None:
    if value is not None and value < 0:
        raise UsageError(f"{name} must not be negative (got {value})")


@dataclass
class ScanOptions:
    urls: list[str] = field(default_factory=list)
    openapi: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    client: ClientSettings = field(default_factory=ClientSettings)
    samples: int = DEFAULT_SAMPLES
    burst: int = 0
    save_evidence: str | None = None
    from_evidence: str | None = None
    verbose: bool = False
    quiet: bool = False
    probe_options: dict[str, Any] = field(default_factory=dict)
    deadline_s: float = DEFAULT_DEADLINE_S["scan"]

    @classmethod
    def from_cli(cls, cfg: Any, *, urls: list[str], openapi: str | None = None, headers: list[str] | None = None,
                 max_requests: int | None = None, concurrency: int | None = None, timeout: float | None = None,
                 samples: int | None = None, burst: int | None = None, insecure: bool = False,
                 save_evidence: str | None = None, from_evidence: str | None = None, verbose: bool = False,
                 quiet: bool = False, deadline: float | None = None) -> ScanOptions:
        for name, value in (("--max-requests", max_requests), ("--concurrency", concurrency),
                            ("--timeout", timeout), ("--samples", samples), ("--burst", burst)):
            _non_negative(name, value)
        if concurrency == 0 or timeout == 0 or max_requests == 0:
            raise UsageError("--max-requests, --concurrency and --timeout must be positive")
        http_cfg = dict(cfg.http)
        sent = {**cfg.headers, **dict(parse_header(h) for h in headers or [])}
        client = settings_from(http_cfg, {}, max_requests=max_requests, concurrency=concurrency,
                               timeout_s=timeout, insecure=insecure or None)
        n_samples = samples if samples is not None else int(http_cfg.get("samples", DEFAULT_SAMPLES))
        n_burst = burst if burst is not None else int(http_cfg.get("burst", 0))
        probe_options = {
            "samples": n_samples, "burst": n_burst,
            "burst_seconds": float(http_cfg.get("burst_seconds", 10.0)),
            "metrics_path": http_cfg.get("metrics_path", "/metrics"), "static": list(cfg.static),
            "api": list(cfg.targets.get("api") or []),
        }
        return cls(
            urls=[target_url(u) for u in urls], openapi=openapi or http_cfg.get("openapi"), headers=sent,
            client=client, samples=n_samples, burst=n_burst, save_evidence=save_evidence,
            from_evidence=from_evidence, verbose=verbose, quiet=quiet, probe_options=probe_options,
            deadline_s=deadline or float(http_cfg.get("deadline_s") or DEFAULT_DEADLINE_S["scan"]),
        )


def run_scan(options: ScanOptions, cfg: Any) -> Report:
    started_at, t0 = utc_now(), time.monotonic()
    # --from-evidence re-checks saved exchanges offline: no network at all.
    evidence = _load(options.from_evidence) if options.from_evidence else asyncio.run(collect(options, cfg))
    if options.save_evidence:
        _save(evidence, options.save_evidence)
    return build_report(evidence, cfg, started_at=started_at, duration_s=time.monotonic() - t0,
                        openapi=options.openapi)


def build_report(evidence: ScanEvidence, cfg: Any, *, started_at: str, duration_s: float,
                 openapi: str | None = None) -> Report:
    """Checks + assembly from evidence alone (the offline half; also used by --from-evidence)."""
    errors = list(evidence.errors) + base_problems(evidence) + body_problems(evidence)
    reached = [ep for ep in evidence.endpoints if (b := ep.base()) is not None and b.status is not None]
    if not reached:
        raise nothing_audited(errors, evidence, "no endpoint answered")
    # Every base GET refused (401/403, an expired token), not found (a wrong base URL), a login page,
    # throttled or 5xx: nothing of the API itself was seen. Exit 3 so a CI gate never passes an API
    # it could not audit (README "What PASS, not assessed and exit 3 mean").
    if not any(usable(ep) for ep in reached):
        # Login pages answer 2xx: say where each one ended, the 4xx/5xx are already in ``errors``.
        landed = [{"where": ep.url, "message": f"{refusal(b)} (HTTP {b.status} from {b.url})"}
                  for ep in reached if (b := ep.base()) is not None and (b.status or 0) < 300]
        raise nothing_audited(landed + errors, evidence, refusal_summary(reached))
    ctx = CheckContext(ruleset=cfg.ruleset, thresholds=cfg.thresholds, options=dict(evidence.options))
    run = run_checks("scan", evidence, ctx)
    stats = {
        "http_requests": evidence.requests_made, "endpoints": len(evidence.endpoints),
        "endpoints_answered": len(reached), "budget": evidence.budget,
        "skipped_for_budget": sum(1 for s in evidence.skipped if "budget" in s.get("reason", "")),
    }
    measurements = scan_measurements(evidence)
    # The chart draws the thresholds in force (config overrides included), not the guide's defaults.
    measurements["latency_thresholds"] = {"warn_ms": ctx.threshold("p95_warn_ms"),
                                          "crit_ms": ctx.threshold("p95_critical_ms")}
    if sources := _sources(openapi, cfg, evidence):
        measurements["sources"] = sources
    return assemble(kind="scan", targets=evidence.targets, run=run, ruleset=cfg.ruleset,
                    started_at=started_at, duration_s=duration_s, stats=stats, errors=errors,
                    measurements=measurements, skipped=scan_skipped(evidence))


def _load(path: str) -> ScanEvidence:
    try:
        return load_evidence(path)
    except OSError as exc:
        raise UsageError(f"cannot read evidence {path}: {exc.strerror or exc}") from None
    except RecursionError:
        raise UsageError(f"{path}: not a scan evidence file (nested too deeply)") from None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UsageError(f"{path}: not a scan evidence file ({exc})") from None


def _save(evidence: ScanEvidence, path: str) -> None:
    try:
        save_evidence(ScanEvidence.from_dict(redact_value(evidence.to_dict())), path)
    except OSError as exc:
        raise UsageError(f"cannot write evidence {path}: {exc.strerror or exc}") from None


def _command_line_first(options: ScanOptions, endpoints: list[Any], api: list[str]) -> tuple[list[Any], list[str]]:
    """URLs on the command line say what to scan: apiaudit.yaml adds only endpoints on their origins
    (its collection/resource_class metadata), and the rest is left out, saying so."""
    origins = {_origin(u) for u in options.urls}
    kept = [ep for ep in endpoints if ep.source == "cli" or _origin(ep.url) in origins]
    left = len(endpoints) - len(kept) + sum(1 for a in api if _origin(a) not in origins)
    if left and not options.quiet:
        print(f"apiaudit: scanning the URL(s) given on the command line; {left} target(s)/endpoint(s) of the "
              "config on other origins are not scanned", file=sys.stderr)
    return kept, [a for a in api if _origin(a) in origins]


async def collect(options: ScanOptions, cfg: Any) -> ScanEvidence:
    api = [target_url(u) for u in cfg.targets.get("api") or []]
    evidence = ScanEvidence(budget=options.client.max_requests, options=dict(options.probe_options))
    endpoints = discover.from_config(options.urls, cfg.endpoints, api[0] if api else None, options.headers)
    if options.urls:
        endpoints, api = _command_line_first(options, endpoints, api)
    if not endpoints and api and not options.openapi:
        endpoints = discover.from_config(api, [], None, options.headers)
    deadline = Deadline(options.deadline_s)
    targets = [ep.url for ep in endpoints] + api
    if options.openapi and options.openapi.startswith(("http://", "https://")):
        targets.append(options.openapi)  # the user named it: the document may live on another origin
    async with ScanClient(options.client, targets=targets, deadline=deadline) as client:
        pending: list[discover.Pending] = []
        if options.openapi:
            found = await _openapi(client, evidence, options, endpoints, api)
            if options.openapi != "auto" and not options.openapi.startswith(("http://", "https://")):
                for ep in found.endpoints:  # a local file is the user's: its servers URL may add an origin
                    client.guard.trust(ep.url)
            if options.openapi == "auto" and (found.endpoints or found.pending):
                # The origin given to look under is where the document was found, not an endpoint.
                endpoints = [ep for ep in endpoints if ep.source != "cli" or urlsplit(ep.url).path not in ("", "/")]
            known = {ep.url for ep in endpoints}
            endpoints += [ep for ep in found.endpoints if ep.url not in known]
            pending, evidence.skipped = found.pending, evidence.skipped + found.skipped
            evidence.errors += found.errors
        if not endpoints and not pending:
            raise UsageError("nothing to scan: give endpoint URLs, or targets.api / endpoints in "
                             "apiaudit.yaml, or --openapi")
        evidence.endpoints = endpoints
        evidence.targets = sorted({_origin(ep.url) for ep in endpoints} | set(api))
        finished: list[Endpoint] = []
        with _Progress(len(endpoints), enabled=not options.quiet and sys.stderr.isatty()) as progress:
            await base_gets(client, evidence, endpoints)
            if pending:
                made, skipped = discover.fill_from_collections(pending, endpoints, options.headers)
                evidence.skipped += skipped
                progress.grow(len(made))
                await base_gets(client, evidence, made)
                evidence.endpoints += made

            def done(ep: Endpoint) -> None:
                finished.append(ep)
                progress.done(ep)

            await run_probes(client, evidence, evidence.endpoints, evidence.options, done)
        if deadline.expired() or any("deadline of" in s.get("reason", "") for s in evidence.skipped):
            evidence.errors.append(deadline_entry(deadline, finished, evidence.endpoints))
        evidence.requests_made = client.requests_made
        evidence.errors += client.throttled
    return evidence


def deadline_entry(deadline: Deadline, finished: list[Endpoint], endpoints: list[Endpoint]) -> dict[str, str]:
    """What a scan cut by its deadline finished, and what it did not."""
    done = {ep.url for ep in finished}
    cut = [redact_text(ep.url) for ep in endpoints if ep.url not in done]
    listed = ", ".join(cut[:10]) + (f" and {len(cut) - 10} more" if len(cut) > 10 else "")
    return {"where": "deadline", "message": (
        f"{deadline.reached(f'after {len(done)} of {len(endpoints)} endpoints')} (--deadline / "
        f"http.deadline_s): probes not finished for {listed or 'none'}; those checks are not assessed "
        "where nothing else judged them")}


def _origin(url: str) -> str:
    return urljoin(url, "/").rstrip("/")


async def _openapi(client: ScanClient, evidence: ScanEvidence, options: ScanOptions,
                   endpoints: list[Endpoint], api: list[str]) -> discover.Discovery:
    spec = options.openapi or ""
    bases = api or [_origin(ep.url) for ep in endpoints]
    if spec == "auto":
        if not bases:
            raise UsageError("--openapi auto needs a URL or targets.api to look under")
        candidates = [urljoin(bases[0].rstrip("/") + "/", p.lstrip("/")) for p in discover.AUTO_PATHS]
    elif spec.startswith(("http://", "https://")):
        candidates = [http_url(spec)]
    else:
        return _openapi_file(spec, bases, options)
    reasons = []
    for url in candidates:
        try:
            ex = await client.fetch(url, purpose="openapi", headers=options.headers)
        except BudgetExhausted as exc:
            reasons.append(f"{url}: {exc}")
            break
        evidence.extra.append(ex)
        if ex.status != 200 or ex.truncated:
            reasons.append(f"{url}: {ex.error or f'HTTP {ex.status}'}")
            continue
        on_target = discover.host_check([url, *bases], options.client.allow_hosts)
        try:
            return discover.operations(discover.parse_document(ex.body), url, options.headers, on_target)
        except ValueError as exc:
            reasons.append(f"{url}: {exc}")
    message = "no OpenAPI document found: " + "; ".join(reasons)
    evidence.errors.append({"where": "openapi", "message": message})
    return discover.Discovery()


def _sources(openapi: str | None, cfg: Any, evidence: ScanEvidence) -> list[dict[str, Any]]:
    """Repository lines declaring the scanned endpoints (apiaudit.yaml, --openapi FILE): SARIF locations."""
    from apiaudit.http import sources

    api = [target_url(u) for u in cfg.targets.get("api") or []]
    found = sources.config_sources(cfg, api[0] if api else None)
    spec = openapi or ""
    if spec and spec != "auto" and not spec.startswith(("http://", "https://")):
        text = bounded_read(spec, limit=discover.MAX_DOC_BYTES).decode("utf-8", "replace")
        found += sources.spec_sources(spec, text, evidence.endpoints)
    scanned = {ep.url for ep in evidence.endpoints}
    return [s for s in found if s["url"] in scanned]


def _openapi_file(path: str, bases: list[str], options: ScanOptions) -> discover.Discovery:
    try:
        raw = bounded_read(path, limit=discover.MAX_DOC_BYTES)
    except OSError as exc:
        raise UsageError(f"--openapi: cannot read {path}: {exc.strerror or exc}") from None
    try:
        doc = discover.parse_document(raw)
    except ValueError as exc:
        raise UsageError(f"--openapi {path}: {exc}") from None
    if not bases and not discover.server_base(doc, "").startswith(("http://", "https://")):
        raise UsageError(f"--openapi {path}: the document names no absolute server URL; "
                         "give an endpoint URL or targets.api")
    # With targets given, the file's servers URL must be one of them; without, it is the target.
    on_target = discover.host_check(bases, options.client.allow_hosts) if bases else None
    try:
        return discover.operations(doc, bases[0].rstrip("/") + "/" if bases else "", options.headers, on_target)
    except ValueError as exc:  # a malformed servers URL
        raise UsageError(f"--openapi {path}: {exc}") from None


class _Progress:
    """A rich progress bar on stderr (interactive, not --quiet); a no-op otherwise."""

    def __init__(self, total: int, *, enabled: bool) -> None:
        self.total, self.enabled = total, enabled
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> _Progress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import Progress

            self._bar = Progress(console=Console(stderr=True), transient=True)
            self._bar.__enter__()
            self._task = self._bar.add_task("probing endpoints", total=self.total)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)

    def grow(self, n: int) -> None:
        self.total += n
        if self._bar is not None:
            self._bar.update(self._task, total=self.total)

    @property
    def done(self) -> Callable[[Endpoint], None]:
        def advance(ep: Endpoint) -> None:
            if self._bar is not None:
                self._bar.update(self._task, advance=1, description=ep.url[-60:])

        return advance
