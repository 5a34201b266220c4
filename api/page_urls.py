"""The API's page for people (not scripts): making and revoking personal tokens (api/token_views.py)."""

from django.urls import path

from . import token_views

urlpatterns = [
    path("tokens/", token_views.api_tokens, name="api_tokens"),
    path("tokens/<int:pk>/revoke/", token_views.api_token_revoke, name="api_token_revoke"),
]
