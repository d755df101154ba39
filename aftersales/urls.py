from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import api, calendar_views, registry, views

org_patterns = [
    path("users/", views.UserListView.as_view(), name="user_list"),
    path("users/new/", views.UserCreateView.as_view(), name="user_create"),
    path("users/<int:pk>/", views.UserUpdateView.as_view(), name="user_edit"),
    path("users/<int:pk>/password/", views.user_password, name="user_password"),
    path("roles/", views.RoleListView.as_view(), name="role_list"),
    path("roles/<str:name>/", views.role_detail, name="role_detail"),
    path("service-points/", views.ServicePointListView.as_view(), name="servicepoint_list"),
    path("service-points/new/", views.ServicePointCreateView.as_view(), name="servicepoint_create"),
    path(
        "service-points/<int:pk>/", views.ServicePointUpdateView.as_view(), name="servicepoint_edit"
    ),
    path(
        "service-points/<int:pk>/webhooks/<int:channel>/test/",
        views.servicepoint_webhook_test,
        name="servicepoint_webhook_test",
    ),
    path("engineers/", views.EngineerListView.as_view(), name="engineer_list"),
    path("engineers/new/", views.EngineerCreateView.as_view(), name="engineer_create"),
    path("engineers/<int:pk>/", views.EngineerUpdateView.as_view(), name="engineer_edit"),
    path("calendars/", calendar_views.CalendarListView.as_view(), name="calendar_list"),
    path("calendars/new/", calendar_views.calendar_create, name="calendar_create"),
    path("calendars/<slug:code>/", calendar_views.calendar_year, name="calendar_year"),
    path("calendars/<slug:code>/hours/", calendar_views.calendar_hours, name="calendar_hours"),
    path("calendars/<slug:code>/days/", calendar_views.calendar_days, name="calendar_days"),
    path("calendars/<slug:code>/copy/", calendar_views.calendar_copy, name="calendar_copy"),
    path(
        "calendars/<slug:code>/complete/",
        calendar_views.calendar_complete,
        name="calendar_complete",
    ),
    path("status/", views.StatusView.as_view(), name="status"),
    path("api-keys/", views.ApiKeyListView.as_view(), name="apikey_list"),
    path("api-keys/new/", views.apikey_create, name="apikey_create"),
    path("api-keys/<int:pk>/rotate/", views.apikey_rotate, name="apikey_rotate"),
    path("api-keys/<int:pk>/revoke/", views.apikey_revoke, name="apikey_revoke"),
]

notification_patterns = [
    path("", views.NotificationListView.as_view(), name="list"),
    path("<int:pk>/read/", views.notification_read, name="read"),
    path("read-all/", views.notification_read_all, name="read_all"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("whoami", views.whoami, name="whoami"),
    # Signing in and out only: passwords are set by administrators (org/users/…/password), so no
    # self-service reset page sends e-mails to whoever asks.
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Django's language switch, remembering the choice for the person's notifications.
    path("i18n/setlang/", views.set_language, name="set_language"),
    path("org/", include((org_patterns, "org"))),
    path("notifications/", include((notification_patterns, "notifications"))),
    path("admin/", admin.site.urls),
    # The JSON API for other systems, with its OpenAPI description and docs page (aftersales.api).
    path("api/v1/", api.api().urls),
    # Each app's pages, public ones included (its plugin.py: URLS).
    *registry.url_patterns(),
]
# MEDIA_ROOT is never served as a folder, not even in DEBUG: every file in it is private (visit
# photos and signatures, imported and exported files) and has its own access-checked view.
