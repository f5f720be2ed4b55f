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
    # Answering by link, no password: the token in the address stands for the person.
    path("invitations/<str:token>/", views.invitation, name="invitation"),
    path("r/<str:token>/", views.registration, name="registration"),
    path("r/<str:token>/calendar.ics", views.registration_calendar, name="registration-calendar"),
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
    path("<slug:slug>/invitations/", views.invitations, name="invitations"),
    path("<slug:slug>/invitations/send/", views.invitations_send, name="invitations-send"),
    path("<slug:slug>/invitations/remind/", views.invitations_remind, name="invitations-remind"),
    # Protocol outputs: the attendee list, name badges, the order of precedence.
    path("<slug:slug>/attendees/", views.attendees, name="attendees"),
    path("<slug:slug>/attendees/counts/", views.attendees_counts, name="attendees-counts"),
    path("<slug:slug>/attendees/register/", views.attendee_register, name="attendee-register"),
    path("<slug:slug>/attendees/<int:pk>/move/", views.attendee_move, name="attendee-move"),
    path("<slug:slug>/attendees.csv", views.attendees_csv, name="attendees-csv"),
    path("<slug:slug>/badges.pdf", views.badges, name="badges"),
    path("<slug:slug>/order-of-precedence/", views.precedence, name="precedence"),
]
