"""`jinshang backup` then `jinshang restore` brings back the database and the uploads (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from market.accounts.models import Company
from market.core.backup import backup_to, restore_from
from market.extensions import db
from tests.factories import make_company


def test_backup_and_restore_round_trip(app, tmp_path: Path) -> None:
    make_company("备份测试煤业有限公司")
    db.session.commit()
    upload = Path(app.config["UPLOAD_DIR"]) / "licences" / "kept.pdf"
    upload.parent.mkdir(parents=True, exist_ok=True)
    upload.write_bytes(b"%PDF-1.4 kept")
    target = backup_to(tmp_path / "backups")
    assert {p.name for p in target.iterdir()} >= {"manifest.json", "uploads.tar.gz"}

    make_company("备份之后的公司")  # changes after the backup ...
    db.session.commit()
    upload.write_bytes(b"changed")
    (upload.parent / "later.pdf").write_bytes(b"later")

    restore_from(target)  # ... are gone after the restore
    names = set(db.session.scalars(select(Company.name_zh)))
    assert names == {"备份测试煤业有限公司"}
    assert db.session.scalar(select(func.count(Company.id))) == 1
    assert upload.read_bytes() == b"%PDF-1.4 kept"
    assert not (upload.parent / "later.pdf").exists()
