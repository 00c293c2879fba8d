"""The internal credit score: pure functions over plain dataclasses (no database), so that the rules
can be read in one place and their monotonicity tested directly.

The score is a sum of points (0–100, clamped) so that good evidence adds and bad behaviour subtracts:

========================  ======  ==============================================================
factor                    points  rule
========================  ======  ==============================================================
verification              +10     licence verified by an operator (L1 or above)
registration age          +10     linear up to three years on the platform
trade volume              +20     log10 of settled yuan, full at ¥10 million
fulfilment record         +40     the better of: payment index (PAYDEX-like, capped at prompt = 80)
                                  once 3 payments from 2 counterparties; on-time delivery once 3
                                  deliveries to 2 counterparties
ratings received          +20     mean stars, shrunk towards 3 by five neutral pseudo-ratings
late payment              −25     how far the payment index is below prompt (80), from the first payment
late delivery             −20     share of delivery value that came late, weighted by days late
quality deviation         −15     amount-weighted deviation at inspection, full at 10 %
disputes lost             −30     twice the share of orders with a lost dispute
cancellations             −20     twice the share of orders this company cancelled
========================  ======  ==============================================================

Why some rules are shaped as they are (each keeps a promise tested in ``tests/credit``):

* Early payment raises the payment index (shown, like PAYDEX) but the score counts prompt payment as full
  marks: averaging early payments into the score would let one more on-time order lower it.
* Late payments and deliveries are penalised from the first experience; the *points* for a good record
  wait for the 3-experiences-from-2-counterparties rule. So crossing that threshold never lowers a score.
* A company with fewer than 3 settled orders with 2 different counterparties is *not yet rated*
  (``score`` None), never given a low default score.

Fractions keep means exact, so a property test cannot be fooled by floating-point rounding.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from market.credit.report import N_, CreditReport, Factor, Note, grade_for

MIN_SETTLED_ORDERS = 3
MIN_COUNTERPARTIES = 2
PROMPT_INDEX = 80
SOURCE = "internal"

# PAYDEX-like curve: days paid after the due date → index. 80 is paying on terms; the curve is
# non-increasing, so paying later can never raise the index.
PAYDEX_CURVE: tuple[tuple[int, int], ...] = (
    (-30, 100), (-10, 90), (0, 80), (15, 70), (30, 50), (60, 40), (90, 30), (120, 20),
)
DELIVERY_GRACE_DAYS = 30  # a delivery this many days late scores 0 on timeliness


@dataclass(frozen=True)
class PaymentExperience:
    """This company, as buyer, owed ``amount_fen`` by ``due_at``; ``paid_at`` None means not paid yet."""

    counterparty_id: int
    amount_fen: int
    due_at: datetime
    paid_at: datetime | None


@dataclass(frozen=True)
class DeliveryExperience:
    """This company, as seller, had to deliver by ``due_at``; ``delivered_at`` None means not yet."""

    counterparty_id: int
    amount_fen: int
    due_at: datetime
    delivered_at: datetime | None


@dataclass(frozen=True)
class InspectionResult:
    """Quality at inspection of a lot this company sold: relative deviation from the contract in basis points."""

    amount_fen: int
    deviation_bps: int


@dataclass(frozen=True)
class OrderOutcome:
    """One order this company was party to (either side)."""

    order_id: int
    counterparty_id: int
    amount_fen: int
    settled: bool
    cancelled_by_self: bool = False
    dispute_lost: bool = False


@dataclass(frozen=True)
class CompanyHistory:
    """Everything the internal score looks at, as plain values."""

    verification_level: int
    registered_at: datetime
    orders: tuple[OrderOutcome, ...] = ()
    payments: tuple[PaymentExperience, ...] = ()
    deliveries: tuple[DeliveryExperience, ...] = ()
    inspections: tuple[InspectionResult, ...] = ()
    ratings: tuple[int, ...] = ()  # stars received, 1–5


def _days(delta_seconds: float | int) -> Fraction:
    return Fraction(delta_seconds) / 86400


def _days_late(due: datetime, done: datetime | None, now: datetime) -> Fraction | None:
    """Days after ``due`` (negative: early). None if not done and not yet due (no experience yet)."""
    if done is None:
        if now <= due:
            return None
        done = now  # unpaid/undelivered and overdue: late by however long it has been
    delta = done - due
    return _days(delta.days * 86400 + delta.seconds) + Fraction(delta.microseconds, 86400 * 10**6)


def paydex_index(days_late: Fraction) -> Fraction:
    """The PAYDEX-like index of one payment: 80 on terms, up to 100 early, down to 20 very late."""
    first_day, first_index = PAYDEX_CURVE[0]
    if days_late <= first_day:
        return Fraction(first_index)
    for (d0, i0), (d1, i1) in itertools.pairwise(PAYDEX_CURVE):
        if days_late <= d1:
            return i0 + (i1 - i0) * (days_late - d0) / (d1 - d0)
    return Fraction(PAYDEX_CURVE[-1][1])


def delivery_timeliness(days_late: Fraction) -> Fraction:
    """1 for a delivery on time, falling linearly to 0 at 30 days late."""
    if days_late <= 0:
        return Fraction(1)
    return max(Fraction(0), 1 - days_late / DELIVERY_GRACE_DAYS)


def _weighted_mean(pairs: Iterable[tuple[int, Fraction]]) -> Fraction | None:
    """Amount-weighted mean; zero amounts still count a little (weight 1 fen) so they are not invisible."""
    total_weight, total = 0, Fraction(0)
    for amount, value in pairs:
        weight = max(int(amount), 1)
        total_weight += weight
        total += weight * value
    return total / total_weight if total_weight else None


@dataclass(frozen=True)
class Experiences:
    """A timeliness index with the facts that decide whether it counts."""

    index: Fraction | None
    count: int
    counterparties: int

    @property
    def qualifies(self) -> bool:
        return self.count >= MIN_SETTLED_ORDERS and self.counterparties >= MIN_COUNTERPARTIES


def payment_experiences(payments: Sequence[PaymentExperience], now: datetime) -> Experiences:
    """The amount-weighted payment index (PAYDEX-like) over payments that are due or made."""
    scored = [(p, _days_late(p.due_at, p.paid_at, now)) for p in payments]
    counted = [(p, d) for p, d in scored if d is not None]
    return Experiences(
        index=_weighted_mean((p.amount_fen, paydex_index(d)) for p, d in counted),
        count=len(counted),
        counterparties=len({p.counterparty_id for p, _ in counted}),
    )


def delivery_experiences(deliveries: Sequence[DeliveryExperience], now: datetime) -> Experiences:
    """The amount-weighted on-time delivery share (1 = always on time)."""
    scored = [(d, _days_late(d.due_at, d.delivered_at, now)) for d in deliveries]
    counted = [(d, late) for d, late in scored if late is not None]
    return Experiences(
        index=_weighted_mean((d.amount_fen, delivery_timeliness(late)) for d, late in counted),
        count=len(counted),
        counterparties=len({d.counterparty_id for d, _ in counted}),
    )


def history_is_sufficient(history: CompanyHistory) -> tuple[bool, int, int]:
    """(enough?, settled orders, distinct counterparties of settled orders)."""
    settled = [o for o in history.orders if o.settled]
    counterparties = len({o.counterparty_id for o in settled})
    return (len(settled) >= MIN_SETTLED_ORDERS and counterparties >= MIN_COUNTERPARTIES), len(settled), counterparties


def average_stars(stars: Iterable[int]) -> str | None:
    """The mean to one decimal, halves up ("4.65" → "4.7"), as every page shows it."""
    stars = list(stars)
    if not stars:
        return None
    return str((Decimal(sum(stars)) / len(stars)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _fmt(value: Fraction | float) -> str:
    return f"{float(value):.0f}"


def score_factors(history: CompanyHistory, now: datetime) -> list[tuple[Factor, Fraction]]:
    """Every factor with its exact contribution (the Factor carries a rounded copy for display)."""
    out: list[tuple[Factor, Fraction]] = []

    def add(code: str, label: str, points: Fraction, weight: int, explanation: str, advice: str = "",
            **params: object) -> None:
        out.append((Factor(code=code, label=label, points=round(float(points), 1), weight=weight,
                           explanation=explanation, params=dict(params), advice=advice), points))

    verified = history.verification_level >= 1
    add("verification", N_("Verification"), Fraction(10 if verified else 0), 10,
        N_("Business licence verified by the platform.") if verified
        else N_("Business licence not verified yet."),
        "" if verified else N_("Submit your business licence for verification."))

    age_days = max(0, (now - history.registered_at).days)
    add("registration_age", N_("Time on the platform"), 10 * min(Fraction(1), Fraction(age_days, 1095)), 10,
        N_("Registered %(days)s days ago; full points after three years."),
        N_("This grows by itself with time."), days=age_days)

    settled_fen = sum(o.amount_fen for o in history.orders if o.settled)
    volume_share = min(Fraction(1), Fraction(math.log10(1 + max(settled_fen, 0) / 100)) / 7)
    add("trade_volume", N_("Trade volume"), 20 * volume_share, 20,
        N_("%(yuan)s yuan settled on the platform; full points at 10 million yuan."),
        N_("Settle more orders through the platform's escrow."), yuan=f"{settled_fen // 100:,}")

    pay = payment_experiences(history.payments, now)
    deliver = delivery_experiences(history.deliveries, now)
    pay_part = min(pay.index, PROMPT_INDEX) / PROMPT_INDEX if pay.qualifies and pay.index is not None else Fraction(0)
    deliver_part = deliver.index if deliver.qualifies and deliver.index is not None else Fraction(0)
    add("fulfilment", N_("Fulfilment record"), 40 * max(pay_part, deliver_part), 40,
        N_("Payment index %(paydex)s from %(payments)s payments to %(payers)s sellers; on-time delivery "
           "%(ontime)s%% over %(deliveries)s deliveries to %(buyers)s buyers. Each counts once there are "
           "3 experiences with 2 different counterparties."),
        N_("Pay on the due date and deliver within the agreed window; both count in full once established."),
        paydex=_fmt(pay.index) if pay.index is not None else "—", payments=pay.count, payers=pay.counterparties,
        ontime=_fmt(100 * deliver.index) if deliver.index is not None else "—", deliveries=deliver.count,
        buyers=deliver.counterparties)

    received = history.ratings
    shrunk = Fraction(sum(received) + 3 * 5, len(received) + 5)
    add("ratings", N_("Ratings received"), 20 * (shrunk - 1) / 4, 20,
        N_("%(count)s ratings, average %(average)s stars (counted with 5 neutral ratings until there are many)."),
        N_("Ask your trading partners to rate you after each settled order."),
        count=len(received), average=average_stars(received) or "—")

    if pay.index is not None:
        late_pay = 25 * (PROMPT_INDEX - min(pay.index, PROMPT_INDEX)) / 60
        add("late_payment", N_("Late payment"), -late_pay, 25,
            N_("Payment index %(paydex)s: 80 means paying on the due date, higher is earlier, lower is later."),
            N_("Fund orders by their payment due date."), paydex=_fmt(pay.index))
    if deliver.index is not None:
        add("late_delivery", N_("Late delivery"), -20 * (1 - deliver.index), 20,
            N_("%(ontime)s%% of delivered value arrived on time (weighted by days late)."),
            N_("Agree delivery windows you can keep and ship on time."), ontime=_fmt(100 * deliver.index))
    deviation = _weighted_mean((i.amount_fen, Fraction(max(i.deviation_bps, 0))) for i in history.inspections)
    if deviation is not None:
        add("quality", N_("Quality at inspection"), -15 * min(Fraction(1), deviation / 1000), 15,
            N_("Inspected lots deviated from the contracted quality by %(percent)s%% on average."),
            N_("Describe lots accurately and check quality before shipping."), percent=f"{float(deviation) / 100:.1f}")

    orders = len(history.orders)
    lost = sum(1 for o in history.orders if o.dispute_lost)
    if orders:
        add("disputes", N_("Disputes lost"), -30 * min(Fraction(1), Fraction(2 * lost, orders)), 30,
            N_("%(lost)s of %(orders)s orders ended in a dispute decided against you."),
            N_("Resolve problems with your counterparty before they become disputes."), lost=lost, orders=orders)
        cancelled = sum(1 for o in history.orders if o.cancelled_by_self)
        add("cancellations", N_("Cancellations"), -20 * min(Fraction(1), Fraction(2 * cancelled, orders)), 20,
            N_("You cancelled %(cancelled)s of %(orders)s orders."),
            N_("Only accept orders you can complete."), cancelled=cancelled, orders=orders)
    return out


def exact_points(history: CompanyHistory, now: datetime) -> Fraction:
    """The unrounded, unclamped sum of points (what the tests compare)."""
    return sum((points for _, points in score_factors(history, now)), Fraction(0))


def score_history(history: CompanyHistory, now: datetime) -> CreditReport:
    """The internal provider's report. Not yet rated unless the history is sufficient."""
    enough, settled, counterparties = history_is_sufficient(history)
    factors = score_factors(history, now)
    if not enough:
        note = N_("Not yet rated: needs %(orders)s settled orders with %(parties)s different counterparties "
                  "(has %(has_orders)s with %(has_parties)s).")
        return CreditReport(score=None, grade=None, source=SOURCE, as_of=now,
                            factors=tuple(f for f, _ in factors),
                            notes=(Note(note, {"orders": MIN_SETTLED_ORDERS, "parties": MIN_COUNTERPARTIES,
                                               "has_orders": settled, "has_parties": counterparties}),))
    total = sum((points for _, points in factors), Fraction(0))
    score = int(min(Fraction(100), max(Fraction(0), total)) + Fraction(1, 2))  # round half up, exactly
    return CreditReport(score=score, grade=grade_for(score), source=SOURCE, as_of=now,
                        factors=tuple(f for f, _ in factors))
