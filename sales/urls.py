from django.urls import path, register_converter

from sales import views
from sales.api import SUBSCRIBER_CODE_PATTERN, TRANSACTION_PATTERN


class TransactionCode:
    """``HP`` and 14 digits, as the API's lookups take them: anything else (``%00``, a megabyte) is a 404."""

    regex = TRANSACTION_PATTERN

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class SubscriberCode(TransactionCode):
    regex = SUBSCRIBER_CODE_PATTERN


register_converter(TransactionCode, "transaction")
register_converter(SubscriberCode, "subscriber")

app_name = "simulator"

urlpatterns = [
    path("", views.simulator, name="index"),
    path("purchase/", views.purchase_create, name="purchase"),
    path("cart/", views.cart_abandon, name="cart"),
    path("sample/", views.sample_record, name="sample"),
    path("deliveries/", views.deliveries, name="deliveries"),
    path("transactions/<transaction:code>/", views.transaction_detail, name="transaction"),
    path("transactions/<transaction:code>/move/", views.transaction_move, name="move"),
    path("transactions/<transaction:code>/first-access/", views.member_first_access, name="first_access"),
    path("transactions/<transaction:code>/module/", views.member_module_complete, name="module"),
    path("subscriptions/<subscriber:code>/", views.subscription_detail, name="subscription"),
]
# The subscription actions: one view, told which action by the URL.
for segment, action, name in (
    ("renew", "renew", "renew"),
    ("cancel", "cancel", "subscription_cancel"),
    ("plan", "switch_plan", "switch_plan"),
    ("charge-day", "charge_day", "charge_day"),
):
    urlpatterns.append(
        path(f"subscriptions/<subscriber:code>/{segment}/", views.subscription_action, {"action": action}, name=name)
    )
