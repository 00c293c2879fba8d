"""Bank transfer: payment codes, statement import and matching, the unmatched queue, instruction files."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from market.core.errors import ValidationFailed
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
    counts = import_statement(statement(
        f"T1,2025-03-01,CR,\"4,000.00\",CNY,甲公司,6222001,货款{by_code.pay_code}",
        f"T2,2025-03-02,贷,6000.00,人民币,甲公司,6222001,{by_code.pay_code} 余款",
        "T3,2025-03-02,CR,3333.33,CNY,乙公司,6222002,合同款",
        f"T4,2025-03-03,CR,1500.00,CNY,丙公司,6222003,{over.pay_code}",
        "T5,2025-03-03,CR,77.00,CNY,不明,6222999,无附言",
    ))
    assert counts == {"matched": 4, "unmatched": 1, "duplicate": 0}
    assert (by_code.status, by_code.funded_fen) == ("funded", 1_000_000)
    assert by_amount.status == "funded"
    assert over.overpaid_fen == 50_000
    assert [line.transaction_id for line in unmatched_lines()] == ["T5"]
    assert ledger.held_balance(ledger.find_account("suspense", "CNY")) == 7_700
    # importing the same statement again posts nothing
    again = import_statement(statement(f"T1,2025-03-01,CR,4000.00,CNY,甲公司,6222001,货款{by_code.pay_code}"))
    assert again == {"matched": 0, "unmatched": 0, "duplicate": 1}
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
