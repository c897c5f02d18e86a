from django.urls import path

from accounts import apis

urlpatterns = [
    path("auth/me", apis.MeApi.as_view(), name="auth-me"),
]
