"""Uploaded files follow the transaction: kept on commit, deleted on rollback."""

from __future__ import annotations

from market.core.uploads import write_upload
from market.extensions import db


def test_a_file_written_in_a_rolled_back_transaction_is_removed(tmp_path):
    path = write_upload(tmp_path / "licences" / "a.png", b"\x89PNG data")
    assert path.read_bytes() == b"\x89PNG data"
    db.session.rollback()
    assert not path.exists()


def test_a_committed_file_stays_and_a_later_rollback_does_not_touch_it(tmp_path):
    path = write_upload(tmp_path / "b.pdf", b"%PDF-1.7")
    db.session.commit()
    db.session.rollback()
    assert path.exists()


def test_a_session_closed_without_commit_removes_its_files(tmp_path):
    path = write_upload(tmp_path / "c.jpg", b"\xff\xd8\xff")
    db.session.close()
    assert not path.exists()
