from django.http import JsonResponse
from django.urls import include, path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST


@csrf_exempt
@require_POST
def bare(request):
    """The baseline: the same middleware and server, no parsing, no database."""
    return JsonResponse({"valid": True, "ts": timezone.now().isoformat()})


urlpatterns = [
    path("bench/bare", bare),
    path("", include("qualitybytes.urls")),
]
