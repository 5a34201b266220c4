"""The Seeder every part of the demo goes through: it creates what is missing and counts what is there."""

from collections import Counter
from datetime import timedelta

from django.utils import timezone

CHANGE_REASON = "seed_demo"


class Seeder:
    """Creates demo rows that are missing and counts what it created and what it found."""

    def __init__(self, now):
        self.now = now
        self.today = timezone.localdate(now)
        self.created = Counter()
        self.present = Counter()
        self.user_created = False

    def ensure(self, model, lookup, defaults=None, m2m=None):
        """The row matching `lookup`; if there is none, a new validated one from lookup + defaults.

        An existing row is returned untouched (and its many-to-many links too), so a user's
        edits survive; `m2m` is only applied to a row created now.
        """
        label = str(model._meta.verbose_name_plural)
        obj = model._default_manager.filter(**lookup).first()
        if obj is not None:
            self.present[label] += 1
            return obj, False
        obj = model(**lookup, **(defaults or {}))
        obj.full_clean()
        obj._change_reason = CHANGE_REASON  # read by django-simple-history, also for the m2m records below
        obj.save()
        for name, related in (m2m or {}).items():
            getattr(obj, name).set(related)
        self.created[label] += 1
        return obj, True

    def days_ago(self, days):
        return self.now - timedelta(days=days)

    def in_days(self, days):
        return self.today + timedelta(days=days)
