"""Search benchmark, measured from outside the app's code paths a user would hit (top 20 + total + facets).

    python bench/search.py --n 100000 --churn --cold          # whoosh, postgres and a plain Whoosh baseline
    python bench/search.py --n 20000 --skip-postgres --queries 1200
    python bench/search.py --n 1000000 --skip-postgres --skip-plain --build-procs 2

Builds N synthetic listings (seeded), then measures each engine in a FRESH child process, so every
figure is that process's own: the first query after boot (``--cold``: boot = create_app + loading the
segmenter, as gunicorn does before serving), warm p50/p95/p99/max over >= 1,000 distinct query texts
generated from the trade vocabulary, and with ``--churn`` the same queries while one listing edit lands
every 10 queries through the engine's normal write path (Whoosh: ``index()`` from a separate writer
process, as ``jinshang worker`` is; PostgreSQL: the upsert and commit the worker's job does; plain
Whoosh: ``update_document``). Peak RSS is each child's VmHWM. Build rate is docs/s of a full
rebuild. Every figure is printed beside the plain Whoosh baseline (Whoosh + jieba, QueryParser,
``groupedby`` facets — what a straightforward app does) measured in the same run.
Not a test: run by hand (a 1,000,000-listing run takes a long time to build).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import pickle
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.search_data import make_docs, make_queries

FACETS = ("category", "city", "county")


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples) or [0.0]

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000

    return {"p50": pick(0.50), "p95": pick(0.95), "p99": pick(0.99), "max": ordered[-1] * 1000}


# ---------------------------------------------------------------- child: one engine, one process
def _app(db_url: str) -> Any:
    from market.app import create_app

    return create_app({"INSTANCE_PATH": tempfile.mkdtemp(prefix="jinshang-bench-child-"), "SECRET_KEY": "bench",
                       "MAIL_BACKEND": "memory", "SQLALCHEMY_DATABASE_URI": db_url})


def _peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM; ru_maxrss would include the parent's, kept across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _whoosh_writer(path: str, edits: Any, done: Any) -> None:
    """The worker's side: applies each edit through WhooshIndex.index(), in its own process."""
    from catalog.search.whoosh_backend import WhooshIndex

    index = WhooshIndex(path)
    while (doc := edits.get()) is not None:
        index.index([doc])
        done.value += 1


def _plain_writer(path: str, edits: Any, done: Any) -> None:
    from whoosh import index as whoosh_index

    from bench.plain_whoosh import plain_fields

    ix = whoosh_index.open_dir(path)
    while (doc := edits.get()) is not None:
        writer = ix.writer()
        writer.update_document(**plain_fields(doc))
        writer.commit()
        done.value += 1


def child(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    spec = json.loads(args.child)
    # our own files, written by the parent a moment ago
    engine, queries = spec["engine"], pickle.loads(Path(spec["queries"]).read_bytes())  # noqa: S301
    edits_docs = pickle.loads(Path(spec["edits"]).read_bytes()) if spec.get("churn") else []  # noqa: S301
    app = _app(spec["db"])
    with app.app_context():
        if engine == "plain":
            from bench.plain_whoosh import PlainWhoosh
            from catalog.search.analysis import warm_up

            warm_up()
            backend: Any = PlainWhoosh(spec["dir"])
            search = backend.search
        else:
            from catalog.search import make_index, vocabulary
            from catalog.search.understand import understand

            backend = make_index(engine, index_dir=spec["dir"])
            app.extensions["catalog_search"] = {"index": backend}
            from catalog.search import prepare

            prepare()  # what wsgi.py does before a worker serves

            def search(query: dict[str, Any]) -> Any:
                meaning = understand(query["text"], vocabulary.current())
                return backend.search(meaning.text, filters=query["filters"],
                                      ranges={**meaning.ranges, **query["ranges"]}, facets=FACETS,
                                      prefer=meaning.prefer)
        boot = time.perf_counter() - started
        start = time.perf_counter()
        search(queries[0])
        first = time.perf_counter() - start
        timings, cpu = [], []
        for query in queries:
            start, start_cpu = time.perf_counter(), time.process_time()
            search(query)
            timings.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        result: dict[str, Any] = {"boot s": boot, "first ms": first * 1000, "warm": percentiles(timings),
                                  "warm cpu": percentiles(cpu)}
        if spec.get("churn"):
            result["churn"], result["edits"] = _churn(engine, spec, backend, search, queries, edits_docs)
    result["rss MB"] = _peak_rss_mb()
    print(json.dumps(result))


def _churn(engine: str, spec: dict[str, Any], backend: Any, search: Any, queries: list[dict[str, Any]],
           docs: list[Any]) -> tuple[dict[str, float], int]:
    """The queries again, one listing edit every 10 queries through the engine's write path."""
    timings: list[float] = []
    if engine == "postgres":
        from market.extensions import db

        for n, query in enumerate(queries):
            if n % 10 == 0:
                backend.index([docs[(n // 10) % len(docs)]])
                db.session.commit()
            start = time.perf_counter()
            search(query)
            timings.append(time.perf_counter() - start)
        return percentiles(timings), len(queries) // 10
    ctx = multiprocessing.get_context("fork")
    edits, done = ctx.Queue(), ctx.Value("i", 0)
    target = _whoosh_writer if engine == "whoosh" else _plain_writer
    writer = ctx.Process(target=target, args=(spec["dir"], edits, done))
    writer.start()
    for n, query in enumerate(queries):
        if n % 10 == 0:
            edits.put(docs[(n // 10) % len(docs)])
        start = time.perf_counter()
        search(query)
        timings.append(time.perf_counter() - start)
    edits.put(None)
    writer.join()
    return percentiles(timings), done.value


# ---------------------------------------------------------------- parent: build, then run children
def run_child(engine: str, directory: str, db_url: str, files: dict[str, str], churn: bool) -> dict[str, Any]:
    spec = json.dumps({"engine": engine, "dir": directory, "db": db_url, "churn": churn, **files})
    out = subprocess.run([sys.executable, __file__, "--child", spec], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{engine} child failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def edited(docs: list[Any], count: int, seed: int) -> list[Any]:
    """Edits a seller makes: a new price and a changed title (both searched or sorted)."""
    from dataclasses import replace

    rng = random.Random(seed + 7)
    picks = rng.sample(docs, min(count, len(docs)))
    return [replace(d, title_zh=d.title_zh + f" 第{k}次调价", price_fen=d.price_fen + 100 * (k + 1))
            for k, d in enumerate(picks)]


def build(args: argparse.Namespace, tmp: Path, docs: list[Any]) -> tuple[dict[str, float], str]:
    from market.app import create_app
    from market.extensions import db

    rates: dict[str, float] = {}
    db_url = args.pg_url if not args.skip_postgres else f"sqlite:///{tmp / 'bench.db'}"
    app = create_app({"INSTANCE_PATH": str(tmp), "SECRET_KEY": "bench", "MAIL_BACKEND": "memory",
                      "SQLALCHEMY_DATABASE_URI": db_url})
    with app.app_context():
        from catalog.search import make_index
        from catalog.search.analysis import warm_up
        from catalog.search.vocabulary import seed_vocabulary

        db.drop_all()
        db.create_all()
        seed_vocabulary()  # the children read the vocabulary table (pinyin computed here, once)
        db.session.commit()
        warm_up()
        whoosh = make_index("whoosh", index_dir=str(tmp / "whoosh"))
        whoosh.build_procs = args.build_procs
        start = time.perf_counter()
        whoosh.replace_all(docs)
        rates["whoosh"] = len(docs) / (time.perf_counter() - start)
        print(f"whoosh built: {rates['whoosh']:.0f} docs/s", flush=True)
        if not args.skip_plain:
            from bench.plain_whoosh import build_plain

            plain_docs = docs[:args.baseline_n] if args.baseline_n else docs
            start = time.perf_counter()
            build_plain(str(tmp / "plain"), plain_docs)
            rates["plain"] = len(plain_docs) / (time.perf_counter() - start)
            print(f"plain whoosh built: {rates['plain']:.0f} docs/s ({len(plain_docs)} docs)", flush=True)
        if not args.skip_postgres:
            from sqlalchemy import text

            pg = make_index("postgres")
            start = time.perf_counter()
            pg.replace_all(docs)
            db.session.commit()
            rates["postgres"] = len(docs) / (time.perf_counter() - start)
            db.session.execute(text("ANALYZE search_document"))
            db.session.commit()
            print(f"postgres built: {rates['postgres']:.0f} docs/s", flush=True)
    return rates, db_url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000, help="synthetic listings (up to 1,000,000)")
    parser.add_argument("--queries", type=int, default=1200, help="distinct query texts (at least 1,000)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--churn", action="store_true", help="one listing edit every 10 queries")
    parser.add_argument("--cold", action="store_true", help="report the first query of a fresh process")
    parser.add_argument("--build-procs", type=int, default=1, help="processes for the Whoosh rebuild")
    parser.add_argument("--baseline-n", type=int, default=0, help="listings in the plain baseline (default: N)")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/js_search")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-plain", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    tmp = Path(tempfile.mkdtemp(prefix="jinshang-bench-"))
    start = time.perf_counter()
    docs = make_docs(args.n, args.seed)
    queries = make_queries(max(args.queries, 1000), args.seed)
    print(f"generated {args.n} listings in {time.perf_counter() - start:.1f} s; "
          f"{len({q['text'] for q in queries})} distinct query texts", flush=True)
    files = {"queries": str(tmp / "queries.pickle"), "edits": str(tmp / "edits.pickle")}
    Path(files["queries"]).write_bytes(pickle.dumps(queries))
    Path(files["edits"]).write_bytes(pickle.dumps(edited(docs, len(queries) // 10 + 1, args.seed)))
    rates, db_url = build(args, tmp, docs)
    del docs
    report: dict[str, dict[str, Any]] = {}
    engines = [e for e in ("whoosh", "postgres", "plain") if e in rates]
    for engine in engines:
        directory = str(tmp / ("plain" if engine == "plain" else "whoosh"))
        report[engine] = run_child(engine, directory, db_url, files, args.churn)
        print(f"{engine}: {json.dumps(report[engine])}", flush=True)
    print_report(args, rates, report)


def print_report(args: argparse.Namespace, rates: dict[str, float], report: dict[str, dict[str, Any]]) -> None:
    base = report.get("plain")
    rows = [("build docs/s", lambda r, e: rates[e]), ("boot s", lambda r, e: r["boot s"])]
    if args.cold:
        rows.append(("first query ms", lambda r, e: r["first ms"]))
    for key in ("p50", "p95", "p99", "max"):
        rows.append((f"warm {key} ms", lambda r, e, key=key: r["warm"][key]))
    for key in ("p50", "p95", "p99"):  # CPU time per query: what a busy machine cannot inflate
        rows.append((f"warm cpu {key} ms", lambda r, e, key=key: r["warm cpu"][key]))
    if args.churn:
        for key in ("p50", "p95", "p99", "max"):
            rows.append((f"churn {key} ms", lambda r, e, key=key: r["churn"][key]))
    rows.append(("peak RSS MB", lambda r, e: r["rss MB"]))
    print(f"\nload average at the end: {Path('/proc/loadavg').read_text().split()[:3]} on {os.cpu_count()} cores")
    print(f"== {args.n} listings, {max(args.queries, 1000)} queries, top 20 + total + facets {FACETS}")
    print(f"{'figure':16}" + "".join(f"{e:>22}" for e in report))
    for name, value in rows:
        cells = []
        for engine, row in report.items():
            number = value(row, engine)
            ratio = f" ({number / value(base, 'plain'):.2f}x)" if base and engine != "plain" and value(
                base, "plain") else ""
            cells.append(f"{number:12.1f}{ratio:>10}")
        print(f"{name:16}" + "".join(f"{c:>22}" for c in cells))
    print("\n(ratio) = this engine's figure / the plain Whoosh baseline's, same run")
    checks = [("whoosh", "churn p95 ms", 10), ("whoosh", "churn p99 ms", 25), ("postgres", "churn p95 ms", 20),
              ("whoosh", "first query ms", 150), ("whoosh", "peak RSS MB", 200)]
    names = dict(rows)
    for engine, figure, limit in checks:
        if engine in report and figure in names:
            number = names[figure](report[engine], engine)
            print(f"  target {engine} {figure} <= {limit}: {number:.1f} -> {'met' if number <= limit else 'MISSED'}")
    if "whoosh" in rates:
        print(f"  target build >= 1500 docs/s: {rates['whoosh']:.0f} -> "
              f"{'met' if rates['whoosh'] >= 1500 else 'MISSED'}")


if __name__ == "__main__":
    main()
