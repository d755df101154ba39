"""A starting knowledge base for the demo and the tests: ~60 articles as a service department
writes them for air conditioners (AC), water purifiers (WP), elevators (EL) and screw air
compressors (IND), their lines' fault codes, and a default synonym list
(knowledge/data/corpus.json).

    load_corpus(author, lines_by_code, models_by_code=None) -> {"articles": n, ...created}

creates what is missing (idempotent: articles by line and title, fault codes by line and code,
synonyms by word), published, indexed for search. Lines missing from `lines_by_code` are
skipped; `models_by_code` (customers.ProductModel by code) links the articles' models.
"""

import json
from decimal import Decimal
from functools import cache
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from . import search
from .models import Article, FaultCode, State, Synonym

CORPUS = Path(__file__).parent / "data" / "corpus.json"


@cache
def corpus():
    return json.loads(CORPUS.read_text(encoding="utf-8"))


def load_synonyms(user=None):
    created = 0
    for word, variants in corpus()["synonyms"]:
        _synonym, new = Synonym.objects.get_or_create(
            word=word, defaults={"variants": variants, "updated_by": user}
        )
        created += new
    return created


def load_fault_codes(lines_by_code):
    created = 0
    codes = {}
    for line_code, entries in corpus()["fault_codes"].items():
        line = lines_by_code.get(line_code)
        if line is None:
            continue
        for code, meaning in entries:
            fault, new = FaultCode.objects.get_or_create(
                product_line=line, code=search.normalise_code(code), defaults={"meaning": meaning}
            )
            codes[(line_code, fault.code)] = fault
            created += new
    return codes, created


@transaction.atomic
def load_corpus(author, lines_by_code, models_by_code=None):
    models_by_code = models_by_code or {}
    created = {"synonyms": load_synonyms(author)}
    codes, created["fault codes"] = load_fault_codes(lines_by_code)
    search.vocabulary_changed()
    search.ensure_vocabulary(force=True)
    existing = {
        (line_id, title)
        for line_id, title in Article.objects.filter(
            product_line__in=list(lines_by_code.values())
        ).values_list("product_line_id", "title")
    }
    now = timezone.now()
    created["articles"] = 0
    for entry in corpus()["articles"]:
        line = lines_by_code.get(entry["line"])
        if line is None or (line.pk, entry["title"]) in existing:
            continue
        article = Article(
            product_line=line,
            title=entry["title"],
            symptom=entry["symptom"],
            cause=entry["cause"],
            solution=entry["solution"],
            parts=entry["parts"],
            tools=entry["tools"],
            tags=entry["tags"],
            labour_hours=Decimal(entry["hours"]) if entry["hours"] else None,
            state=State.PUBLISHED,
            author=author,
            published_at=now,
        )
        search.index(article)
        article.save()
        article.fault_codes.set(
            [codes[(entry["line"], c)] for c in entry["codes"] if (entry["line"], c) in codes]
        )
        article.product_models.set(
            [models_by_code[m] for m in entry["models"] if m in models_by_code]
        )
        search.index(article)
        article.save(update_fields=["search_title", "search_symptom", "search_body"])
        created["articles"] += 1
    return created
