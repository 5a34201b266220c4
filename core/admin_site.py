"""The Django admin, held to the same second factor as operator actions.

An admin can rewire outlets, change PDU and BMC credentials and invite
operators, so a password alone is not enough: every admin page needs a session
that passed a TOTP or recovery code. ADMIN_REQUIRES_MFA=false lifts this for
the local demo only.
"""

from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.db import models
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.urls import reverse
from django.utils.html import format_html

from .access import second_factor_refusal


class SwitchboardAdminSite(admin.AdminSite):
    site_header = "Switchboard administration"
    site_title = "Switchboard"
    index_title = "The co-op's inventory, people and incidents"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Log in through allauth's page, so a password alone never opens the admin.
        self.login = secure_admin_login(self.login)

    def admin_view(self, view, cacheable=False):
        def with_second_factor(request, *args, **kwargs):
            if settings.ADMIN_REQUIRES_MFA:
                refusal = second_factor_refusal(request)
                if refusal is not None:
                    return refusal
            return view(request, *args, **kwargs)

        # The base admin_view checks login and staff status first, then calls this.
        return super().admin_view(with_second_factor, cacheable)


def change_link(obj, text=None):
    """An HTML link to `obj`'s admin change page ("-" for None)."""
    if obj is None:
        return "-"
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, text or obj)


# A URL typed without a scheme is taken as https (Django 6's default).
FORMFIELD_OVERRIDES = {
    models.URLField: {"assume_scheme": "https"},
}


def secret_is_set(field):
    """True where the encrypted `field` holds a value: a column the list shows without decrypting."""
    return ExpressionWrapper(~Q(**{field: ""}), output_field=BooleanField())
