"""Celery tasks of the co-op directory."""

from celery import shared_task

from . import verification


@shared_task(name="coop.ask_contacts_to_confirm")
def ask_contacts_to_confirm():
    """Ask each stale contact method Switchboard can send to whether it still reaches its person (daily, beat)."""
    return verification.ask_contacts_to_confirm()
