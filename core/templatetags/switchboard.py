"""Template helpers every Switchboard page uses: `{% load switchboard %}`.

- `markdown`: the one place Markdown becomes HTML, sanitised with nh3;
- `badge`: a coloured label for a choice, coloured by its TextChoices' `colour`;
- `sms_link`, `local_clock`, `age`: tap-to-text links, "what time is it for them", "how long ago";
- `when`: a timeline entry's time, short, with the full date and zone on hover;
- `tel_links`: plain text (an access procedure) with its phone numbers made tappable;
- `page_query`: pagination links that keep the current filters.
"""

import re
from functools import cache

import markdown as markdown_lib
import nh3
from django import template
from django.db import models
from django.utils.dateformat import DateFormat
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince
from django.utils.timezone import template_localtime

from core.access import is_operator

register = template.Library()


@register.filter
def can_operate(user):
    """Whether to offer operator-only buttons (the views check again, with the second factor)."""

    return is_operator(user)


# What runbooks need: text, lists, code, tables, links. No images (they could beacon out), no raw HTML.
ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td", "del", "kbd",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}, "ol": {"start"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto", "tel", "sms"}


@register.filter(is_safe=True)
def markdown(text):
    """Render Markdown to HTML that can never carry a script, a style or an event handler."""
    html = markdown_lib.markdown(text or "", extensions=["fenced_code", "tables", "sane_lists"])
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(cleaned)  # noqa: S308 - nh3 has just removed everything unsafe


@cache
def _choices_class(model, field_name):
    """The TextChoices class a model field's choices came from (found on the model or its module)."""
    choices = list(model._meta.get_field(field_name).choices)
    module = __import__(model.__module__, fromlist=["*"])
    candidates = [*vars(model).values(), *vars(module).values()]
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, models.Choices) and candidate.choices == choices:
            return candidate
    raise LookupError(f"no TextChoices for {model.__name__}.{field_name}")


@register.simple_tag
def badge(value, field_name=None):
    """`{% badge member %}` for a TextChoices member, or `{% badge obj "status" %}` for a model field."""
    if field_name is not None:
        value = _choices_class(type(value), field_name)(getattr(value, field_name))
    return format_html('<span class="badge {}">{}</span>', getattr(value, "colour", "grey"), value.label)


@register.filter
def sms_link(method):
    """An sms: link for a phone-number contact method (tel: comes from ContactMethod.dial_link)."""
    link = method.dial_link()
    if link and link.startswith("tel:"):
        return "sms:" + link.removeprefix("tel:")
    return ""


@register.filter
def local_clock(person):
    """What the clock says where the person is, e.g. "03:12 Europe/Berlin, night"."""
    now = person.local_time()
    night = ", night" if now.hour < 7 or now.hour >= 22 else ""
    return f"{now:%H:%M} {person.timezone}{night}"


@register.simple_tag(takes_context=True)
def page_query(context, number):
    """`?…&page=N` keeping the current filters, for pagination links."""
    params = context["request"].GET.copy()
    params["page"] = number
    return "?" + params.urlencode()


@register.filter
def age(value):
    """How long ago, to one unit: "12 days", "3 hours" (the timesince filter says "1 week, 5 days")."""
    return timesince(value, depth=1) if value else ""


@register.simple_tag
def when(value):
    """`<span class="when">` for a timeline entry: "Mar 4 03:12", and "2026-03-04 03:12 PST" on hover."""
    # What `|date:"M j H:i"` and `|date:"Y-m-d H:i T"` print, from one conversion to the viewer's
    # zone instead of two trips through the filter machinery: an incident page has 100 rows.
    stamp = DateFormat(template_localtime(value))
    return format_html('<span class="when" title="{}">{}</span>', stamp.format("Y-m-d H:i T"), stamp.format("M j H:i"))


_PHONE_IN_TEXT = re.compile(r"\+?\(?\d[\d ().-]{5,18}\d")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@register.filter(is_safe=True, needs_autoescape=True)
def tel_links(text, autoescape=True):
    """Escape text and turn phone numbers in it into tel: links, e.g. "call the desk (+1 555 0150)"."""
    escaped = escape(text or "") if autoescape else (text or "")

    def link(match):
        number = match.group(0)
        digits = "".join(ch for ch in number if ch.isdigit() or ch == "+")
        if len(digits.lstrip("+")) < 7 or _DATE.match(number):
            return number
        return f'<a href="tel:{digits}">{number}</a>'

    return mark_safe(_PHONE_IN_TEXT.sub(link, escaped))  # noqa: S308 - escaped above; only digits added
