"""A contact method cannot have been confirmed in the future: a typo in the year would keep an
unreachable person off every "needs checking" list for years."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from coop.models import ContactMethod

from .factories import make_person

pytestmark = pytest.mark.django_db


def test_a_verified_date_in_the_future_is_refused():
    method = ContactMethod(person=make_person(), kind="email", value="sam@example.org")
    method.verified_at = timezone.now() + timedelta(days=400)
    with pytest.raises(ValidationError, match="cannot be in the future"):
        method.full_clean()
    method.verified_at = timezone.now()
    method.full_clean()
