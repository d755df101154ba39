"""The knowledge base where the work happens (SPEC §4 knowledge/): while a dispatcher types a
request's description, and on the request's page and the engineer's job page, the published
articles that match it best and the most similar resolved requests of the same product line.

What is shown comes from `knowledge.search` (`search`, `similar_tickets`); this module adds what
the panels show about the hits (numbers, resolved dates, who may open which request, the person's
own feedback) in a fixed number of queries, whatever the number of hits.

The panels on the tickets app's pages (tickets.slots) load their content with htmx after the
page, so a request's page costs no search; without JavaScript each has a link to the same
content as a page of its own.
"""

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods

from aftersales.lib.actions import safe_next
from aftersales.registry import Panel
from customers.models import Equipment
from tickets.access import visible_ticket
from tickets.models import Ticket
from tickets.slots import entry_panels, job_panels, ticket_panels

from . import search
from .models import Feedback

# Fewer characters than this say too little to search for (two make a Chinese word: 漏水).
MIN_LENGTH = 2
# What is searched of a description: its start says the problem; a pasted essay is cut.
MAX_LENGTH = 500
ARTICLES = 5
TICKETS = 5
# The largest id a PostgreSQL integer column holds: a bigger "id" names nothing (and would fail).
_MAX_ID = 2**31 - 1
# Who may see suggestions: the people who enter, handle or work on service requests.
READERS = ("tickets.add_ticket", "tickets.view_ticket", "tickets.work_ticket")


@dataclass
class SimilarTicket:
    hit: search.TicketHit
    number: str
    resolved_at: object
    url: str  # "" when this person may not open the request


def may_read(user):
    return any(user.has_perm(permission) for permission in READERS)


def _id(value):
    """A positive database id from a GET parameter, else None (garbage names nothing)."""
    value = (value or "").strip()
    if not value.isascii() or not value.isdigit():
        return None
    number = int(value)
    return number if 0 < number <= _MAX_ID else None


def _text(value):
    # PostgreSQL refuses NUL characters in text; nobody types them.
    return (value or "").replace("\x00", "").strip()[:MAX_LENGTH]


def suggestions(user, text, *, line=None, problem_type=None, exclude=None):
    """{"articles": [ArticleHit], "tickets": [SimilarTicket], "short": bool} for `text`.

    Articles of the request's problem type come first among equally good ones (a stable sort
    keeps the search's order otherwise). Similar requests come numbered and dated with the
    search; linked when this person may open them (tickets.access: one more query)."""
    text = _text(text)
    if len(text) < MIN_LENGTH:
        return {"articles": [], "tickets": [], "short": True}
    articles = search.search(text, product_line=line, limit=ARTICLES)
    if problem_type is not None:
        articles.sort(key=lambda hit: hit.article.problem_type_id != problem_type)
    hits = search.similar_tickets(text, product_line=line, exclude=exclude, limit=TICKETS)
    return {"articles": articles, "tickets": _similar(user, hits), "short": False}


def _similar(user, hits):
    if not hits:
        return []
    ids = [hit.ticket_id for hit in hits]
    visible = set(Ticket.objects.visible_to(user).filter(pk__in=ids).values_list("pk", flat=True))
    # One reversal for all: the rows' addresses differ only in the id.
    prefix = reverse("tickets:detail", args=[0]).removesuffix("0/")
    return [
        SimilarTicket(
            hit,
            hit.number,
            hit.resolved_at,
            f"{prefix}{hit.ticket_id}/" if hit.ticket_id in visible else "",
        )
        for hit in hits
    ]


def ticket_line(ticket):
    """The product line of a request: its unit's, else its product's (both joined by the
    pages that show it), else None."""
    if ticket.product_id is not None:
        return ticket.product.line_id
    if ticket.equipment_id is not None:
        return ticket.equipment.product_model.line_id
    return None


def given_feedback(user, ticket, articles):
    """{article id: helped} of this person's feedback on `ticket` for these hits."""
    ids = [hit.article.pk for hit in articles]
    if not ids:
        return {}
    return dict(
        Feedback.objects.filter(ticket=ticket, user=user, article_id__in=ids).values_list(
            "article_id", "helped"
        )
    )


# Views ------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def suggest(request):
    """description, line (a product line id) or equipment (a unit id, for its line),
    problem_type: the suggestions for what is being typed. htmx GETs the panel's content; the
    entry form's button (without JavaScript) POSTs the form here, for a page of its own (a POST
    keeps the form's CSRF token out of the address). Nothing is changed either way."""
    if not may_read(request.user):
        raise PermissionDenied
    params = request.POST if request.method == "POST" else request.GET
    line = _id(params.get("line"))
    unit = _id(params.get("equipment"))
    if line is None and unit is not None:
        # Only the unit's product line is read: it says nothing about whose unit it is.
        line = (
            Equipment.objects.filter(pk=unit).values_list("product_model__line_id", flat=True)
        ).first()
    found = suggestions(
        request.user,
        params.get("description"),
        line=line,
        problem_type=_id(params.get("problem_type")),
    )
    template = "knowledge/suggest/suggest_page.html"
    if request.htmx:
        template += "#results"
    return render(request, template, {**found, "ticket": None})


def _lazy_url(name, ticket, next_url):
    return f"{reverse(name, args=[ticket.pk])}?{urlencode({'next': next_url})}"


@login_required
def ticket_suggestions(request, pk):
    """The suggestions for a request (its description and product line), with this person's
    "solved it" / "didn't help" per article: the content of the panels on the request's page
    and the job page (htmx), or a page of its own."""
    ticket = visible_ticket(
        request.user,
        pk,
        Ticket.objects.select_related("product", "equipment__product_model").only(
            "number",
            "description",
            "state",
            "engineer",
            "problem_type",
            "product__line",
            "equipment__product_model__line",
        ),
    )
    found = suggestions(
        request.user,
        ticket.description,
        line=ticket_line(ticket),
        problem_type=ticket.problem_type_id,
        exclude=ticket.pk,
    )
    given = given_feedback(request.user, ticket, found["articles"])
    for hit in found["articles"]:
        hit.said = given.get(hit.article.pk)
    back = safe_next(request, reverse("tickets:detail", args=[ticket.pk]))
    template = "knowledge/suggest/suggest_page.html"
    if request.htmx:
        template += "#results"
    return render(
        request,
        template,
        {
            **found,
            "ticket": ticket,
            "back": back,
            # Where feedback sends a browser without JavaScript: this page again.
            "here": _lazy_url("knowledge:ticket_suggestions", ticket, back),
        },
    )


# Panels on the tickets app's pages (registered by KnowledgeConfig.ready) ----------------------


def _entry_panel(request, form):
    if not may_read(request.user):
        return None
    return {"url": reverse("knowledge:suggest")}


def _panel_on(page):
    """The panel of a request's page named `page`: back there after feedback without
    JavaScript (the page's own address, not a form's that showed it after an error)."""

    def context(request, ticket):
        if not may_read(request.user):
            return None
        back = reverse(page, args=[ticket.pk])
        return {"url": _lazy_url("knowledge:ticket_suggestions", ticket, back)}

    return context


ENTRY_PANEL = Panel("knowledge/suggest/_entry_panel.html", _entry_panel, rank=10)
TICKET_PANEL = Panel("knowledge/suggest/_ticket_panel.html", _panel_on("tickets:detail"), rank=10)
JOB_PANEL = Panel("knowledge/suggest/_ticket_panel.html", _panel_on("mobile:job"), rank=10)


def register_panels():
    entry_panels.register(ENTRY_PANEL)
    ticket_panels.register(TICKET_PANEL)
    job_panels.register(JOB_PANEL)
