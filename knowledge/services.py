"""Everything that changes a knowledge article goes through here (SPEC §4 knowledge/).

- `save_article` saves the content: one transaction that refuses a stale form, raises the
  version, keeps the saved content as a new ArticleRevision and refreshes the search columns.
- `perform` is the one door for the lifecycle (draft → in review → published → archived): it
  locks the row, checks the person and the state after the lock and logs an ArticleTransition.
- `restore_revision` brings an earlier content back as a new version; history is never
  rewritten. `compare` tells two revisions apart, field by field, for the compare page.
- `draft_from_ticket` turns a processed service request into a draft article in one step.
- `add_attachment` / `delete_attachment`: images and PDF manuals, checked by their content.

Every refusal is a `KnowledgeRefused` (aftersales.lib.actions.Refused) with a message for the
person; nothing is half-applied.
"""

import difflib
import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from io import BytesIO

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django_fsm import can_proceed

from aftersales.lib.actions import Refused
from aftersales.models import ProductLine
from customers.models import ProductModel
from tickets.mobile_forms import resized_jpeg
from tickets.models import PartLine, ProblemType, Visit
from tickets.models import State as TicketState

from . import search
from .models import Article, ArticleRevision, ArticleTransition, Attachment, FaultCode, State


class KnowledgeRefused(Refused):
    """An action on an article that cannot be taken now; the message is for the person."""


PROPOSE = "knowledge.propose_article"
REVIEW = "knowledge.review_article"
VIEW = "knowledge.view_article"

# The content of an article as a revision keeps it: plain fields, then the relations as ids.
TEXT_FIELDS = ("title", "symptom", "cause", "solution", "parts", "tools", "tags")
REVISED_FIELDS = (
    *TEXT_FIELDS,
    "labour_hours",
    "product_line",
    "problem_type",
    "fault_codes",
    "product_models",
)
# "title" alone is a contact's job title (职务) in the catalogue: an article's is a headline.
TITLE_LABEL = pgettext_lazy("knowledge article", "title")

# The model fields save_article copies from the edited article onto the locked row.
CONTENT_FIELDS = (*TEXT_FIELDS, "labour_hours", "product_line_id", "problem_type_id")

# Requests that can become an article: the work is reported done.
DRAFTABLE_TICKET_STATES = (TicketState.PROCESSED, TicketState.CLOSED, TicketState.VERIFIED)


# -- Who may do what ---------------------------------------------------------------------------


def can_see(user, article):
    """Published articles: every staff role; drafts and articles in review: their author and
    reviewers; archived ones: reviewers."""
    if user.has_perm(REVIEW):
        return True
    if article.state == State.PUBLISHED:
        return user.has_perm(VIEW)
    if article.state in (State.DRAFT, State.REVIEW):
        return article.author_id == user.pk and user.has_perm(PROPOSE)
    return False


def can_edit(user, article):
    """Reviewers edit any article that is not archived; a proposer their own drafts."""
    if article.state == State.ARCHIVED:
        return False
    if user.has_perm(REVIEW):
        return True
    return article.state == State.DRAFT and article.author_id == user.pk and user.has_perm(PROPOSE)


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    tone: str = "outline-secondary"
    needs_reason: bool = False
    # Who may take it: "author" (the author with the propose permission, or a reviewer) or
    # "reviewer".
    who: str = "reviewer"


ACTIONS = {
    a.name: a
    for a in [
        Action("submit", gettext_lazy("Submit for review"), "primary", who="author"),
        Action("publish", gettext_lazy("Publish"), "success"),
        Action("send_back", gettext_lazy("Send back to the author"), needs_reason=True),
        Action("archive", gettext_lazy("Archive"), "outline-danger", needs_reason=True),
        Action("restore_draft", gettext_lazy("Restore as a draft")),
    ]
}
ACTION_LABELS = {
    "create": gettext_lazy("Written"),
    "from_ticket": gettext_lazy("Drafted from a service request"),
    "import": gettext_lazy("Imported"),
    **{name: a.label for name, a in ACTIONS.items()},
}


def _may(user, action, article):
    if user is None:
        return False
    if user.has_perm(REVIEW):
        return True
    return action.who == "author" and article.author_id == user.pk and user.has_perm(PROPOSE)


def _can_proceed(article, name):
    return can_proceed(getattr(article, name))


def available_actions(article, user):
    """The lifecycle buttons this person may press on this article now (and only those)."""
    return [
        action
        for name, action in ACTIONS.items()
        if _may(user, action, article) and _can_proceed(article, name)
    ]


def action_label(name):
    return str(ACTION_LABELS.get(name, name))


# -- Saving the content ------------------------------------------------------------------------


def stale_message():
    return _(
        "This article was changed by someone else a moment ago, so nothing was saved. "
        "Open it again to see the current version."
    )


def _lock(article, version):
    """The article's row, locked until commit; refused when the page showed another version."""
    locked = Article.objects.select_for_update().get(pk=article.pk)
    if version is not None and locked.version != version:
        raise KnowledgeRefused(stale_message())
    return locked


def revision_data(article, fault_codes, product_models):
    """The content of `article` as a revision stores it (REVISED_FIELDS; JSON)."""
    data = {name: getattr(article, name) for name in TEXT_FIELDS}
    hours = article.labour_hours
    data["labour_hours"] = None if hours is None else str(Decimal(hours))
    data["product_line"] = article.product_line_id
    data["problem_type"] = article.problem_type_id
    data["fault_codes"] = sorted(fault_codes)
    data["product_models"] = sorted(product_models)
    return data


def _ids(objects):
    return [o if isinstance(o, int) else o.pk for o in objects]


def save_article(article, actor, *, fault_codes=None, product_models=None, note="", version=None):
    """Save `article`'s content as `actor`; returns the saved article (a fresh instance).

    A new article (no pk) is written as a draft by `actor`. An existing one is locked and
    refused when `version` (the version the edit page showed) is no longer the current one, or
    when `actor` may not edit it. `fault_codes` / `product_models` (objects or ids; None: keep
    the current ones) are set, the version raised, the content kept as a revision, and the
    search columns refreshed (knowledge.search.index).
    """
    with transaction.atomic():
        if article.pk is None:
            if not (actor.has_perm(PROPOSE) or actor.has_perm(REVIEW)):
                raise KnowledgeRefused(_("You may not write knowledge articles."))
            locked = Article(author=actor, state=State.DRAFT, version=0)
            for name in CONTENT_FIELDS:
                setattr(locked, name, getattr(article, name))
            locked.source_ticket_id = article.source_ticket_id
            creating = True
        else:
            locked = _lock(article, version)
            if not can_edit(actor, locked):
                raise KnowledgeRefused(_("You may not edit this article."))
            for name in CONTENT_FIELDS:
                setattr(locked, name, getattr(article, name))
            creating = False
        _check_relations(locked, fault_codes, product_models)
        locked.version += 1
        locked.updated_at = timezone.now()
        locked.save()
        if fault_codes is not None:
            locked.fault_codes.set(_ids(fault_codes))
        if product_models is not None:
            locked.product_models.set(_ids(product_models))
        codes = list(locked.fault_codes.values_list("pk", flat=True))
        models_ = list(locked.product_models.values_list("pk", flat=True))
        ArticleRevision.objects.create(
            article=locked,
            number=locked.version,
            data=revision_data(locked, codes, models_),
            author=actor,
            saved_at=locked.updated_at,
            note=note[:200],
        )
        if creating:
            _log(locked, "create", actor, source="")
        _index(locked)
    return locked


def _check_relations(article, fault_codes, product_models):
    """A fault code must be of the article's product line; a model too (when it has a line)."""
    line = article.product_line_id
    if line is None:
        return
    if fault_codes:
        wrong = FaultCode.objects.filter(pk__in=_ids(fault_codes)).exclude(product_line=line)
        if wrong.exists():
            raise KnowledgeRefused(
                _("Fault codes must be of the article's product line; nothing was saved.")
            )
    if product_models:
        wrong = ProductModel.objects.filter(pk__in=_ids(product_models)).exclude(line=line)
        if wrong.exists():
            raise KnowledgeRefused(
                _("Product models must be of the article's product line; nothing was saved.")
            )


def _index(article):
    search.index(article)
    article.save(update_fields=["search_title", "search_symptom", "search_body"])


# -- The lifecycle -----------------------------------------------------------------------------


def perform(article, action, actor, reason="", *, version=None):
    """Take the lifecycle `action` on `article` as `actor`; returns the updated article.

    Refused (nothing changed) when the action is unknown, not possible in the article's state,
    not this person's to take, needs a reason not given, or `version` (what the page showed)
    is no longer current. Logged as an ArticleTransition (who, when, from, to, why).
    """
    if action not in ACTIONS:
        raise KnowledgeRefused(_("There is no such action."))
    spec = ACTIONS[action]
    with transaction.atomic():
        locked = _lock(article, version)
        if not can_see(actor, locked) or not _may(actor, spec, locked):
            raise KnowledgeRefused(
                _("You may not take the action “%(action)s” on this article.")
                % {"action": spec.label}
            )
        if not _can_proceed(locked, action):
            raise KnowledgeRefused(
                _("“%(action)s” is not possible while the article is “%(state)s”.")
                % {"action": spec.label, "state": locked.get_state_display()}
            )
        reason = (reason or "").strip()
        if spec.needs_reason and not reason:
            raise KnowledgeRefused(_("Please give a reason."))
        source = locked.state
        getattr(locked, action)()
        locked.save(update_fields=["state", "published_at"])
        _log(locked, action, actor, source=source, reason=reason)
    return locked


def _log(article, action, actor, *, source, reason=""):
    return ArticleTransition.objects.create(
        article=article,
        action=action,
        source=source,
        target=article.state,
        actor=actor,
        reason=reason[:500],
    )


def count_view(article):
    """One more view, counted in the database (no lost updates between two readers)."""
    Article.objects.filter(pk=article.pk).update(views=F("views") + 1)


# -- Revisions ---------------------------------------------------------------------------------


def restore_revision(article, revision, actor, *, version=None):
    """Save `revision`'s content as a new version of `article` (the history stays as it was).
    Fault codes and models that no longer exist are left out."""
    if revision.article_id != article.pk:
        raise KnowledgeRefused(_("This version is not one of this article's."))
    data = revision.data
    restored = Article.objects.get(pk=article.pk)
    for name in TEXT_FIELDS:
        setattr(restored, name, data.get(name) or "")
    hours = data.get("labour_hours")
    restored.labour_hours = None if hours in (None, "") else Decimal(hours)
    line = data.get("product_line")
    restored.product_line_id = line if ProductLine.objects.filter(pk=line).exists() else None
    problem = data.get("problem_type")
    restored.problem_type_id = problem if ProblemType.objects.filter(pk=problem).exists() else None
    codes = FaultCode.objects.filter(pk__in=data.get("fault_codes") or [])
    if restored.product_line_id is not None:
        codes = codes.filter(product_line=restored.product_line_id)
    models_ = ProductModel.objects.filter(pk__in=data.get("product_models") or [])
    note = _("Restored from version %(number)s") % {"number": revision.number}
    return save_article(
        restored,
        actor,
        fault_codes=list(codes.values_list("pk", flat=True)),
        product_models=list(models_.values_list("pk", flat=True)),
        note=note,
        version=version,
    )


@dataclass
class FieldDiff:
    name: str
    label: str
    changed: bool
    # [(tag, text)] per line; tag: "same", "del" (only in a), "ins" (only in b).
    lines: list = field(default_factory=list)


# Words of Latin letters and digits stay whole; every other character (Chinese) is a token.
_TOKENS = re.compile(r"[A-Za-z0-9_.]+|\s+|.", re.S)


def _inline(a, b):
    """[(tag, text)] of one line's change, by words and single Chinese characters."""
    ta, tb = _TOKENS.findall(a), _TOKENS.findall(b)
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, ta, tb, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(("same", "".join(ta[i1:i2])))
            continue
        if i2 > i1:
            out.append(("del", "".join(ta[i1:i2])))
        if j2 > j1:
            out.append(("ins", "".join(tb[j1:j2])))
    return out


def _text_diff(a, b):
    """The lines of a text field: unchanged lines whole, changed ones word by word."""
    la, lb = (a or "").splitlines(), (b or "").splitlines()
    lines = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, la, lb, autojunk=False).get_opcodes():
        if op == "equal":
            lines += [[("same", line)] for line in la[i1:i2]]
        elif op == "replace" and i2 - i1 == j2 - j1:
            lines += [_inline(x, y) for x, y in zip(la[i1:i2], lb[j1:j2], strict=True)]
        else:
            lines += [[("del", line)] for line in la[i1:i2]]
            lines += [[("ins", line)] for line in lb[j1:j2]]
    return lines


def _names(model, ids, label=str):
    found = {o.pk: label(o) for o in model.objects.filter(pk__in=ids or [])}
    return [found.get(pk, f"#{pk}") for pk in ids or []]


def _list_diff(a, b):
    lines = [[("same", x)] for x in a if x in b]
    lines += [[("del", x)] for x in a if x not in b]
    lines += [[("ins", x)] for x in b if x not in a]
    return lines


def compare(rev_a, rev_b):
    """[FieldDiff] of every revised field, from `rev_a`'s content to `rev_b`'s."""
    a, b = rev_a.data, rev_b.data
    meta = Article._meta
    diffs = []
    for name in REVISED_FIELDS:
        label = str(TITLE_LABEL if name == "title" else meta.get_field(name).verbose_name)
        va, vb = a.get(name), b.get(name)
        if name in TEXT_FIELDS:
            lines = _text_diff(va, vb)
        elif name == "labour_hours":
            lines = _list_diff([str(va)] if va else [], [str(vb)] if vb else [])
        elif name == "product_line":
            lines = _list_diff(
                _names(ProductLine, [va] if va else []), _names(ProductLine, [vb] if vb else [])
            )
        elif name == "problem_type":
            lines = _list_diff(
                _names(ProblemType, [va] if va else []), _names(ProblemType, [vb] if vb else [])
            )
        elif name == "fault_codes":
            lines = _list_diff(_names(FaultCode, va), _names(FaultCode, vb))
        else:
            lines = _list_diff(_names(ProductModel, va), _names(ProductModel, vb))
        changed = (va or None) != (vb or None)
        diffs.append(FieldDiff(name, label, changed, lines))
    return diffs


# -- From a service request --------------------------------------------------------------------

# A fault code as people write it: letters then digits, perhaps with a space or dash between
# (E1, e-1, E 1, F12, CH05); full-width forms are folded first (NFKC).
_CODE_CANDIDATE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{1,4}[\s\-_]?\d{1,4}[A-Za-z]?(?![0-9])")


def find_fault_codes(text, line_id):
    """The fault codes of product line `line_id` that `text` mentions, in the order found."""
    if line_id is None or not text:
        return []
    folded = unicodedata.normalize("NFKC", text)
    wanted = list(dict.fromkeys(search.normalise_code(m) for m in _CODE_CANDIDATE.findall(folded)))
    if not wanted:
        return []
    codes = {c.code: c for c in FaultCode.objects.filter(product_line=line_id, code__in=wanted)}
    return [codes[w] for w in wanted if w in codes]


def _quantity(value):
    return format(value.normalize(), "f") if isinstance(value, Decimal) else str(value)


def draft_from_ticket(ticket, actor):
    """A draft article made from a processed service request and its visits, by `actor`:
    the symptom is the request's description, the cause its analysis, the solution the visits'
    work done (one step per line), the parts those used, the fault codes those of the unit's
    product line that the texts mention. The request is the article's source."""
    if not (actor.has_perm(PROPOSE) or actor.has_perm(REVIEW)):
        raise KnowledgeRefused(_("You may not write knowledge articles."))
    if ticket.state not in DRAFTABLE_TICKET_STATES:
        raise KnowledgeRefused(
            _("Only a request whose work is done can become an article; this one is “%(state)s”.")
            % {"state": ticket.get_state_display()}
        )
    model = _ticket_model(ticket)
    line_id = model.line_id if model is not None else None
    visits = list(Visit.objects.filter(ticket=ticket).order_by("checked_in_at", "id"))
    steps = [
        line.strip()
        for visit in visits
        for line in (visit.work_done or "").splitlines()
        if line.strip()
    ]
    parts = [
        f"{p.name} × {_quantity(p.quantity)}"
        for p in PartLine.objects.filter(visit__ticket=ticket).order_by(
            "visit__checked_in_at", "id"
        )
    ]
    description = (ticket.description or "").strip()
    first_line = description.splitlines()[0] if description else ""
    problem = ticket.problem_type.name if ticket.problem_type_id else ""
    title = f"{problem}：{first_line}" if problem else first_line
    if len(title) > 60:
        title = title[:59] + "…"
    article = Article(
        title=title or ticket.number,
        symptom=description,
        cause=(ticket.analysis or "").strip(),
        solution="\n".join(steps),
        parts="\n".join(dict.fromkeys(parts)),
        product_line_id=line_id,
        problem_type_id=ticket.problem_type_id,
        source_ticket=ticket,
    )
    hours = sum((v.labour_hours or Decimal("0") for v in visits), Decimal("0"))
    article.labour_hours = hours or None
    text = "\n".join([description, article.cause, article.solution])
    codes = find_fault_codes(text, line_id)
    with transaction.atomic():
        saved = save_article(
            article,
            actor,
            fault_codes=codes,
            product_models=[model] if model is not None else [],
            note=_("From service request %(number)s") % {"number": ticket.number},
        )
        _log(saved, "from_ticket", actor, source=State.DRAFT, reason=ticket.number)
    return saved


def _ticket_model(ticket):
    if ticket.equipment_id is not None:
        return ticket.equipment.product_model
    if ticket.product_id is not None:
        return ticket.product
    return None


# -- Attachments -------------------------------------------------------------------------------

# A PDF manual may be larger than a photo; the request's own limit (UPLOAD_MAX_BYTES) is first.
ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024
MAX_ATTACHMENTS = 20


def check_upload(upload):
    """(kind, file to store) of an uploaded image or PDF, told apart by content, not by name;
    ValidationError (a message for the person) for anything else."""
    size = getattr(upload, "size", 0) or 0
    if size > ATTACHMENT_MAX_BYTES:
        raise ValidationError(
            _("The file is %(size)s; an attachment may be at most %(limit)s.")
            % {"size": filesizeformat(size), "limit": filesizeformat(ATTACHMENT_MAX_BYTES)}
        )
    upload.seek(0)
    head = upload.read(1024)
    upload.seek(0)
    is_pdf = head.startswith(b"%PDF-")
    # The name must not say otherwise than the content: a "manual.pdf" that is a picture (or a
    # "photo.jpg" that is a PDF) is a mistake or a disguise.
    claimed = _claimed_kind(getattr(upload, "name", ""))
    if claimed is not None and claimed != (
        Attachment.Kind.PDF if is_pdf else Attachment.Kind.IMAGE
    ):
        raise ValidationError(
            _("The file's name says %(claimed)s but its content is not; nothing was attached.")
            % {"claimed": Attachment.Kind(claimed).label}
        )
    if is_pdf:
        data = upload.read()
        _check_pdf(data)
        return Attachment.Kind.PDF, ContentFile(data, name=f"{uuid.uuid4().hex}.pdf")
    try:
        return Attachment.Kind.IMAGE, resized_jpeg(upload)
    except ValidationError:
        raise
    except Exception as exc:  # Pillow raises many kinds of error on what is not an image
        raise ValidationError(
            _("Attach an image (JPEG, PNG …) or a PDF file; this file is neither.")
        ) from exc


IMAGE_EXTENSIONS = {"jpg", "jpeg", "png", "gif", "webp", "bmp", "tif", "tiff", "heic"}


def _claimed_kind(name):
    """The kind a file's name claims (by its extension), or None when it claims neither."""
    ext = name.rsplit(".", 1)[-1].lower() if "." in (name or "") else ""
    if ext == "pdf":
        return Attachment.Kind.PDF
    if ext in IMAGE_EXTENSIONS:
        return Attachment.Kind.IMAGE
    return None


def _check_pdf(data):
    from pypdf import PdfReader

    try:
        reader = PdfReader(BytesIO(data), strict=False)
        pages = len(reader.pages)
    except Exception as exc:  # pypdf raises many kinds of error on a broken file
        raise ValidationError(_("This PDF file is damaged and cannot be read.")) from exc
    if not pages:
        raise ValidationError(_("This PDF file has no pages."))


def add_attachment(article, upload, actor):
    """Attach an uploaded image (re-encoded) or PDF to `article`; refused for other files."""
    if not can_edit(actor, article):
        raise KnowledgeRefused(_("You may not change this article's attachments."))
    try:
        kind, stored = check_upload(upload)
    except ValidationError as error:
        raise KnowledgeRefused(" ".join(error.messages)) from None
    with transaction.atomic():
        locked = Article.objects.select_for_update().get(pk=article.pk)
        if locked.attachments.count() >= MAX_ATTACHMENTS:
            raise KnowledgeRefused(
                _("An article may have at most %(count)s attachments.") % {"count": MAX_ATTACHMENTS}
            )
        name = (getattr(upload, "name", "") or stored.name).replace("\\", "/").split("/")[-1]
        return Attachment.objects.create(
            article=locked,
            file=stored,
            name=name[:200],
            kind=kind,
            size=stored.size,
            uploaded_by=actor,
        )


def delete_attachment(attachment, actor):
    if not can_edit(actor, attachment.article):
        raise KnowledgeRefused(_("You may not change this article's attachments."))
    name = attachment.file.name
    storage = attachment.file.storage
    attachment.delete()
    transaction.on_commit(lambda: storage.delete(name))
