"""A small AST mutation tester for apiaudit's verdict code (issue 13, item 5).

Mutates operators, comparisons and constants in the score, the gate and the check modules, and runs
a fast, pure test selection (unit tests + tests/cases + the pure check tests; no PostgreSQL, nginx or
Redis) against each mutant. A mutant is *killed* when a test fails (or it times out), *survives*
when every test passes.

Fast because nothing is re-imported: pytest collects the selection once, then each mutant runs in a
fork() of that process. The child compiles the mutated module and swaps the new code objects into
the existing functions (``fn.__code__``), so every reference — the check registry, ``from x import
f`` elsewhere — runs the mutant; the parent never runs a test.

    nice -n 15 .venv/bin/python bench/mutation.py                   # every target, ~10-20 min
    nice -n 15 .venv/bin/python bench/mutation.py apiaudit/gate.py  # one module
    ... --json bench/mutation-results.json                          # survivors with file:line

Operators: ``<``/``<=``/``>``/``>=`` shifted by one (boundary), ``==``/``!=``, ``in``/``not in``,
``is``/``is not``, ``and``/``or``, ``not x`` -> ``x``, ``+``/``-``, ``*``/``/``, ``//`` -> ``/``, numbers
``n`` -> ``n + 1``, ``True``/``False``. Docstrings, strings, annotations and ``@check(...)`` arguments
are left alone.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import signal
import sys
import time
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ["apiaudit/score.py", "apiaudit/gate.py", "apiaudit/http/checks", "apiaudit/db/checks",
           "apiaudit/cache/checks"]
TESTS = ["tests/unit/test_rule_cases.py", "tests/unit/test_score_gate.py", "tests/unit/test_score_gate_boundaries.py",
         "tests/unit/test_evidence_contract.py", "tests/http/core/test_checks_pure.py",
         "tests/http/api/test_checks.py",
         "tests/db/test_db_pure.py", "tests/cache/test_checks.py", "tests/http/core/test_report_says.py"]

SWAP: dict[type, type] = {
    ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq,
    ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is,
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.FloorDiv: ast.Div,
    ast.And: ast.Or, ast.Or: ast.And,
}


@dataclass
class Site:
    line: int
    end_line: int
    what: str
    in_function: bool  # False: module level, runs at import (no test "covers" it: run them all)


def _skip_nodes(tree: ast.AST) -> set[int]:
    """ids of nodes never mutated: docstrings, annotations, decorator arguments."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for dec in node.decorator_list:
                skip.update(id(n) for n in ast.walk(dec))
            if not isinstance(node, ast.ClassDef):
                for arg in [*node.args.args, *node.args.kwonlyargs, *node.args.posonlyargs]:
                    if arg.annotation is not None:
                        skip.update(id(n) for n in ast.walk(arg.annotation))
                if node.returns is not None:
                    skip.update(id(n) for n in ast.walk(node.returns))
        if isinstance(node, ast.AnnAssign):
            skip.update(id(n) for n in ast.walk(node.annotation))
    return skip


def _sites(tree: ast.AST) -> list[tuple[ast.AST, Any, str]]:
    """(node, key, description) for every mutation, in a stable walk order."""
    skip = _skip_nodes(tree)
    out: list[tuple[ast.AST, Any, str]] = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                if type(op) in SWAP:
                    out.append((node, ("cmp", i), f"{type(op).__name__} -> {SWAP[type(op)].__name__}"))
        elif isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in SWAP:
            out.append((node, ("op",), f"{type(node.op).__name__} -> {SWAP[type(node.op)].__name__}"))
        elif isinstance(node, ast.BoolOp):
            out.append((node, ("bool",), f"{type(node.op).__name__} -> {SWAP[type(node.op)].__name__}"))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            out.append((node, ("not",), "not x -> x"))
        elif isinstance(node, ast.Constant) and type(node.value) in (int, float, bool):
            new = (not node.value) if isinstance(node.value, bool) else node.value + 1
            out.append((node, ("const", new), f"{node.value!r} -> {new!r}"))
    return out


class _Unnot(ast.NodeTransformer):
    def __init__(self, target: ast.AST) -> None:
        self.target = target

    def generic_visit(self, node: ast.AST) -> ast.AST:
        super().generic_visit(node)
        return node.operand if node is self.target else node  # type: ignore[attr-defined, no-any-return]


def _in_functions(tree: ast.AST) -> set[int]:
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            inside.update(id(n) for n in ast.walk(node))
    return inside


def mutate(source: str, filename: str, index: int) -> tuple[ast.Module, Site]:
    tree = ast.parse(source, filename)
    node, key, what = _sites(tree)[index]
    site = Site(getattr(node, "lineno", 0), getattr(node, "end_lineno", 0) or 0, what, id(node) in _in_functions(tree))
    if key[0] == "cmp":
        node.ops[key[1]] = SWAP[type(node.ops[key[1]])]()  # type: ignore[attr-defined]
    elif key[0] in ("op", "bool"):
        node.op = SWAP[type(node.op)]()  # type: ignore[attr-defined]
    elif key[0] == "const":
        node.value = key[1]  # type: ignore[attr-defined]
    elif key[0] == "not":
        tree = _Unnot(node).visit(tree)
    ast.fix_missing_locations(tree)
    return tree, site


def _functions(owner: Any) -> dict[str, Any]:
    """Plain functions defined in a module or class (unwrapping lru_cache/staticmethod/property)."""
    out = {}
    for name, value in vars(owner).items():
        for candidate in (value, getattr(value, "__func__", None), getattr(value, "fget", None),
                          getattr(value, "__wrapped__", None)):
            if isinstance(candidate, types.FunctionType):
                out[name] = candidate
                break
    return out


def apply(module: types.ModuleType, tree: ast.Module) -> None:
    """Run the mutated module in a scratch namespace and move its code into the live functions."""
    from apiaudit import checks

    registry = dict(checks.REGISTRY)
    scratch: dict[str, Any] = {"__name__": module.__name__, "__file__": module.__file__,
                               "__package__": module.__package__}
    exec(compile(tree, str(module.__file__), "exec"), scratch)
    checks.REGISTRY.clear()
    checks.REGISTRY.update(registry)
    for name, new in scratch.items():
        old = module.__dict__.get(name)
        if old is None or new is old:
            continue
        if isinstance(new, type) and isinstance(old, type):
            pairs = [(_functions(old).get(n), f) for n, f in _functions(new).items()]
        elif _functions(types.SimpleNamespace(x=new)) and _functions(types.SimpleNamespace(x=old)):
            pairs = [(_functions(types.SimpleNamespace(x=old))["x"], _functions(types.SimpleNamespace(x=new))["x"])]
            if hasattr(old, "cache_clear"):
                old.cache_clear()
        else:
            if isinstance(new, (int, float, str, tuple, frozenset, dict, list)) and new != old:
                module.__dict__[name] = new
            continue
        for o, n in pairs:
            if o is not None and o.__code__ != n.__code__:
                o.__code__ = n.__code__
            if o is not None:
                o.__defaults__, o.__kwdefaults__ = n.__defaults__, n.__kwdefaults__


def _run_child(items: list[Any], setup: Any, timeout: float) -> tuple[str, str]:
    """Run ``items`` in a fork after ``setup()``; "killed" names the first failing test."""
    from _pytest.runner import runtestprotocol

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        code = 0
        try:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1), os.dup2(null, 2)
            signal.alarm(max(1, int(timeout)))
            setup()
            for i, item in enumerate(items):
                nextitem = items[i + 1] if i + 1 < len(items) else None
                if any(r.failed for r in runtestprotocol(item, nextitem=nextitem, log=False)):
                    os.write(write_end, item.nodeid.encode()[:4000])
                    code = 1
                    break
        except BaseException as exc:
            os.write(write_end, repr(exc).encode()[:4000])
            code = 3
        os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        detail = pipe.read().decode(errors="replace")
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return "timeout", ""
    return {0: "survived", 1: "killed"}.get(os.WEXITSTATUS(status), "error"), detail


def _coverage(items: list[Any], files: set[str]) -> tuple[dict[str, dict[int, list[int]]], list[float]]:
    """Which tests execute which lines of ``files`` (sys.settrace, in a fork), and each test's duration."""
    from _pytest.runner import runtestprotocol

    read_end, write_end = os.pipe()
    if os.fork() == 0:
        os.close(read_end)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1), os.dup2(null, 2)
        current = [0]
        hits: dict[str, dict[int, set[int]]] = {}

        def local(frame: Any, event: str, arg: Any) -> Any:
            if event == "line":
                hits.setdefault(frame.f_code.co_filename, {}).setdefault(frame.f_lineno, set()).add(current[0])
            return local

        def tracer(frame: Any, event: str, arg: Any) -> Any:
            return local if frame.f_code.co_filename in files else None

        durations = []
        for i, item in enumerate(items):
            current[0] = i
            t = time.monotonic()
            sys.settrace(tracer)
            runtestprotocol(item, nextitem=items[i + 1] if i + 1 < len(items) else None, log=False)
            sys.settrace(None)
            durations.append(time.monotonic() - t)
        data = {"hits": {f: {str(k): sorted(v) for k, v in lines.items()} for f, lines in hits.items()},
                "durations": durations}
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(json.dumps(data).encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        data = json.loads(pipe.read().decode())
    os.wait()
    hits = {f: {int(k): v for k, v in lines.items()} for f, lines in data["hits"].items()}
    return hits, data["durations"]


def _targets(paths: list[str]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        path = ROOT / p
        out += sorted(f for f in path.glob("*.py") if f.name != "__init__.py") if path.is_dir() else [path]
    return out


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


class MutationPlugin:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.results: list[dict[str, Any]] = []

    def pytest_runtestloop(self, session: Any) -> bool:
        import tempfile

        items = list(session.items)
        t0 = time.monotonic()
        baseline, detail = _run_child(items, lambda: None, 600)
        base_s = time.monotonic() - t0
        if baseline != "survived":
            raise SystemExit(f"the test selection fails without mutants ({baseline}: {detail}); fix it first")
        print(f"\nbaseline: {len(items)} tests pass in {base_s:.1f} s", file=sys.stderr)
        targets = _targets(self.args.targets)
        hits, durations = _coverage(items, {str(p) for p in targets})
        out = Path(tempfile.mkdtemp(prefix="apiaudit-mutation-")) / "results.jsonl"
        shards = []
        for shard in range(self.args.jobs):  # --jobs shards, each forking one child per mutant
            pid = os.fork()
            if pid == 0:
                try:
                    self._shard(items, targets, hits, durations, base_s, shard, out)
                finally:
                    os._exit(0)
            shards.append(pid)
        for pid in shards:
            os.waitpid(pid, 0)
        order = {str(p.relative_to(ROOT)): i for i, p in enumerate(targets)}
        self.results = sorted((json.loads(line) for line in out.read_text().splitlines()),
                              key=lambda r: (order[r["file"]], r["index"]))
        for path in targets:
            done = [r for r in self.results if r["file"] == str(path.relative_to(ROOT))]
            killed = sum(r["outcome"] in ("killed", "timeout") for r in done)
            print(f"{path.relative_to(ROOT)}: {killed}/{len(done)} killed", file=sys.stderr)
        self.report(time.monotonic() - t0)
        return True

    def _shard(self, items: list[Any], targets: list[Path], hits: dict[str, dict[int, list[int]]],
               durations: list[float], base_s: float, shard: int, out: Path) -> None:
        import importlib

        fastest = sorted(range(len(items)), key=lambda i: durations[i])
        counter = 0
        killers: list[int] = []  # tests that killed an earlier mutant: tried first (neighbours die alike)
        index_of = {item.nodeid: i for i, item in enumerate(items)}
        for path in targets:
            module = importlib.import_module(_module_name(path))
            source = path.read_text()
            lines = hits.get(str(path), {})
            for i in range(len(_sites(ast.parse(source)))):
                counter += 1
                if counter % self.args.jobs != shard:
                    continue
                tree, site = mutate(source, str(path), i)
                # Only the tests that run the mutated line, fastest first (all of them for module level).
                if site.in_function:
                    covering = {t for ln in range(site.line, site.end_line + 1) for t in lines.get(ln, ())}
                else:  # module level (constants, tables): every test that runs this module, no cap,
                    covering = {t for tests in lines.values() for t in tests}  # the busiest first
                ranked = [t for t in killers if t in covering] + [t for t in fastest if t in covering]
                if not site.in_function:
                    ranked = sorted(covering, key=lambda t: -sum(t in tests for tests in lines.values()))
                cap = self.args.max_tests if site.in_function else len(items)
                chosen = [items[t] for t in dict.fromkeys(ranked)][:cap]
                if not chosen:
                    outcome, detail = "survived", "no test runs this line"
                else:
                    outcome, detail = _run_child(chosen, lambda t=tree, m=module: apply(m, t),
                                                 self.args.timeout_factor * base_s + 5)
                if outcome == "killed" and detail in index_of:
                    killers[:0] = [index_of[detail]]
                    del killers[50:]
                rec = {"file": str(path.relative_to(ROOT)), "index": i, "line": site.line, "mutation": site.what,
                       "outcome": outcome, "detail": detail}
                with out.open("a") as fh:
                    fh.write(json.dumps(rec) + "\n")
                if outcome == "survived" and self.args.verbose:
                    print(f"  survived {rec['file']}:{rec['line']} {rec['mutation']}", file=sys.stderr)

    def report(self, elapsed: float) -> None:
        total = len(self.results)
        killed = sum(r["outcome"] in ("killed", "timeout") for r in self.results)
        errors = sum(r["outcome"] == "error" for r in self.results)
        score = 100.0 * killed / total if total else 0.0
        print(f"\nmutation score: {killed}/{total} killed = {score:.1f} % "
              f"({errors} errors counted as survivors; {elapsed:.0f} s)", file=sys.stderr)
        for r in self.results:
            if r["outcome"] not in ("killed", "timeout"):
                extra = f"  ({r['detail'][:120]})" if r["detail"] else ""
                print(f"  {r['outcome']:8} {r['file']}:{r['line']}  {r['mutation']}{extra}", file=sys.stderr)
        if self.args.json:
            Path(self.args.json).write_text(json.dumps({"killed": killed, "total": total, "score_pct": round(score, 1),
                                                        "seconds": round(elapsed), "mutants": self.results},
                                                       indent=1) + "\n")


def main() -> int:
    import pytest

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("targets", nargs="*", default=TARGETS, help="modules or folders to mutate")
    parser.add_argument("--tests", nargs="*", default=TESTS, help="pytest selection run against each mutant")
    parser.add_argument("--json", help="write every mutant and its outcome here")
    parser.add_argument("--timeout-factor", type=float, default=3.0, help="timeout = factor x baseline + 5 s")
    parser.add_argument("--jobs", type=int, default=1, help="mutants run in this many processes at once")
    parser.add_argument("--max-tests", type=int, default=80,
                        help="run at most this many covering tests per mutant (earlier killers first, then fastest);"
                             " a mutant only a later test would kill counts as survived: the score is a lower bound")
    parser.add_argument("--verbose", action="store_true", help="print each survivor as it is found")
    args, extra = parser.parse_known_args()  # anything else goes to pytest (e.g. -k EXPR)
    os.chdir(ROOT)
    os.environ.setdefault("APIAUDIT_RULE_TRACE", os.devnull)  # a nested session: no rule-coverage gate
    plugin = MutationPlugin(args)
    pytest.main(["-q", "-s", "-p", "no:cacheprovider", "-p", "no:randomly", *extra, *args.tests], plugins=[plugin])
    total = len(plugin.results)
    killed = sum(r["outcome"] in ("killed", "timeout") for r in plugin.results)
    return 0 if total and killed / total >= 0.85 else 1


if __name__ == "__main__":
    sys.exit(main())
