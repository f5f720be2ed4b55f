from django.urls import path

from diplohub.accounts import views

app_name = "accounts"

urlpatterns = [
    path("sign-in/", views.sign_in, name="sign-in"),
    path("sign-in/code/", views.sign_in_code, name="sign-in-code"),
    path("sign-in/link/", views.sign_in_link, name="sign-in-link"),
    path("sign-in/link/sent/", views.sign_in_link_sent, name="sign-in-link-sent"),
    path("sign-in/link/use/", views.sign_in_link_use, name="sign-in-link-use"),
    path("sign-out/", views.sign_out, name="sign-out"),
    path("profile/", views.profile, name="profile"),
    path("two-factor/", views.two_factor, name="two-factor"),
]
