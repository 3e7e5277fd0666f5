from django.contrib import admin
from django.urls import path
from django.views.generic import TemplateView

from dispatcher import views

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("admin/", admin.site.urls),
    path("health", views.health, name="health"),
    path("health/live", views.live, name="health-live"),
    path("metrics", views.prometheus, name="metrics"),
]
