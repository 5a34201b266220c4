"""Response headers Django and django-csp do not set.

Django's SecurityMiddleware covers HSTS, nosniff, Referrer-Policy and Cross-Origin-Opener-Policy,
XFrameOptionsMiddleware X-Frame-Options, and django-csp (csp.middleware) the Content-Security-Policy.
"""

from django.conf import settings
from django.http import Http404
from django.urls import get_resolver

# No page of Switchboard uses these browser features; a script injected despite the CSP gets none of them.
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


def permissions_policy(get_response):
    """Send Permissions-Policy on every response, unless a view set its own."""

    def middleware(request):
        response = get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response

    return middleware


def product_not_found_page(get_response):
    """With DEBUG on (the demo), show the product's own 404 page instead of Django's technical one.

    A newcomer who mistypes a hostname in the demo should see the same "Nothing here" page with a
    search box that a real install shows, not a list of URL patterns. Only Django's technical page is
    replaced (recognised by its title); a view's own 404 page is left alone. Innermost middleware, so
    the request it renders for is complete (user, messages, htmx).
    """

    def middleware(request):
        response = get_response(request)
        if (
            settings.DEBUG
            and response.status_code == 404
            and not response.streaming
            and response.get("Content-Type", "").startswith("text/html")
            and b"<title>Page not found at " in response.content
        ):
            return get_resolver().resolve_error_handler(404)(request, exception=Http404())
        return response

    return middleware
