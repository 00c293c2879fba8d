"""Money is integer minor units (fen) with a currency code. Never float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from market.core.errors import ValidationFailed

MAX_FEN = 10**15  # ¥10 trillion: far above any trade, far below BigInteger's limit


def yuan_to_fen(text: str | Decimal | int, *, field: str = "amount") -> int:
    """Parse a yuan amount such as "1,234.56" into fen exactly; more than 2 decimals is an error."""
    try:
        value = Decimal(str(text).replace(",", "").replace("¥", "").strip())
    except (InvalidOperation, ValueError):
        raise ValidationFailed("Not a valid amount", field_errors={field: "Not a valid amount"}) from None
    if not value.is_finite():
        raise ValidationFailed("Not a valid amount", field_errors={field: "Not a valid amount"})
    fen = value * 100
    if fen != fen.to_integral_value():
        raise ValidationFailed("At most two decimal places", field_errors={field: "At most two decimal places"})
    fen_int = int(fen)
    if abs(fen_int) > MAX_FEN:
        raise ValidationFailed("Amount too large", field_errors={field: "Amount too large"})
    return fen_int


def format_fen(fen: int | None, currency: str = "CNY") -> str:
    """``123456`` → ``¥1,234.56``."""
    if fen is None:
        return "—"
    symbol = {"CNY": "¥", "USD": "$", "EUR": "€"}.get(currency, currency + " ")
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{symbol}{whole:,}.{cents:02d}"


def round_half_up(value: Decimal) -> int:
    """Round a fen amount computed in Decimal to whole fen, halves away from zero (commercial rounding)."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))
