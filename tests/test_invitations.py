"""Switchboard is invite-only: Ada (an admin) invites Noor by email, and the link is the only way in."""

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from coop.models import ContactMethod, Invitation, Person
from core.access import MEMBERS, OPERATORS, is_member, is_operator

pytestmark = pytest.mark.django_db

PASSWORD = "tangerine-lantern-42"


@pytest.fixture(autouse=True)
def _own_cache(settings):
    # allauth keeps rate limits in the cache; the default file cache would carry them between tests.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "invites"}}
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def invitation(admin_user):
    """Ada invites Noor to be a member."""
    return Invitation.objects.create(email="noor@example.org", invited_by=admin_user)


def _sign_up(client, invitation, **fields):
    client.get(reverse("invitation", args=[invitation.token]))
    data = {"name": "Noor Haddad", "password1": PASSWORD, "password2": PASSWORD, **fields}
    return client.post(reverse("account_signup"), data)


def test_invitation_email_goes_out_with_the_link(invitation, mailoutbox, settings):
    settings.SITE_URL = "https://switchboard.example.org"
    invitation.send()

    [mail] = mailoutbox
    assert mail.to == ["noor@example.org"]
    assert f"https://switchboard.example.org/invitations/{invitation.token}/" in mail.body
    assert "as a co-op member" in mail.body
    invitation.refresh_from_db()
    assert invitation.sent_at is not None


def test_sending_again_restarts_the_validity_period(invitation, mailoutbox, settings):
    settings.INVITATION_VALID_DAYS = 7
    invitation.expires_at = timezone.now() - timedelta(days=1)
    invitation.save()

    invitation.send()

    invitation.refresh_from_db()
    assert invitation.is_valid()
    assert invitation.expires_at > timezone.now() + timedelta(days=6)


def test_an_accepted_invitation_is_not_sent_again(invitation, admin_user, mailoutbox):
    invitation.accept(admin_user)
    with pytest.raises(Invitation.NotValid):
        invitation.send()
    assert mailoutbox == []


def test_tokens_are_long_and_unguessable():
    first, second = Invitation.objects.create(email="a@example.org"), Invitation.objects.create(email="b@example.org")
    assert len(first.token) >= 40
    assert first.token != second.token


def test_the_link_leads_to_sign_up_with_the_invited_address(client, invitation):
    response = client.get(reverse("invitation", args=[invitation.token]))
    assert response.status_code == 302
    assert response.url == reverse("account_signup")

    page = client.get(response.url).content.decode()
    assert 'value="noor@example.org"' in page
    assert "invited you" in page


def test_invited_person_signs_up_and_gets_the_member_role(client, invitation, mailoutbox):
    response = _sign_up(client, invitation)

    assert response.status_code == 302, response.content.decode()
    assert response.url == "/"
    user = Invitation.objects.get(pk=invitation.pk).accepted_by
    assert user.email == "noor@example.org"
    assert is_member(user) and not is_operator(user)
    assert list(user.groups.values_list("name", flat=True)) == [MEMBERS]
    assert int(client.session["_auth_user_id"]) == user.pk
    # The invitation proved the address: it is verified, and no verification email was sent.
    assert EmailAddress.objects.get(user=user).verified
    assert mailoutbox == []


def test_sign_up_makes_a_directory_entry_with_a_verified_email(client, invitation):
    _sign_up(client, invitation)

    person = Person.objects.get(user__email="noor@example.org")
    assert person.name == "Noor Haddad"
    email = person.contact_methods.get(kind=ContactMethod.Kind.EMAIL)
    assert email.value == "noor@example.org"
    assert not email.is_stale()


def test_sign_up_links_the_directory_entry_that_has_the_invited_address(client, invitation):
    noor = Person.objects.create(name="Noor H.")
    ContactMethod.objects.create(person=noor, kind="email", value="Noor@example.org")
    ContactMethod.objects.create(person=noor, kind="phone", value="+1 555 0112")

    _sign_up(client, invitation)

    noor.refresh_from_db()
    assert noor.user.email == "noor@example.org"
    assert Person.objects.count() == 1


def test_invited_operator_gets_the_role_and_is_sent_to_set_up_totp(client, admin_user):
    invitation = Invitation.objects.create(
        email="wen@example.org", role=Invitation.Role.OPERATOR, invited_by=admin_user
    )

    response = _sign_up(client, invitation, name="Wen Li")

    assert response.url == reverse("mfa_activate_totp")
    invitation.refresh_from_db()
    assert list(invitation.accepted_by.groups.values_list("name", flat=True)) == [OPERATORS]
    assert invitation.accepted_by.person.is_volunteer


def test_the_address_cannot_be_changed_on_the_sign_up_form(client, invitation):
    _sign_up(client, invitation, email="mallory@example.org")

    invitation.refresh_from_db()
    assert invitation.accepted_by.email == "noor@example.org"
    assert not EmailAddress.objects.filter(email="mallory@example.org").exists()


def test_the_link_works_once(client, invitation):
    _sign_up(client, invitation)
    client.logout()

    response = client.get(reverse("invitation", args=[invitation.token]))

    assert response.status_code == 410
    assert "This invitation was already used" in response.content.decode()


def test_sign_up_without_an_invitation_is_refused(client, django_user_model):
    page = client.get(reverse("account_signup"))
    assert "Switchboard is invite-only" in page.content.decode()

    client.post(
        reverse("account_signup"),
        {"name": "Mallory", "email": "mallory@example.org", "password1": PASSWORD, "password2": PASSWORD},
    )

    assert not django_user_model.objects.filter(email="mallory@example.org").exists()


def test_expired_invitation_is_refused_and_says_whom_to_ask(client, invitation, django_user_model):
    invitation.expires_at = timezone.now() - timedelta(minutes=1)
    invitation.save()

    response = client.get(reverse("invitation", args=[invitation.token]))

    assert response.status_code == 410
    page = response.content.decode()
    assert "This invitation has expired" in page
    assert "Ada Okoro" in page  # who to ask, by name: anyone holding an old link can read this page
    assert "ada@example.org" not in page and "noor@example.org" not in page
    assert "Switchboard is invite-only" in client.get(reverse("account_signup")).content.decode()
    assert not django_user_model.objects.filter(email="noor@example.org").exists()


def test_invitation_that_expires_while_the_form_is_open_is_refused(client, invitation, django_user_model):
    client.get(reverse("invitation", args=[invitation.token]))
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    response = client.post(reverse("account_signup"), {"name": "Noor", "password1": PASSWORD, "password2": PASSWORD})

    assert response.status_code == 410
    assert "This invitation has expired" in response.content.decode()
    assert not django_user_model.objects.filter(email="noor@example.org").exists()


def test_an_unknown_link_says_it_is_not_valid(client):
    response = client.get(reverse("invitation", args=["not-a-real-token"]))

    assert response.status_code == 404
    assert "This invitation link is not valid" in response.content.decode()


def test_of_two_acceptances_only_the_first_counts(invitation, django_user_model):
    first = django_user_model.objects.create_user("first", "noor@example.org", PASSWORD)
    second = django_user_model.objects.create_user("second", "noor2@example.org", PASSWORD)
    stale_copy = Invitation.objects.get(pk=invitation.pk)

    invitation.accept(first)
    with pytest.raises(Invitation.NotValid):
        stale_copy.accept(second)

    assert not second.groups.exists()


def test_someone_with_an_account_logs_in_then_accepts(client, django_user_model):
    noor = django_user_model.objects.create_user("noor", "noor@example.org", PASSWORD)
    invitation = Invitation.objects.create(email="noor@example.org", role=Invitation.Role.OPERATOR)
    link = reverse("invitation", args=[invitation.token])

    response = client.get(link)
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))

    client.force_login(noor)
    assert "Accept invitation" in client.get(link).content.decode()
    response = client.post(link)

    assert response.status_code == 302
    assert noor.groups.filter(name=OPERATORS).exists()
    invitation.refresh_from_db()
    assert invitation.accepted_by == noor


def test_an_invitation_for_another_address_is_refused_to_the_logged_in_user(client, invitation, django_user_model):
    client.force_login(django_user_model.objects.create_user("wen", "wen@example.org", PASSWORD))

    response = client.post(reverse("invitation", args=[invitation.token]))

    assert response.status_code == 403
    assert "This invitation is for another address" in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_role_groups_exist_after_migrating():
    assert set(Group.objects.values_list("name", flat=True)) >= {MEMBERS, OPERATORS}
