from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.models import Group
from django.core.cache import caches
from django.db import transaction
from django.db.models import Count, F, Prefetch, Q
from django.forms import TextInput, inlineformset_factory
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.views import i18n as i18n_views
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django.views.generic import CreateView, ListView, TemplateView, UpdateView

from . import apikeys, calendars, notifications, registry, services
from .access import (
    AdministratorRequiredMixin,
    require_administrator,
    visible_notification,
)
from .forms import (
    ApiKeyForm,
    EngineerForm,
    ListParamsForm,
    NewUserForm,
    PasswordResetByAdminForm,
    RolePermissionsForm,
    ServicePointForm,
    UserForm,
)
from .lib.actions import is_own_page
from .lib.filters import FilteredListMixin
from .lib.pagination import CappedPaginator
from .models import (
    ApiKey,
    EngineerProfile,
    Heartbeat,
    Notification,
    ProductLine,
    ServicePoint,
    User,
    WebhookChannel,
)
from .roles import Role


@login_required
def home(request):
    """The first page after signing in: the first of the apps' home pages that fits the person
    (their plugin.py: HOME), else a welcome page that names their roles."""
    for page in registry.home_pages():
        if page.who(request.user):
            return redirect(page.url_name)
    return render(request, "home.html")


@require_POST
def set_language(request):
    """Django's `set_language`, and for a signed-in person the choice is kept on their user:
    notifications sent to them later (by timers, by others' actions) are written in it."""
    response = i18n_views.set_language(request)
    language = request.POST.get("language", "")
    user = request.user
    if user.is_authenticated and language in dict(settings.LANGUAGES) and user.language != language:
        user.language = language
        user.save(update_fields=["language"])
    return response


def rate_limited(request, exception=None):
    return render(request, "429.html", status=429)


@never_cache
def healthz(request):
    """For load balancers and monitoring: the web process answers. Touches no database."""
    return HttpResponse("ok", content_type="text/plain")


@never_cache
def readyz(request):
    """For orchestration and monitoring: can this web process serve pages? The database must
    answer; Redis (when configured) must answer; the worker's heartbeat is reported (stale
    means timers and notifications wait) but does not make the web process unready."""
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database = "ok"
    except Exception as error:  # noqa: BLE001 (any failure is the answer)
        database = f"down: {type(error).__name__}"
    backend = caches["default"]
    redis = ("ok" if backend.ping() else "down") if hasattr(backend, "ping") else "not used"
    beat = Heartbeat.objects.filter(name="beat").first() if database == "ok" else None
    worker = "ok" if beat and beat.is_recent else ("stale" if beat else "unknown")
    ready = database == "ok" and redis != "down"
    return JsonResponse(
        {"ready": ready, "database": database, "redis": redis, "worker": worker},
        status=200 if ready else 503,
    )


@never_cache
@login_required
def whoami(request):
    """The smallest signed-in page (session + user): the benchmark's baseline for its pages."""
    return HttpResponse(request.user.get_username(), content_type="text/plain; charset=utf-8")


class SearchListView(FilteredListMixin, ListView):
    """A paginated list with a free-text `q` parameter (and the other `ListParamsForm` ones)."""

    @cached_property
    def params(self):
        return ListParamsForm(self.request.GET).values()

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["q"] = self.params.get("q", "")
        return ctx


# Users ---------------------------------------------------------------------------------------


class UserListView(AdministratorRequiredMixin, SearchListView):
    template_name = "aftersales/user_list.html"

    def get_queryset(self):
        qs = User.objects.prefetch_related("groups").order_by("username")
        if q := self.params.get("q"):
            qs = qs.filter(
                Q(username__icontains=q) | Q(display_name__icontains=q) | Q(mobile__contains=q)
            )
        role = self.params.get("role")
        if role in Role.values:
            qs = qs.filter(groups__name=role)
        return qs

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["roles"] = Role.choices
        ctx["role"] = self.params.get("role", "")
        return ctx


def _user_values(form):
    return {name: form.cleaned_data[name] for name in form._meta.fields}


class UserCreateView(AdministratorRequiredMixin, CreateView):
    form_class = NewUserForm
    template_name = "aftersales/form_page.html"

    def form_valid(self, form):
        user = services.save_user(
            None,
            _user_values(form),
            form.cleaned_data["roles"],
            password=form.cleaned_data["password1"],
        )
        messages.success(self.request, _("User %(name)s created.") % {"name": user})
        return redirect("org:user_list")

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            title=_("New user"), back=reverse("org:user_list"), **kwargs
        )


class UserUpdateView(AdministratorRequiredMixin, UpdateView):
    model = User
    form_class = UserForm
    template_name = "aftersales/form_page.html"

    def form_valid(self, form):
        user = services.save_user(self.object, _user_values(form), form.cleaned_data["roles"])
        messages.success(self.request, _("User %(name)s saved.") % {"name": user})
        return redirect("org:user_list")

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            title=_("Edit user %(name)s") % {"name": self.object},
            back=reverse("org:user_list"),
            extra_links=[(reverse("org:user_password", args=[self.object.pk]), _("Set password"))],
            **kwargs,
        )


def user_password(request, pk):
    if not request.user.is_authenticated:
        return redirect(f"{reverse('login')}?next={request.path}")
    require_administrator(request.user)
    user = get_object_or_404(User, pk=pk)
    form = PasswordResetByAdminForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.set_password_and_save(user)
        messages.success(request, _("Password of %(name)s changed.") % {"name": user})
        return redirect("org:user_list")
    return render(
        request,
        "aftersales/form_page.html",
        {
            "form": form,
            "title": _("Set password for %(name)s") % {"name": user},
            "back": reverse("org:user_edit", args=[pk]),
        },
    )


# Roles ---------------------------------------------------------------------------------------


class RoleListView(AdministratorRequiredMixin, TemplateView):
    template_name = "aftersales/role_list.html"

    def get_context_data(self, **kwargs):
        groups = {
            g.name: g
            for g in Group.objects.annotate(
                members=Count("user", distinct=True), perms=Count("permissions", distinct=True)
            )
        }
        rows = [(role, groups.get(role.value)) for role in Role]
        return super().get_context_data(rows=rows, **kwargs)


def role_detail(request, name):
    if not request.user.is_authenticated:
        return redirect(f"{reverse('login')}?next={request.path}")
    require_administrator(request.user)
    if name not in Role.values:
        return render(request, "404.html", status=404)
    group = get_object_or_404(Group, name=name)
    form = RolePermissionsForm(group, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.set_role_permissions(group, form.cleaned_data["permissions"])
        messages.success(request, _("Permissions of %(role)s saved.") % {"role": Role(name).label})
        return redirect("org:role_detail", name=name)
    members = group.user_set.order_by("username")
    return render(
        request,
        "aftersales/role_detail.html",
        {"role": Role(name), "group": group, "form": form, "members": members},
    )


# Service points ------------------------------------------------------------------------------


class ServicePointListView(AdministratorRequiredMixin, SearchListView):
    template_name = "aftersales/servicepoint_list.html"

    def get_queryset(self):
        qs = ServicePoint.objects.select_related("region", "manager").annotate(
            engineer_count=Count("engineers")
        )
        if q := self.params.get("q"):
            qs = qs.filter(Q(name__icontains=q) | Q(code__iexact=q) | Q(address__icontains=q))
        return qs.order_by("code")


class ServicePointCreateView(AdministratorRequiredMixin, CreateView):
    model = ServicePoint
    form_class = ServicePointForm
    template_name = "aftersales/form_page.html"
    success_url = reverse_lazy("org:servicepoint_list")

    def form_valid(self, form):
        messages.success(self.request, _("Service point saved."))
        return super().form_valid(form)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            title=_("New service point"), back=reverse("org:servicepoint_list"), **kwargs
        )


WebhookChannelFormSet = inlineformset_factory(
    ServicePoint,
    WebhookChannel,
    fields=["kind", "url", "secret", "events", "is_active"],
    widgets={"secret": TextInput(attrs={"autocomplete": "off"})},
    extra=1,
    can_delete_extra=False,
)


class ServicePointUpdateView(ServicePointCreateView, UpdateView):
    """The service point and its group robots (webhook channels), saved together."""

    template_name = "aftersales/servicepoint_form.html"

    def get_webhooks(self):
        data = self.request.POST if self.request.method == "POST" else None
        return WebhookChannelFormSet(data, instance=self.object, prefix="webhooks")

    def get_context_data(self, **kwargs):
        kwargs.setdefault("webhooks", self.get_webhooks())
        ctx = super().get_context_data(**kwargs)
        ctx["title"] = _("Edit service point %(name)s") % {"name": self.object}
        return ctx

    def form_valid(self, form):
        webhooks = self.get_webhooks()
        if not webhooks.is_valid():
            return self.form_invalid(form, webhooks=webhooks)
        with transaction.atomic():
            response = super().form_valid(form)
            webhooks.instance = self.object
            webhooks.save()
        return response

    def form_invalid(self, form, webhooks=None):
        webhooks = webhooks or self.get_webhooks()
        webhooks.is_valid()  # show the robots' errors too
        return self.render_to_response(self.get_context_data(form=form, webhooks=webhooks))


@require_POST
def servicepoint_webhook_test(request, pk, channel):
    if not request.user.is_authenticated:
        return redirect(f"{reverse('login')}?next={reverse('org:servicepoint_edit', args=[pk])}")
    require_administrator(request.user)
    channel = get_object_or_404(
        WebhookChannel.objects.select_related("service_point"), pk=channel, service_point_id=pk
    )
    with transaction.atomic():
        notifications.send_test_message(channel)
    messages.success(
        request,
        _("A test message to %(channel)s was queued; it arrives within a minute.")
        % {"channel": channel.get_kind_display()},
    )
    return redirect("org:servicepoint_edit", pk=pk)


# Engineers -----------------------------------------------------------------------------------


class EngineerListView(AdministratorRequiredMixin, SearchListView):
    template_name = "aftersales/engineer_list.html"

    def get_queryset(self):
        qs = EngineerProfile.objects.select_related(
            "user", "service_point", "service_point__region"
        ).prefetch_related(Prefetch("skills", queryset=ProductLine.objects.order_by("code")))
        if q := self.params.get("q"):
            qs = qs.filter(
                Q(user__display_name__icontains=q)
                | Q(user__username__icontains=q)
                | Q(employee_no__iexact=q)
                | Q(phone__contains=q)
            )
        if sp := self.params.get("service_point"):
            qs = qs.filter(service_point_id=sp)
        if av := self.params.get("availability"):
            qs = qs.filter(availability=av)
        if skill := self.params.get("skill"):
            qs = qs.filter(skills__id=skill)
        return qs.order_by("employee_no")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(
            service_points=ServicePoint.objects.order_by("code"),
            skills=ProductLine.objects.order_by("code"),
            availabilities=EngineerProfile.Availability.choices,
            selected=self.request.GET,
        )
        return ctx


class EngineerCreateView(AdministratorRequiredMixin, CreateView):
    model = EngineerProfile
    form_class = EngineerForm
    template_name = "aftersales/form_page.html"
    success_url = reverse_lazy("org:engineer_list")

    def form_valid(self, form):
        messages.success(self.request, _("Engineer saved."))
        return super().form_valid(form)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            title=_("New engineer"), back=reverse("org:engineer_list"), **kwargs
        )


class EngineerUpdateView(EngineerCreateView, UpdateView):
    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["title"] = _("Edit engineer %(name)s") % {"name": self.object}
        return ctx


class StatusView(AdministratorRequiredMixin, TemplateView):
    template_name = "aftersales/status.html"

    def get_context_data(self, **kwargs):
        today = timezone.localdate()
        calendar_warnings = [
            (calendar, coverage, calendars.warning_texts(calendar, coverage))
            for calendar, coverage in calendars.running_out(today)
        ]
        return super().get_context_data(
            heartbeats=Heartbeat.objects.order_by("name"),
            calendar_warnings=calendar_warnings,
            **kwargs,
        )


# API keys ------------------------------------------------------------------------------------


class ApiKeyListView(AdministratorRequiredMixin, ListView):
    """The keys of the JSON API (/api/v1/): the ones in use first, then the revoked ones."""

    template_name = "aftersales/apikey_list.html"
    paginator_class = CappedPaginator

    def get_paginate_by(self, queryset):
        return settings.PAGE_SIZE

    def get_queryset(self):
        return ApiKey.objects.select_related("created_by").order_by(
            F("revoked_at").desc(nulls_first=True), "name", "pk"
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        labels = apikeys.scope_labels()
        ctx["rows"] = [
            (key, [(code, labels.get(code, code)) for code in key.scopes])
            for key in ctx["object_list"]
        ]
        return ctx


def _shown_once(request, key, whole, *, rotated):
    """The page that shows a key's secret: this once, never stored, never cached."""
    response = render(
        request, "aftersales/apikey_secret.html", {"key": key, "whole": whole, "rotated": rotated}
    )
    response["Cache-Control"] = "no-store"
    return response


def _administrator_page(request):
    """None when the administrator may go on; else where a signed-out person goes."""
    if not request.user.is_authenticated:
        return redirect(f"{reverse('login')}?next={reverse('org:apikey_list')}")
    require_administrator(request.user)
    return None


def apikey_create(request):
    if (away := _administrator_page(request)) is not None:
        return away
    form = ApiKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            key, whole = apikeys.issue_key(**form.cleaned_data, actor=request.user)
        except apikeys.KeyRefused as refusal:
            form.add_error("name", str(refusal))
        else:
            return _shown_once(request, key, whole, rotated=False)
    return render(
        request,
        "aftersales/form_page.html",
        {
            "form": form,
            "title": _("New API key"),
            "back": reverse("org:apikey_list"),
            "submit_label": _("Create the key"),
        },
    )


@require_POST
def apikey_rotate(request, pk):
    if (away := _administrator_page(request)) is not None:
        return away
    key = get_object_or_404(ApiKey, pk=pk)
    try:
        key, whole = apikeys.rotate_key(key, request.user, prefix=request.POST.get("prefix", ""))
    except apikeys.KeyRefused as refusal:
        messages.error(request, str(refusal))
        return redirect("org:apikey_list")
    return _shown_once(request, key, whole, rotated=True)


@require_POST
def apikey_revoke(request, pk):
    if (away := _administrator_page(request)) is not None:
        return away
    key = get_object_or_404(ApiKey, pk=pk)
    try:
        apikeys.revoke_key(key, request.user)
    except apikeys.KeyRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(
            request, _("Key “%(name)s” revoked: it no longer works.") % {"name": key.name}
        )
    return redirect("org:apikey_list")


# Notifications (the bell) -------------------------------------------------------------------


class NotificationListView(LoginRequiredMixin, ListView):
    """The signed-in user's notifications, newest first; unread ones stand out."""

    template_name = "aftersales/notification_list.html"
    context_object_name = "notifications"

    def get_paginate_by(self, queryset):
        return settings.PAGE_SIZE

    def get_queryset(self):
        return Notification.objects.for_user(self.request.user).order_by("-created_at", "-pk")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        # Counted here once; the bell in base.html reuses it instead of counting again.
        ctx["unread_notifications"] = notifications.unread_count(self.request.user)
        return ctx


@login_required
@require_POST
def notification_read(request, pk):
    """Mark one notification read and open what it is about."""
    notification = visible_notification(request.user, pk)
    notifications.mark_read(notification)
    if is_own_page(request, notification.url):
        return redirect(notification.url)
    return redirect("notifications:list")


@login_required
@require_POST
def notification_read_all(request):
    notifications.mark_all_read(request.user)
    return redirect("notifications:list")
