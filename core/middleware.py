"""Response headers Django and django-csp do not set.

Django's SecurityMiddleware covers HSTS, nosniff, Referrer-Policy and Cross-Origin-Opener-Policy,
XFrameOptionsMiddleware X-Frame-Options, and django-csp (csp.middleware) the Content-Security-Policy.
"""

# No page of Switchboard uses these browser features; a script injected despite the CSP gets none of them.
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


def permissions_policy(get_response):
    """Send Permissions-Policy on every response, unless a view set its own."""

    def middleware(request):
        response = get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response

    return middleware
