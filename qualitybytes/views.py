from django.http import HttpResponseServerError
from django.shortcuts import render
from django.template.loader import get_template


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    # No request context: a failing context processor must not break the error page too.
    return HttpResponseServerError(get_template("500.html").render())
