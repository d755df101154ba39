"""The full-text indexes over the segmented search_* columns (knowledge.search).

PostgreSQL: a STORED generated tsvector column per table (`simple` configuration: the text is
segmented already) with a GIN index, and the articles' title alone in another (the title
matches are the first candidates); request texts get GIN(product_line_id, search_vector)
when the btree_gin extension can be created, else GIN(search_vector) and a line index.
Request texts also get btree indexes on (line, resolved_at) and (resolved_at): similar requests
are looked for among the newest first (knowledge.search._ticket_rows_pg).
SQLite: FTS5 tables with external content on the token columns, kept by triggers.
Other databases get nothing (search supports these two).
"""

from django.db import migrations

ARTICLE_VECTOR = """
ALTER TABLE knowledge_article ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple', search_title), 'A')
    || setweight(to_tsvector('simple', search_symptom), 'B')
    || setweight(to_tsvector('simple', search_body), 'C')
) STORED;
CREATE INDEX article_search_vector ON knowledge_article USING gin (search_vector);
ALTER TABLE knowledge_article ADD COLUMN search_title_vector tsvector GENERATED ALWAYS AS (
    to_tsvector('simple', search_title)
) STORED;
CREATE INDEX article_search_title_vector ON knowledge_article USING gin (search_title_vector);
"""

TICKET_VECTOR = """
ALTER TABLE knowledge_tickettext ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple', search_problem), 'A')
    || setweight(to_tsvector('simple', search_work), 'B')
) STORED;
CREATE INDEX tickettext_line_resolved ON knowledge_tickettext (product_line_id, resolved_at DESC);
CREATE INDEX tickettext_resolved ON knowledge_tickettext (resolved_at DESC);
"""

SQLITE = [
    """CREATE VIRTUAL TABLE knowledge_article_fts USING fts5(
        search_title, search_symptom, search_body,
        content='knowledge_article', content_rowid='id', tokenize='unicode61 remove_diacritics 0'
    )""",
    """CREATE TRIGGER knowledge_article_fts_insert AFTER INSERT ON knowledge_article BEGIN
        INSERT INTO knowledge_article_fts(rowid, search_title, search_symptom, search_body)
        VALUES (new.id, new.search_title, new.search_symptom, new.search_body);
    END""",
    """CREATE TRIGGER knowledge_article_fts_delete AFTER DELETE ON knowledge_article BEGIN
        INSERT INTO knowledge_article_fts(
            knowledge_article_fts, rowid, search_title, search_symptom, search_body
        ) VALUES ('delete', old.id, old.search_title, old.search_symptom, old.search_body);
    END""",
    """CREATE TRIGGER knowledge_article_fts_update AFTER UPDATE OF
        search_title, search_symptom, search_body ON knowledge_article BEGIN
        INSERT INTO knowledge_article_fts(
            knowledge_article_fts, rowid, search_title, search_symptom, search_body
        ) VALUES ('delete', old.id, old.search_title, old.search_symptom, old.search_body);
        INSERT INTO knowledge_article_fts(rowid, search_title, search_symptom, search_body)
        VALUES (new.id, new.search_title, new.search_symptom, new.search_body);
    END""",
    """CREATE VIRTUAL TABLE knowledge_tickettext_fts USING fts5(
        search_problem, search_work,
        content='knowledge_tickettext', content_rowid='ticket_id',
        tokenize='unicode61 remove_diacritics 0'
    )""",
    """CREATE TRIGGER knowledge_tickettext_fts_insert AFTER INSERT ON knowledge_tickettext BEGIN
        INSERT INTO knowledge_tickettext_fts(rowid, search_problem, search_work)
        VALUES (new.ticket_id, new.search_problem, new.search_work);
    END""",
    """CREATE TRIGGER knowledge_tickettext_fts_delete AFTER DELETE ON knowledge_tickettext BEGIN
        INSERT INTO knowledge_tickettext_fts(
            knowledge_tickettext_fts, rowid, search_problem, search_work
        ) VALUES ('delete', old.ticket_id, old.search_problem, old.search_work);
    END""",
    """CREATE TRIGGER knowledge_tickettext_fts_update AFTER UPDATE ON knowledge_tickettext BEGIN
        INSERT INTO knowledge_tickettext_fts(
            knowledge_tickettext_fts, rowid, search_problem, search_work
        ) VALUES ('delete', old.ticket_id, old.search_problem, old.search_work);
        INSERT INTO knowledge_tickettext_fts(rowid, search_problem, search_work)
        VALUES (new.ticket_id, new.search_problem, new.search_work);
    END""",
    # Rows that exist already (none on a fresh database).
    "INSERT INTO knowledge_article_fts(knowledge_article_fts) VALUES ('rebuild')",
    "INSERT INTO knowledge_tickettext_fts(knowledge_tickettext_fts) VALUES ('rebuild')",
]

SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS knowledge_article_fts_insert",
    "DROP TRIGGER IF EXISTS knowledge_article_fts_delete",
    "DROP TRIGGER IF EXISTS knowledge_article_fts_update",
    "DROP TRIGGER IF EXISTS knowledge_tickettext_fts_insert",
    "DROP TRIGGER IF EXISTS knowledge_tickettext_fts_delete",
    "DROP TRIGGER IF EXISTS knowledge_tickettext_fts_update",
    "DROP TABLE IF EXISTS knowledge_article_fts",
    "DROP TABLE IF EXISTS knowledge_tickettext_fts",
]


def _has_btree_gin(schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'btree_gin'")
        if cursor.fetchone() is None:
            return False
        try:
            with schema_editor.connection.cursor() as inner:
                inner.execute("SAVEPOINT btree_gin")
                inner.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
                inner.execute("RELEASE SAVEPOINT btree_gin")
        except Exception:  # noqa: BLE001 - no right to create it: the plain index instead
            with schema_editor.connection.cursor() as inner:
                inner.execute("ROLLBACK TO SAVEPOINT btree_gin")
            return False
    return True


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(ARTICLE_VECTOR)
        schema_editor.execute(TICKET_VECTOR)
        if _has_btree_gin(schema_editor):
            schema_editor.execute(
                "CREATE INDEX tickettext_search_vector ON knowledge_tickettext"
                " USING gin (product_line_id, search_vector)"
            )
        else:
            schema_editor.execute(
                "CREATE INDEX tickettext_search_vector ON knowledge_tickettext"
                " USING gin (search_vector)"
            )
    elif vendor == "sqlite":
        for statement in SQLITE:
            schema_editor.execute(statement)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("ALTER TABLE knowledge_article DROP COLUMN search_vector")
        schema_editor.execute("ALTER TABLE knowledge_article DROP COLUMN search_title_vector")
        schema_editor.execute("ALTER TABLE knowledge_tickettext DROP COLUMN search_vector")
    elif vendor == "sqlite":
        for statement in SQLITE_DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
