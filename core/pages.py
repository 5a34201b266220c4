"""Helpers every page view uses: pagination, htmx partials and clean query parameters."""

from django.core.paginator import Paginator
from django.shortcuts import render

PAGE_SIZE = 50
MAX_QUERY_LENGTH = 200


def clean_query(raw):
    """The query as it will be searched: printable characters only, single spaces, at most 200 characters."""
    printable = "".join(ch if ch.isprintable() else " " for ch in (raw or "")[: MAX_QUERY_LENGTH * 4])
    return " ".join(printable.split())[:MAX_QUERY_LENGTH]


def paginate(request, queryset, per_page=None):
    """The page of `queryset` named by ?page= (a bad or too-large number gives the nearest page)."""
    return Paginator(queryset, per_page or PAGE_SIZE).get_page(request.GET.get("page"))


def render_page(request, template_name, context, partial=None):
    """The whole page, or only its `partial` template when htmx asks (and is not boosting a link)."""
    # A history restore (the back button, when htmx kept no copy) wants the whole page, not the part.
    if partial and request.htmx and not request.htmx.boosted and not request.htmx.history_restore_request:
        return render(request, partial, context)
    return render(request, template_name, context)


def text_param(request, name):
    """A query-string value fit for a lookup: printable, at most 200 characters ("" if absent).

    PostgreSQL refuses a NUL character in a query: without this, `?q=%00` would be a 500.
    """
    return clean_query(request.GET.get(name, ""))
