"""The knowledge base's bench data (issue 12): 100,000 articles made from the corpus
(knowledge/data/corpus.json) with variations, and the search text (TicketText) of every
processed, closed or verified request of the bench data set, written set-based.

    ensure_knowledge(copier, log=print)   articles when there are none; texts of the processed
                                          requests that have none

Articles: a corpus article's text, on a random bench product line (one in 20 for every line),
with a model code and fault codes of its own in the title, a sentence of another article mixed
into the symptom, 90 % published (the rest drafts and archived), and feedback counters. They
are segmented by knowledge.search (the same code as the app), then COPYed.

Requests: each distinct description, problem type and work-done text is segmented once in
Python (the bench has few distinct texts), then one INSERT … SELECT joins them to the
requests; the GIN index is dropped during the load and built again after it.
"""

import itertools
import random
import time
from datetime import timedelta

ARTICLES = 100_000
SEED = 20261203
ARTICLE_COLUMNS = [
    "product_line_id",
    "title",
    "symptom",
    "cause",
    "solution",
    "parts",
    "tools",
    "tags",
    "state",
    "author_id",
    "version",
    "created_at",
    "updated_at",
    "published_at",
    "views",
    "uses",
    "helped",
    "failed",
    "search_title",
    "search_symptom",
    "search_body",
]
FILLERS = ["客户反映", "多台设备", "夏季高发", "安装后不久", "使用三年以上", "门店现场", "批量问题"]


def _articles(rng, now, lines, author_id):
    from knowledge import search
    from knowledge.corpus import corpus

    entries = corpus()["articles"]
    codes = sorted({code for line in corpus()["fault_codes"].values() for code, _m in line})
    for i in range(ARTICLES):
        entry = entries[rng.randrange(len(entries))]
        other = entries[rng.randrange(len(entries))]
        line = None if rng.random() < 0.05 else lines[rng.randrange(len(lines))]
        model = f"{rng.choice('ABCDKMRSWX')}{rng.choice('JKMPTX')}-{rng.randrange(50, 3000)}"
        faults = rng.sample(codes, rng.randrange(0, 3)) + entry["codes"]
        title = f"{entry['title']}（{model} {rng.choice(FILLERS)}）"
        symptom = f"{entry['symptom']}{other['symptom'][:20]}"
        roll = rng.random()
        state = "published" if roll < 0.9 else ("draft" if roll < 0.96 else "archived")
        feedback = rng.random() < 0.3
        helped = rng.randrange(0, 20) if feedback else 0
        failed = rng.randrange(0, 8) if feedback else 0
        created = now - timedelta(minutes=i)
        yield (
            line,
            title,
            symptom,
            entry["cause"],
            entry["solution"],
            entry["parts"],
            entry["tools"],
            entry["tags"],
            state,
            author_id,
            1,
            created,
            created,
            created if state == "published" else None,
            rng.randrange(0, 300),
            rng.randrange(0, 50),
            helped,
            failed,
            search.segment(" ".join([title, entry["tags"], *faults, model])),
            search.segment(symptom),
            search.segment(
                " ".join([entry["cause"], entry["solution"], entry["parts"], entry["tools"]])
            ),
        )


def ensure_articles(copier, log=print):
    from django.utils import timezone

    from aftersales.models import ProductLine, User
    from knowledge.corpus import load_synonyms
    from knowledge.models import Article

    if Article.objects.exists():
        return 0
    started = time.monotonic()
    load_synonyms()
    lines = list(ProductLine.objects.values_list("pk", flat=True))
    author = User.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True)[0]
    # Segmenting may read the vocabulary from the database: never while a COPY is under way
    # on the same connection, so each batch is made before it is written.
    rows = _articles(random.Random(SEED), timezone.now(), lines, author)
    count = 0
    while batch := list(itertools.islice(rows, 10_000)):
        count += copier.copy(Article, ARTICLE_COLUMNS, batch)
    log(f"  {count:,} knowledge articles in {time.monotonic() - started:.0f} s")
    return count


def ensure_ticket_texts(copier, log=print):
    """Texts for the processed, closed and verified requests that have none (all of them on a
    new database: then the GIN index is built after the load)."""
    from knowledge import search
    from knowledge.models import TicketText

    started = time.monotonic()
    empty = not TicketText.objects.exists()
    states = list(search.RESOLVED_STATES)
    missing = """
        t.state = ANY(%s)
        AND NOT EXISTS (SELECT 1 FROM knowledge_tickettext x WHERE x.ticket_id = t.id)
    """
    descriptions = copier.execute(
        f"SELECT DISTINCT t.description FROM tickets_ticket t WHERE {missing}", [states]
    )
    if not descriptions:
        return 0
    problems = copier.execute("SELECT id, name FROM tickets_problemtype")
    works = copier.execute("SELECT DISTINCT work_done FROM tickets_visit WHERE work_done <> ''")
    copier.execute("CREATE TEMP TABLE kb_text (kind text, key text, seg text)")
    if empty:
        copier.execute("DROP INDEX IF EXISTS tickettext_search_vector")
    rows = [("d", d, search.segment(d)) for (d,) in descriptions]
    rows += [("p", str(pk), search.segment(name)) for pk, name in problems]
    rows += [("w", w, search.segment(w)) for (w,) in works]
    with copier.pg.cursor() as cursor, cursor.copy("COPY kb_text FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    copier.execute(
        f"""
        INSERT INTO knowledge_tickettext
            (ticket_id, product_line_id, resolved_at, search_problem, search_work)
        SELECT t.id, m.line_id, COALESCE(t.processed_at, t.updated_at),
            concat_ws(' ', d.seg, p.seg), COALESCE(w.seg, '')
        FROM tickets_ticket t
        JOIN kb_text d ON d.kind = 'd' AND d.key = t.description
        LEFT JOIN kb_text p ON p.kind = 'p' AND p.key = t.problem_type_id::text
        LEFT JOIN customers_productmodel m ON m.id = t.product_id
        LEFT JOIN (
            SELECT v.ticket_id, string_agg(k.seg, ' ' ORDER BY v.id) AS seg
            FROM tickets_visit v JOIN kb_text k ON k.kind = 'w' AND k.key = v.work_done
            GROUP BY v.ticket_id
        ) w ON w.ticket_id = t.id
        WHERE {missing}
        """,
        [states],
    )
    if empty:
        btree_gin = copier.execute("SELECT 1 FROM pg_extension WHERE extname = 'btree_gin'")
        columns = "product_line_id, search_vector" if btree_gin else "search_vector"
        copier.execute(
            f"CREATE INDEX tickettext_search_vector ON knowledge_tickettext USING gin ({columns})"
        )
    copier.execute("DROP TABLE kb_text")
    copier.pg.commit()
    count = TicketText.objects.count()
    log(
        f"  {count:,} request texts ({'new' if empty else 'completed'}) in "
        f"{time.monotonic() - started:.0f} s"
    )
    return count


def ensure_knowledge(copier, log=print):
    articles = ensure_articles(copier, log=log)
    texts = ensure_ticket_texts(copier, log=log)
    if articles or texts:
        autocommit = copier.pg.autocommit
        copier.pg.autocommit = True
        copier.execute("VACUUM ANALYZE knowledge_article")
        copier.execute("VACUUM ANALYZE knowledge_tickettext")
        copier.pg.autocommit = autocommit
    return {"articles": articles, "ticket_texts": texts}
