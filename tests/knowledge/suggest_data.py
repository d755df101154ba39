"""What the tests of the knowledge base where the work happens (suggestions, feedback, repair
templates) share: published articles and resolved requests, indexed as the app indexes them."""

from django.utils import timezone

from knowledge import search
from knowledge.models import Article, State, TicketText
from tickets.models import State as TicketState

from ..factories import EquipmentFactory, ProductModelFactory, ticket_in_state


def article(author, line=None, *, title, symptom="", state=State.PUBLISHED, **fields):
    """An article in `state`, indexed for search and saved (knowledge.search.index)."""
    made = Article(
        author=author,
        product_line=line,
        title=title,
        symptom=symptom or title,
        solution=fields.pop("solution", "检查电源\n更换启动电容"),
        state=state,
        published_at=timezone.now() if state == State.PUBLISHED else None,
        **fields,
    )
    search.index(made)
    made.save()
    return made


def unit_of(line):
    return EquipmentFactory(product_model=ProductModelFactory(line=line))


def resolved_ticket(dispatcher, engineer, line, description):
    """A processed request of `line` with its resolved text indexed (knowledge.search.
    index_ticket; the text row is written here while the index is a placeholder)."""
    unit = unit_of(line)
    ticket = ticket_in_state(
        TicketState.PROCESSED,
        dispatcher=dispatcher,
        engineer=engineer,
        customer=unit.customer,
        equipment=unit,
        description=description,
    )
    search.index_ticket(ticket)
    TicketText.objects.get_or_create(
        ticket=ticket,
        defaults={
            "product_line": line,
            "resolved_at": ticket.processed_at or timezone.now(),
            "search_problem": description,
            "search_work": "更换压缩机电容",
        },
    )
    return ticket
