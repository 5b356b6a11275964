from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views
from throttling.limits import LOGIN, limit_page

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    # Wrong passwords also lock a user name out from one address (django-axes).
    path(
        "login/",
        limit_page(LOGIN)(auth_views.LoginView.as_view(redirect_authenticated_user=True)),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),  # POST only
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("", views.account, name="account"),
    path("tokens/<int:token_id>/revoke/", views.revoke_token, name="revoke_token"),
]
