"""Django's account pages (`django.contrib.auth.urls`, same names and paths) under
`/portal/auth/`, with the login and password-reset forms rate-limited like the API. Its login is
the portal's, with the two-factor step."""

from django.contrib.auth import views
from django.urls import path

from accounts.throttling import SCOPE_PASSWORD_RESET
from portal.views.shared import PortalLoginView, throttled_posts

urlpatterns = [
    path("login/", PortalLoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password_change/", views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password_change/done/",
        views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path(
        "password_reset/",
        throttled_posts(SCOPE_PASSWORD_RESET)(views.PasswordResetView.as_view()),
        name="password_reset",
    ),
    path(
        "password_reset/done/",
        views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]
