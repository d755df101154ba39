"""Service requests (服务请求) and their closed loop (SPEC §2), one module per concern:
`choices` (states and short lists), `ticket` (the request and its states' graph), `log` (one
row per action), `visit` (engineers' visits, parts, photos, revisit calls), `report` (the
service report's stored PDF)."""

from .choices import (
    CUSTOMER_REPORT_STATES,
    FINISHED_STATES,
    MAX_UNRESOLVED_ROUNDS,
    OPEN_STATES,
    QUEUE_COUNTS,
    STATE_TONES,
    Channel,
    ServiceType,
    State,
)
from .log import ACTION_LABELS, TicketTransition
from .report import ServiceReport
from .ticket import ProblemType, Ticket, TicketQuerySet, TicketSequence
from .visit import ChargeType, PartLine, Revisit, VerifiedRecordError, Visit, VisitPhoto

__all__ = [
    "ACTION_LABELS",
    "FINISHED_STATES",
    "MAX_UNRESOLVED_ROUNDS",
    "OPEN_STATES",
    "QUEUE_COUNTS",
    "STATE_TONES",
    "CUSTOMER_REPORT_STATES",
    "ChargeType",
    "Channel",
    "PartLine",
    "ProblemType",
    "Revisit",
    "ServiceReport",
    "ServiceType",
    "State",
    "Ticket",
    "TicketQuerySet",
    "TicketSequence",
    "TicketTransition",
    "VerifiedRecordError",
    "Visit",
    "VisitPhoto",
]
