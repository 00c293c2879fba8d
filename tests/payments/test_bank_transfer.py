"""Bank transfer: payment codes, statement import and matching, the unmatched queue, instruction files."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from market.core.errors import InvalidTransition, ValidationFailed
from market.extensions import db
from payments import escrow as E
from payments import ledger
from payments.models import Payout
from payments.payouts import set_bank_account
from payments.providers.bank_transfer import check_character, find_pay_code, make_pay_code
from payments.statements import StatementLine, assign_line, import_statement, instruction_file, unmatched_lines
from tests.factories import make_escrow
from tests.payments.conftest import assert_ledger_ok, run_jobs

HEADER = "transaction_id,value_date,direction,amount,currency,counterparty_name,counterparty_account,memo\n"


def statement(*lines: str) -> str:
    return HEADER + "\n".join(lines) + "\n"


def test_pay_code_check_character_catches_typos():
    code = make_pay_code(1234)
    assert code.startswith("JS00001234")
    assert len(code) == 11
    assert find_pay_code(f"货款 {code.lower()} 谢谢") == code
    assert find_pay_code(f"JS-0000-1234-{code[-1]}".replace("-0000-1234-", "00001234")) == code
    digits = code[2:10]
    for i in range(8):  # every single-digit error is detected
        for d in "0123456789":
            if d != digits[i]:
                wrong = digits[:i] + d + digits[i + 1:]
                assert check_character(wrong) != code[-1]
    swapped = digits[:6] + digits[7] + digits[6]
    assert swapped == digits or check_character(swapped) != code[-1]


def test_match_by_code_then_by_amount_partial_and_over_payments(app):
    by_code = make_escrow(1_000_000, reference="B-1")
    by_amount = make_escrow(333_333, reference="B-2")
    over = make_escrow(100_000, reference="B-3")
    set_bank_account(by_amount.payer_id, account_name="乙公司", account_no="62220020", bank_name="工行")
    counts = import_statement(statement(
        f"T1,2025-03-01,CR,\"4,000.00\",CNY,甲公司,6222001,货款{by_code.pay_code}",
        f"T2,2025-03-02,贷,6000.00,人民币,甲公司,6222001,{by_code.pay_code} 余款",
        "T3,2025-03-02,CR,3333.33,CNY,乙公司,62220020,合同款",
        f"T4,2025-03-03,CR,1500.00,CNY,丙公司,6222003,{over.pay_code}",
        "T5,2025-03-03,CR,77.00,CNY,不明,6222999,无附言",
    ))
    assert counts == {"matched": 4, "unmatched": 1, "duplicate": 0, "already_imported": 0}
    assert (by_code.status, by_code.funded_fen) == ("funded", 1_000_000)
    assert by_amount.status == "funded"
    assert over.overpaid_fen == 50_000
    assert [line.transaction_id for line in unmatched_lines()] == ["T5"]
    assert ledger.held_balance(ledger.find_account("suspense", "CNY")) == 7_700
    # importing the same statement again posts nothing
    again = import_statement(statement(f"T1,2025-03-01,CR,4000.00,CNY,甲公司,6222001,货款{by_code.pay_code}"))
    assert again == {"matched": 0, "unmatched": 0, "duplicate": 0, "already_imported": 1}
    assert_ledger_ok()


def test_a_line_without_code_from_an_unregistered_account_waits_for_the_operator(app):
    """Issue #10: the amount alone never decides whose payment it is."""
    escrow = make_escrow(50_000, reference="W-1")
    import_statement(statement("W1,2025-03-01,CR,500.00,CNY,冒名公司,6222999000,payment"))
    assert escrow.funded_fen == 0
    assert [(line.transaction_id, line.reason) for line in unmatched_lines()] == [("W1", "no_code")]
    set_bank_account(escrow.payer_id, account_name="真公司", account_no="6222000111", bank_name="工行")
    import_statement(statement("W2,2025-03-01,CR,500.00,CNY,真公司,6222000111,payment"))
    assert escrow.funded_fen == 50_000
    assert_ledger_ok()


def test_ambiguous_amount_goes_to_the_queue_and_operator_assigns_it(app):
    a = make_escrow(50_000, reference="A-1")
    make_escrow(50_000, reference="A-2")
    import_statement(statement("U1,2025-03-01,CR,500.00,CNY,丁公司,6222004,payment"))
    (line,) = unmatched_lines()
    assign_line(line.id, "A-1")
    assert a.status == "funded"
    assert ledger.held_balance(ledger.find_account("suspense", "CNY")) == 0
    assert db.session.get(StatementLine, line.id).status == "assigned"
    assert_ledger_ok()


@pytest.mark.parametrize("bad_line", [
    "X1,2025-03-01,CR,12.345,CNY,a,b,c",  # three decimals
    "X1,2025-03-01,CR,-5.00,CNY,a,b,c",  # negative
    "X1,2025-03-01,XX,5.00,CNY,a,b,c",  # direction
    "X1,2025-13-01,CR,5.00,CNY,a,b,c",  # date
    "X1,2025-03-01,CR,5.00,BTC,a,b,c",  # currency
    ",2025-03-01,CR,5.00,CNY,a,b,c",  # no id
    "X1,2025-03-01,CR,1e3,CNY,a,b,c",  # exponent (finding 9)
    "X1,2025-03-01,CR,¥1000.00,CNY,a,b,c",  # currency sign (finding 9)
    "OK1,2025-03-01,CR,9.00,CNY,a,b,c",  # repeats a transaction id
    "X1,,CR,5.00,CNY,a,b,c",  # unknown date
    "X1,01/03/2025,CR,5.00,CNY,a,b,c",  # not ISO
])
def test_a_bad_line_rejects_the_whole_import(app, bad_line):
    escrow = make_escrow(500)
    with pytest.raises(ValidationFailed):
        import_statement(statement(f"OK1,2025-03-01,CR,5.00,CNY,a,b,{escrow.pay_code}", bad_line))
    assert db.session.scalar(select(StatementLine.id)) is None
    assert escrow.funded_fen == 0


def test_instruction_file_and_debit_lines_confirm_payouts(app):
    escrow = make_escrow(1_000_000, reference="I-1")
    import_statement(statement(f"C1,2025-03-01,CR,10000.00,CNY,太原铸造厂,6217000011112222,{escrow.pay_code}"))
    set_bank_account(escrow.payee_id, account_name="大同煤业", account_no="6222 0200 0000 1234", bank_name="工行大同")
    E.release(escrow, 800_000, milestone_ref="lot-1")
    E.refund(escrow, 200_000, refund_ref="short")
    db.session.commit()
    run_jobs()
    csv_text = instruction_file()
    payout, refund = db.session.scalars(select(Payout).order_by(Payout.id)).all()
    assert f"{payout.code},payout,{escrow.payee_id},大同煤业,6222020000001234,工行大同,7960.00,CNY" in csv_text
    assert f"{refund.code},refund,{escrow.payer_id},太原铸造厂,6217000011112222,,2000.00,CNY" in csv_text
    import_statement(statement(f"D1,2025-03-02,DR,7960.00,CNY,大同煤业,6222020000001234,{payout.code}",
                               f"D2,2025-03-02,DR,2000.00,CNY,太原铸造厂,6217000011112222,退款{refund.code}"))
    assert (payout.status, refund.status) == ("paid", "paid")
    assert instruction_file().count("\n") == 1  # only the header remains
    assert_ledger_ok()


def test_bank_account_validation(app):
    with pytest.raises(ValidationFailed) as info:
        set_bank_account(1, account_name="", account_no="12ab", bank_name="")
    assert set(info.value.field_errors) == {"account_name", "account_no", "bank_name"}


def test_statement_errors_name_the_line_and_column(app):
    with pytest.raises(ValidationFailed) as info:
        import_statement(statement("OK1,2025-03-01,CR,5.00,CNY,a,b,c", "X2,2025-03-01,CR,1e3,CNY,a,b,c"))
    assert info.value.detail == {"line": 3}
    assert list(info.value.field_errors) == ["amount (3)"]
    # a huge amount is "too large", not "at most two decimals" (finding 9)
    with pytest.raises(ValidationFailed) as info:
        import_statement(statement('X3,2025-03-01,CR,"99,999,999,999,999.99",CNY,a,b,c'))
    assert "too large" in info.value.message


def _paid_payout():
    escrow = make_escrow(1_000_000, reference="D-1")
    import_statement(statement(f"C1,2025-03-01,CR,10000.00,CNY,太原铸造厂,6217000011112222,{escrow.pay_code}"))
    set_bank_account(escrow.payee_id, account_name="大同煤业", account_no="6222 0200 0000 1234", bank_name="工行大同")
    E.release(escrow, 1_000_000, milestone_ref="lot-1")
    db.session.commit()
    run_jobs()
    payout = db.session.scalars(select(Payout)).one()
    import_statement(statement(f"D1,2025-03-02,DR,{payout.amount_fen / 100:.2f},CNY,大同煤业,6222020000001234,"
                               f"{payout.code}"))
    assert payout.status == "paid"
    return payout


def test_finding_2_a_second_debit_for_a_paid_payout_is_a_named_duplicate_in_suspense(app):
    payout = _paid_payout()
    counts = import_statement(statement(f"D2,2025-03-03,DR,{payout.amount_fen / 100:.2f},CNY,大同煤业,"
                                        f"6222020000001234,{payout.code}"))
    assert counts["duplicate"] == 1
    first = db.session.scalar(select(StatementLine).where(StatementLine.transaction_id == "D1"))
    second = db.session.scalar(select(StatementLine).where(StatementLine.transaction_id == "D2"))
    assert (second.status, second.duplicate_of_id, second.reason) == ("duplicate", first.id, "payout_already_paid")
    assert ledger.find_entry("bank_transfer", "line:D2") is not None  # booked: money really left twice
    assert ledger.held_balance(ledger.find_account("suspense", "CNY")) == -payout.amount_fen
    assert second in unmatched_lines()
    assert_ledger_ok()


def test_finding_7_suspense_lines_can_be_cleared(app):
    from payments.statements import book_fee, return_line, write_off

    escrow = make_escrow(100_000)
    import_statement(statement(
        "F1,2025-03-01,DR,15.00,CNY,建设银行,,手续费",
        f"F2,2025-03-01,DR,1234.56,CNY,某公司,62220001,JSP{99999999:08d}",
        "F3,2025-03-01,CR,888.00,CNY,不明公司,6222000333,无附言",
        "F4,2025-03-01,CR,10.00,CNY,不明,,无附言",
    ))
    lines = {line.transaction_id: line for line in unmatched_lines()}
    assert set(lines) == {"F1", "F2", "F3", "F4"}
    with pytest.raises(InvalidTransition):
        book_fee(lines["F3"].id)  # a credit is no fee
    book_fee(lines["F1"].id)
    with pytest.raises(ValidationFailed):
        write_off(lines["F2"].id, "short")
    write_off(lines["F2"].id, "bank error, reversed by the bank on 3 March")
    with pytest.raises(ValidationFailed):
        return_line(lines["F4"].id)  # no sender account to send it back to
    returned = return_line(lines["F3"].id)
    with pytest.raises(ValidationFailed):
        assign_line(lines["F4"].id, "")
    assign_line(lines["F4"].id, escrow.reference)
    assert unmatched_lines() == []
    assert ledger.held_balance(ledger.find_account("suspense", "CNY")) == 0
    assert ledger.held_balance(ledger.find_account("bank_fees", "CNY")) == 1_500
    assert ledger.held_balance(ledger.find_account("write_off", "CNY")) == 123_456
    db.session.commit()
    run_jobs()
    assert (returned.status, returned.dest_account) == ("sent", "6222000333")
    assert f"{returned.code},return,,不明公司,6222000333,,888.00,CNY" in instruction_file()
    import_statement(statement(f"R1,2025-03-04,DR,888.00,CNY,不明公司,6222000333,退回{returned.code}"))
    assert returned.status == "paid"
    assert_ledger_ok()


def test_assigning_to_a_closed_escrow_is_refused(app):
    escrow = make_escrow(10_000)
    import_statement(statement(f"K1,2025-03-01,CR,100.00,CNY,甲,62220001,{escrow.pay_code}"))
    E.refund(escrow, 10_000, refund_ref="all")
    import_statement(statement(f"K2,2025-03-02,CR,100.00,CNY,甲,62220001,{escrow.pay_code}"))
    (line,) = unmatched_lines()
    assert line.reason == "closed_escrow"
    with pytest.raises(ValidationFailed) as info:
        assign_line(line.id, escrow.reference)
    assert "reference" in info.value.field_errors
    assert_ledger_ok()


def test_finding_5_no_payout_without_an_account_and_a_changed_account_holds_payouts(app):
    from datetime import timedelta

    from market.core.timeutil import utcnow
    from payments.models import PayeeAccount

    escrow = make_escrow(1_000_000)
    import_statement(statement(f"P1,2025-03-01,CR,10000.00,CNY,甲,62220001,{escrow.pay_code}"))
    E.release(escrow, 500_000, milestone_ref="lot-1")
    db.session.commit()
    run_jobs()
    payout = db.session.scalars(select(Payout)).one()
    assert (payout.status, payout.last_error) == ("pending", "waiting_for_account")
    assert instruction_file().count("\n") == 1
    set_bank_account(escrow.payee_id, account_name="大同煤业", account_no="62220200001234", bank_name="工行")
    db.session.commit()
    run_jobs()
    assert (payout.status, payout.dest_account) == ("sent", "62220200001234")
    # a changed account: the next payout waits 24 hours
    set_bank_account(escrow.payee_id, account_name="别的公司", account_no="99990000111122", bank_name="农行")
    E.release(escrow, 500_000, milestone_ref="lot-2")
    db.session.commit()
    run_jobs()
    second = db.session.scalars(select(Payout).order_by(Payout.id.desc())).first()
    assert second.status == "pending"
    account = db.session.scalar(select(PayeeAccount).where(PayeeAccount.company_id == escrow.payee_id))
    account.hold_until = utcnow() - timedelta(seconds=1)  # the day has passed
    from market.core.jobs import Job
    for job in db.session.scalars(select(Job).where(Job.status == "queued")):
        job.run_after = utcnow() - timedelta(seconds=1)
    db.session.commit()
    run_jobs()
    assert (second.status, second.dest_account) == ("sent", "99990000111122")
    assert_ledger_ok()
