from django.urls import path

from history import views

app_name = "history"

urlpatterns = [
    path("", views.history_list, name="list"),
    path("sent/", views.sent_list, name="sent"),
    path("pending/", views.pending_list, name="pending"),
    path("<int:pk>/", views.notification_detail, name="detail"),
    path("<int:pk>/result/", views.notification_result, name="result"),
    path("<int:pk>/resend/", views.notification_resend, name="resend"),
    path("bulk-resends/", views.bulk_resend_list, name="bulk_list"),
    path("bulk-resends/new/", views.bulk_resend_new, name="bulk_new"),
    path("bulk-resends/<int:pk>/", views.bulk_resend_detail, name="bulk_detail"),
]
