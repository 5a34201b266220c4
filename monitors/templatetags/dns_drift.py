"""{% dns_drift dns_names addresses as lines %}: the DNS drift lines of a machine or guest page (monitors.dnscheck)."""

from django import template

from monitors.dnscheck import drift_lines

register = template.Library()


@register.simple_tag
def dns_drift(dns_names, addresses):
    """The page's DNS drift lines ([] when all is well) for its own DNS names and addresses; one query."""
    return drift_lines(dns_names, addresses)
