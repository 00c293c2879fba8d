"""A Stripe TEST DOUBLE at the network edge: a ``stripe.HTTPClient`` subclass that answers the SDK.

The real SDK builds the requests (form-encoded bodies, Idempotency-Key headers, API version) and
parses the answers; this double keeps state for the endpoints the adapter uses, answers with objects
shaped like Stripe's published fixtures (``../shared/ref/stripe/fixtures3.json``), honours
idempotency keys like Stripe (same key + same parameters → the first response replayed; other
parameters → ``idempotency_error``), can inject errors, records every request for assertions, and
signs webhook events with Stripe's documented algorithm (HMAC-SHA256 over ``"{t}.{payload}"``).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import stripe

# the resources we use from Stripe's published fixtures (../shared/ref/stripe/fixtures3.json), copied into the
# repository so that a fresh clone runs the tests (MIT licence alongside)
FIXTURES = Path(__file__).resolve().parent / "stripe_fixtures3.json"
_RESOURCES = json.loads(FIXTURES.read_text())["resources"]


def fixture(name: str, **overrides: Any) -> dict[str, Any]:
    """A fresh copy of Stripe's example object ``name`` with ``overrides`` applied."""
    obj = copy.deepcopy(_RESOURCES[name])
    obj.update(overrides)
    return obj


def decode_form(body: str) -> dict[str, Any]:
    """Stripe's form encoding (``metadata[k]=v``, ``a[b][c]=v``, ``list[0]=v``) back into nested dicts."""
    result: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        node = result
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return result


CARD_DECLINED = (402, {"type": "card_error", "code": "card_declined", "decline_code": "generic_decline",
                       "message": "Your card was declined."})
INSUFFICIENT_BALANCE = (400, {"type": "invalid_request_error", "code": "balance_insufficient",
                              "message": "You have insufficient available funds in your Stripe account."})
IDEMPOTENCY_CONFLICT = (400, {"type": "idempotency_error", "code": "idempotency_key_in_use",
                              "message": "Keys for idempotent requests can only be used with the same parameters "
                                         "they were first used with."})


@dataclass
class Request:
    method: str
    path: str
    params: dict[str, Any]
    headers: dict[str, str]


@dataclass
class StripeDouble(stripe.HTTPClient):
    """Stateful fake Stripe API. ``platform_available`` is the platform balance transfers draw from."""

    webhook_secret: str = "whsec_test_double"
    platform_available: int = 0
    requests: list[Request] = field(default_factory=list)
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    balance_transactions: list[dict[str, Any]] = field(default_factory=list)
    _idempotency: dict[str, tuple[str, tuple[str, int, dict[str, str]]]] = field(default_factory=dict)
    _failures: list[tuple[str, str, int, dict[str, Any]]] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    name = "stripe_double"

    def __post_init__(self) -> None:
        super().__init__()

    # -- test controls ---------------------------------------------------------------------------------
    def fail_next(self, method: str, path_prefix: str, error: tuple[int, dict[str, Any]]) -> None:
        """The next matching request answers with this Stripe error."""
        self._failures.append((method.upper(), path_prefix, *error))

    def calls(self, method: str, path_prefix: str) -> list[Request]:
        return [r for r in self.requests if r.method == method.upper() and r.path.startswith(path_prefix)]

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_dbl{next(self._ids):010d}"

    def succeed_payment(self, intent_id: str, *, fee: int = 0) -> dict[str, Any]:
        """The buyer completes the PaymentIntent: a charge lands on the platform balance. Returns the event."""
        intent = self.objects[intent_id]
        charge_id = self.new_id("ch")
        txn = self._balance_txn(intent["amount"], intent["currency"], "charge", charge_id, fee=fee)
        self.objects[charge_id] = fixture("charge", id=charge_id, amount=intent["amount"], currency=intent["currency"],
                                          payment_intent=intent_id, balance_transaction=txn["id"], paid=True,
                                          status="succeeded", transfer_group=intent["transfer_group"])
        intent.update(status="succeeded", amount_received=intent["amount"], latest_charge=charge_id,
                      last_payment_error=None)
        self.platform_available += intent["amount"] - fee
        return self.event("payment_intent.succeeded", intent)

    def decline_payment(self, intent_id: str) -> dict[str, Any]:
        intent = self.objects[intent_id]
        intent.update(status="requires_payment_method",
                      last_payment_error={"type": "card_error", "code": "card_declined",
                                          "decline_code": "generic_decline", "message": "Your card was declined."})
        return self.event("payment_intent.payment_failed", intent)

    def event(self, event_type: str, obj: dict[str, Any]) -> dict[str, Any]:
        return fixture("event", id=self.new_id("evt"), type=event_type, created=int(time.time()),
                       api_version=stripe.api_version, data={"object": copy.deepcopy(obj)})

    def sign(self, event: dict[str, Any], *, timestamp: int | None = None,
             secret: str | None = None) -> tuple[bytes, dict[str, str]]:
        """Body and ``Stripe-Signature`` header exactly as Stripe sends them."""
        payload = json.dumps(event)
        t = int(time.time()) if timestamp is None else timestamp
        mac = hmac.new((secret or self.webhook_secret).encode(), f"{t}.{payload}".encode(), hashlib.sha256)
        return payload.encode(), {"Stripe-Signature": f"t={t},v1={mac.hexdigest()}", "Content-Type": "application/json"}

    # -- the HTTPClient interface ----------------------------------------------------------------------
    def request(self, method: str, url: str, headers: Any, post_data: Any = None, *, _usage: Any = None):  # type: ignore[no-untyped-def]
        split = urlsplit(url)
        body = post_data.decode() if isinstance(post_data, bytes) else (post_data or "")
        params = decode_form(body if method.upper() == "POST" else split.query)
        hdrs = dict((headers or {}).items())
        self.requests.append(Request(method.upper(), split.path, params, hdrs))
        key = hdrs.get("Idempotency-Key")
        fingerprint = f"{method.upper()} {split.path} {json.dumps(params, sort_keys=True)}"
        if key and key in self._idempotency:
            first_fingerprint, response = self._idempotency[key]
            if first_fingerprint != fingerprint:
                return self._error(*IDEMPOTENCY_CONFLICT)
            return response[0], response[1], {**response[2], "Idempotent-Replayed": "true"}
        for i, (m, prefix, status, err) in enumerate(self._failures):
            if m == method.upper() and split.path.startswith(prefix):
                del self._failures[i]
                return self._error(status, err)
        status, obj = self._route(method.upper(), split.path, params)
        response = (json.dumps(obj), status, {"Request-Id": self.new_id("req")})
        if key and status < 500:
            self._idempotency[key] = (fingerprint, response)
        return response

    def request_stream(self, *args: Any, **kwargs: Any):  # type: ignore[no-untyped-def]
        raise NotImplementedError

    def close(self) -> None:
        pass

    def _error(self, status: int, err: dict[str, Any]) -> tuple[str, int, dict[str, str]]:
        return json.dumps({"error": err}), status, {"Request-Id": self.new_id("req"), "Stripe-Should-Retry": "false"}

    # -- endpoints -------------------------------------------------------------------------------------
    def _balance_txn(self, amount: int, currency: str, txn_type: str, source: str, fee: int = 0) -> dict[str, Any]:
        txn = fixture("balance_transaction", id=self.new_id("txn"), amount=amount, fee=fee, net=amount - fee,
                      currency=currency, type=txn_type, source=source, reporting_category=txn_type,
                      created=int(time.time()), description=None, fee_details=[])
        self.balance_transactions.append(txn)
        return txn

    def _route(self, method: str, path: str, p: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        def missing(what: str) -> tuple[int, dict[str, Any]]:
            return 404, {"error": {"type": "invalid_request_error", "code": "resource_missing",
                                   "message": f"No such {what}"}}

        if method == "POST" and path == "/v1/payment_intents":
            obj = fixture("payment_intent", id=self.new_id("pi"), amount=int(p["amount"]), currency=p["currency"],
                          transfer_group=p.get("transfer_group"), metadata=p.get("metadata", {}),
                          description=p.get("description"), status="requires_payment_method", amount_received=0,
                          latest_charge=None, canceled_at=None, last_payment_error=None, transfer_data=None,
                          next_action=None, processing=None)
            obj["client_secret"] = f"{obj['id']}_secret_dbl"
            self.objects[obj["id"]] = obj
            return 200, obj
        if method == "POST" and path == "/v1/accounts":
            obj = fixture("account", id=self.new_id("acct"), metadata=p.get("metadata", {}), type=p.get("type"))
            self.objects[obj["id"]] = obj
            return 200, obj
        if method == "POST" and path == "/v1/account_links":
            if p.get("account") not in self.objects:
                return missing("account")
            return 200, fixture("account_link", url=f"https://connect.stripe.test/setup/{p['account']}",
                                created=int(time.time()), expires_at=int(time.time()) + 300)
        if method == "POST" and path == "/v1/transfers":
            amount = int(p["amount"])
            if p.get("destination") not in self.objects:
                return missing("destination account")
            source = p.get("source_transaction")
            if source is None and amount > self.platform_available:
                return 400, {"error": INSUFFICIENT_BALANCE[1]}
            tr_id = self.new_id("tr")
            txn = self._balance_txn(-amount, p["currency"], "transfer", tr_id)
            self.platform_available -= amount
            obj = fixture("transfer", id=tr_id, amount=amount, currency=p["currency"], destination=p["destination"],
                          transfer_group=p.get("transfer_group"), source_transaction=source,
                          metadata=p.get("metadata", {}), balance_transaction=txn["id"], created=int(time.time()))
            obj["reversals"]["url"] = f"/v1/transfers/{tr_id}/reversals"
            self.objects[tr_id] = obj
            return 200, obj
        match = re.fullmatch(r"/v1/transfers/([^/]+)/reversals", path)
        if method == "POST" and match:
            transfer = self.objects.get(match.group(1))
            if transfer is None:
                return missing("transfer")
            amount = int(p.get("amount", transfer["amount"] - transfer["amount_reversed"]))
            trr_id = self.new_id("trr")
            txn = self._balance_txn(amount, transfer["currency"], "transfer_refund", trr_id)
            self.platform_available += amount
            transfer["amount_reversed"] += amount
            transfer["reversed"] = transfer["amount_reversed"] >= transfer["amount"]
            obj = fixture("transfer_reversal", id=trr_id, amount=amount, currency=transfer["currency"],
                          transfer=transfer["id"], balance_transaction=txn["id"], metadata=p.get("metadata", {}))
            self.objects[trr_id] = obj
            return 200, obj
        if method == "POST" and path == "/v1/refunds":
            intent = self.objects.get(p.get("payment_intent", ""))
            if intent is None or intent["status"] != "succeeded":
                return missing("payment_intent")
            amount = int(p.get("amount", intent["amount"]))
            re_id = self.new_id("re")
            txn = self._balance_txn(-amount, intent["currency"], "refund", re_id)
            self.platform_available -= amount
            obj = fixture("refund", id=re_id, amount=amount, currency=intent["currency"],
                          charge=intent["latest_charge"], payment_intent=intent["id"], status="succeeded",
                          metadata=p.get("metadata", {}), balance_transaction=txn["id"])
            self.objects[re_id] = obj
            return 200, obj
        if method == "GET" and path in ("/v1/transfers", "/v1/refunds"):
            # list filters as Stripe documents them: transfers by transfer_group, refunds by payment_intent
            kind, field_ = ("transfer", "transfer_group") if path == "/v1/transfers" else ("refund", "payment_intent")
            found = [o for o in reversed(self.objects.values())
                     if o.get("object") == kind and (field_ not in p or o.get(field_) == p[field_])]
            limit = int(p.get("limit", 10))
            return 200, {"object": "list", "data": found[:limit], "has_more": len(found) > limit, "url": path}
        if method == "GET" and path == "/v1/balance_transactions":
            limit = int(p.get("limit", 10))
            newest_first = list(reversed(self.balance_transactions))
            after = p.get("starting_after")
            if after:
                ids = [t["id"] for t in newest_first]
                newest_first = newest_first[ids.index(after) + 1:]
            page = newest_first[:limit]
            return 200, {"object": "list", "data": page, "has_more": len(newest_first) > limit,
                         "url": "/v1/balance_transactions"}
        return missing(f"endpoint {method} {path}")
