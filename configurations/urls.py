from django.urls import path

from configurations import views

app_name = "configurations"

urlpatterns = [
    path("", views.configuration_list, name="list"),
    path("new/", views.configuration_create, name="create"),
    path("<int:pk>/edit/", views.configuration_edit, name="edit"),
    path("<int:pk>/enable/", views.configuration_enable, name="enable"),
    path("<int:pk>/disable/", views.configuration_disable, name="disable"),
    path("<int:pk>/remove/", views.configuration_remove, name="remove"),
    path("<int:pk>/test/", views.configuration_test, name="test"),
    path("<int:pk>/resend-offer/dismiss/", views.resend_offer_dismiss, name="resend_offer_dismiss"),
    path("hottok/", views.hottok_card, name="hottok"),
    path("hottok/reveal/", views.hottok_reveal, name="hottok_reveal"),
    path("hottok/regenerate/", views.hottok_regenerate, name="hottok_regenerate"),
]
