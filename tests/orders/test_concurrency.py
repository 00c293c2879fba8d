"""50 threads race to buy one listing through the real JSON API: never oversold, never a 500.

Runs on whichever database the suite uses (SQLite by default, PostgreSQL with TEST_DATABASE_URL);
``.ci/run`` runs both. Each thread has its own test client, so each request has its own app context,
session and database connection.
"""

from __future__ import annotations

import random
import threading
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from catalog.models import Listing
from market.core.timeutil import to_local, utcnow
from market.extensions import db
from market.orders.models import OrderLine, TradeOrder
from tests.factories import login, make_trade_listing, make_trader

THREADS = 50
STOCK = Decimal(300)


def test_fifty_buyers_never_oversell(app, client):
    _buyer, user = make_trader("并发采购有限公司")
    seller, _ = make_trader("并发煤业有限公司")
    listing = make_trade_listing(seller, stock=str(STOCK), moq="1")
    listing_id = listing.id
    login(client, user)  # commits
    session_cookie = client.get_cookie("session").value
    # the login request ran in this test's app context: end its transaction, or on SQLite this thread
    # would keep the write lock (BEGIN IMMEDIATE) while the others wait for it
    db.session.commit()
    db.session.close()
    start = to_local(utcnow() + timedelta(days=2)).date().isoformat()
    end = to_local(utcnow() + timedelta(days=20)).date().isoformat()
    rng = random.Random(20261128)
    quantities = [rng.randint(1, 20) for _ in range(THREADS)]
    results: list[tuple[int, int, str]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(THREADS)

    def buy(index: int) -> None:
        own = app.test_client()
        own.set_cookie("session", session_cookie, domain="localhost")
        barrier.wait()
        response = own.post("/api/v1/orders", json={
            "lines": [{"listing_id": listing_id, "quantity": str(quantities[index])}],
            "delivery_address": "大同市", "delivery_window_start": start, "delivery_window_end": end,
        }, headers={"Idempotency-Key": f"race-{index}"})
        with lock:
            results.append((index, response.status_code, response.get_data(as_text=True)))

    threads = [threading.Thread(target=buy, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(results) == THREADS
    statuses = [status for _, status, _ in results]
    assert all(status in (201, 409, 422) for status in statuses), statuses
    assert not any("database is locked" in body for _, _, body in results)
    won = {index for index, status, _ in results if status == 201}
    assert won, "somebody must win"
    db.session.expire_all()
    available = db.session.scalar(select(Listing.available_quantity).where(Listing.id == listing_id))
    sold = db.session.scalar(select(func.coalesce(func.sum(OrderLine.quantity), 0)).join(TradeOrder)
                             .where(OrderLine.listing_id == listing_id, TradeOrder.state == "placed"))
    assert available >= 0
    assert Decimal(sold) == sum(Decimal(quantities[i]) for i in won)
    assert Decimal(sold) + available == STOCK
    assert db.session.scalar(select(func.count(TradeOrder.id))) == len(won)
    if len(won) < THREADS:  # losers were refused for want of stock, not for anything else
        assert Decimal(sold) > STOCK - 20
