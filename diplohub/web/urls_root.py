"""URLs outside the language prefixes: health check and robots.txt."""

from django.urls import path

from diplohub.web import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("robots.txt", views.robots_txt, name="robots-txt"),
]
