from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from diplohub.directory.models import Organization
from diplohub.lib.pagecache import cached_for_visitors


@require_GET
@cached_for_visitors
def home(request: HttpRequest) -> HttpResponse:
    public = Organization.objects.public()
    diplomatic = public.diplomatic()
    figures = {
        "missions": diplomatic.count(),
        "countries": diplomatic.exclude(country="").values("country").distinct().count(),
        "organizations": public.ecosystem().count(),
    }
    return render(request, "web/home.html", {"figures": figures})


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@require_GET
def robots_txt(request: HttpRequest) -> HttpResponse:
    lines = ["User-agent: *", "Disallow: /admin/", "Disallow: /api/"]
    lines += [f"Sitemap: {request.build_absolute_uri(reverse('sitemap'))}", ""]
    return HttpResponse("\n".join(lines), content_type="text/plain")
