from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.i18n import set_language

from diplohub.accounts import views as accounts_views
from diplohub.api import api

admin.site.site_header = settings.HUB_NAME
admin.site.site_title = settings.HUB_NAME
admin.site.index_title = _("Back office")

urlpatterns = [
    path("api/v1/", api.urls),
    path("i18n/setlang/", set_language, name="set_language"),
    path("", include("diplohub.web.urls_root")),
]

urlpatterns += i18n_patterns(
    # Before the admin's own: its login page would bypass our rate limit and TOTP.
    path("admin/login/", accounts_views.admin_login, name="admin-login"),
    path("admin/", admin.site.urls),
    path("accounts/", include("diplohub.accounts.urls")),
    path("directory/", include("diplohub.directory.urls")),
    path("programme/", include("diplohub.events.urls")),
    path("", include("diplohub.mailing.urls")),
    path("", include("diplohub.knowledge.urls")),
    path("", include("diplohub.web.urls")),
)
