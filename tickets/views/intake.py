"""The dispatcher's side of portal requests that need matching: the queue, one request with its
photos, turning it down, and (through the entry form, `desk.ticket_create?intake=`) entering it
for the customer and unit the dispatcher found."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.generic import ListView

from aftersales.access import PermissionMixin
from aftersales.lib.pagination import CappedPaginator

from .. import intake
from ..forms import IntakeRejectForm
from ..models import Intake


class IntakeListView(PermissionMixin, ListView):
    """Portal requests waiting for a dispatcher, the oldest first."""

    permission_required = "tickets.dispatch_ticket"
    template_name = "tickets/intake_list.html"
    paginate_by = 25
    paginator_class = CappedPaginator

    def get_queryset(self):
        return Intake.objects.filter(status=Intake.Status.WAITING).order_by("created_at", "id")


@login_required
@permission_required("tickets.dispatch_ticket", raise_exception=True)
def intake_detail(request, pk):
    found = get_object_or_404(
        Intake.objects.select_related("problem_type", "ticket", "handled_by"), pk=pk
    )
    return render(
        request,
        "tickets/intake_detail.html",
        {
            "intake": found,
            "photos": list(found.photos.all()),
            "reject_form": IntakeRejectForm(),
            "q": found.company or found.mobile,
        },
    )


@require_POST
@login_required
@permission_required("tickets.dispatch_ticket", raise_exception=True)
def intake_reject(request, pk):
    found = get_object_or_404(Intake, pk=pk)
    form = IntakeRejectForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        intake.reject(found, request.user, reason)
    except intake.IntakeRefused as refused:
        messages.error(request, str(refused))
        return redirect("tickets:intake_detail", pk)
    messages.success(request, _("The portal request was turned down."))
    return redirect("tickets:intake_list")
