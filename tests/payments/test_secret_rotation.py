"""Each rail has its own webhook secrets; during a rotation the new and the old one are both accepted."""

from __future__ import annotations

import json

import pytest

from payments.providers.bank_transfer import SIGNATURE_HEADER as BANK_HEADER
from payments.providers.bank_transfer import BankTransferProvider
from payments.providers.base import WebhookRejected
from payments.providers.sandbox import SandboxProvider
from payments.providers.signing import sign


def _bank(secrets: list[str]) -> BankTransferProvider:
    return BankTransferProvider(account_name="专户", account_no="1", bank_name="银行", webhook_secret=secrets)


BODY = json.dumps({"lines": []}).encode()


def test_bank_accepts_new_and_old_during_a_rotation_and_nothing_else() -> None:
    rotating = _bank(["new-secret", "old-secret"])
    for secret in ("new-secret", "old-secret"):
        assert rotating.parse_webhook(BODY, {BANK_HEADER: sign(BODY, secret)}) == []
    with pytest.raises(WebhookRejected):
        rotating.parse_webhook(BODY, {BANK_HEADER: sign(BODY, "someone-else")})
    rotated = _bank(["new-secret"])  # rotation finished: the old secret stops working
    with pytest.raises(WebhookRejected):
        rotated.parse_webhook(BODY, {BANK_HEADER: sign(BODY, "old-secret")})


def test_no_secret_configured_means_every_webhook_is_refused() -> None:
    with pytest.raises(WebhookRejected):
        _bank([]).parse_webhook(BODY, {BANK_HEADER: sign(BODY, "")})
    with pytest.raises(WebhookRejected):
        SandboxProvider([]).parse_webhook(BODY, {"Sandbox-Signature": sign(BODY, "")})


def test_rails_read_their_own_settings(app) -> None:
    from market.config import load_config

    config = load_config({"INSTANCE_PATH": app.instance_path, "MODE": "production", "SECRET_KEY": "k" * 40,
                          "BANK_WEBHOOK_SECRETS": "new,old", "SANDBOX_WEBHOOK_SECRET": "sbx"})
    assert config["BANK_WEBHOOK_SECRETS"] == ["new", "old"]
    assert BankTransferProvider.from_config(config).webhook_secrets == ["new", "old"]
    assert SandboxProvider.from_config(config).secrets == ["sbx"]
