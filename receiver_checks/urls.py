from django.urls import path

from receiver_checks import views

app_name = "receiver_checks"

urlpatterns = [
    path("", views.check_list, name="list"),
    path("start/", views.check_start, name="start"),
    path("<int:pk>/", views.check_detail, name="detail"),
]
