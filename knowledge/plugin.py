"""What the knowledge base brings to the whole (read by `aftersales.registry`)."""

from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from aftersales.registry import MenuItem
from aftersales.roles import Role

URLS = [
    path("knowledge/", include("knowledge.urls")),
]

MENU = [
    MenuItem(_("Knowledge base"), "knowledge:list", "knowledge.view_article", "book", rank=150),
]

# Everyone on staff reads published articles (and the fault codes and repair templates they
# name); dispatchers and engineers propose drafts; service managers review and publish, and keep
# the managed lists (fault codes, synonyms, repair templates).
READ = [
    "knowledge.view_article",
    "knowledge.view_faultcode",
    "knowledge.view_repairtemplate",
]
PROPOSE = READ + ["knowledge.propose_article"]
REVIEW = PROPOSE + [
    "knowledge.review_article",
    "knowledge.add_faultcode",
    "knowledge.change_faultcode",
    "knowledge.delete_faultcode",
    "knowledge.view_synonym",
    "knowledge.add_synonym",
    "knowledge.change_synonym",
    "knowledge.delete_synonym",
    "knowledge.add_repairtemplate",
    "knowledge.change_repairtemplate",
    "knowledge.delete_repairtemplate",
]

ROLE_PERMISSIONS = {
    Role.DISPATCHER: PROPOSE,
    Role.ENGINEER: PROPOSE,
    Role.SERVICE_MANAGER: REVIEW,
    Role.REVISIT_AGENT: READ,
    Role.PARTS_CLERK: READ,
    Role.FINANCE: READ,
    Role.COMPLAINT_HANDLER: READ,
    Role.MANAGER: READ,
}


def seed_demo(out):
    from .demo import seed

    return seed(out)
