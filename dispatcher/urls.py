from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from configurations.documentation import documentation
from dispatcher import views
from history.overview import overview
from web.api.oauth import HotmartTokenView

urlpatterns = [
    path("", overview, name="overview"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("configurations/", include("configurations.urls")),
    path("history/", include("history.urls")),
    path("simulator/", include("sales.urls")),
    path("inboxes/", include("inbox.pages")),
    path("receiver-checks/", include("receiver_checks.urls")),
    path("documentation/", documentation, name="documentation"),
    path("documentation/<str:event_type>/", documentation, name="documentation_event"),
    path("admin/", admin.site.urls),
    path("health", views.health, name="health"),
    path("health/live", views.live, name="health-live"),
    path("metrics", views.prometheus, name="metrics"),
    path("credentials/", include("configurations.credentials_views")),
    path("products/", include("configurations.product_views")),
    path("affiliates/", include("configurations.affiliate_views")),
    path("security/oauth/token", HotmartTokenView.as_view(), name="oauth-token"),
    path("api/", include("dispatcher.api_urls")),
    path("inbox/", RedirectView.as_view(pattern_name="inboxes:list"), name="inbox-pages"),  # a common slip
    path("inbox/", include("inbox.urls")),
]
