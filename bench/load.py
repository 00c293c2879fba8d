"""Load benchmark: locust (as a library, headless) against gunicorn + PostgreSQL + the worker on 127.0.0.1.

    PYTHONPATH=$PWD python3 bench/load.py [--users 40] [--seconds 20] [--web-workers 4]

Phases, all in this one run: (1) the trivial route ``/healthz`` alone, as many users as given: the ceiling;
(2) the search page alone; (3) the mixed traffic (browse 60 %, search 25 %, cart and order 10 %, pay 5 %)
flat out: the maximum sustained load; (4) the same mix paced at half that rate: order placement latency.
Prints requests/s, p50/p95/p99 per endpoint, the error rate, each ratio, and checks the targets:
search throughput >= 25 % of the trivial route's; order placement p95 <= 150 ms at half the maximum load;
errors < 0.1 %. Needs PostgreSQL on 127.0.0.1:5432 (database ``js_prod_bench``, recreated) and loopback only.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory
from urllib.parse import quote

import gevent
import psycopg
from locust import HttpUser, between, constant_throughput, task
from locust.env import Environment

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers import marketplace  # noqa: E402

DB = "js_prod_bench"
ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
BUYER, PASSWORD = "power@demo.jinshang.cn", "Jinshang-demo-2026"
QUERIES = ["动力煤", "焦煤", "螺纹钢", "小米", "核桃", "coal", "Q235B", "大同 动力煤", "HRB400E", "低硫"]
STATE: dict[str, list] = {"listings": [], "escrows": []}


def csrf(client) -> str:  # type: ignore[no-untyped-def]
    match = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/login", name="setup").text)
    return match.group(1) if match else ""


class Trivial(HttpUser):
    wait_time = between(0, 0)

    @task
    def health(self) -> None:
        self.client.get("/healthz", name="trivial /healthz")


class Searcher(HttpUser):
    wait_time = between(0, 0)

    @task
    def search(self) -> None:
        self.client.get(f"/search?q={quote(random.choice(QUERIES))}", name="search /search?q=")


class Trader(HttpUser):
    """The mix: a signed-in buyer browsing, searching, ordering and paying."""

    wait_time = between(0, 0)

    def on_start(self) -> None:
        self.client.post("/login", data={"identifier": BUYER, "password": PASSWORD, "csrf_token": csrf(self.client)},
                         name="setup", allow_redirects=False)
        self.token = csrf(self.client)  # signing in starts a fresh session: its own CSRF token
        STATE.setdefault("ready", []).append(1)

    @task(60)
    def browse(self) -> None:
        if random.random() < 0.3:
            self.client.get("/", name="browse /")
        else:
            self.client.get(f"/listings/{random.choice(STATE['listings'])}", name="browse /listings/<id>")

    @task(25)
    def search(self) -> None:
        self.client.get(f"/search?q={quote(random.choice(QUERIES))}", name="search /search?q=")

    @task(10)
    def order(self) -> None:
        listing_id, quantity = random.choice(STATE["listings_moq"])
        self.client.post("/cart/add", data={"listing_id": listing_id, "quantity": quantity, "csrf_token": self.token},
                         name="order /cart/add", allow_redirects=False)
        start = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 5 * 86400))
        end = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 30 * 86400))
        with self.client.post("/checkout", data={"delivery_window_start": start, "delivery_window_end": end,
                                                 "delivery_address": "长治市上党区热电厂", "po_number": "BENCH",
                                                 "form_token": os.urandom(8).hex(), "csrf_token": self.token},
                              name="order /checkout (place)", allow_redirects=False, catch_response=True) as resp:
            if resp.status_code == 409:
                # Every virtual user is the one demo buyer company with ONE shared cart: two users checking
                # it out at once is a real conflict (the loser gets 409 and nothing is placed twice). Counted
                # apart, not as an error; see the printed conflict count.
                STATE.setdefault("conflicts", []).append(1)
                resp.success()
            elif resp.status_code != 302:
                resp.failure(f"checkout answered {resp.status_code}")

    @task(5)
    def pay(self) -> None:
        reference = random.choice(STATE["escrows"])
        self.client.get(f"/pay/{reference}", name="pay /pay/<ref>")


def prepare_database() -> str:
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB}"')
    return f"postgresql://postgres@127.0.0.1:5432/{DB}"


def lookups(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        # enough stock that thousands of orders never run out (the benchmark measures speed, not stock rules)
        conn.execute("UPDATE listing SET available_quantity = 100000000 WHERE status = 'published'")
        # small orders of the cheapest lots: the credit gate caps an order's value by the buyer's trust tier
        conn.execute("UPDATE listing SET min_order_quantity = 1 WHERE status = 'published'")
        rows = conn.execute("SELECT id FROM listing WHERE status = 'published' ORDER BY unit_price_fen").fetchall()
        STATE["listings"] = [r[0] for r in rows]
        STATE["listings_moq"] = [(r[0], "1") for r in rows[:5]]
        buyer = conn.execute("SELECT m.company_id FROM membership m JOIN user_account u ON u.id = m.user_id "
                             "WHERE u.email = %s", (BUYER,)).fetchone()[0]
        STATE["escrows"] = [r[0] for r in conn.execute(
            "SELECT reference FROM escrow WHERE payer_id = %s", (buyer,))]
    assert STATE["listings"], "no published listings in the demo data"
    assert STATE["escrows"], "no escrow of the demo buyer"


def run_phase(base: str, user_class: type, users: int, seconds: float) -> Environment:
    """Start ``users``; once all have signed in (argon2 is slow on purpose), measure for ``seconds``."""
    env = Environment(user_classes=[user_class], host=base)
    runner = env.create_local_runner()
    STATE["ready"] = []
    runner.start(users, spawn_rate=users)
    if user_class is Trader:
        deadline = time.monotonic() + 120
        while len(STATE["ready"]) < users and time.monotonic() < deadline:
            gevent.sleep(0.2)
        env.stats.reset_all()
    gevent.sleep(seconds)
    runner.quit()
    return env


def measured(env: Environment) -> dict[str, dict[str, float]]:
    for error in env.stats.errors.values():
        print(f"  failure x{error.occurrences}: {error.name}: {str(error.error)[:160]}")
    out = {}
    for (name, _method), entry in env.stats.entries.items():
        if name == "setup" or not entry.num_requests:
            continue
        out[name] = {"n": entry.num_requests, "rps": entry.total_rps, "fail": entry.num_failures,
                     "p50": entry.get_response_time_percentile(0.5), "p95": entry.get_response_time_percentile(0.95),
                     "p99": entry.get_response_time_percentile(0.99)}
    return out


def report(title: str, rows: dict[str, dict[str, float]]) -> tuple[float, float]:
    print(f"\n== {title}")
    print(f"{'endpoint':32} {'requests':>9} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'errors':>7}")
    total = fails = 0.0
    rps = 0.0
    for name, row in sorted(rows.items()):
        print(f"{name:32} {row['n']:>9} {row['rps']:>8.1f} {row['p50']:>7.0f} {row['p95']:>7.0f} {row['p99']:>7.0f}"
              f" {row['fail']:>7}")
        total += row["n"]
        fails += row["fail"]
        rps += row["rps"]
    rate = fails / total if total else 0.0
    print(f"{'all':32} {int(total):>9} {rps:>8.1f} {'':>7} {'':>7} {'':>7} {int(fails):>7}  error rate {rate:.4%}")
    return rps, rate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--web-workers", type=int, default=4)
    parser.add_argument("--search-backend", default="whoosh", choices=["whoosh", "postgres"])
    args = parser.parse_args()
    url = prepare_database()
    with TemporaryDirectory() as tmp:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "JINSHANG_INSTANCE": tmp, "JINSHANG_MODE": "demo",
               "DATABASE_URL": url, "SEARCH_BACKEND": args.search_backend, "SECRET_KEY": "bench-" + "x" * 40,
               "MAIL_BACKEND": "memory", "LOG_FORMAT": "json", "GUNICORN_ACCESS_LOG": "/dev/null"}
        print("loading demo data ...", flush=True)
        subprocess.run([sys.executable, "-m", "market.cli", "load-demo"], env=env, cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL, timeout=600)
        lookups(url)
        with Path(tmp, "servers.log").open("w") as log, \
                marketplace(env, web_log=log, worker_log=log, web_workers=args.web_workers) as base:
            import requests

            deadline = time.monotonic() + 120  # the worker indexes the demo listings into PostgreSQL
            while time.monotonic() < deadline:
                if requests.get(f"{base}/api/v1/search", params={"q": "动力煤"}, timeout=60).json()["total"]:
                    break
                time.sleep(0.5)
            run_phase(base, Trader, 4, 10)  # warm every worker (segmenter dictionaries, connection pools)
            trivial_rps, _ = report("1. trivial route alone (ceiling)",
                                    measured(run_phase(base, Trivial, args.users, args.seconds)))
            search_rps, _ = report("2. search page alone",
                                   measured(run_phase(base, Searcher, args.users, args.seconds)))
            mixed = measured(run_phase(base, Trader, args.users, args.seconds))
            max_rps, _ = report("3. mixed traffic flat out (maximum sustained load)", mixed)
            half_rate_per_user = max(max_rps, 0.2) / 2 / args.users
            Trader.wait_time = constant_throughput(half_rate_per_user)
            half = measured(run_phase(base, Trader, args.users, args.seconds))
            half_rps, error_rate = report(f"4. mixed traffic at half the maximum ({max_rps / 2:.1f} req/s target)",
                                          half)
    order_p95 = half.get("order /checkout (place)", {}).get("p95", float("inf"))
    total_errors = sum(r["fail"] for r in list(mixed.values()) + list(half.values()))
    total = sum(r["n"] for r in list(mixed.values()) + list(half.values()))
    ratio = search_rps / trivial_rps if trivial_rps else 0.0
    print(f"\n(checkouts refused 409 because another user of the same company checked the shared cart out first: "
          f"{len(STATE.get('conflicts', []))})")
    print("\n== targets")
    print(f"search / trivial throughput: {search_rps:.1f} / {trivial_rps:.1f} = {ratio:.1%}  (target >= 25%)"
          f"  {'OK' if ratio >= 0.25 else 'MISSED'}")
    print(f"mixed max / trivial: {max_rps / max(trivial_rps, 1e-9):.1%}; half-load achieved {half_rps:.1f} req/s")
    print(f"order placement p95 at half load: {order_p95:.0f} ms  (target <= 150 ms)"
          f"  {'OK' if order_p95 <= 150 else 'MISSED'}")
    print(f"error rate (mixed phases): {total_errors}/{total} = {total_errors / max(total, 1):.3%}"
          f"  (target < 0.1%)  {'OK' if total_errors / max(total, 1) < 0.001 else 'MISSED'}")
    del error_rate
    return 0


if __name__ == "__main__":
    sys.exit(main())
