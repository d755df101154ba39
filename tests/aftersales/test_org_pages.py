import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from aftersales.models import EngineerProfile, ServicePoint, User
from aftersales.roles import Role

from ..factories import (
    EngineerProfileFactory,
    ProductLineFactory,
    RegionFactory,
    ServicePointFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ORG_PAGES = [
    "org:user_list",
    "org:user_create",
    "org:role_list",
    "org:servicepoint_list",
    "org:servicepoint_create",
    "org:engineer_list",
    "org:engineer_create",
    "org:status",
]
STRONG = "Fuwu-2026-strong"


def test_every_role_exists_as_a_group_with_permissions():
    assert set(Role.values) <= set(Group.objects.values_list("name", flat=True))
    dispatcher = Group.objects.get(name=Role.DISPATCHER)
    assert dispatcher.permissions.filter(codename="add_customer").exists()
    engineer = Group.objects.get(name=Role.ENGINEER)
    assert not engineer.permissions.filter(codename="view_customer").exists()


@pytest.mark.parametrize("url_name", ORG_PAGES)
def test_administrator_opens_organisation_pages(client, administrator, url_name):
    client.force_login(administrator)
    assert client.get(reverse(url_name)).status_code == 200


@pytest.mark.parametrize("role", ["dispatcher", "service_manager", "engineer", "manager"])
@pytest.mark.parametrize("url_name", ORG_PAGES)
def test_other_roles_cannot_open_organisation_pages(client, request, role, url_name):
    client.force_login(request.getfixturevalue(role))
    assert client.get(reverse(url_name)).status_code == 403


def test_administrator_creates_user_with_roles(client, administrator):
    client.force_login(administrator)
    response = client.post(
        reverse("org:user_create"),
        {
            "username": "zhangmin",
            "display_name": "张敏",
            "email": "zhangmin@example.com",
            "mobile": "13600001111",
            "is_active": "on",
            "roles": [Role.DISPATCHER, Role.REVISIT_AGENT],
            "password1": STRONG,
            "password2": STRONG,
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="zhangmin")
    assert user.check_password(STRONG)
    assert user.role_codes == {Role.DISPATCHER, Role.REVISIT_AGENT}
    assert user.has_perm("customers.add_customer")


def test_user_with_bad_mobile_is_refused_in_chinese(client, administrator):
    client.force_login(administrator)
    response = client.post(
        reverse("org:user_create"),
        {
            "username": "x1",
            "mobile": "02112345678",
            "password1": STRONG,
            "password2": STRONG,
            "roles": [Role.DISPATCHER],
        },
    )
    assert response.status_code == 200
    assert "请输入11位中国大陆手机号" in response.content.decode()
    assert not User.objects.filter(username="x1").exists()


def test_editing_roles_replaces_them(client, administrator, dispatcher):
    client.force_login(administrator)
    response = client.post(
        reverse("org:user_edit", args=[dispatcher.pk]),
        {"username": dispatcher.username, "is_active": "on", "roles": [Role.SERVICE_MANAGER]},
    )
    assert response.status_code == 302
    assert User.objects.get(pk=dispatcher.pk).role_codes == {Role.SERVICE_MANAGER}


def test_administrator_sets_a_users_password(client, administrator, dispatcher):
    client.force_login(administrator)
    url = reverse("org:user_password", args=[dispatcher.pk])
    response = client.post(url, {"password1": STRONG, "password2": STRONG})
    assert response.status_code == 302
    dispatcher.refresh_from_db()
    assert dispatcher.check_password(STRONG)


def test_administrator_changes_a_roles_permissions(client, administrator):
    client.force_login(administrator)
    perm = Permission.objects.get(codename="export_masterdata")
    response = client.post(
        reverse("org:role_detail", args=[Role.REVISIT_AGENT]), {"permissions": [perm.pk]}
    )
    assert response.status_code == 302
    assert list(Group.objects.get(name=Role.REVISIT_AGENT).permissions.all()) == [perm]


def test_administrator_creates_service_point_and_engineer(client, administrator):
    client.force_login(administrator)
    region = RegionFactory(name="成都")
    response = client.post(
        reverse("org:servicepoint_create"),
        {
            "code": "CD01",
            "name": "成都高新服务站",
            "region": region.pk,
            "address": "成都市高新区天府大道 1 号",
            "phone": "028-85001234",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    point = ServicePoint.objects.get(code="CD01")
    user = UserFactory(roles=[Role.ENGINEER])
    line = ProductLineFactory()
    response = client.post(
        reverse("org:engineer_create"),
        {
            "user": user.pk,
            "employee_no": "E900",
            "phone": "139 0000 1234",
            "service_point": point.pk,
            "skills": [line.pk],
            "level": 3,
            "availability": "on_duty",
        },
    )
    assert response.status_code == 302
    profile = EngineerProfile.objects.get(employee_no="E900")
    assert (profile.user, profile.phone) == (user, "13900001234")
    assert list(profile.skills.all()) == [line]


def test_engineer_form_offers_only_engineers_without_profile(client, administrator):
    client.force_login(administrator)
    EngineerProfileFactory()
    free = UserFactory(roles=[Role.ENGINEER])
    UserFactory(roles=[Role.DISPATCHER])
    form = client.get(reverse("org:engineer_create")).context["form"]
    assert list(form.fields["user"].queryset) == [free]


def test_engineer_list_filters_by_service_point(client, administrator):
    a, b = ServicePointFactory(), ServicePointFactory()
    mine = EngineerProfileFactory(service_point=a)
    EngineerProfileFactory(service_point=b)
    client.force_login(administrator)
    response = client.get(reverse("org:engineer_list"), {"service_point": a.pk})
    assert list(response.context["object_list"]) == [mine]
