"""Finding articles and similar resolved requests, in Chinese (SPEC §4 knowledge/).

    normalise_code(text) -> str             "e-1", "E 1", "Ｅ１" -> "E1"
    index(article)                          fills article.search_* in memory (the caller saves)
    index_ticket(ticket)                    writes the processed request's TicketText row
    search(query, *, product_line=None, states=(State.PUBLISHED,), limit=10) -> [ArticleHit]
    similar_tickets(text, *, product_line=None, exclude=None, limit=5) -> [TicketHit]

Hits carry HTML snippets (escaped text, matched words in <mark>), safe to render as they are.

How the text becomes words
    NFKC (full-width → half-width), lower case, then codes glued: `E-1`, `E 1`, `Ｅ１` → `e1`,
    `KJ-200`, `KJ 200` → `kj200` (`kj` too, in documents). rjieba segments the rest, with the
    product's vocabulary (model codes and names, fault codes, part names, the synonym list) in
    its dictionary: documents in search mode (`净水器` gives `净水`, `水器`, `净水器`), queries in
    normal mode. Punctuation and function words (的, 了, 吗 …) are dropped.

The query
    Every query word is a group of alternatives: itself, its search-mode parts (`净水器` also
    matches `净水 & 水器`, so words added to the dictionary later still find older documents),
    and the words of its synonym group (渗水 → 漏水 and back) with theirs. Groups are ANDed;
    when that finds fewer than `limit`, the groups are ORed (those matches rank below, by how
    many groups they match).

Where
    PostgreSQL (one query each; migration 0002): generated tsvector columns (`simple`; title
    A / symptom B / body C, and the title alone; problem A / work B for requests) with GIN
    indexes. Candidates come in bounded stages, each run only when the ones before found
    fewer than `limit`, so that a common word among 100,000 articles or a million requests
    costs a bounded amount of work: articles whose title holds every word, then any column,
    then any word; requests among the line's newest TICKET_WINDOW first (btree on line and
    resolved_at), then the GIN index (which then has few matches). They are ranked by
    ts_rank_cd (A 1, B 0.5, C 0.2), + 1 when the title holds every word.
    SQLite: FTS5 tables over the same columns (bm25 weights 10/4/1), kept by triggers
    (knowledge.fts), + 5 when the title holds every word, + 3 for the words as typed.
    Either way an article with ≥ 3 feedbacks has its score multiplied by
    1 + 0.5 × (success rate − 0.5).
"""

import re
import time
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime

import rjieba
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .models import Article, State, TicketText

# Articles with at least this many feedbacks have their rank lifted (or lowered) by their
# success rate: score × (1 + FEEDBACK_WEIGHT × (rate − 0.5)).
FEEDBACK_MIN = 3
FEEDBACK_WEIGHT = 0.5
# The query's first characters and words that count.
MAX_QUERY_CHARS = 200
MAX_QUERY_WORDS = 12
# At most this many candidates per stage are ranked (PostgreSQL; a stage's candidates are the
# first its index gives, not its best: the title stage keeps title matches among them).
TICKET_CANDIDATES = 200
# Similar requests are looked for first among the line's newest this many (knowledge.search
# _ticket_rows_pg).
TICKET_WINDOW = 2000
ARTICLE_CANDIDATES = 100
SNIPPET_CHARS = 120

# The vocabulary version (bumped by knowledge.signals when models, fault codes, synonyms or
# repair templates change) is read from the cache at most every VOCABULARY_CHECK seconds.
VOCABULARY_KEY = "knowledge:vocabulary-version"
VOCABULARY_CHECK = 30

# Function words and what callers say around the problem, dropped from text and queries.
_STOP_TEXT = """
的 了 是 在 有 和 与 或 也 都 就 很 又 还 把 被 给 让 说 吗 呢 啊 吧 呀 哦 嘛 么 个 一 我 你 他
她 它 们 我们 这 那 这个 那个 会 要 能 到 着 过 等 请 麻烦 一下 一直 总是 老是 时候 现在 今天
昨天 客户 用户 反映 反馈 说是 出现 发现 情况 问题 怎么 怎么办 什么 为什么 如何 处理 了吗
不 没 没有 已经 但是 然后 就是 还是 有点 有些 比较 非常 特别 突然 经常 之后 以后 后
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())

_CODE = re.compile(r"(?<![a-z0-9])([a-z]{1,4})[\s\-_]*(\d{1,6}[a-z]{0,3})(?![a-z0-9])")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_NOT_WORD = re.compile(r"[^\w.]+|_")
_HAN_RUN = re.compile(r"[\u3400-\u9fff]{2,}")
_ASCII_PARTS = re.compile(r"[a-z]+|\d+(?:\.\d+)?")


@dataclass
class ArticleHit:
    article: Article
    score: float
    title_html: SafeString
    snippet_html: SafeString


@dataclass
class TicketHit:
    ticket_id: int
    score: float
    snippet_html: SafeString
    number: str = ""
    resolved_at: datetime | None = None


# --- Normalisation and segmentation --------------------------------------------------------------


def normalise_code(text):
    text = unicodedata.normalize("NFKC", text or "")
    return re.sub(r"[\s\-_]+", "", text).upper()


def _prepare(text):
    """NFKC, lower case, and codes glued together (`E - 1` → `e1`, `KJ-200` → `kj200`)."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    return _CODE.sub(r"\1\2", text)


def _clean(token):
    token = _NOT_WORD.sub("", token).strip(".")
    if not token or token in STOP_WORDS:
        return ""
    return token


def _words(text, *, document):
    """The words of `text`: search mode (sub-words too) for documents, normal for queries."""
    ensure_vocabulary()
    text = _prepare(text)
    cut = rjieba.cut_for_search(text) if document else rjieba.cut(text)
    words = []
    for raw in cut:
        token = _clean(raw)
        if not token:
            continue
        words.append(token)
        if document:
            # `kj200` is found by `kj` too.
            match = _CODE.fullmatch(token)
            if match and len(match.group(1)) >= 2:
                words.append(match.group(1))
    return words


def segment(text):
    """The space-joined document words of `text` (what the search_* columns hold)."""
    return " ".join(_words(text, document=True))


# --- The product's vocabulary in the segmenter's dictionary --------------------------------------

_vocabulary = {"version": None, "checked": 0.0, "synonyms": {}}


def vocabulary_changed():
    """Called by knowledge.signals when a word source changes: this process reloads at its
    next search, every other one within VOCABULARY_CHECK seconds of the commit."""
    _vocabulary["checked"] = 0.0
    _vocabulary["version"] = None
    transaction.on_commit(lambda: cache.set(VOCABULARY_KEY, time.time_ns(), None))


def ensure_vocabulary(force=False):
    now = time.monotonic()
    if not force and now - _vocabulary["checked"] < VOCABULARY_CHECK:
        return
    _vocabulary["checked"] = now
    version = cache.get(VOCABULARY_KEY) or 0
    if not force and version == _vocabulary["version"]:
        return
    _vocabulary["version"] = version
    _load_vocabulary()


def _han_words(text):
    return _HAN_RUN.findall(unicodedata.normalize("NFKC", text or ""))


def _part_names(lines):
    for line in (lines or "").splitlines():
        name = re.split(r"[×xX*＊:：,，(（]|\d", line.strip(), maxsplit=1)[0].strip()
        if 2 <= len(name) <= 12 and _CJK.search(name):
            yield name


def _load_vocabulary():
    from customers.models import ProductModel

    from .models import FaultCode, RepairTemplate, Synonym

    words = set()
    for name in ProductModel.objects.values_list("name", flat=True):
        words.update(_han_words(name))
    for meaning in FaultCode.objects.values_list("meaning", flat=True).distinct():
        words.update(w for w in _han_words(meaning) if len(w) <= 6)
    for parts in RepairTemplate.objects.values_list("parts", flat=True):
        words.update(_part_names(parts))
    articles = Article.objects.filter(state=State.PUBLISHED).exclude(parts="")
    for parts in articles.values_list("parts", flat=True).distinct()[:5000]:
        words.update(_part_names(parts))
    synonyms = {}
    for word, variants in Synonym.objects.values_list("word", "variants"):
        group = {_prepare(w) for w in [word, *re.split(r"[\s,，、;；/]+", variants)] if w.strip()}
        words.update(w for w in group if _CJK.search(w))
        for member in group:
            synonyms.setdefault(member, set()).update(group)
    for word in sorted(words, key=len):
        if len(word) >= 2 and rjieba.cut(word, False) != [word]:
            # Twice the frequency that keeps the word whole, so that its neighbours in a
            # sentence do not take its characters.
            rjieba.add_word(word, 2 * rjieba.suggest_freq(word) + 10, "n")
    _vocabulary["synonyms"] = synonyms


# --- Queries ---------------------------------------------------------------------------------


def _alternatives(word):
    """The ways a query word may appear in a document: itself, or its search-mode parts when
    they cover all of it (`净水器`: `净水 & 水器`; a document indexed before the word was in the
    dictionary has only those)."""
    options = [(word,)]
    if _CJK.search(word) and len(word) >= 3:
        parts = [t for t in rjieba.cut_for_search(word) if t != word]
        covered = set()
        for part in parts:
            start = word.find(part)
            covered.update(range(start, start + len(part)) if start >= 0 else ())
        # Function words (不, 没 …) are dropped from documents: they need no cover.
        covered.update(i for i, char in enumerate(word) if char in STOP_WORDS)
        parts = tuple(p for p in (_clean(t) for t in parts) if p)
        if parts and len(covered) == len(word):
            options.append(parts)
    return options


def parse_query(text):
    """The query as groups (ANDed) of alternatives (ORed) of words (ANDed)."""
    text = (text or "")[:MAX_QUERY_CHARS]
    groups = []
    seen = set()
    for word in _words(text, document=False):
        if word in seen:
            continue
        seen.add(word)
        members = sorted(_vocabulary["synonyms"].get(word, {word}), key=lambda w: w != word)
        options = []
        for member in members:
            member_words = (word,) if member == word else tuple(_words(member, document=False))
            if member == word or len(member_words) == 1:
                candidates = _alternatives(member_words[0])
            else:
                candidates = [member_words] if member_words else []
            options += [option for option in candidates if option not in options]
        if options:
            groups.append(options)
        if len(groups) >= MAX_QUERY_WORDS:
            break
    return groups


def _terms(groups):
    return {word for group in groups for option in group for word in option}


def _tsquery(groups, joiner):
    def option(words):
        inner = " & ".join(f"'{w}'" for w in words)
        return f"({inner})" if len(words) > 1 else inner

    return f" {joiner} ".join("(" + " | ".join(option(o) for o in g) + ")" for g in groups)


def _fts_query(groups, joiner):
    def option(words):
        return "(" + " AND ".join(f'"{w}"' for w in words) + ")"

    return f" {joiner} ".join("(" + " OR ".join(option(o) for o in g) + ")" for g in groups)


# --- Highlighting ----------------------------------------------------------------------------


def _term_pattern(term):
    if _CJK.search(term):
        return re.escape(term)
    parts = _ASCII_PARTS.findall(term)
    if not parts:
        return None
    body = r"[\s\-_]*".join(re.escape(p) for p in parts)
    return rf"(?<![a-z0-9]){body}(?![a-z0-9])"


def _highlighter(terms):
    patterns = [p for p in (_term_pattern(t) for t in sorted(terms, key=len, reverse=True)) if p]
    return re.compile("|".join(patterns), re.IGNORECASE) if patterns else None


def _mark(text, pattern):
    out = []
    last = 0
    if pattern is not None:
        for found in pattern.finditer(text):
            if found.end() == found.start():
                continue
            out.append(escape(text[last : found.start()]))
            out.append(f"<mark>{escape(found.group())}</mark>")
            last = found.end()
    out.append(escape(text[last:]))
    # Neighbouring words are one mark (`四通` + `阀`).
    return mark_safe("".join(out).replace("</mark><mark>", ""))


def highlight(text, pattern):
    """The whole of `text`, escaped, its matched words in <mark>."""
    return _mark(unicodedata.normalize("NFKC", text or ""), pattern)


def snippet(texts, pattern, size=SNIPPET_CHARS):
    """About `size` characters of the first of `texts` with a match (else of the first), around
    the first match, escaped and marked."""
    texts = [" ".join(unicodedata.normalize("NFKC", t or "").split()) for t in texts]
    chosen, start = texts[0], None
    for text in texts:
        found = pattern.search(text) if pattern is not None else None
        if found:
            chosen, start = text, found.start()
            break
    begin = max(0, (start or 0) - size // 4)
    piece = chosen[begin : begin + size]
    html = _mark(piece, pattern)
    prefix = "…" if begin > 0 else ""
    suffix = "…" if begin + size < len(chosen) else ""
    return mark_safe(prefix + html + suffix)


# --- Indexing --------------------------------------------------------------------------------


def index(article):
    """Fill the article's search_* columns in memory (the caller saves). Fault codes and models
    are read only once the article is saved (callers index again after setting them)."""
    title = [article.title, article.tags]
    if article.pk:
        title += [normalise_code(c.code) for c in article.fault_codes.all()]
        for model in article.product_models.all():
            title += [model.code, model.name]
    article.search_title = segment(" ".join(title))
    article.search_symptom = segment(article.symptom)
    article.search_body = segment(
        " ".join([article.cause, article.solution, article.parts, article.tools])
    )


def ticket_text(ticket):
    """The TicketText fields of a processed request (problem, work, line, when)."""
    problem = [ticket.description]
    if ticket.problem_type_id:
        problem.append(ticket.problem_type.name)
    work = [v.work_done for v in ticket.visits.all() if v.work_done]
    line_id = None
    if ticket.product_id:
        line_id = ticket.product.line_id
    return {
        "product_line_id": line_id,
        "resolved_at": ticket.processed_at or ticket.updated_at or ticket.created_at,
        "search_problem": segment(" ".join(problem)),
        "search_work": segment(" ".join(work)),
    }


RESOLVED_STATES = ("processed", "closed", "verified")


def index_ticket(ticket):
    """Write (or refresh) the request's TicketText once it is processed; a request that is not
    (sent back to dispatch after an unresolved visit) has none."""
    if ticket.state not in RESOLVED_STATES:
        TicketText.objects.filter(ticket_id=ticket.pk).delete()
        return None
    text, _created = TicketText.objects.update_or_create(
        ticket_id=ticket.pk, defaults=ticket_text(ticket)
    )
    return text


# --- Search ----------------------------------------------------------------------------------


def _line_id(line):
    return getattr(line, "pk", line)


def _feedback_factor(alias):
    return (
        f"(CASE WHEN {alias}.helped + {alias}.failed >= {FEEDBACK_MIN} THEN 1 + {FEEDBACK_WEIGHT}"
        f" * (1.0 * {alias}.helped / ({alias}.helped + {alias}.failed) - 0.5) ELSE 1 END)"
    )


def _article_rows_pg(groups, states, line_id, limit):
    """One query: candidates from the GIN indexes, each stage bounded and run only when the
    ones before found fewer than `limit` (title holds every word; any column does; any word),
    then
    ranked: every word ≫ some words (by how many groups), ts_rank_cd (A 1, B 0.5, C 0.2) and
    1 more when the title holds every word, times the feedback factor."""
    # The line is compared through COALESCE (no line: every line) so that the planner filters
    # the GIN candidates rather than ANDing a bitmap of all the line's articles.
    filters = "a.state = ANY(%(states)s)"
    if line_id is not None:
        filters += " AND COALESCE(a.product_line_id, %(line)s) = %(line)s"
    columns = "a.id"
    matched = " + ".join(
        f"(CASE WHEN a.search_vector @@ to_tsquery('simple', %(g{i})s) THEN 1 ELSE 0 END)"
        for i in range(len(groups))
    )
    sql = f"""
        WITH in_title AS MATERIALIZED (
            SELECT {columns} FROM knowledge_article a
            WHERE a.search_title_vector @@ to_tsquery('simple', %(all)s) AND {filters}
            LIMIT {ARTICLE_CANDIDATES}
        ), in_all AS MATERIALIZED (
            SELECT {columns} FROM knowledge_article a
            WHERE (SELECT count(*) FROM in_title) < %(limit)s
                AND a.search_vector @@ to_tsquery('simple', %(all)s) AND {filters}
            LIMIT {ARTICLE_CANDIDATES}
        ), in_any AS MATERIALIZED (
            SELECT {columns} FROM knowledge_article a
            WHERE (SELECT count(*) FROM in_title) + (SELECT count(*) FROM in_all) < %(limit)s
                AND a.search_vector @@ to_tsquery('simple', %(any)s) AND {filters}
            LIMIT {ARTICLE_CANDIDATES}
        ), candidates AS (
            SELECT id FROM in_title UNION SELECT id FROM in_all UNION SELECT id FROM in_any
        )
        SELECT {_article_columns()}, (
            (CASE WHEN a.search_vector @@ to_tsquery('simple', %(all)s) THEN 100 ELSE {matched} END)
            + ts_rank_cd('{{0.1, 0.2, 0.5, 1.0}}', a.search_vector, to_tsquery('simple', %(any)s))
            + (CASE WHEN a.search_title_vector @@ to_tsquery('simple', %(all)s) THEN 1 ELSE 0 END)
        ) * {_feedback_factor("a")} AS score
        FROM candidates JOIN knowledge_article a ON a.id = candidates.id
        ORDER BY score DESC, a.id DESC LIMIT %(limit)s
    """
    params = {
        "all": _tsquery(groups, "&"),
        "any": _tsquery(groups, "|"),
        "states": [str(s) for s in states],
        "line": line_id,
        "limit": limit,
        **{f"g{i}": _tsquery([g], "&") for i, g in enumerate(groups)},
    }
    return [(article, article.score) for article in Article.objects.raw(sql, params)]


def _article_columns():
    quote = connection.ops.quote_name
    return ", ".join(f"a.{quote(field.column)}" for field in Article._meta.concrete_fields)


def _in_list(values):
    return ", ".join(["%s"] * len(values))


def _article_rows_sqlite(groups, joiner, states, line_id, exclude_ids, limit):
    """bm25 (title 10, symptom 4, body 1), + 5 when the title holds every word, + 3 when the
    words as typed are there (bm25 favours a rare synonym over the word itself); for partial
    matches + 10 per matched word group (bm25 alone favours one rare word)."""
    states = [str(s) for s in states]
    in_fts = (
        "a.id IN (SELECT rowid FROM knowledge_article_fts WHERE knowledge_article_fts MATCH %s)"
    )
    matched = ""
    params = []
    if joiner == "|":
        matched = " + ".join(f"(CASE WHEN {in_fts} THEN 10 ELSE 0 END)" for _g in groups) + " + "
        params += [_fts_query([g], "AND") for g in groups]
    sql = f"""
        SELECT a.id, ({matched}-bm25(knowledge_article_fts, 10.0, 4.0, 1.0)
            + (CASE WHEN {in_fts} THEN 5 ELSE 0 END) + (CASE WHEN {in_fts} THEN 3 ELSE 0 END)
        ) * {_feedback_factor("a")} AS score
        FROM knowledge_article_fts JOIN knowledge_article a ON a.id = knowledge_article_fts.rowid
        WHERE knowledge_article_fts MATCH %s AND a.state IN ({_in_list(states)})
    """
    params += [
        "{search_title} : (" + _fts_query(groups, "AND") + ")",
        _fts_query([[group[0]] for group in groups], "AND"),
        _fts_query(groups, "AND" if joiner == "&" else "OR"),
        *states,
    ]
    if line_id is not None:
        sql += " AND (a.product_line_id = %s OR a.product_line_id IS NULL)"
        params.append(line_id)
    if exclude_ids:
        sql += f" AND a.id NOT IN ({_in_list(exclude_ids)})"
        params += list(exclude_ids)
    sql += " ORDER BY score DESC, a.id DESC LIMIT %s"
    params.append(limit)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _vendor():
    if connection.vendor not in ("postgresql", "sqlite"):
        raise NotImplementedError(f"search needs PostgreSQL or SQLite: {connection.vendor}")
    return connection.vendor


def _article_rows(groups, states, line_id, limit):
    """[(article, score)], best first."""
    if _vendor() == "postgresql":
        return _article_rows_pg(groups, states, line_id, limit)
    rows = list(_article_rows_sqlite(groups, "&", states, line_id, (), limit))
    if len(rows) < limit and len(groups) > 1:
        # Partial matches rank below every full match.
        floor = min((score for _id, score in rows), default=0)
        found = [pk for pk, _score in rows]
        partial = _article_rows_sqlite(groups, "|", states, line_id, found, limit - len(rows))
        top = max((score for _id, score in partial), default=0) or 1
        rows += [(pk, floor * score / top / 2 if rows else score) for pk, score in partial]
    articles = Article.objects.in_bulk([pk for pk, _score in rows])
    return [(articles[pk], score) for pk, score in rows if pk in articles]


def search(query, *, product_line=None, states=(State.PUBLISHED,), limit=10):
    """Articles matching every word of `query` (then, when fewer than `limit`, any word), best
    first. One query on PostgreSQL, at most three on SQLite."""
    groups = parse_query(query)
    if not groups or limit <= 0:
        return []
    rows = _article_rows(groups, states, _line_id(product_line), limit)
    pattern = _highlighter(_terms(groups))
    return [
        ArticleHit(
            article,
            float(score),
            highlight(article.title, pattern),
            snippet([article.symptom, article.solution, article.cause], pattern),
        )
        for article, score in rows
    ]


def _ticket_rows_pg(groups, line_id, exclude, limit):
    """One query, ranked by how many word groups match, then ts_rank_cd. The candidates come in
    stages, each run only when the ones before found fewer than `limit`:

    1. the line's newest TICKET_WINDOW requests holding every word (btree on line, resolved_at:
       a bounded read however many requests match, the case of a common problem);
    2. any request holding every word (GIN): run only when they are rare among the newest, so
       the bitmap is small;
    3. and 4. the same with any word.
    """
    filters = gin_filters = ""
    if line_id is not None:
        filters += " AND t.product_line_id = %(line)s"
        # Through COALESCE in the GIN stages: they run when matches are rare, and the planner
        # must not walk the line's btree (every request of the line) to find them.
        gin_filters += " AND COALESCE(t.product_line_id, 0) = %(line)s"
    if exclude is not None:
        filters += " AND t.ticket_id <> %(exclude)s"
        gin_filters += " AND t.ticket_id <> %(exclude)s"
    matched = " + ".join(
        f"(CASE WHEN c.search_vector @@ to_tsquery('simple', %(g{i})s) THEN 1 ELSE 0 END)"
        for i in range(len(groups))
    )
    stage = f"""
        SELECT t.ticket_id, t.search_vector, t.resolved_at FROM knowledge_tickettext t
        WHERE {{gate}} < %(limit)s
            AND t.search_vector @@ to_tsquery('simple', %({{q}})s){gin_filters}
        LIMIT {TICKET_CANDIDATES}
    """
    count = "(SELECT count(*) FROM {})".format
    sql = f"""
        WITH recent AS MATERIALIZED (
            SELECT t.ticket_id, t.search_vector, t.resolved_at FROM knowledge_tickettext t
            WHERE TRUE{filters} ORDER BY t.resolved_at DESC LIMIT {TICKET_WINDOW}
        ), recent_all AS MATERIALIZED (
            SELECT * FROM recent WHERE search_vector @@ to_tsquery('simple', %(all)s)
            LIMIT {TICKET_CANDIDATES}
        ), any_all AS MATERIALIZED ({stage.format(gate=count("recent_all"), q="all")}
        ), recent_any AS MATERIALIZED (
            SELECT * FROM recent
            WHERE {count("recent_all")} + {count("any_all")} < %(limit)s
                AND search_vector @@ to_tsquery('simple', %(any)s)
            LIMIT {TICKET_CANDIDATES}
        ), any_any AS MATERIALIZED ({
        stage.format(
            gate=f"{count('recent_all')} + {count('any_all')} + {count('recent_any')}", q="any"
        )
    }
        ), c AS (
            SELECT * FROM recent_all UNION SELECT * FROM any_all
            UNION SELECT * FROM recent_any UNION SELECT * FROM any_any
        )
        SELECT c.ticket_id, {matched}
            + ts_rank_cd('{{0.1, 0.2, 0.5, 1.0}}', c.search_vector, to_tsquery('simple', %(any)s))
            AS score, k.number, k.description, c.resolved_at
        FROM c JOIN tickets_ticket k ON k.id = c.ticket_id
        ORDER BY score DESC, c.ticket_id DESC LIMIT %(limit)s
    """
    params = {
        "all": _tsquery(groups, "&"),
        "any": _tsquery(groups, "|"),
        "line": line_id,
        "exclude": exclude,
        "limit": limit,
        **{f"g{i}": _tsquery([g], "&") for i, g in enumerate(groups)},
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _ticket_rows_sqlite(groups, line_id, exclude, limit):
    filters = ""
    params = []
    if line_id is not None:
        filters += " AND t.product_line_id = %s"
        params.append(line_id)
    if exclude is not None:
        filters += " AND t.ticket_id <> %s"
        params.append(exclude)
    sql = f"""
        SELECT t.ticket_id, -bm25(knowledge_tickettext_fts, 4.0, 1.0) AS score, k.number,
            k.description, t.resolved_at
        FROM knowledge_tickettext_fts
        JOIN knowledge_tickettext t ON t.ticket_id = knowledge_tickettext_fts.rowid
        JOIN tickets_ticket k ON k.id = t.ticket_id
        WHERE knowledge_tickettext_fts MATCH %s{filters}
        ORDER BY score DESC, t.ticket_id DESC LIMIT %s
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [_fts_query(groups, "OR"), *params, limit])
        return cursor.fetchall()


def similar_tickets(text, *, product_line=None, exclude=None, limit=5):
    """Processed requests whose problem or work shares words with `text`, the most shared first,
    with their numbers and when they were resolved (one query, candidates bounded: an index
    lookup at a million requests)."""
    groups = parse_query(text)
    if not groups or limit <= 0:
        return []
    rows_of = _ticket_rows_pg if _vendor() == "postgresql" else _ticket_rows_sqlite
    rows = rows_of(groups, _line_id(product_line), _line_id(exclude), limit)
    pattern = _highlighter(_terms(groups))
    return [
        TicketHit(ticket_id, float(score), snippet([description], pattern), number, _when(at))
        for ticket_id, score, number, description, at in rows
    ]


def _when(value):
    """A timestamp read by raw SQL: SQLite gives its text (UTC)."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return value
