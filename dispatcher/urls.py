from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

from dispatcher.api.oauth import HotmartTokenView

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("admin/", admin.site.urls),
    path("credentials/", include("configurations.credentials_views")),
    path("security/oauth/token", HotmartTokenView.as_view(), name="oauth-token"),
    path("api/", include("dispatcher.api.urls")),
]
