"""Safe to run for real: production refuses demo settings, has no sandbox, builds links from PUBLIC_BASE_URL
only, trusts only configured proxy hops, refuses forged hosts, and sends the security headers."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from market.app import create_app
from market.config import PROJECT_ROOT, load_config, production_problems
from market.core import heartbeat, jobs
from market.core.audit import AuditLog
from market.core.links import public_url
from market.core.mail import MemoryBackend
from tests.conftest import app_config
from tests.factories import PASSWORD, login, make_escrow, make_member

PRODUCTION = {"MODE": "production", "PAYMENT_PROVIDERS": "bank_transfer",
              "BANK_WEBHOOK_SECRETS": ["bank-secret"], "PUBLIC_BASE_URL": "https://market.example.cn",
              "MAIL_BACKEND": "smtp", "SERVER_NAME": "market.example.cn"}


@pytest.fixture
def production(app, tmp_path):  # type: ignore[no-untyped-def]
    return create_app(app_config(tmp_path, SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                                 **PRODUCTION))


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JINSHANG_", "SECRET_KEY", "PAYMENT_",
                                                                       "PUBLIC_BASE_URL", "MAIL_", "BANK_"))}
    return {**env, "PYTHONPATH": str(PROJECT_ROOT)}


def test_production_is_the_default_and_lists_everything_to_fix(tmp_path):
    env = {**_clean_env(), "JINSHANG_INSTANCE": str(tmp_path), "PAYMENT_PROVIDERS": "sandbox,bank_transfer"}
    for command in ([sys.executable, "-c", "import wsgi"],
                    [sys.executable, "-m", "market.cli", "worker", "--once"]):
        result = subprocess.run(command, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
        assert result.returncode == 3, result.stderr[-2000:]
        message = result.stderr
        assert message.count("refuses to start") == 1  # one list, not one error at a time
        for setting in ("sandbox", "SECRET_KEY", "PUBLIC_BASE_URL", "BANK_WEBHOOK_SECRETS", "MAIL_BACKEND"):
            assert setting in message, setting


def test_a_complete_production_configuration_has_nothing_to_fix(tmp_path):
    config = load_config({**PRODUCTION, "SERVER_NAME": None, "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "s" * 64})
    assert production_problems(config) == []
    # the sandbox is off unless configured, and is a problem when it is
    assert load_config({"MODE": "production", "INSTANCE_PATH": str(tmp_path)})["PAYMENT_PROVIDERS"] == "bank_transfer"
    assert any("sandbox" in p for p in production_problems({**config, "PAYMENT_PROVIDERS": "sandbox"}))


def test_webhook_secrets_are_never_derived_from_the_secret_key(tmp_path):
    config = load_config({"MODE": "production", "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "k" * 64})
    assert config["BANK_WEBHOOK_SECRETS"] == []
    assert config["SANDBOX_WEBHOOK_SECRETS"] == []
    demo = load_config({"MODE": "demo", "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "k" * 64})
    assert all("k" * 64 not in s for s in demo["BANK_WEBHOOK_SECRETS"] + demo["SANDBOX_WEBHOOK_SECRETS"])
    assert demo["BANK_WEBHOOK_SECRETS"] != demo["SANDBOX_WEBHOOK_SECRETS"]


def test_sandbox_routes_do_not_exist_in_production(production, db):
    assert not [rule for rule in production.url_map.iter_rules() if "simulate" in rule.rule]
    buyer = make_member()
    escrow = make_escrow(10_000, payer_id=buyer.memberships[0].company_id, reference="PROD-1")
    db.session.commit()
    client = production.test_client()
    login(client, buyer)
    assert client.post("/pay/PROD-1/simulate").status_code == 404
    assert client.post("/pay/PROD-1", data={"provider": "sandbox"}).status_code == 404
    db.session.refresh(escrow)
    assert escrow.funded_fen == 0
    assert escrow.status != "funded"


def test_a_forged_host_is_never_in_a_link(app, client, db):
    user = make_member(email="reset@example.cn")
    db.session.commit()
    MemoryBackend.outbox.clear()
    response = client.post("/password/forgot", data={"identifier": "reset@example.cn"},
                           headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"})
    assert response.status_code == 302
    jobs.run_pending()
    mail = [m for m in MemoryBackend.outbox if m.to == "reset@example.cn"]
    assert len(mail) == 1
    links = re.findall(r"https?://\S+", mail[0].body)
    assert links
    assert all(link.startswith("http://localhost/password/reset/") for link in links)
    assert "evil" not in mail[0].body
    with app.test_request_context("/", headers={"Host": "evil.example"}):
        assert public_url("orders.detail", order_id=7) == "http://localhost/orders/7"
    assert user.id


def test_a_forged_host_is_refused_in_production_with_an_audit_row(production, db):
    db.session.commit()  # SQLite: this test's own session must not hold the write lock the request needs
    client = production.test_client()
    response = client.get("/", headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert "evil.example" not in response.get_data(as_text=True)
    db.session.rollback()
    row = db.session.scalars(select(AuditLog).where(AuditLog.action == "request.host_refused")).one()
    assert row.note == "Host: evil.example"
    db.session.rollback()
    assert client.get("/", headers={"Host": "market.example.cn"}).status_code == 200
    assert client.get("/healthz", headers={"Host": "10.0.0.5:8000"}).status_code == 200  # load balancer probes


@pytest.mark.parametrize(("hops", "forwarded", "seen"), [
    (0, "203.0.113.9", "127.0.0.1"),  # no proxy trusted: the header is ignored
    (1, "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # one proxy: its entry, not the client's spoofed one
    (2, "6.6.6.6, 203.0.113.9, 10.0.0.2", "203.0.113.9"),
])
def test_only_trusted_proxy_hops_give_the_client_address(app, tmp_path, db, hops, forwarded, seen):
    proxied = create_app(app_config(tmp_path, SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                                    PROXY_HOPS=hops))
    email = make_member().email
    db.session.commit()
    client = proxied.test_client()
    client.environ_base["REMOTE_ADDR"] = "127.0.0.1"
    client.post("/login", data={"identifier": email, "password": PASSWORD},
                headers={"X-Forwarded-For": forwarded})
    row = db.session.scalars(select(AuditLog).where(AuditLog.action == "user.login")).one()
    assert row.ip == seen


HTML_PAGES = ["/", "/login", "/signup", "/search?q=coal", "/no-such-page", "/password/forgot"]


@pytest.mark.parametrize("secure", [False, True])
def test_security_headers_on_every_html_response(app, tmp_path, db, secure):
    served = create_app(app_config(tmp_path, SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                                   SESSION_COOKIE_SECURE=secure))
    client = served.test_client()
    user = make_member()
    db.session.commit()
    responses = [client.get(path) for path in HTML_PAGES]
    login(client, user)
    responses += [client.get(path) for path in ("/company", "/company/profile", "/orders")]
    for response in responses:
        if response.mimetype != "text/html":
            continue
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp
        assert "'unsafe-inline'" not in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert ("Strict-Transport-Security" in response.headers) is secure
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])


def test_templates_have_no_inline_script_or_handlers():
    for path in (PROJECT_ROOT / "templates").rglob("*.html"):
        text = path.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag, f"{path}: inline <script>"
        assert not re.search(r"\son[a-z]+\s*=", text), f"{path}: inline event handler"
        assert not re.search(r"\sstyle\s*=", text), f"{path}: inline style attribute"
        assert "javascript:" not in text


def test_a_cookie_replayed_after_logout_is_refused(app, db):
    user = make_member()
    browser = app.test_client()
    login(browser, user)
    stolen = browser.get_cookie("session").value
    assert browser.get("/company").status_code == 200
    assert browser.post("/logout").status_code == 302
    attacker = app.test_client()
    attacker.set_cookie("session", stolen, domain="localhost")
    assert attacker.get("/company").status_code == 302  # to the sign-in page
    assert attacker.post("/company/profile", data={"name_en": "Hijacked"}).status_code in (302, 401, 403)
    db.session.expire_all()
    assert "Hijacked" not in str(db.session.get(type(user), user.id).memberships[0].company.name_en)


def test_a_password_change_revokes_other_sessions(app, db):
    user = make_member()
    other, this = app.test_client(), app.test_client()
    login(other, user)
    login(this, user)
    changed = this.post("/account/password", data={"current_password": PASSWORD, "password": "Taiyuan-Fen-river-77",
                                                   "password_confirm": "Taiyuan-Fen-river-77"})
    assert changed.status_code == 302, changed.get_data(as_text=True)[:300]
    assert this.get("/company").status_code == 200
    assert other.get("/company").status_code == 302


def test_readiness_needs_a_recent_worker_heartbeat(client, db):
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["worker"].startswith("error")
    assert response.get_json()["checks"]["database"] == "ok"
    heartbeat.beat(force=True)
    response = client.get("/readyz")
    assert response.status_code == 200, response.get_json()


def test_demo_links_follow_its_port(tmp_path: Path):
    """`jinshang demo --port 5101`: mail and notifications point at 5101, set before any demo data is made."""
    from market.demo import commands

    seen: list[str] = []

    class Stop(Exception):
        pass

    def fake_upgrade() -> None:
        from flask import current_app

        seen.append(current_app.config["PUBLIC_BASE_URL"])
        raise Stop

    demo_app = create_app(app_config(tmp_path, MODE="demo", PUBLIC_BASE_URL=""))
    original, commands.upgrade_database = commands.upgrade_database, fake_upgrade
    try:
        with demo_app.app_context(), pytest.raises(Stop):
            commands.demo_command.callback.__wrapped__(host="0.0.0.0", port=5101, workers=1)  # type: ignore[union-attr]  # noqa: S104
    finally:
        commands.upgrade_database = original
    assert seen == ["http://127.0.0.1:5101"]
