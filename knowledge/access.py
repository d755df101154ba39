"""Which articles a person may open: the one answer every knowledge page asks.

Published articles: every staff role (`knowledge.view_article`). Drafts and articles in review:
their author (who may propose) and reviewers. Archived ones: reviewers. An article the person
may not see is a 404, never a 403: its number says nothing about whether it exists.
"""

from django.db.models import Q
from django.shortcuts import get_object_or_404

from .models import Article, State
from .services import PROPOSE, REVIEW, VIEW


def visible_articles(user, qs=None):
    articles = Article.objects.all() if qs is None else qs
    if user.has_perm(REVIEW):
        return articles
    shown = Q(pk__in=[])
    if user.has_perm(VIEW):
        shown |= Q(state=State.PUBLISHED)
    if user.has_perm(PROPOSE):
        shown |= Q(state__in=[State.DRAFT, State.REVIEW], author=user)
    return articles.filter(shown)


def visible_article(user, pk, qs=None):
    """The article `pk` if `user` may see it, else 404."""
    return get_object_or_404(visible_articles(user, qs), pk=pk)
