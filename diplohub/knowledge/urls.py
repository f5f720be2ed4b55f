from django.urls import path
from django.views.decorators.http import require_safe

from diplohub.knowledge import feeds, views
from diplohub.lib.pagecache import cached_for_visitors

app_name = "knowledge"

urlpatterns = [
    path("initiatives/<slug:slug>/", views.initiative, name="initiative"),
    path("developments/<slug:slug>/", views.development, name="development"),
    path("working-groups/<slug:slug>/", views.working_group, name="working-group"),
    path("publications/<slug:slug>/", views.publication, name="publication"),
]

# === PAGES: landing page, lists, contact, submission, moderation ===
urlpatterns += [
    path("knowledge/", views.home, name="home"),
    path("knowledge/propose/", views.propose, name="propose"),
    path("knowledge/propose/sent/", views.propose_sent, name="propose-sent"),
    path("knowledge/moderation/", views.moderation, name="moderation"),
    path("knowledge/moderation/<int:pk>/", views.moderate, name="moderate"),
    path("initiatives/", views.initiative_list, name="initiatives"),
    path("initiatives/<slug:slug>/contact/", views.initiative_contact, name="initiative-contact"),
    path("developments/", views.development_list, name="developments"),
    path("working-groups/", views.working_group_list, name="working-groups"),
    path("publications/", views.publication_list, name="publications"),
    path("press/", views.press_list, name="press"),
]
# === end PAGES ===

# === OPEN DATA: Atom feeds and the CSV export ===
urlpatterns += [
    path(
        "initiatives/feed.atom",
        cached_for_visitors(require_safe(feeds.InitiativesFeed())),
        name="feed",
    ),
    path(
        "initiatives/topics/<slug:topic>/feed.atom",
        cached_for_visitors(require_safe(feeds.TopicInitiativesFeed())),
        name="topic-feed",
    ),
    path("initiatives.csv", views.initiatives_csv, name="initiatives-csv"),
]
# === end OPEN DATA ===

# === SEARCH: the search page ===
urlpatterns += [
    path("knowledge/search/", views.search_page, name="search"),
]
# === end SEARCH ===
