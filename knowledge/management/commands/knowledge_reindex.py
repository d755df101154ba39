"""Segment again every article and every processed request (after a change of the segmenter,
its vocabulary, or on a database filled before the search existed), in batches. On SQLite it
first puts back FTS triggers that a later migration's table rebuild dropped (knowledge.fts)."""

from django.core.management.base import BaseCommand
from django.db import transaction

from knowledge import fts, search
from knowledge.models import Article, TicketText

BATCH = 2000


class Command(BaseCommand):
    help = "Rebuild the search text of knowledge articles and processed service requests."

    def add_arguments(self, parser):
        parser.add_argument("--articles-only", action="store_true")
        parser.add_argument("--tickets-only", action="store_true")

    def handle(self, *args, articles_only=False, tickets_only=False, **options):
        search.ensure_vocabulary(force=True)
        if restored := fts.ensure_sqlite_index():
            self.stdout.write(f"restored: {', '.join(restored)}")
        if not tickets_only:
            self.stdout.write(f"articles: {reindex_articles()}")
        if not articles_only:
            self.stdout.write(f"service requests: {reindex_tickets()}")


def reindex_articles(batch=BATCH):
    done = 0
    last = 0
    fields = ["search_title", "search_symptom", "search_body"]
    while True:
        articles = list(
            Article.objects.filter(pk__gt=last)
            .order_by("pk")
            .prefetch_related("fault_codes", "product_models")[:batch]
        )
        if not articles:
            return done
        for article in articles:
            search.index(article)
        with transaction.atomic():
            Article.objects.bulk_update(articles, fields)
        done += len(articles)
        last = articles[-1].pk


def reindex_tickets(batch=BATCH):
    from tickets.models import Ticket

    done = 0
    last = 0
    while True:
        tickets = list(
            Ticket.objects.filter(pk__gt=last, state__in=search.RESOLVED_STATES)
            .order_by("pk")
            .select_related("problem_type", "product")
            .prefetch_related("visits")[:batch]
        )
        if not tickets:
            return done
        rows = [TicketText(ticket_id=t.pk, **search.ticket_text(t)) for t in tickets]
        with transaction.atomic():
            TicketText.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["ticket"],
                update_fields=["product_line", "resolved_at", "search_problem", "search_work"],
            )
        done += len(rows)
        last = tickets[-1].pk
