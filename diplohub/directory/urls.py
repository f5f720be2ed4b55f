from django.urls import path

from diplohub.directory import views

app_name = "directory"

urlpatterns = [
    path("diplomatic-community/", views.diplomatic, name="diplomatic"),
    path("ecosystem/", views.ecosystem, name="ecosystem"),
    path("diplomatic-list/", views.diplomatic_list, name="diplomatic-list"),
    path("popolo.json", views.popolo, name="popolo"),
    path("people/", views.people, name="people"),
    path("people/<int:pk>/", views.person, name="person"),
    path("<slug:slug>/", views.organization, name="organization"),
    path("<slug:slug>/edit/", views.organization_edit, name="organization-edit"),
]
