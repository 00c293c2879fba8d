"""Search benchmark: N synthetic listings, both backends and a naive SQL LIKE baseline, one run.

    python bench/search.py --n 100000            # whoosh + postgres (scratch database js_bench) + LIKE
    python bench/search.py --n 20000 --skip-postgres

Prints indexing throughput (docs/s), index size, and query latency p50/p95/p99 per query class
(keyword, keyword + facet, spec ranges) over a fixed, seeded set of queries (>= 200), each backend's
ratio to the LIKE baseline, and the targets (whoosh p95 <= 50 ms, postgres p95 <= 30 ms for keyword +
facet at 100,000 listings). Every query asks for facet counts (category, city, county), like the page.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg

from catalog.search.base import SearchDocument

# (category id, parent id, industry, zh, en, numeric spec generator)
CATEGORIES = [
    (2, 1, "coal", "动力煤", "thermal coal", lambda r: {"qnet_ar": r.choice([4500, 5000, 5500, 5800, 6000]),
                                                        "st_d": round(r.uniform(0.3, 2.5), 2)}),
    (3, 1, "coal", "主焦煤", "prime coking coal", lambda r: {"g": r.randint(60, 95),
                                                             "st_d": round(r.uniform(0.3, 1.2), 2)}),
    (4, 1, "coal", "无烟煤", "anthracite", lambda r: {"qnet_ar": r.choice([6000, 6500, 6800]),
                                                      "st_d": round(r.uniform(0.2, 1.0), 2)}),
    (5, 1, "coal", "焦炭", "metallurgical coke", lambda r: {"csr": r.randint(50, 70)}),
    (11, 10, "metallurgy", "螺纹钢", "rebar", lambda r: {"diameter": r.choice([12, 16, 20, 25, 28, 32])}),
    (12, 10, "metallurgy", "热轧卷板", "hot-rolled coil", lambda r: {"thickness": r.choice([2.75, 3.0, 5.75, 9.75])}),
    (13, 10, "metallurgy", "金属镁", "magnesium ingot", lambda r: {"purity": r.choice([99.9, 99.95])}),
    (21, 20, "agriculture", "小米", "millet", lambda r: {"harvest_year": r.choice([2024, 2025])}),
    (22, 20, "agriculture", "核桃", "walnuts", lambda r: {"nut_size": r.choice([28, 30, 32, 34])}),
    (23, 20, "agriculture", "老陈醋", "aged vinegar", lambda r: {"aged_years": r.choice([3, 5, 10])}),
    (24, 20, "agriculture", "红枣", "jujubes", lambda r: {"moisture": r.randint(18, 25)}),
]
CITIES = {"140200": ["140213", "140214", "140226"], "141100": ["141125", "141181", "141182"],
          "140100": ["140109", "140107"], "140400": ["140430", "140404"], "140600": ["140602", "140603"],
          "140500": ["140521", "140525"]}
PLACES = {"140200": "大同", "141100": "吕梁", "140100": "太原", "140400": "长治", "140600": "朔州", "140500": "晋城"}
ADJECTIVES = ["优质", "低硫", "低灰", "现货", "厂家直供", "特级", "新货", "高热值", "国标", "出口级"]
ENGLISH = ["premium", "low sulfur", "spot", "direct from mine", "export grade", "new crop", "certified"]


def bucket(key: str, value: float) -> str:
    step = {"qnet_ar": 500, "st_d": 0.5, "g": 10, "csr": 5, "diameter": 8, "thickness": 3, "purity": 0.05,
            "harvest_year": 1, "nut_size": 2, "aged_years": 5, "moisture": 3}[key]
    low = int(value // step * step) if step >= 1 else round(value // step * step, 2)
    return f"{low}"


def make_docs(n: int, seed: int) -> list[SearchDocument]:
    rng = random.Random(seed)
    docs = []
    for i in range(1, n + 1):
        cat_id, parent, industry, zh, en, spec = rng.choice(CATEGORIES)
        city = rng.choice(list(CITIES))
        county = rng.choice(CITIES[city])
        numbers = spec(rng)
        adjectives = rng.sample(ADJECTIVES, 2)
        code = " ".join(f"{k.upper()}{v:g}" for k, v in numbers.items())
        title_zh = f"{PLACES[city]}{adjectives[0]}{zh} {code} {adjectives[1]}"
        title_en = f"{PLACES[city]} {rng.choice(ENGLISH)} {en}"
        body = (f"{zh} {en} {PLACES[city]} {rng.choice(ADJECTIVES)}，可提供第三方检验报告，支持平台担保交易。"
                f" Seller no. {rng.randint(1, 3000)} ships by rail.")
        terms = ["all", f"i:{industry}", f"c:{parent}", f"c:{cat_id}", f"ci:{city}", f"co:{county}",
                 f"se:{rng.randint(1, 3000)}", *(f"s:{k}={bucket(k, v)}" for k, v in numbers.items())]
        docs.append(SearchDocument(i, title_zh, title_en, body, body[:80], terms, numbers,
                                   rng.randrange(1000, 2_000_000, 100), 1_700_000_000 + i * 60,
                                   rng.choice([None, 40, 60, 75, 90])))
    return docs


def make_queries(count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed + 1)
    words = ["动力煤", "主焦煤", "螺纹钢", "小米", "核桃", "老陈醋", "焦炭", "大同", "吕梁 煤", "低硫 动力煤",
             "rebar", "walnuts", "thermal coal", "anthracite", "millet", "magnesium", "优质 小米", "HRB400E",
             "太原 螺纹钢", "红枣", "coke", "热轧卷板", "premium", "export grade"]
    queries = []
    for n in range(count):
        kind = ("keyword", "keyword+facet", "spec range")[n % 3]
        cat_id, parent, _industry, zh, _en, _spec = rng.choice(CATEGORIES)
        if kind == "keyword":
            queries.append({"kind": kind, "text": rng.choice(words), "filters": {}, "ranges": {}})
        elif kind == "keyword+facet":
            facet = rng.choice([{"category": [str(cat_id)]}, {"category": [str(parent)]},
                                {"city": [rng.choice(list(CITIES))]}])
            queries.append({"kind": kind, "text": rng.choice([zh, *words[:12]]), "filters": facet, "ranges": {}})
        else:
            ranges = {2: {"qnet_ar": (5500, None), "st_d": (None, 1.0)}, 3: {"g": (80, None)},
                      11: {"diameter": (16, 28)}, 4: {"qnet_ar": (6500, None)}}.get(cat_id, {"price": (50000, 900000)})
            queries.append({"kind": kind, "text": rng.choice(["", zh]), "filters": {"category": [str(cat_id)]},
                            "ranges": ranges})
    return queries


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000

    return pick(0.50), pick(0.95), pick(0.99)


def run_queries(search: Any, queries: list[dict[str, Any]]) -> dict[str, list[float]]:
    for query in queries[:20]:  # warm caches (first reads, jieba)
        search(query)
    timings: dict[str, list[float]] = {}
    for query in queries:
        start = time.perf_counter()
        search(query)
        timings.setdefault(query["kind"], []).append(time.perf_counter() - start)
    return timings


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


# ---- the naive baseline: LIKE '%word%' over title and body, filters and facets in SQL ----
def like_setup(conn: psycopg.Connection, docs: list[SearchDocument]) -> None:
    conn.execute("DROP TABLE IF EXISTS bench_like")
    conn.execute("CREATE TABLE bench_like (id int PRIMARY KEY, title text, body text, terms text[], "
                 "specs jsonb, price bigint, published bigint)")
    with conn.cursor().copy("COPY bench_like FROM STDIN") as copy:
        for d in docs:
            copy.write_row((d.id, f"{d.title_zh} {d.title_en}", d.body, d.facet_terms,
                            psycopg.types.json.Jsonb(d.numbers), d.price_fen, d.published_ts))
    conn.execute("ANALYZE bench_like")
    conn.commit()


def like_search(conn: psycopg.Connection, query: dict[str, Any]) -> None:
    from catalog.search.analysis import normalise
    from catalog.search.base import filter_groups

    clauses, params = [], []
    for word in normalise(query["text"]).split():
        clauses.append("(lower(title) LIKE %s OR lower(body) LIKE %s)")
        params += [f"%{word}%", f"%{word}%"]
    for group in filter_groups(query["filters"]):
        clauses.append("terms && %s")
        params.append(group)
    for key, (low, high) in query["ranges"].items():
        column = "price" if key == "price" else f"(specs->>'{key}')::float8"
        if low is not None:
            clauses.append(f"{column} >= %s")
            params.append(low)
        if high is not None:
            clauses.append(f"{column} <= %s")
            params.append(high)
    where = " AND ".join(clauses) or "TRUE"
    # the clauses are ours; every value is a bound parameter
    conn.execute(f"SELECT id, title FROM bench_like WHERE {where} ORDER BY published DESC LIMIT 20",  # noqa: S608
                 params).fetchall()
    conn.execute(f"SELECT t, count(*) FROM bench_like, unnest(terms) t WHERE {where} "  # noqa: S608
                 "AND (t = 'all' OR t LIKE 'c:%%' OR t LIKE 'ci:%%' OR t LIKE 'co:%%') GROUP BY t", params).fetchall()


def ensure_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000, help="synthetic listings (default 100000)")
    parser.add_argument("--queries", type=int, default=240, help="fixed queries, at least 200")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/js_bench")
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()

    from market.app import create_app
    from market.extensions import db

    print(f"generating {args.n} listings and {args.queries} queries ...", flush=True)
    docs = make_docs(args.n, args.seed)
    queries = make_queries(max(args.queries, 200), args.seed)
    facets = ("category", "city", "county")
    report: dict[str, dict[str, Any]] = {}
    tmp = Path(tempfile.mkdtemp(prefix="jinshang-bench-"))
    use_pg = not args.skip_postgres
    if use_pg:
        ensure_database(args.pg_url)
    app = create_app({"INSTANCE_PATH": str(tmp), "SECRET_KEY": "bench", "MAIL_BACKEND": "memory",
                      "SQLALCHEMY_DATABASE_URI": args.pg_url if use_pg else f"sqlite:///{tmp / 'bench.db'}"})
    with app.app_context():
        from catalog.search import make_index

        # whoosh
        whoosh = make_index("whoosh", index_dir=str(tmp / "whoosh"))
        start = time.perf_counter()
        whoosh.replace_all(docs)
        elapsed = time.perf_counter() - start
        whoosh.refresh()
        report["whoosh"] = {"docs/s": args.n / elapsed, "size": folder_size(tmp / "whoosh"),
                            "t": run_queries(lambda q: whoosh.search(q["text"], filters=q["filters"],
                                                                     ranges=q["ranges"], facets=facets), queries)}
        print(f"whoosh indexed in {elapsed:.1f} s", flush=True)
        if use_pg:
            from sqlalchemy import text

            db.drop_all()
            db.create_all()
            pg = make_index("postgres")
            start = time.perf_counter()
            pg.replace_all(docs)
            db.session.commit()
            elapsed = time.perf_counter() - start
            db.session.execute(text("ANALYZE search_document"))
            db.session.commit()
            size = db.session.execute(text("SELECT pg_total_relation_size('search_document')")).scalar_one()
            report["postgres"] = {"docs/s": args.n / elapsed, "size": size,
                                  "t": run_queries(lambda q: pg.search(q["text"], filters=q["filters"],
                                                                       ranges=q["ranges"], facets=facets), queries)}
            print(f"postgres indexed in {elapsed:.1f} s", flush=True)
            with psycopg.connect(args.pg_url) as conn:
                start = time.perf_counter()
                like_setup(conn, docs)
                elapsed = time.perf_counter() - start
                size = conn.execute("SELECT pg_total_relation_size('bench_like')").fetchone()[0]
                report["LIKE baseline"] = {"docs/s": args.n / elapsed, "size": size,
                                           "t": run_queries(lambda q: like_search(conn, q), queries)}
                conn.execute("DROP TABLE bench_like")
                conn.commit()
            db.session.rollback()
            db.drop_all()

    baseline = report.get("LIKE baseline")
    print(f"\n== {args.n} listings, {len(queries)} queries (facet counts on every query)")
    print(f"{'backend':15} {'index docs/s':>12} {'size MB':>8}  {'class':14} {'p50 ms':>7} {'p95 ms':>7} "
          f"{'p99 ms':>7}  {'p95 vs LIKE':>11}")
    for name, row in report.items():
        for kind in ("keyword", "keyword+facet", "spec range"):
            p50, p95, p99 = percentiles(row["t"][kind])
            ratio = ""
            if baseline and name != "LIKE baseline":
                ratio = f"{p95 / percentiles(baseline['t'][kind])[1]:.2f}x"
            print(f"{name:15} {row['docs/s']:12.0f} {row['size'] / 1e6:8.1f}  {kind:14} {p50:7.1f} {p95:7.1f} "
                  f"{p99:7.1f}  {ratio:>11}")
    print("\ntargets at 100k, keyword+facet p95: whoosh <= 50 ms, postgres <= 30 ms")
    for name, target in (("whoosh", 50), ("postgres", 30)):
        if name in report:
            p95 = percentiles(report[name]["t"]["keyword+facet"])[1]
            print(f"  {name}: {p95:.1f} ms -> {'met' if p95 <= target else f'missed by {p95 - target:.1f} ms'}")


if __name__ == "__main__":
    main()
