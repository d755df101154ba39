"""Repair templates (维修模板) on the engineer's visit record (SPEC §4 knowledge/).

The visit form offers the active templates of the request's service type and product line (and
the general ones, for every type or line); picking one fills the work done, the part rows and
the labour hours (static/js/repair_templates.js, reading the templates from a json_script
block). Without JavaScript the select is not shown and the form works as before.
"""

import re
import unicodedata
from decimal import Decimal, InvalidOperation

from django.db.models import Q

from aftersales.registry import Panel
from tickets.slots import visit_panels

from .models import RepairTemplate
from .suggest import ticket_line

# A part line: its name, then ×, *, x or X (full-width forms folded by NFKC) and a quantity:
# "密封圈 × 2", "滤网x1", "压缩机 * 1.5". A letter x counts only after a space or a Chinese
# character, so that "螺栓 M8x20" stays one bolt. A line without a quantity is one part.
_PART_LINE = re.compile(
    r"^(?P<name>.*?)(?:\s*[×*]|(?:\s+|(?<=[^\x00-\x7f]))[xX])\s*(?P<qty>\d+(?:\.\d+)?)\s*$"
)
# What the visit's part rows hold (tickets.mobile_forms.PartForm).
_NAME_LENGTH = 100
_MAX_QUANTITY = Decimal("999999.99")


def parse_parts(text):
    """[(name, Decimal quantity)] of a template's parts, one per non-empty line."""
    parts = []
    for raw in (text or "").splitlines():
        line = unicodedata.normalize("NFKC", raw).strip()
        if not line:
            continue
        name, quantity = line, Decimal(1)
        found = _PART_LINE.match(line)
        if found and found["name"].strip():
            name = found["name"].strip()
            try:
                quantity = Decimal(found["qty"])
            except InvalidOperation:
                quantity = Decimal(1)
        if quantity <= 0 or quantity > _MAX_QUANTITY:
            quantity = Decimal(1)
        name = name.rstrip("×* ") or name
        parts.append((name[:_NAME_LENGTH], quantity.quantize(Decimal("0.01")).normalize()))
    return parts


def templates_for(ticket):
    """The active templates that fit the request: its service type or every type, its product
    line or every line; one query."""
    line = ticket_line(ticket)
    lines = Q(product_line__isnull=True)
    if line is not None:
        lines |= Q(product_line=line)
    return list(
        RepairTemplate.objects.filter(active=True)
        .filter(Q(service_type="") | Q(service_type=ticket.service_type))
        .filter(lines)
        .order_by("name", "pk")
    )


def template_data(templates):
    """What repair_templates.js reads (json_script): per template its work text, part rows and
    hours, as strings the form's fields take."""
    return [
        {
            "id": t.pk,
            "work": "\n".join(line.strip() for line in t.steps.splitlines() if line.strip()),
            "parts": [{"name": n, "quantity": f"{q:f}"} for n, q in parse_parts(t.parts)],
            "hours": "" if t.labour_hours is None else f"{t.labour_hours:f}",
        }
        for t in templates
    ]


def _visit_panel(request, ticket):
    templates = templates_for(ticket)
    if not templates:
        return None
    return {"templates": templates, "data": template_data(templates)}


VISIT_PANEL = Panel("knowledge/suggest/_repair_templates.html", _visit_panel, rank=10)


def register_panels():
    visit_panels.register(VISIT_PANEL)
