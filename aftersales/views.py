from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Group
from django.db.models import Count, Prefetch, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.generic import CreateView, ListView, TemplateView, UpdateView

from customers.models import ProductLine

from . import services
from .access import AdministratorRequiredMixin, is_administrator, require_administrator
from .forms import (
    EngineerForm,
    NewUserForm,
    PasswordResetByAdminForm,
    RolePermissionsForm,
    ServicePointForm,
    UserForm,
)
from .models import EngineerProfile, Heartbeat, ServicePoint, User
from .roles import Role


@login_required
def home(request):
    user = request.user
    if user.has_perm("tickets.revisit_ticket") and not user.has_perm("tickets.dispatch_ticket"):
        return redirect("tickets:revisit_queue")
    if user.has_perm("tickets.view_ticket"):
        return redirect("tickets:list")
    if user.has_perm("tickets.work_ticket"):
        return redirect("mobile:jobs")
    if user.has_perm("customers.view_customer"):
        return redirect("customers:list")
    if is_administrator(user):
        return redirect("org:user_list")
    return render(request, "home.html")


def rate_limited(request, exception=None):
    return render(request, "429.html", status=429)


@never_cache
def healthz(request):
    """For load balancers and monitoring: the web process answers. Touches no database."""
    return HttpResponse("ok", content_type="text/plain")


@never_cache
@login_required
def whoami(request):
    """The smallest signed-in page (session + user): the benchmark's baseline for its pages."""
    return HttpResponse(request.user.get_username(), content_type="text/plain; charset=utf-8")


class SearchListView(ListView):
    """A paginated list with a free-text `q` parameter."""

    paginate_by = 25

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["q"] = self.request.GET.get("q", "")
        query = self.request.GET.copy()
        query.pop("page", None)
        ctx["query_string"] = query.urlencode()
        return ctx


# Users ---------------------------------------------------------------------------------------


class UserListView(AdministratorRequiredMixin, SearchListView):
    template_name = "aftersales/user_list.html"

    def get_queryset(self):
        qs = User.objects.prefetch_related("groups").order_by("username")
        q = self.request.GET.get("q", "").strip()
        if q:
            qs = qs.filter(
                Q(username__icontains=q) | Q(display_name__icontains=q) | Q(mobile__contains=q)
            )
        role = self.request.GET.get("role")
        if role in Role.values:
            qs = qs.filter(groups__name=role)
        return qs

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["roles"] = Role.choices
        ctx["role"] = self.request.GET.get("role", "")
        return ctx


class UserCreateView(AdministratorRequiredMixin, CreateView):
    form_class = NewUserForm
    template_name = "aftersales/form_page.html"

    def form_valid(self, form):
        services.save_user(form, password=form.cleaned_data["password1"])
        messages.success(self.request, _("User %(name)s created.") % {"name": form.instance})
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
        services.save_user(form)
        messages.success(self.request, _("User %(name)s saved.") % {"name": form.instance})
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
        q = self.request.GET.get("q", "").strip()
        if q:
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


class ServicePointUpdateView(ServicePointCreateView, UpdateView):
    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["title"] = _("Edit service point %(name)s") % {"name": self.object}
        return ctx


# Engineers -----------------------------------------------------------------------------------


class EngineerListView(AdministratorRequiredMixin, SearchListView):
    template_name = "aftersales/engineer_list.html"

    def get_queryset(self):
        qs = EngineerProfile.objects.select_related(
            "user", "service_point", "service_point__region"
        ).prefetch_related(Prefetch("skills", queryset=ProductLine.objects.order_by("code")))
        q = self.request.GET.get("q", "").strip()
        if q:
            qs = qs.filter(
                Q(user__display_name__icontains=q)
                | Q(user__username__icontains=q)
                | Q(employee_no__iexact=q)
                | Q(phone__contains=q)
            )
        if sp := self.request.GET.get("service_point"):
            qs = qs.filter(service_point_id=sp) if sp.isdigit() else qs.none()
        if av := self.request.GET.get("availability"):
            qs = qs.filter(availability=av)
        if skill := self.request.GET.get("skill"):
            qs = qs.filter(skills__id=skill) if skill.isdigit() else qs.none()
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
        return super().get_context_data(heartbeats=Heartbeat.objects.order_by("name"), **kwargs)
