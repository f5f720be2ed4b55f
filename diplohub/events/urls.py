from django.urls import path

from diplohub.events import feeds, views
from diplohub.lib.pagecache import cached_for_visitors

app_name = "events"

urlpatterns = [
    path("", views.programme, name="programme"),
    path("mine/", views.mine, name="mine"),
    path("calendar.ics", views.public_calendar, name="calendar"),
    path("feed.atom", cached_for_visitors(feeds.UpcomingEventsFeed()), name="feed"),
    path("feeds/<str:token>.ics", views.personal_calendar, name="personal-calendar"),
    path("<slug:slug>/", views.detail, name="detail"),
    path("<slug:slug>/calendar.ics", views.event_calendar, name="event-calendar"),
    path("<slug:slug>/register/", views.register, name="register"),
    path("<slug:slug>/cancel/", views.cancel, name="cancel"),
    path("<slug:slug>/confirm/", views.confirm, name="confirm"),
    path("<slug:slug>/feedback/", views.feedback, name="feedback"),
    path("<slug:slug>/report/", views.report, name="report"),
    path("<slug:slug>/check-in/", views.check_in, name="check-in"),
    path("<slug:slug>/check-in/counts/", views.check_in_counts, name="check-in-counts"),
    path("<slug:slug>/check-in/code/", views.check_in_code, name="check-in-code"),
    path("<slug:slug>/check-in/<int:pk>/", views.check_in_person, name="check-in-person"),
    path("<slug:slug>/security-list.csv", views.security_list, name="security-list"),
]
