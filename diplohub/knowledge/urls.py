from django.urls import path

from diplohub.knowledge import views

app_name = "knowledge"

urlpatterns = [
    path("initiatives/<slug:slug>/", views.initiative, name="initiative"),
    path("developments/<slug:slug>/", views.development, name="development"),
    path("working-groups/<slug:slug>/", views.working_group, name="working-group"),
    path("publications/<slug:slug>/", views.publication, name="publication"),
]
