from django.conf import settings
from django.http import HttpResponsePermanentRedirect, HttpResponseServerError
from django.shortcuts import render
from django.template.loader import get_template
from django.templatetags.static import static
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularSwaggerSplitView


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    # No request context: a failing context processor must not break the error page too.
    return HttpResponseServerError(get_template("500.html").render())


# Swagger UI and ReDoc add <style> elements at run time, so their pages (and only those) allow
# inline styles; ReDoc also starts a web worker from a blob. Scripts stay 'self' only: the split
# Swagger view serves its start-up script as a file. ReDoc's Google fonts and footer logo stay
# blocked (no fetches from elsewhere at run time); the page works without them.
API_DOCS_CSP = "style-src 'self' 'unsafe-inline'"


class ApiDocsView(SpectacularSwaggerSplitView):
    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        response.content_security_policy = _relaxed(API_DOCS_CSP)
        return response


def _relaxed(*directives: str) -> str:
    """The site policy with `directives` replacing those of the same name."""
    policy = {part.split()[0]: part for part in settings.CONTENT_SECURITY_POLICY.split("; ")}
    for directive in directives:
        policy[directive.split()[0]] = directive
    return "; ".join(policy.values())


def favicon(request):
    # Resolved per request: the hashed name exists only once collectstatic has run.
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))
