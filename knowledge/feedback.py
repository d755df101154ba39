"""What a request tells about an article: "this solved it" / "didn't help" (SPEC §4 knowledge/).

One say per person, article and request (Feedback's partial unique constraint): changing one's
mind updates it and moves the counters from one column to the other; saying the same again
changes nothing. An article's `uses` counts the requests it was used on: raised once per
request, by the first feedback anyone gives on it there.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import F
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aftersales.lib.actions import Refused, safe_next
from tickets.access import visible_ticket
from tickets.models import Ticket

from .models import Article, Feedback, State


class FeedbackRefused(Refused):
    pass


def record(article, ticket, user, helped):
    """Record that `article` helped (or not) on `ticket`, said by `user`; returns the article
    with its counters as they are now.

    Side effects: the article's `helped`/`failed` counters (and `uses` on the request's first
    feedback for it), raised with UPDATE … + 1 in the same transaction as the feedback row.
    Who may say it (the people who may see the request) is the caller's check.
    """
    with transaction.atomic():
        # The article's row lock orders two says on it: "first on this request" (uses) and the
        # one-per-person row are then decided on what the other one committed.
        locked = Article.objects.select_for_update().filter(pk=article.pk).first()
        if locked is None or locked.state != State.PUBLISHED:
            raise FeedbackRefused(_("Only published articles take feedback."))
        said = Feedback.objects.filter(article=locked, ticket=ticket, user=user).first()
        counters = {}
        if said is None:
            first_use = not Feedback.objects.filter(article=locked, ticket=ticket).exists()
            Feedback.objects.create(article=locked, ticket=ticket, user=user, helped=helped)
            counters["helped" if helped else "failed"] = 1
            if first_use:
                counters["uses"] = 1
        elif said.helped != helped:
            said.helped = helped
            said.at = timezone.now()
            said.save(update_fields=["helped", "at"])
            counters = {"helped": 1, "failed": -1} if helped else {"helped": -1, "failed": 1}
        if counters:
            Article.objects.filter(pk=locked.pk).update(
                **{name: F(name) + step for name, step in counters.items()}
            )
        return Article.objects.only("helped", "failed", "uses", "state").get(pk=locked.pk)


@require_POST
@login_required
def give_feedback(request, pk, ticket_pk):
    """POST helped=yes|no (and next): htmx gets the article's buttons as they are now; a
    browser without JavaScript a message and the page it came from."""
    ticket = visible_ticket(request.user, ticket_pk, Ticket.objects.only("number", "state"))
    article = get_object_or_404(Article.objects.only("state", "helped", "failed", "uses"), pk=pk)
    answer = request.POST.get("helped")
    back = safe_next(request, reverse("knowledge:ticket_suggestions", args=[ticket.pk]))
    error = None
    if answer not in ("yes", "no"):
        error = _("Say whether the article solved the problem.")
    else:
        try:
            article = record(article, ticket, request.user, answer == "yes")
        except FeedbackRefused as refusal:
            error = str(refusal)
    if request.htmx:
        return render(
            request,
            "knowledge/suggest/_feedback.html",
            {
                "article": article,
                "ticket": ticket,
                "said": None if error or answer not in ("yes", "no") else answer == "yes",
                "error": error,
                "here": back,
            },
        )
    if error:
        messages.error(request, error)
    elif answer == "yes":
        messages.success(request, _("Thank you: marked as solving the problem."))
    else:
        messages.success(request, _("Thank you: marked as not helping."))
    return redirect(back)
