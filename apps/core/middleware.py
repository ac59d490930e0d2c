from django.conf import settings


class ContentSecurityPolicyMiddleware:
    """Add Content-Security-Policy and Permissions-Policy headers to responses.

    Pages load scripts and style sheets only from this site, so injected
    markup cannot run a script or send a form elsewhere. Inline ``style``
    attributes stay allowed; inline scripts do not.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY
        self.permissions = settings.PERMISSIONS_POLICY

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy)
        response.headers.setdefault("Permissions-Policy", self.permissions)
        return response
