"""Template helpers every Switchboard page uses: `{% load switchboard %}`.

- `markdown`: the one place Markdown becomes HTML, sanitised with nh3;
- `procedure`: text as volunteers type it (an access procedure) as Markdown, with tappable phone numbers;
- `badge`: a coloured label for a choice, coloured by its TextChoices' `colour`;
- `sms_link`, `local_clock`: tap-to-text links, "what time is it for them";
- `duration`, `ago`: "3 minutes", "just now", "2 days ago" (never "0 minutes");
- `clause`: a stored message ("Newest backup is 3 days old.") without its full stop, for a longer line;
- `when`: a timeline entry's time, short, with the full date and zone on hover;
- `from_to`: a start and an end time on one line, the zone named once;
- `tel_links`: plain text with its phone numbers made tappable;
- `hostname`: a DNS name that wraps at its dots on a phone, never inside a label;
- `first_phone`: the contact method to put on a person's big Call button;
- `page_query`: pagination links that keep the current filters.
"""

import re
from datetime import timedelta
from functools import cache

import markdown as markdown_lib
import nh3
from django import template
from django.db import models
from django.utils import timezone
from django.utils.dateformat import DateFormat
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
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
    """What the clock says where the person is, e.g. "03:12 CET, night" (the zone's name is on hover)."""
    now = person.local_time()
    night = ", night" if now.hour < 7 or now.hour >= 22 else ""
    return f"{now:%H:%M} {now:%Z}{night}"


@register.simple_tag(takes_context=True)
def page_query(context, number):
    """`?…&page=N` keeping the current filters, for pagination links."""
    params = context["request"].GET.copy()
    params["page"] = number
    return "?" + params.urlencode()


# (seconds in the unit, singular, plural): the largest unit that fits, whole, is shown.
_UNITS = [
    (365 * 86400, "year", "years"),
    (30 * 86400, "month", "months"),
    (86400, "day", "days"),
    (3600, "hour", "hours"),
    (60, "minute", "minutes"),
]


def _elapsed(value, now=None):
    """How long ago `value` was, or None when there is no value (a future time counts as no time)."""
    if not value:
        return None
    elapsed = (now or timezone.now()) - value
    return max(elapsed, timedelta(0))


@register.filter
def duration(value, now=None):
    """How long since `value`, in one unit: "less than a minute", "1 minute", "3 hours", "2 days"."""
    elapsed = _elapsed(value, now)
    if elapsed is None:
        return ""
    seconds = int(elapsed.total_seconds())
    for size, one, many in _UNITS:
        if seconds >= size:
            n = seconds // size
            # A no-break space: "3 days" never splits over two lines of a phone.
            return f"{n}\xa0{one if n == 1 else many}"
    return "less than a minute"


@register.filter
def ago(value, now=None):
    """When `value` was, from now: "just now", "3 minutes ago", "2 days ago"."""
    elapsed = _elapsed(value, now)
    if elapsed is None:
        return ""
    if elapsed < timedelta(minutes=1):
        return "just now"
    return f"{duration(value, now)} ago"


# The older name, kept for templates that say "checked {{ x|age }} ago".
age = register.filter("age", duration)


@register.filter
def clause(text):
    """A stored message ("Newest backup is 3 days old.") as part of a longer line: no full stop at its end."""
    return (text or "").strip().rstrip(".")


@register.simple_tag
def when(value):
    """`<span class="when">` for a timeline entry: "Mar 4 03:12", and "2026-03-04 03:12 PST" on hover."""
    # What `|date:"M j H:i"` and `|date:"Y-m-d H:i T"` print, from one conversion to the viewer's
    # zone instead of two trips through the filter machinery: an incident page has 100 rows.
    stamp = DateFormat(template_localtime(value))
    return format_html('<span class="when" title="{}">{}</span>', stamp.format("Y-m-d H:i T"), stamp.format("M j H:i"))


@register.simple_tag
def from_to(start, end=None):
    """`{% from_to a b as times %}`: a start and an end time for one line, the zone named once.

    ["2026-03-04 03:12 PST", ""] without an end; ["2026-03-04 03:12", "05:40 PST"] with one on the
    same day; each with its zone when they differ (a change to summer time in between).
    """
    start = template_localtime(start)
    if not end:
        return [DateFormat(start).format("Y-m-d H:i T"), ""]
    end = template_localtime(end)
    same_zone = DateFormat(start).format("T") == DateFormat(end).format("T")
    start_text = DateFormat(start).format("Y-m-d H:i" if same_zone else "Y-m-d H:i T")
    end_text = DateFormat(end).format("H:i T" if same_zone and start.date() == end.date() else "Y-m-d H:i T")
    return [start_text, end_text]


_PHONE_IN_TEXT = re.compile(r"\+?\(?\d[\d ().-]{5,18}\d")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _link_phones(escaped):
    """Already-escaped text with each phone number in it wrapped in a tel: link that does not wrap."""

    def link(match):
        number = match.group(0)
        digits = "".join(ch for ch in number if ch.isdigit() or ch == "+")
        if len(digits.lstrip("+")) < 7 or _DATE.match(number):
            return number
        return f'<a class="tel" href="tel:{digits}">{number}</a>'

    return _PHONE_IN_TEXT.sub(link, escaped)


@register.filter(is_safe=True, needs_autoescape=True)
def tel_links(text, autoescape=True):
    """Escape text and turn phone numbers in it into tel: links, e.g. "call the desk (+1 555 0150)"."""
    escaped = escape(text or "") if autoescape else (text or "")
    return mark_safe(_link_phones(escaped))  # noqa: S308 - escaped above; only digits added


_TAG = re.compile(r"(<[^>]*>)")


def _link_phones_in_html(html):
    """Sanitised HTML with phone numbers in its text made tappable: never inside a tag or an existing link."""
    parts = _TAG.split(html)
    in_link = 0
    for i, part in enumerate(parts):
        if i % 2:  # a tag
            name = part[1:].lstrip("/").split(None, 1)[0].rstrip(">/").lower() if len(part) > 2 else ""
            if name == "a":
                in_link += -1 if part.startswith("</") else 1
        elif part and not in_link:
            parts[i] = _link_phones(part)
    return "".join(parts)


_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_FENCE = re.compile(r"^\s*(```|~~~)")


def _paragraphs_and_lists(text):
    """Text as typed into a box, as Markdown: a hard line break inside a paragraph is only the box's
    wrap (the lines are joined), a line starting "- " or "1." is a list item even without a blank line
    before it, and an unindented line after a list starts a new paragraph."""
    blocks = []  # lines of Markdown
    kind = None  # what the last line was: None (blank), "text", "item" or "code"
    for raw in (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.rstrip()
        if kind == "code":
            blocks.append(line)
            if _FENCE.match(line):
                kind = None
            continue
        if _FENCE.match(line):
            if kind is not None:
                blocks.append("")
            blocks.append(line)
            kind = "code"
        elif not line.strip():
            blocks.append("")
            kind = None
        elif _LIST_ITEM.match(line):
            if kind == "text":
                blocks.append("")
            blocks.append(line.strip() if not line[:1].isspace() or kind != "item" else line)
            kind = "item"
        elif kind == "item" and line[:1].isspace():
            blocks[-1] += " " + line.strip()  # the item's text wrapped onto the next line
        elif kind == "text":
            blocks[-1] += " " + line.strip()
        else:
            if kind == "item":
                blocks.append("")
            blocks.append(line.strip())
            kind = "text"
    return "\n".join(blocks)


@register.filter(is_safe=True)
def procedure(text):
    """An access procedure (or any text volunteers type) as sanitised HTML: paragraphs, lists and
    tel: links for its phone numbers. "Call Sam on\\n555-0123" is one paragraph with one whole number."""
    html = markdown(_paragraphs_and_lists(text))
    return mark_safe(_link_phones_in_html(html))  # noqa: S308 - nh3 sanitised it; only tel: links added


@register.filter(is_safe=True)
def hostname(name):
    """A host or DNS name that may wrap after each dot ("xen1.<wbr>foghorn.<wbr>net"), never mid-label.

    In a span: inside a flex box (a .row-link, a .button) each run of text would be a flex item of
    its own, which neither wraps at the <wbr> nor reads as one name to a screen reader.
    """
    return mark_safe(f'<span class="hostname">{escape(name or "").replace(".", ".<wbr>")}</span>')  # noqa: S308 - escaped first


_DOTTED_NAME = re.compile(r"(?<=\w)\.(?=\w)")


@register.filter(is_safe=True)
def wrap_names(text):
    """Free text (an incident's title) whose host and domain names may wrap after their dots, never mid-label."""
    return mark_safe(_DOTTED_NAME.sub(".<wbr>", str(escape(text or ""))))  # noqa: S308 - escaped first


@register.filter
def first_phone(person):
    """The contact method for a person's big Call button: their first phone, else the first way to text."""
    methods = list(person.contact_methods.all())  # prefetched and ordered by priority
    for kinds in (("phone",), ("sms", "signal")):
        for method in methods:
            if method.kind in kinds:
                return method
    return None
