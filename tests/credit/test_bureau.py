"""The HTTP bureau adapter against a real loopback server: success, 404, retries, timeouts, 5xx,
dropped connections and malformed answers (each either a clean report or ProviderUnavailable)."""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime

import pytest

from market.credit.providers.bureau import BureauProvider
from market.credit.report import CompanyRef, ProviderUnavailable
from tests.credit.bureau_double import BureauDouble, report_body

NOW = datetime(2026, 3, 1, tzinfo=UTC)
USCC = "91140200MA0L12345X"
REF = CompanyRef(id=1, uscc=USCC, verification_level=1, created_at=NOW)


def provider(url: str, **kwargs) -> BureauProvider:
    options = {"timeout": 0.3, "retries": 2, "backoff": 0.01, **kwargs}
    return BureauProvider(url, **options)


@pytest.fixture
def bureau():
    with BureauDouble() as double:
        yield double


def test_a_good_answer_becomes_a_report(bureau):
    bureau.script = [("json", 200, report_body(USCC, 72, grade="AAA"))]
    report = provider(bureau.url, token="secret-token").report(REF, NOW)
    assert report.score == 72
    assert report.grade == "A"
    assert report.source == "bureau"
    assert report.as_of == datetime(2026, 2, 27, 1, 0, tzinfo=UTC)
    assert report.factors[0].code == "bureau:court_records"
    assert bureau.requests[0]["path"] == f"/v1/companies/{USCC}/credit-report"
    assert bureau.requests[0]["authorization"] == "Bearer secret-token"


def test_no_file_at_the_bureau_is_not_yet_rated(bureau):
    bureau.script = [("json", 404, {"error": "not found"})]
    report = provider(bureau.url).report(REF, NOW)
    assert report.score is None
    assert report.grade is None


def test_a_null_score_is_not_yet_rated(bureau):
    bureau.script = [("json", 200, report_body(USCC, None))]
    assert provider(bureau.url).report(REF, NOW).score is None


def test_5xx_is_retried_then_succeeds(bureau):
    bureau.script = [("json", 503, {}), ("json", 502, {}), ("json", 200, report_body(USCC, 64))]
    assert provider(bureau.url).report(REF, NOW).score == 64
    assert len(bureau.requests) == 3


def test_persistent_5xx_is_unavailable_after_the_retries(bureau):
    bureau.script = [("json", 500, {"error": "boom"})]
    with pytest.raises(ProviderUnavailable, match="HTTP 500"):
        provider(bureau.url, retries=2).report(REF, NOW)
    assert len(bureau.requests) == 3  # one attempt + two retries


def test_a_slow_bureau_times_out(bureau):
    bureau.script = [("sleep", 1.0, report_body(USCC, 80))]
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable, match="timed out"):
        provider(bureau.url, timeout=0.2, retries=1).report(REF, NOW)
    assert time.monotonic() - started < 1.5  # two attempts of 0.2 s, not two full answers
    assert len(bureau.requests) == 2


def test_a_timeout_then_an_answer_is_retried(bureau):
    bureau.script = [("sleep", 0.6, report_body(USCC, 80)), ("json", 200, report_body(USCC, 81))]
    assert provider(bureau.url, timeout=0.2).report(REF, NOW).score == 81


def test_a_dropped_connection_is_unavailable(bureau):
    bureau.script = [("close",)]
    with pytest.raises(ProviderUnavailable, match="connection failed"):
        provider(bureau.url, retries=1).report(REF, NOW)


def test_nobody_listening_is_unavailable():
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens on it now
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ProviderUnavailable):
        provider(f"http://127.0.0.1:{port}", retries=0).report(REF, NOW)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"<html>Service Unavailable</html>", "not JSON"),
        (b"[1, 2, 3]", "not an object"),
        (b'{"uscc": "91140200MA0L99999X", "score": 70, "as_of": "2026-02-27T09:00:00+08:00"}', "another company"),
        (b'{"uscc": "91140200MA0L12345X", "score": 170, "as_of": "2026-02-27T09:00:00+08:00"}', "0-100"),
        (b'{"uscc": "91140200MA0L12345X", "score": "70", "as_of": "2026-02-27T09:00:00+08:00"}', "0-100"),
        (b'{"uscc": "91140200MA0L12345X", "score": 70.5, "as_of": "2026-02-27T09:00:00+08:00"}', "0-100"),
        (b'{"uscc": "91140200MA0L12345X", "score": true, "as_of": "2026-02-27T09:00:00+08:00"}', "0-100"),
        (b'{"uscc": "91140200MA0L12345X", "score": 70, "as_of": "yesterday"}', "ISO 8601"),
        (b'{"uscc": "91140200MA0L12345X", "score": 70, "as_of": "2026-02-27T09:00:00"}', "time zone"),
        (b'{"uscc": "91140200MA0L12345X", "score": 70, "as_of": "2026-02-27T09:00:00Z", "factors": "x"}',
         "factors"),
        (b'{"uscc": "91140200MA0L12345X", "score": 70, "as_of": "2026-02-27T09:00:00Z", "factors": [{"code": 1}]}',
         "no code"),
        (b'{"uscc": "91140200MA0L12345X", "score": 70, "as_of": "2026-02-27T09:00:00Z", '
         b'"factors": [{"code": "x", "points": NaN}]}', "not a number"),
        (b'{"uscc": "91140200MA0L12345X", "score": 7', "not JSON"),
    ],
)
def test_malformed_answers_are_unavailable_not_guessed(bureau, body, problem):
    bureau.script = [("raw", 200, body)]
    with pytest.raises(ProviderUnavailable, match=problem):
        provider(bureau.url).report(REF, NOW)
    assert len(bureau.requests) == 1  # a malformed answer is not retried


def test_a_client_error_is_unavailable_without_retry(bureau):
    bureau.script = [("json", 401, {"error": "bad token"})]
    with pytest.raises(ProviderUnavailable, match="401"):
        provider(bureau.url).report(REF, NOW)
    assert len(bureau.requests) == 1


def test_configuration_is_required():
    with pytest.raises(ValueError, match="CREDIT_BUREAU_URL"):
        BureauProvider.from_config({"CREDIT_BUREAU_URL": ""})
    configured = BureauProvider.from_config({"CREDIT_BUREAU_URL": "http://127.0.0.1:9/", "CREDIT_BUREAU_TIMEOUT": "1.5",
                                             "CREDIT_BUREAU_RETRIES": "4"})
    assert (configured.base_url, configured.timeout, configured.retries) == ("http://127.0.0.1:9", 1.5, 4)
