from django.urls import path

from diplohub.mailing import feeds, views

app_name = "mailing"

urlpatterns = [
    # === Joining the network: sign-up, preferences, consents, policies, personal data ===
    path("join/", views.join, name="join"),
    path("join/form/", views.join_compact, name="join-compact"),
    path("join/check-your-inbox/", views.join_sent, name="join-sent"),
    path("join/confirm/<str:token>/", views.confirm, name="confirm"),
    path("mail/preferences/<str:token>/", views.preferences, name="preferences"),
    path("mail/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("mail/my-consents/", views.my_consents, name="my-consents"),
    path("mail/personal-data/", views.personal_data, name="personal-data"),
    path("policies/<slug:kind>/", views.policy, name="policy"),
    path("policies/<slug:kind>/v<int:version>/", views.policy, name="policy-version"),
    # === Campaigns: staff pages; the public archive and its feed ======================
    path("mail/campaigns/", views.campaigns, name="campaigns"),
    path("mail/campaigns/new/", views.campaign_new, name="campaign-new"),
    path("mail/campaigns/preview/", views.campaign_preview, name="campaign-preview"),
    path("mail/campaigns/audience/", views.campaign_audience_count, name="campaign-audience"),
    path("mail/campaigns/<int:pk>/", views.campaign, name="campaign"),
    path("mail/campaigns/<int:pk>/test/", views.campaign_test, name="campaign-test"),
    path("mail/campaigns/<int:pk>/schedule/", views.campaign_schedule, name="campaign-schedule"),
    path("mail/campaigns/<int:pk>/send/", views.campaign_send, name="campaign-send"),
    path("mail/campaigns/<int:pk>/cancel/", views.campaign_cancel, name="campaign-cancel"),
    path("mail/campaigns/<int:pk>/progress/", views.campaign_progress, name="campaign-progress"),
    path("newsletters/", views.newsletters, name="newsletters"),
    path("newsletters/feed.atom", feeds.NewslettersFeed(), name="newsletters-feed"),
    path("newsletters/<slug:slug>/", views.newsletter, name="newsletter"),
]
