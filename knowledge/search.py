"""Finding articles and similar resolved requests, in Chinese (SPEC §4 knowledge/).

PLACEHOLDER (replaced by the search work): the interface below is fixed; the implementation is a
naive substring match so that pages can be built against it.

    normalise_code(text) -> str             "e-1", "E 1", "Ｅ１" -> "E1"
    index(article)                          fills article.search_* in memory (the caller saves)
    index_ticket(ticket)                    writes the processed request's TicketText row
    search(query, *, product_line=None, states=(State.PUBLISHED,), limit=10) -> [ArticleHit]
    similar_tickets(text, *, product_line=None, exclude=None, limit=5) -> [TicketHit]

Hits carry HTML snippets (escaped text, matched words in <mark>), safe to render as they are.
"""

import re
import unicodedata
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .models import Article, State, TicketText


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


def normalise_code(text):
    text = unicodedata.normalize("NFKC", text or "")
    return re.sub(r"[\s\-_]+", "", text).upper()


def index(article):
    article.search_title = article.title
    article.search_symptom = article.symptom
    article.search_body = " ".join([article.cause, article.solution, article.parts, article.tags])


def index_ticket(ticket):
    pass


def search(query, *, product_line=None, states=(State.PUBLISHED,), limit=10):
    query = (query or "").strip()
    if not query:
        return []
    found = Article.objects.filter(state__in=states, search_title__icontains=query)
    if product_line is not None:
        found = found.filter(product_line=product_line)
    return [
        ArticleHit(a, 1.0, mark_safe(escape(a.title)), mark_safe(escape(a.symptom[:120])))
        for a in found[:limit]
    ]


def similar_tickets(text, *, product_line=None, exclude=None, limit=5):
    found = TicketText.objects.filter(search_problem__icontains=(text or "").strip()[:20])
    if product_line is not None:
        found = found.filter(product_line=product_line)
    if exclude is not None:
        found = found.exclude(ticket_id=exclude)
    return [
        TicketHit(t.ticket_id, 1.0, mark_safe(escape(t.search_problem[:120])))
        for t in found[:limit]
    ]
