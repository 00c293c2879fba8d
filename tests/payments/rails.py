"""Drivers that pay, confirm and forge deliveries on each rail the way the outside world would.

The contract suite runs the same scenario through each driver; all money arrives over HTTP at
POST /payments/webhooks/<provider> (or, for the bank, also as an imported statement).
"""

from __future__ import annotations

import json
import time
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from market.extensions import db
from payments.checkout import start_payin
from payments.models import Escrow, Payout, PayoutStatus
from payments.providers import get_provider
from payments.providers.signing import sign
from payments.statements import import_statement
from tests.payments.conftest import run_jobs
from tests.payments.stripe_double import StripeDouble

HEADER = "transaction_id,value_date,direction,amount,currency,counterparty_name,counterparty_account,memo\n"


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def post_webhook(client: FlaskClient, provider: str, body: bytes, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    db.session.commit()  # the request runs in its own session/transaction
    response = client.post(f"/payments/webhooks/{provider}", data=body, headers=headers)
    db.session.expire_all()
    return response


class SandboxRail:
    name = "sandbox"
    header = "Sandbox-Signature"

    def __init__(self, client: FlaskClient, double: StripeDouble | None = None) -> None:
        self.client = client
        self.provider = get_provider("sandbox")

    def prepare_payee(self, escrow: Escrow) -> None:
        pass

    def fund(self, escrow: Escrow, amount_fen: int):  # type: ignore[no-untyped-def]
        instructions = start_payin(escrow, "sandbox")
        assert instructions.can_simulate
        event = self.provider.payment_event(escrow, amount_fen)  # type: ignore[attr-defined]
        return post_webhook(self.client, "sandbox", *self.provider.signed(event))  # type: ignore[attr-defined]

    def deliver_payouts(self) -> None:
        db.session.commit()
        run_jobs()  # executes payouts; the sandbox then delivers signed payout/refund webhooks

    def forged(self, escrow: Escrow, *, stale: bool = False) -> tuple[bytes, dict[str, str]]:
        event = self.provider.payment_event(escrow, 100)  # type: ignore[attr-defined]
        if stale:
            return self.provider.signed(event, timestamp=int(time.time()) - 3600)  # type: ignore[attr-defined]
        body, headers = self.provider.signed(event)  # type: ignore[attr-defined]
        return body.replace(b'"amount_fen":100', b'"amount_fen":999'), headers


class BankRail:
    name = "bank_transfer"
    header = "X-Bank-Signature"

    def __init__(self, client: FlaskClient, double: StripeDouble | None = None) -> None:
        self.client = client
        self.secret = get_provider("bank_transfer").webhook_secret  # type: ignore[attr-defined]
        self.serial = 0
        self.announced: list[dict[str, Any]] = []  # lines the bank notified; the day's statement repeats them

    def prepare_payee(self, escrow: Escrow) -> None:
        from payments.payouts import set_bank_account

        set_bank_account(escrow.payee_id, account_name="测试煤业有限公司", account_no="6222 0000 1111 2222",
                         bank_name="中国工商银行太原分行")

    def _line(self, direction: str, amount: int, memo: str) -> dict[str, Any]:
        self.serial += 1
        return {"transaction_id": f"BK{time.time_ns()}{self.serial}", "value_date": "2025-03-01",
                "direction": direction, "amount": yuan(amount), "currency": "CNY",
                "counterparty_name": "太原重工铸造厂", "counterparty_account": "6217000011112222", "memo": memo}

    def notify(self, lines: list[dict[str, Any]], timestamp: int | None = None):  # type: ignore[no-untyped-def]
        body = json.dumps({"lines": lines}).encode()
        return body, {self.header: sign(body, self.secret, timestamp)}

    def fund(self, escrow: Escrow, amount_fen: int):  # type: ignore[no-untyped-def]
        instructions = start_payin(escrow, "bank_transfer")
        assert instructions.bank_account
        assert instructions.reference_code == escrow.pay_code
        line = self._line("CR", amount_fen, f"货款 {instructions.reference_code}")
        self.announced.append(line)
        return post_webhook(self.client, "bank_transfer", *self.notify([line]))

    def deliver_payouts(self) -> None:
        db.session.commit()
        run_jobs()
        sent = db.session.scalars(select(Payout).where(Payout.status == PayoutStatus.SENT)).all()
        lines = self.announced + [self._line("DR", p.amount_fen, f"付款 {p.code}") for p in sent]
        csv_text = HEADER + "".join(",".join(line.values()) + "\n" for line in lines)
        import_statement(csv_text)
        db.session.commit()

    def forged(self, escrow: Escrow, *, stale: bool = False) -> tuple[bytes, dict[str, str]]:
        line = self._line("CR", 100, escrow.pay_code or "")
        if stale:
            return self.notify([line], timestamp=int(time.time()) - 3600)
        body, headers = self.notify([line])
        return body.replace(b'"1.00"', b'"9.99"'), headers


class StripeRail:
    name = "stripe"
    header = "Stripe-Signature"

    def __init__(self, client: FlaskClient, double: StripeDouble | None = None) -> None:
        assert double is not None
        self.client, self.double = client, double

    def prepare_payee(self, escrow: Escrow) -> None:
        get_provider("stripe").onboarding_link(  # type: ignore[attr-defined]
            escrow.payee_id, refresh_url="http://localhost/r", return_url="http://localhost/b")

    def fund(self, escrow: Escrow, amount_fen: int):  # type: ignore[no-untyped-def]
        intent = self.double.objects[start_payin(escrow, "stripe").client_secret.split("_secret")[0]]  # type: ignore[union-attr]
        intent["amount"] = amount_fen  # the buyer pays what the intent asks; partial test amounts adjust it
        return post_webhook(self.client, "stripe", *self.double.sign(self.double.succeed_payment(intent["id"])))

    def deliver_payouts(self) -> None:
        db.session.commit()
        run_jobs()  # transfers and refunds are confirmed synchronously; their webhooks then dedupe
        for obj in list(self.double.objects.values()):
            if obj["object"] == "transfer":
                post_webhook(self.client, "stripe", *self.double.sign(self.double.event("transfer.created", obj)))
            if obj["object"] == "refund":
                post_webhook(self.client, "stripe", *self.double.sign(self.double.event("refund.updated", obj)))

    def forged(self, escrow: Escrow, *, stale: bool = False) -> tuple[bytes, dict[str, str]]:
        event = self.double.event("payment_intent.succeeded", {"id": "pi_x", "object": "payment_intent",
                                                               "amount_received": 100, "currency": "cny",
                                                               "metadata": {"escrow_reference": escrow.reference}})
        if stale:
            return self.double.sign(event, timestamp=int(time.time()) - 3600)
        return self.double.sign(event, secret="whsec_someone_else")


RAILS = {"sandbox": SandboxRail, "bank_transfer": BankRail, "stripe": StripeRail}
