"""Signals the escrow services send (blinker, which Flask ships). Sender is always the :class:`Escrow`.

Receivers run inside the same transaction as the change: they may write (and their writes commit or
roll back with it) but must not commit. See ``payments/escrow.py`` for the keyword arguments.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

escrow_payment_received = _signals.signal("escrow-payment-received")
escrow_funded = _signals.signal("escrow-funded")
escrow_released = _signals.signal("escrow-released")
escrow_refunded = _signals.signal("escrow-refunded")
escrow_frozen = _signals.signal("escrow-frozen")
