from django.urls import path

from sales import views

app_name = "simulator"

urlpatterns = [
    path("", views.simulator, name="index"),
    path("purchase/", views.purchase_create, name="purchase"),
    path("cart/", views.cart_abandon, name="cart"),
    path("sample/", views.sample_record, name="sample"),
    path("deliveries/", views.deliveries, name="deliveries"),
    path("transactions/<str:code>/", views.transaction_detail, name="transaction"),
    path("transactions/<str:code>/move/", views.transaction_move, name="move"),
    path("transactions/<str:code>/first-access/", views.member_first_access, name="first_access"),
    path("transactions/<str:code>/module/", views.member_module_complete, name="module"),
    path("subscriptions/<str:code>/", views.subscription_detail, name="subscription"),
]
# The subscription actions: one view, told which action by the URL.
for segment, action, name in (
    ("renew", "renew", "renew"),
    ("cancel", "cancel", "subscription_cancel"),
    ("plan", "switch_plan", "switch_plan"),
    ("charge-day", "charge_day", "charge_day"),
):
    urlpatterns.append(
        path(f"subscriptions/<str:code>/{segment}/", views.subscription_action, {"action": action}, name=name)
    )
