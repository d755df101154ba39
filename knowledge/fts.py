"""The SQLite FTS5 tables and their triggers (the embedded default), as migration 0002 creates
them. Django rebuilds a table on SQLite for many later schema changes (copy, drop, rename), and
the drop takes the table's triggers with it: `ensure_sqlite_index()` (run by the
knowledge_reindex command) puts back whatever is missing and rebuilds the FTS content.
"""

from django.db import connection

TABLES = {
    "knowledge_article_fts": (
        "knowledge_article",
        "id",
        ["search_title", "search_symptom", "search_body"],
    ),
    "knowledge_tickettext_fts": (
        "knowledge_tickettext",
        "ticket_id",
        ["search_problem", "search_work"],
    ),
}


def statements(fts):
    table, key, columns = TABLES[fts]
    names = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    delete = f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES ('delete', old.{key}, {old});"
    insert = f"INSERT INTO {fts}(rowid, {names}) VALUES (new.{key}, {new});"
    return {
        fts: f"CREATE VIRTUAL TABLE {fts} USING fts5({names}, content='{table}',"
        f" content_rowid='{key}', tokenize='unicode61 remove_diacritics 0')",
        f"{fts}_insert": f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN {insert} END",
        f"{fts}_delete": f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN {delete} END",
        f"{fts}_update": f"CREATE TRIGGER {fts}_update AFTER UPDATE ON {table}"
        f" BEGIN {delete} {insert} END",
    }


def ensure_sqlite_index():
    """Create the FTS tables and triggers that are missing, then rebuild; the names of those
    created (nothing on PostgreSQL)."""
    if connection.vendor != "sqlite":
        return []
    created = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")
        present = {name for (name,) in cursor.fetchall()}
        for fts in TABLES:
            for name, sql in statements(fts).items():
                if name not in present:
                    cursor.execute(sql)
                    created.append(name)
            cursor.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")
    return created
