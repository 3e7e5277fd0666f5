from django.urls import path

from inbox import views

app_name = "inbox"
urlpatterns = [
    path("<str:token>/", views.catch, name="catch"),
    path("<str:token>/<path:rest>", views.catch, name="catch-path"),
]
