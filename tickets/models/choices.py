"""The states of the closed loop and the short lists of a service request."""

from django.db import models
from django.utils.translation import gettext_lazy as _

# After this many processing rounds ended unresolved, a ticket is locked for a service manager.
MAX_UNRESOLVED_ROUNDS = 2


class State(models.TextChoices):
    PENDING_ASSIGNMENT = "pending_assignment", _("Pending assignment")
    SUSPENDED = "suspended", _("Suspended")
    ASSIGNED = "assigned", _("Assigned")
    IN_SERVICE = "in_service", _("In service")
    PROCESSED = "processed", _("Processed")
    CLOSED = "closed", _("Closed")
    VERIFIED = "verified", _("Verified")
    LOCKED = "locked", _("Locked")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STATES = [
    State.PENDING_ASSIGNMENT,
    State.SUSPENDED,
    State.ASSIGNED,
    State.IN_SERVICE,
    State.PROCESSED,
    State.LOCKED,
]
FINISHED_STATES = [State.CLOSED, State.VERIFIED, State.CANCELLED]
# The customer is offered the service report once the work is reported done, and while the
# request is closed and verified; a request reopened after an unsatisfied revisit offers none
# until its next round is done.
CUSTOMER_REPORT_STATES = [State.PROCESSED, State.CLOSED, State.VERIFIED]
# The cache entry of the queue counts (the desk's open states, the manager's closed ones awaiting
# verification: tickets.views.desk); every state change forgets it. (Not "queue-counts": that
# entry had no closed count.)
QUEUE_COUNTS = "state-counts"
# The colour of each state's badge (see .status-badge in css/app.css).
STATE_TONES = {
    State.PENDING_ASSIGNMENT: "warning",
    State.SUSPENDED: "neutral",
    State.ASSIGNED: "info",
    State.IN_SERVICE: "primary",
    State.PROCESSED: "info",
    State.CLOSED: "success",
    State.VERIFIED: "success",
    State.LOCKED: "danger",
    State.CANCELLED: "neutral",
}


class ServiceType(models.TextChoices):
    INSTALLATION = "installation", _("Installation")
    REPAIR = "repair", _("Repair")
    MAINTENANCE = "maintenance", _("Maintenance")
    INSPECTION = "inspection", _("Inspection")
    RETURN_REPAIR = "return_repair", _("Return for repair")
    CONSULTATION = "consultation", _("Consultation")


class TimeWindow(models.TextChoices):
    """The part of the requested day the customer prefers (the appointment window)."""

    MORNING = "morning", _("Morning (8:00–12:00)")
    AFTERNOON = "afternoon", _("Afternoon (12:00–18:00)")
    EVENING = "evening", _("Evening (18:00–21:00)")


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    PORTAL = "portal", _("Customer portal")
    QR = "qr", _("QR code")
    API = "api", _("API")
    EMAIL = "email", _("E-mail")
    WECHAT = "wechat", _("WeChat")
    PLAN = "plan", _("Maintenance plan")
