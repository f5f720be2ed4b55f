from django.http import HttpResponse
from django.urls import path

from diplohub.urls import urlpatterns as hub_urlpatterns


def bare(request):  # type: ignore[no-untyped-def]
    """The floor: a Django view that does nothing, through the same middleware stack."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/bare", bare), *hub_urlpatterns]
