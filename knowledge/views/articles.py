"""The articles' pages: the list with search, an article, its forms, lifecycle buttons,
revisions (compare, restore), attachments, the review queue, and a draft from a request.

Every view checks the role (a permission) and the object (knowledge.access: drafts only for
their author and reviewers, archived articles only for reviewers)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import (
    ExpressionWrapper,
    F,
    FloatField,
    Prefetch,
    Value,
    prefetch_related_objects,
)
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_POST

from aftersales.lib.actions import Refused, errors_to_messages, run_action
from aftersales.lib.filters import query_string, style_filter_form
from aftersales.lib.pagination import CappedPaginator
from aftersales.lib.private_media import private_file_response
from aftersales.models import ProductLine
from aftersales.registry import Panel
from tickets.access import visible_ticket
from tickets.models import ProblemType, Ticket
from tickets.slots import ticket_panels

from .. import search, services
from ..access import visible_article, visible_articles
from ..forms import (
    ActionForm,
    ArticleForm,
    ArticleListParams,
    AttachmentForm,
    CompareParams,
    LineParam,
)
from ..models import Article, ArticleRevision, ArticleTransition, Attachment, State

ROW_JOINS = ("product_line", "problem_type", "author")
# Search hits shown on one page (a search is for finding, not for paging through: the best
# twenty, as a page of the list holds).
SEARCH_LIMIT = 20
# Revisions listed on an article's page (the compare page reaches every one).
REVISIONS_SHOWN = 30


def _may_write(user):
    return user.has_perm(services.PROPOSE) or user.has_perm(services.REVIEW)


def _require_read(user):
    if not (user.has_perm(services.VIEW) or _may_write(user)):
        raise PermissionDenied


# -- The list ----------------------------------------------------------------------------------


@login_required
def article_list(request):
    """Published articles, the latest first; a search (`q`) ranks them by relevance."""
    user = request.user
    _require_read(user)
    lines = list(ProductLine.objects.values_list("pk", "name"))
    problem_types = list(ProblemType.objects.filter(active=True).values_list("pk", "name"))
    form = ArticleListParams(request.GET, user=user, lines=lines, problem_types=problem_types)
    params = form.values()
    state = params.get("state", "")
    mine = state == ArticleListParams.MINE
    if mine:
        states = (State.DRAFT, State.REVIEW)
    elif state:
        states = (state,)
    else:
        states = (State.PUBLISHED,)
    query = params.get("q", "")
    hits = page_obj = paginator = None
    if query:
        hits = _search(user, query, params, states, mine)
        rows = [hit.article for hit in hits]
    else:
        articles = visible_articles(user).filter(state__in=states)
        if mine:
            articles = articles.filter(author=user)
        if line := params.get("product_line"):
            articles = articles.filter(product_line=line)
        if problem := params.get("problem_type"):
            articles = articles.filter(problem_type=problem)
        if params.get("failing"):
            articles = _often_failing(articles)
        else:
            articles = articles.order_by("-updated_at", "-id")
        paginator = CappedPaginator(articles.select_related(*ROW_JOINS), _page_size())
        page_obj = paginator.get_page(request.GET.get("page"))
        rows = list(page_obj.object_list)
    style_filter_form(form)
    return render(
        request,
        "knowledge/article_list.html",
        {
            "form": form,
            "rows": rows,
            "hits": hits,
            "query": query,
            "page_obj": page_obj,
            "paginator": paginator,
            "query_string": query_string(request),
            "failing": params.get("failing", False),
            "may_write": _may_write(user),
            "reviewer": user.has_perm(services.REVIEW),
        },
    )


def _page_size():
    return settings.PAGE_SIZE


def _search(user, query, params, states, mine):
    """The search's hits this person may open, filtered as the list is."""
    line = params.get("product_line")
    line_obj = ProductLine.objects.filter(pk=line).first() if line else None
    if line and line_obj is None:
        return []
    hits = search.search(query, product_line=line_obj, states=states, limit=SEARCH_LIMIT)
    if tuple(states) == (State.PUBLISHED,) and user.has_perm(services.VIEW):
        allowed = {h.article.pk for h in hits}  # every reader sees what is published
    else:
        allowed = set(
            visible_articles(user)
            .filter(pk__in=[h.article.pk for h in hits])
            .values_list("pk", flat=True)
        )
    problem = params.get("problem_type")
    kept = [
        h
        for h in hits
        if h.article.pk in allowed
        and (not mine or h.article.author_id == user.pk)
        and (not problem or h.article.problem_type_id == problem)
    ]
    if params.get("failing"):
        kept = [h for h in kept if h.article.failed]
    # The rows' product lines, problem types and authors in one query each, however many hits.
    prefetch_related_objects([h.article for h in kept], *ROW_JOINS)
    return kept


def _often_failing(articles):
    """Articles that did not help at least once, the highest share of "did not help" first."""
    rate = ExpressionWrapper(
        F("failed") * Value(1.0) / (F("failed") + F("helped")), output_field=FloatField()
    )
    return (
        articles.filter(failed__gt=0)
        .annotate(failure_rate=rate)
        .order_by("-failure_rate", "-failed", "-id")
    )


@login_required
def review_queue(request):
    """Articles waiting for a review, the longest waiting first."""
    if not request.user.has_perm(services.REVIEW):
        raise PermissionDenied
    articles = (
        Article.objects.filter(state=State.REVIEW)
        .select_related(*ROW_JOINS)
        .order_by("updated_at", "id")
    )
    paginator = CappedPaginator(articles, _page_size())
    page_obj = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "knowledge/review_queue.html",
        {
            "rows": list(page_obj.object_list),
            "page_obj": page_obj,
            "paginator": paginator,
            "query_string": query_string(request),
        },
    )


# -- An article --------------------------------------------------------------------------------


@login_required
def article_detail(request, pk):
    user = request.user
    _require_read(user)
    article = visible_article(
        user,
        pk,
        Article.objects.select_related(*ROW_JOINS, "source_ticket").prefetch_related(
            "fault_codes",
            "product_models",
            "attachments",
            Prefetch("log", queryset=_log_rows()),
        ),
    )
    if article.state == State.PUBLISHED:
        services.count_view(article)
        article.views += 1
    revisions = list(article.revisions.select_related("author")[:REVISIONS_SHOWN])
    may_edit = services.can_edit(user, article)
    log = list(article.log.all())
    for entry in log:
        entry.action_label = services.action_label(entry.action)
    return render(
        request,
        "knowledge/article_detail.html",
        {
            "article": article,
            "actions": services.available_actions(article, user),
            "may_edit": may_edit,
            "revisions": revisions,
            "attachment_form": AttachmentForm() if may_edit else None,
            "reviewer": user.has_perm(services.REVIEW),
            "see_ticket": article.source_ticket_id and user.has_perm("tickets.view_ticket"),
            "log": log,
        },
    )


def _log_rows():
    return ArticleTransition.objects.select_related("actor").order_by("at", "id")


def _line_fields(request, article):
    """The models and fault codes of the line just chosen in the form (its partial)."""
    line = LineParam(request.GET).values().get("product_line")
    form = ArticleForm(instance=article if article.pk else None, initial={"product_line": line})
    return render(request, "knowledge/article_form.html#line_fields", {"form": form})


def _form_page(request, article, form):
    return render(
        request,
        "knowledge/article_form.html",
        {
            "form": form,
            "article": article if article.pk else None,
            "back": article.get_absolute_url() if article.pk else reverse("knowledge:list"),
        },
    )


@login_required
def article_create(request):
    user = request.user
    if not _may_write(user):
        raise PermissionDenied
    if request.htmx and request.method == "GET":
        return _line_fields(request, Article())
    form = ArticleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        return _save(request, form, None)
    if request.method == "POST":
        messages.error(request, _("Please correct the errors below; nothing was saved."))
    return _form_page(request, Article(), form)


@login_required
def article_edit(request, pk):
    user = request.user
    if not _may_write(user):
        raise PermissionDenied
    article = visible_article(user, pk)
    if not services.can_edit(user, article):
        raise PermissionDenied
    if request.htmx and request.method == "GET":
        return _line_fields(request, article)
    form = ArticleForm(request.POST or None, instance=article)
    if request.method == "POST" and form.is_valid():
        return _save(request, form, form.cleaned_data.get("version"))
    if request.method == "POST":
        messages.error(request, _("Please correct the errors below; nothing was saved."))
    return _form_page(request, article, form)


def _save(request, form, version):
    data = form.cleaned_data
    article = form.save(commit=False)
    try:
        saved = services.save_article(
            article,
            request.user,
            fault_codes=list(data["fault_codes"]),
            product_models=list(data["product_models"]),
            note=data.get("note", ""),
            version=version if article.pk else None,
        )
    except Refused as refusal:
        messages.error(request, str(refusal))
        if article.pk:
            return redirect("knowledge:detail", pk=article.pk)
        return _form_page(request, article, form)
    messages.success(
        request,
        _("Article saved as version %(version)s.") % {"version": saved.version},
    )
    return redirect(saved)


@require_POST
@login_required
def article_act(request, pk, action):
    """One lifecycle button; the service checks the person, the state and the version."""
    if action not in services.ACTIONS:
        raise Http404
    _require_read(request.user)
    article = visible_article(request.user, pk)
    form = ActionForm(request.POST)

    def act(data):
        return services.perform(
            article, action, request.user, data.get("reason", ""), version=data.get("version")
        )

    def after(result):
        # An article the person may no longer see (their own, archived) sends them to the list.
        shown = result or article
        if result is not None and not services.can_see(request.user, result):
            return reverse("knowledge:list")
        return shown.get_absolute_url()

    return run_action(
        request,
        form,
        act,
        success=lambda a: _("Done: %(action)s.") % {"action": services.ACTIONS[action].label},
        after=after,
    )


# -- Revisions ---------------------------------------------------------------------------------


@login_required
def article_compare(request, pk):
    """Two versions side by side: ?a=<number>&b=<number> (by default the latest two)."""
    _require_read(request.user)
    article = visible_article(request.user, pk)
    numbers = list(article.revisions.values_list("number", flat=True))
    params = CompareParams(request.GET).values()
    b = params.get("b") if params.get("b") in numbers else (numbers[0] if numbers else None)
    older = [n for n in numbers if b is None or n < b]
    a = params.get("a") if params.get("a") in numbers else (older[0] if older else b)
    revisions = {
        r.number: r for r in article.revisions.filter(number__in=[a, b]).select_related("author")
    }
    if a is None or b is None:
        raise Http404
    rev_a, rev_b = revisions[a], revisions[b]
    return render(
        request,
        "knowledge/article_compare.html",
        {
            "article": article,
            "rev_a": rev_a,
            "rev_b": rev_b,
            "diffs": services.compare(rev_a, rev_b),
            "numbers": numbers,
            "may_restore": services.can_edit(request.user, article),
        },
    )


@require_POST
@login_required
def article_restore(request, pk, number):
    _require_read(request.user)
    article = visible_article(request.user, pk)
    revision = get_object_or_404(ArticleRevision, article=article, number=number)
    form = ActionForm(request.POST)
    return run_action(
        request,
        form,
        lambda data: services.restore_revision(
            article, revision, request.user, version=data.get("version")
        ),
        success=lambda a: (
            _("Version %(old)s restored as version %(new)s.") % {"old": number, "new": a.version}
        ),
        after=lambda a: article.get_absolute_url(),
    )


# -- Attachments -------------------------------------------------------------------------------


@require_POST
@login_required
def attachment_add(request, pk):
    _require_read(request.user)
    article = visible_article(request.user, pk)
    if not services.can_edit(request.user, article):
        raise PermissionDenied
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        errors_to_messages(request, form)
        return redirect(article)
    try:
        attachment = services.add_attachment(article, form.cleaned_data["file"], request.user)
    except Refused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, _("%(name)s attached.") % {"name": attachment.name})
    return redirect(article)


@require_POST
@login_required
def attachment_delete(request, pk, attachment_pk):
    _require_read(request.user)
    article = visible_article(request.user, pk)
    attachment = get_object_or_404(Attachment, article=article, pk=attachment_pk)
    try:
        services.delete_attachment(attachment, request.user)
    except Refused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, _("%(name)s removed.") % {"name": attachment.name})
    return redirect(article)


@login_required
@cache_control(private=True, max_age=3600)
def attachment_file(request, pk, attachment_pk):
    """An attachment's file, to those who may see its article (never served plainly)."""
    _require_read(request.user)
    article = visible_article(request.user, pk)
    attachment = get_object_or_404(Attachment, article=article, pk=attachment_pk)
    if attachment.kind == Attachment.Kind.PDF:
        return private_file_response(
            attachment.file.name, download_as=attachment.name, content_type="application/pdf"
        )
    return private_file_response(attachment.file.name, content_type="image/jpeg")


# -- From a service request --------------------------------------------------------------------


@require_POST
@login_required
def from_ticket(request, ticket_pk):
    """A processed request becomes a draft article; the person goes on to edit it."""
    if not _may_write(request.user):
        raise PermissionDenied
    ticket = visible_ticket(
        request.user,
        ticket_pk,
        qs=Ticket.objects.select_related("problem_type", "equipment__product_model", "product"),
    )
    try:
        article = services.draft_from_ticket(ticket, request.user)
    except Refused as refusal:
        messages.error(request, str(refusal))
        return redirect("tickets:detail", pk=ticket.pk)
    messages.success(
        request,
        _("Draft article made from %(number)s: check it, then submit or publish it.")
        % {"number": ticket.number},
    )
    return redirect("knowledge:edit", pk=article.pk)


def ticket_panel(request, ticket):
    """The "make a draft article" panel of a request whose work is done, for people who may
    write articles (None hides it), with the articles already drafted from it."""
    if ticket.state not in services.DRAFTABLE_TICKET_STATES or not _may_write(request.user):
        return None
    drafted = list(
        visible_articles(request.user)
        .filter(source_ticket=ticket)
        .only("pk", "title", "state")
        .order_by("-id")[:5]
    )
    return {"ticket": ticket, "articles": drafted}


TICKET_PANEL = Panel("knowledge/_ticket_panel.html", ticket_panel, rank=80)


def register_panels():
    ticket_panels.register(TICKET_PANEL)
