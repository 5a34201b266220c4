"""Query helpers shared by pages and the admin."""

from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce


def count_of(model, field, **conditions):
    """A subquery counting the `model` rows (matching `conditions`) whose `field` points at the outer row.

    Several of these on one changelist do not multiply rows the way several
    Count() joins would, and each stays one column of the page's one query.
    """
    rows = (
        model.objects.filter(**conditions, **{field: OuterRef("pk")})
        .order_by()
        .values(field)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows), 0)
