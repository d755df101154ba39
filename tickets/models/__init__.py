"""Service requests (服务请求) and their closed loop (SPEC §2), one module per concern:
`choices` (states and short lists), `ticket` (the request and its states' graph), `log` (one
row per action), `visit` (engineers' visits, parts, photos, revisit calls), `intake` (what
comes in from customers' phones and other systems), `rating` (the customer's own rating),
`report` (the service report's stored PDF)."""

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
    TimeWindow,
)
from .intake import CustomerPhoto, Intake, IntakeEvent
from .log import ACTION_LABELS, CUSTOMER_ACTIONS, TicketTransition
from .rating import NEEDS_CALL_SCORE, Rating
from .report import ServiceReport
from .ticket import ProblemType, Ticket, TicketQuerySet, TicketSequence
from .visit import ChargeType, PartLine, Revisit, VerifiedRecordError, Visit, VisitPhoto

__all__ = [
    "ACTION_LABELS",
    "CUSTOMER_ACTIONS",
    "FINISHED_STATES",
    "Intake",
    "IntakeEvent",
    "MAX_UNRESOLVED_ROUNDS",
    "NEEDS_CALL_SCORE",
    "OPEN_STATES",
    "QUEUE_COUNTS",
    "STATE_TONES",
    "CUSTOMER_REPORT_STATES",
    "ChargeType",
    "Channel",
    "CustomerPhoto",
    "PartLine",
    "ProblemType",
    "Rating",
    "Revisit",
    "ServiceReport",
    "ServiceType",
    "State",
    "Ticket",
    "TicketQuerySet",
    "TicketSequence",
    "TicketTransition",
    "TimeWindow",
    "VerifiedRecordError",
    "Visit",
    "VisitPhoto",
]
