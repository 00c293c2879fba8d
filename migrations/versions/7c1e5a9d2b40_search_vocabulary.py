"""search vocabulary: the trade's synonyms, units and preferences as data

Revision ID: 7c1e5a9d2b40
Revises: 7d1e5a9c3b20
Create Date: 2026-12-01 15:20:00

"""
import sqlalchemy as sa
from alembic import op

import market.core.timeutil

# revision identifiers, used by Alembic.
revision = '7c1e5a9d2b40'
down_revision = '7d1e5a9c3b20'
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table('search_vocabulary',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('term', sa.String(length=60), nullable=False),
    sa.Column('expansion', sa.String(length=400), nullable=False),
    sa.Column('spec_key', sa.String(length=40), nullable=False),
    sa.Column('mode', sa.String(length=8), nullable=False),
    sa.Column('low', sa.Float(), nullable=True),
    sa.Column('high', sa.Float(), nullable=True),
    sa.Column('tolerance', sa.Float(), nullable=True),
    sa.Column('label_zh', sa.String(length=40), nullable=False),
    sa.Column('label_en', sa.String(length=60), nullable=False),
    sa.Column('unit', sa.String(length=20), nullable=False),
    sa.Column('pinyin', sa.String(length=400), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('updated_at', market.core.timeutil.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_vocabulary'))
    )
    # The defaults (catalog/search/vocabulary.tsv), so a migrated site speaks the trade at once.
    from catalog.search.vocabulary import VocabularyEntry, pinyin_keys, read_defaults
    from market.core.timeutil import utcnow

    rows = []
    for values in read_defaults():
        entry = VocabularyEntry(**values)
        rows.append({**values, "pinyin": pinyin_keys(entry.members()) if entry.kind in ("synonym", "narrower")
                     else "", "enabled": True, "updated_at": utcnow()})
    op.bulk_insert(table, rows)


def downgrade():
    op.drop_table('search_vocabulary')
