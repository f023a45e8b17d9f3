"""The commands that read suites and the reference only: `rgbench validate | list | show | suites`."""

from __future__ import annotations

import argparse
import json
import sys

EXIT_INVALID = 2


def _print_problems(problems) -> None:
    """A suite's located problems, one line each, on standard error (the caller exits EXIT_INVALID)."""
    for problem in problems:
        print(problem, file=sys.stderr)


def _cmd_validate(args: argparse.Namespace) -> int:
    from ..cost import budget
    from ..suite import SuiteError, load_suite

    bad = 0
    for path in args.paths:
        try:
            suite = load_suite(path, args.overrides)
            refused, warned = budget(suite.cases, max_memory=args.max_memory, max_hours=args.max_hours, strict=args.strict)
            if args.strict:
                refused = [*refused, *suite.warnings]
            else:
                warned = [*warned, *(f"warning: {w}" for w in suite.warnings)]
            for w in warned:
                print(w, file=sys.stderr)
            if refused:
                raise SuiteError(refused)
        except SuiteError as e:
            bad += 1
            _print_problems(sorted(e.problems, key=lambda p: (p.file, p.line or 0)))
            continue
        if not args.quiet:
            print(f"{path}: ok — suite {suite.name!r}, {len(suite.cases)} case(s)")
    return EXIT_INVALID if bad else 0


def _cmd_list(args: argparse.Namespace) -> int:
    from ..reference import CATEGORIES, KIND_CATEGORIES, XI_NOTE, reference

    wanted = [args.category] if args.category else list(CATEGORIES)
    ref = reference(wanted)
    if args.json:
        print(json.dumps(ref, indent=2, default=str))
        return 0

    from rich.markup import escape
    from rich.table import Table

    from ._console import console as make_console

    def value(v) -> str:
        return v if isinstance(v, str) and v.startswith("(") else json.dumps(v, default=str, ensure_ascii=False)

    def key_columns(table: Table) -> None:
        table.add_column("key", style="bold", no_wrap=True)
        table.add_column("type")
        table.add_column("default")
        table.add_column("allowed")
        table.add_column("meaning", ratio=1)

    console = make_console()
    for cat in wanted:
        section = ref[cat]
        if cat == "leaderboard":
            table = Table(title=escape(f"leaderboard: {section['description']}"), title_justify="left", show_lines=True)
            table.add_column("rule", style="bold", no_wrap=True)
            table.add_column("what it says", ratio=1)
            for name, text in section["rules"].items():
                table.add_row(escape(name), escape(text))
        elif cat == "theory":
            table = Table(title="theories (a prediction's `value: {theory: NAME}`)", show_lines=True, title_justify="left")
            for col in ("theory", "formula", "predicts", "source"):
                table.add_column(col, style="bold" if col == "theory" else None)
            for name, t in section.items():
                table.add_row(
                    escape(name),
                    escape(t["description"]),
                    escape(", ".join(t["observables"]) + f"\n(stage {'|'.join(t['stages'])})"),
                    escape(t["source"]),
                )
        elif cat in KIND_CATEGORIES:
            title = f"{cat} kinds (`{cat}: {{kind: NAME, …}}`)"
            if cat == "input":
                title += "\n" + XI_NOTE
            table = Table(title=escape(title), title_justify="left")
            table.add_column("kind", style="bold", no_wrap=True)
            key_columns(table)
            for kind, info in section.items():
                table.add_row(
                    escape(kind), "", "", "", "", f"[italic]{escape(info['description'])}[/] [dim]({escape(info['source'])})[/]"
                )
                for p in info["parameters"]:
                    table.add_row(
                        "",
                        escape(p["name"]),
                        escape(p["type"]),
                        escape(value(p["default"])),
                        escape(p["allowed"]),
                        escape(p["description"]),
                    )
                table.add_section()
        else:
            table = Table(title=escape(f"{cat} keys: {section['description']}"), title_justify="left")
            key_columns(table)
            for p in section["parameters"]:
                table.add_row(
                    escape(p["name"]),
                    escape(p["type"]),
                    escape(value(p["default"])),
                    escape(p["allowed"]),
                    escape(p["description"]),
                )
        console.print(table)
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    from rich.markup import escape
    from rich.table import Table

    from ..cost import FLOPS_PER_SECOND, OVERHEAD_S, human_bytes, human_count, human_flops, human_seconds
    from ..cost import estimates as cost_estimates
    from ..suite import load_suite
    from ._console import console as make_console

    suite = load_suite(args.suite, args.overrides)  # a SuiteError is printed by `main`
    estimates = cost_estimates(suite.cases)
    if args.json:
        data = json.loads(suite.to_json())
        data["estimates"] = [e.to_json() for e in estimates]
        print(json.dumps(data, indent=2))
        return 0
    console = make_console()
    table = Table(
        title=f"{suite.name} — {suite.title}" if suite.title else suite.name,
        title_justify="left",
        caption=f"estimates (rgbench.cost): peak memory of one case, FLOPs, and time at "
        f"{FLOPS_PER_SECOND / 1e9:g} GFLOP/s × each family's rate plus {OVERHEAD_S:g} s a case (rates fit on the "
        "2-core reference machine: benchmarks/cost_rates.py; a probe-size sweep's cases after the first only "
        f"measure); in all ≈ {human_seconds(sum(e.seconds for e in estimates))}, "
        f"{human_bytes(sum(e.stored_bytes for e in estimates))} stored",
        caption_justify="left",
    )
    for col in (
        "case",
        "hash",
        "architecture",
        "input",
        "train",
        "seeds",
        "predictions",
        "params/seed",
        "memory",
        "FLOPs",
        "time",
    ):
        table.add_column(col, justify="right" if col in ("params/seed", "memory", "FLOPs", "time") else "left")
    for c, e in zip(suite.cases, estimates):
        a, i, t = c.architecture, c.input, c.train
        xi = getattr(i, "xi", None)
        table.add_row(
            escape(c.id),
            c.hash,
            f"{a.kind} L={a.depth} d={a.width}",
            f"{i.kind} V={i.vocab} T={i.length}" + (f" ξ={xi:g}" if isinstance(xi, float) else ""),
            f"{t.steps} steps × {t.batch}",
            str(c.seeds) + (f" (from {c.seed_start})" if c.seed_start else ""),
            str(len(c.predict)),
            human_count(e.params),
            human_bytes(e.peak_bytes),
            human_flops(e.total_flops),
            human_seconds(e.seconds),
        )
    console.print(table)
    return 0


def _suite_row(standard) -> dict:
    """One standard suite as `rgbench suites` shows it: its names, title, version, cases × seeds and
    estimated time (`rgbench.cost.estimates`, as `rgbench show`), or the problems that stop it loading."""
    from ..cost import estimates as cost_estimates
    from ..suite import SuiteError, load_suite

    row = {
        "name": standard.name,
        "suite": standard.declared,
        "version": standard.version,
        "archived": standard.archived,
        "path": str(standard.path),
    }
    try:
        suite = load_suite(standard.path)
    except SuiteError as e:  # a standard suite should load; a broken one is listed as such, not a crash
        return row | {"title": "", "problems": [str(p) for p in e.problems]}
    seeds = sorted({c.seeds for c in suite.cases})
    return row | {
        "suite": suite.name,
        "title": suite.title,
        "cases": len(suite.cases),
        "seeds_per_case": seeds,
        "trained_seeds": sum(c.seeds for c in suite.cases),
        "estimated_seconds": round(sum(e.seconds for e in cost_estimates(suite.cases)), 1),
    }


def _cmd_suites(args: argparse.Namespace) -> int:
    from rich.markup import escape
    from rich.table import Table

    from ..cost import human_seconds
    from ..suite import standard_suites, suites_dir
    from ._console import console as make_console

    standard = standard_suites(archived=args.all)
    if not standard:
        print(
            f"rgbench suites: no standard suites found (looked for the package rgbench.suites; got {suites_dir()})",
            file=sys.stderr,
        )
        return EXIT_INVALID
    rows = [_suite_row(s) for s in standard]
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    console = make_console()
    for archived in (False, True):
        group = [r for r in rows if r["archived"] == archived]
        if not group:
            continue
        table = Table(
            title="archived suites (earlier versions): archive/NAME" if archived else "standard suites",
            title_justify="left",
            caption=None
            if archived or args.all
            else "any suite argument (run, show, validate, score/plot --suite) takes a name or a declared name; "
            "archived suites as archive/NAME: `rgbench suites --all` lists them",
            caption_justify="left",
        )
        for col in ("name", "suite", "version", "title", "cases × seeds", "time (est.)"):
            table.add_column(
                col, justify="right" if col in ("cases × seeds", "time (est.)") else "left", ratio=1 if col == "title" else None
            )
        for r in group:
            if "problems" in r:
                table.add_row(
                    escape(r["name"]),
                    escape(r["suite"] or "—"),
                    r["version"] or "—",
                    f"[red]invalid: {escape(r['problems'][0])}[/]",
                    "",
                    "",
                )
                continue
            seeds = r["seeds_per_case"]
            per_case = str(seeds[0]) if len(seeds) == 1 else f"{seeds[0]}–{seeds[-1]}"
            table.add_row(
                escape(r["name"]),
                escape(r["suite"]),
                r["version"] or "—",
                escape(r["title"]),
                f"{r['cases']} × {per_case}",
                human_seconds(r["estimated_seconds"]),
            )
        console.print(table)
    return 0
