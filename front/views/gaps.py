"""The knowledge-gap report (/gaps/): what the co-op does not know about itself, by rule (front.gaps)."""

from django.http import Http404, HttpRequest
from django.shortcuts import render
from django.views.decorators.http import require_GET

from core.access import member_required
from core.page_cache import cached_for_viewer
from core.pages import paginate, text_param

from .. import gaps

# Rows of each rule on the whole report; "All N" opens one rule, paginated.
PREVIEW_ROWS = 10


@require_GET
@member_required
@cached_for_viewer
def gap_report(request: HttpRequest):
    key = text_param(request, "rule")
    if not key:
        sections = gaps.sections(request.user, PREVIEW_ROWS)
        context = {
            "sections": sections,
            "total": sum(section.count for section in sections),
            "preview_rows": PREVIEW_ROWS,
        }
        return render(request, "front/gaps.html", context)
    rule = gaps.RULES_BY_KEY.get(key)
    if rule is None:
        raise Http404("No such rule.")
    page = paginate(request, gaps.queryset(rule))
    section = gaps.Section(rule, page.paginator.count, gaps.rows(rule, page.object_list, request.user))
    context = {"rule": rule, "page": page, "sections": [section], "total": section.count}
    return render(request, "front/gaps.html", context)
