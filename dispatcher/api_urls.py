"""/api/: the v1 resources, the OpenAPI schema and its browsable docs; any other path is a JSON 404."""

from csp.decorators import csp_update
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from configurations.api import (
    AccountView,
    AffiliationViewSet,
    ConfigurationViewSet,
    HookViewSet,
    HottokRegenerateView,
    ProductViewSet,
)
from history.api import BulkResendViewSet, EventViewSet, NotificationViewSet
from inbox.api import InboxViewSet
from receiver_checks.api import ReceiverCheckViewSet
from sales.api import CartAbandonmentViewSet, SubscriptionViewSet, TransactionViewSet
from web.api.errors import api_not_found

router = SimpleRouter(trailing_slash=False)  # /api/v1/hooks, as REST hook clients call it
router.register("configurations", ConfigurationViewSet, basename="configuration")
router.register("products", ProductViewSet, basename="product")
router.register("events", EventViewSet, basename="event")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("bulk-resends", BulkResendViewSet, basename="bulk-resend")
router.register("hooks", HookViewSet, basename="hook")
router.register("transactions", TransactionViewSet, basename="transaction")
router.register("subscriptions", SubscriptionViewSet, basename="subscription")
router.register("cart-abandonments", CartAbandonmentViewSet, basename="cart-abandonment")
router.register("affiliations", AffiliationViewSet, basename="affiliation")
router.register("inboxes", InboxViewSet, basename="inbox")
router.register("receiver-checks", ReceiverCheckViewSet, basename="receiver-check")

urlpatterns = [
    path("v1/account", AccountView.as_view(), name="account"),
    path("v1/account/regenerate-hottok", HottokRegenerateView.as_view(), name="account-regenerate-hottok"),
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's setup as a script file (the Content Security Policy allows no inline
    # script); Swagger UI adds style elements of its own, allowed on this page only.
    path(
        "docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
    re_path(r"", api_not_found),
]
