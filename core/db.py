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


def count_related(model, relation, **conditions):
    """count_of by the name of a reverse relation (`count_related(Site, "machines")`).

    For a lower app's page that counts rows of a higher one without importing it: the model
    is found through the relation the higher app declared.
    """
    field = model._meta.get_field(relation)
    return count_of(field.related_model, field.field.name, **conditions)
