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
    path("subscriptions/<str:code>/renew/", views.subscription_renew, name="renew"),
    path("subscriptions/<str:code>/cancel/", views.subscription_cancel, name="subscription_cancel"),
    path("subscriptions/<str:code>/plan/", views.subscription_switch_plan, name="switch_plan"),
    path("subscriptions/<str:code>/charge-day/", views.subscription_charge_day, name="charge_day"),
]
