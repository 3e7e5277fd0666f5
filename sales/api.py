"""API resources of the simulator: transactions and their lifecycle, subscriptions, cart abandonment and the
members area, always the caller's own.

Thin views over ``sales.services`` (which act and report the events) and ``sales.selectors`` (which read);
transactions and subscriptions are shown as ``sales.output`` shows them to ``simulate --json``. Every action
answers what it recorded: the event, the caller's notifications it created and the sale as it stands after it.
A transaction or subscription of another producer answers 404, like one that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable

from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from configurations.api import product_or_400, product_rule
from history.models import Event
from sales import selectors, services
from sales.models import Purchase, Subscription
from sales.output import purchase_data, subscription_data
from sales.serializers import (
    CancelSerializer,
    CartAbandonSerializer,
    ChargeDaySerializer,
    ModuleCompleteSerializer,
    MomentSerializer,
    RenewSerializer,
    SaleOutcomeSerializer,
    SubscriptionDetailSerializer,
    SubscriptionPageSerializer,
    SubscriptionQuerySerializer,
    SubscriptionSerializer,
    SwitchPlanSerializer,
    TransactionCreateSerializer,
    TransactionDetailSerializer,
    TransactionPageSerializer,
    TransactionQuerySerializer,
    TransactionSerializer,
    TransitionSerializer,
)
from sales.services import SaleOutcome
from web.api.errors import service_errors, validated
from web.api.views import OwnedObjectViewSet, page_body

TRANSACTION_PATTERN = r"[Hh][Pp][0-9]{14}"  # HP and 14 digits, any case
SUBSCRIBER_CODE_PATTERN = r"[A-Za-z0-9]{1,20}"


def outcome_response(outcome: SaleOutcome, request: Request, *, status_code: int = status.HTTP_200_OK) -> Response:
    """What an action recorded. Only the caller's own notifications are listed: an affiliate's configuration
    (its name and URL) is the affiliate's business, so those are only counted."""
    mine = [notification for notification in outcome.notifications if notification.owner_id == request.user.pk]
    data = {
        "event": outcome.event,
        "events": [recorded.event for recorded in outcome.events],
        "notifications": mine,
        "affiliate_notifications": len(outcome.notifications) - len(mine),
        "transaction": purchase_data(outcome.purchase) if outcome.purchase is not None else None,
        "subscription": subscription_data(outcome.subscription) if outcome.subscription is not None else None,
        "notes": outcome.notes,
    }
    return Response(SaleOutcomeSerializer(data).data, status=status_code)


class SaleViewSet(OwnedObjectViewSet):
    """Transactions and subscriptions: named by a code in the URL (``HP...``, a subscriber code) in any case,
    and acted on by ``sales.services`` functions that name the object by the same keyword."""

    def lookup(self, raw: str) -> str:
        return raw.upper()

    def act(
        self, request: Request, serializer_class: type[Serializer], service: Callable[..., SaleOutcome]
    ) -> Response:
        """Parse the body, call the service on this object (404 unless it is the caller's), answer the outcome."""
        found = self.get_object()
        data = validated(serializer_class, request.data)
        with service_errors():
            outcome = service(owner=request.user, **{self.lookup_field: getattr(found, self.lookup_field)}, **data)
        return outcome_response(outcome, request)


@extend_schema(tags=["transactions"])
class TransactionViewSet(SaleViewSet):
    """Simulated purchases (``HP...``) and their lifecycle: create one, read it with its timeline and next legal
    moves, move it on; each step sends the event to every configuration that wants it."""

    queryset = Purchase.objects.none()
    object_name = "transaction"
    lookup_field = "transaction"
    lookup_value_regex = TRANSACTION_PATTERN

    def fetch(self, *, owner_id: int, object_id: str) -> Purchase | None:
        return selectors.transaction_get(owner_id=owner_id, transaction=object_id)

    @extend_schema(
        parameters=[TransactionQuerySerializer], responses=TransactionPageSerializer, summary="List your transactions"
    )
    def list(self, request: Request) -> Response:
        """Your transactions, newest first; follow `page_info.next_page_token`."""
        query = validated(TransactionQuerySerializer, request.query_params.dict())
        product = product_or_400(request.user.pk, query.get("product"))
        with service_errors(cursor="page_token"):
            page = selectors.transaction_page(
                owner_id=request.user.pk,
                status=query.get("status"),
                product_id=product.pk if product else None,
                cursor=query.get("page_token"),
                limit=query["max_results"],
            )
        items = TransactionSerializer([purchase_data(purchase) for purchase in page.items], many=True).data
        return Response(page_body(items, next_cursor=page.next_cursor, max_results=query["max_results"]))

    @extend_schema(
        request=TransactionCreateSerializer, responses={201: SaleOutcomeSerializer}, summary="Create a purchase"
    )
    def create(self, request: Request) -> Response:
        """A buyer checks out: a card purchase starts APPROVED (CANCELED when refused), a billet or PIX one
        BILLET_PRINTED with its payment fields; a subscription product's also starts a subscription."""
        data = validated(TransactionCreateSerializer, request.data, rules=product_rule(request.user.pk))
        product = product_or_400(request.user.pk, data.pop("product"))
        with service_errors():
            outcome = services.transaction_create(owner=request.user, product=product, **data)
        return outcome_response(outcome, request, status_code=status.HTTP_201_CREATED)

    @extend_schema(responses=TransactionDetailSerializer, summary="Read a transaction")
    def retrieve(self, request: Request, transaction: str) -> Response:
        """Its status, payment fields, timeline of events, members-area progress and next legal moves."""
        purchase = self.get_object()
        data = {
            **purchase_data(purchase),
            "timeline": selectors.transaction_timeline(owner_id=request.user.pk, transaction=purchase.transaction),
            "members_area": selectors.member_progress(purchase=purchase),
        }
        return Response(TransactionDetailSerializer(data).data)

    @extend_schema(request=TransitionSerializer, responses=SaleOutcomeSerializer, summary="Move it to a status")
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, transaction: str) -> Response:
        """Move the transaction to `to` and send that status's event. Only legal moves (the transaction's `next`)
        are possible: another one answers 400 on `to` naming the allowed ones."""
        return self.act(request, TransitionSerializer, services.transaction_transition)

    @extend_schema(request=MomentSerializer, responses=SaleOutcomeSerializer, summary="Members area: first access")
    @action(detail=True, methods=["post"], url_path="first-access")
    def first_access(self, request: Request, transaction: str) -> Response:
        """The buyer enters the members area for the first time (CLUB_FIRST_ACCESS); once per transaction, and
        only while it is APPROVED, COMPLETED or in DISPUTE."""
        return self.act(request, MomentSerializer, services.member_first_access)

    @extend_schema(
        request=ModuleCompleteSerializer, responses=SaleOutcomeSerializer, summary="Members area: module completed"
    )
    @action(detail=True, methods=["post"], url_path="complete-module")
    def complete_module(self, request: Request, transaction: str) -> Response:
        """The buyer completes a module (CLUB_MODULE_COMPLETED), after the first access; each module once."""
        return self.act(request, ModuleCompleteSerializer, services.member_module_complete)


@extend_schema(tags=["subscriptions"])
class SubscriptionViewSet(SaleViewSet):
    """Subscriptions started by purchases of subscription products: read them, renew, cancel, switch plan,
    change the charge day; each action sends its event."""

    queryset = Subscription.objects.none()
    object_name = "subscription"
    lookup_field = "subscriber_code"
    lookup_value_regex = SUBSCRIBER_CODE_PATTERN

    def fetch(self, *, owner_id: int, object_id: str) -> Subscription | None:
        return selectors.subscription_get(owner_id=owner_id, subscriber_code=object_id)

    @extend_schema(
        parameters=[SubscriptionQuerySerializer],
        responses=SubscriptionPageSerializer,
        summary="List your subscriptions",
    )
    def list(self, request: Request) -> Response:
        """Your subscriptions, newest first; follow `page_info.next_page_token`."""
        query = validated(SubscriptionQuerySerializer, request.query_params.dict())
        with service_errors(cursor="page_token"):
            page = selectors.subscription_page(
                owner_id=request.user.pk,
                status=query.get("status"),
                cursor=query.get("page_token"),
                limit=query["max_results"],
            )
        items = SubscriptionSerializer([subscription_data(s) for s in page.items], many=True).data
        return Response(page_body(items, next_cursor=page.next_cursor, max_results=query["max_results"]))

    @extend_schema(responses=SubscriptionDetailSerializer, summary="Read a subscription")
    def retrieve(self, request: Request, subscriber_code: str) -> Response:
        """Its status, plan, next charge, what is possible now, its charges and the product's plans."""
        subscription = self.get_object()
        data = {
            **subscription_data(subscription),
            "charges": [purchase_data(p) for p in selectors.subscription_purchases(subscription=subscription)],
            "plans": selectors.product_plans(product=subscription.product),
        }
        return Response(SubscriptionDetailSerializer(data).data)

    @extend_schema(request=RenewSerializer, responses=SaleOutcomeSerializer, summary="Charge the next recurrence")
    @action(detail=True, methods=["post"])
    def renew(self, request: Request, subscriber_code: str) -> Response:
        """A new transaction with the next `recurrence_number`: APPROVED by card (DELAYED when refused),
        BILLET_PRINTED by billet or PIX. The subscription must be ACTIVE with no charge awaiting payment."""
        return self.act(request, RenewSerializer, services.subscription_renew)

    @extend_schema(request=CancelSerializer, responses=SaleOutcomeSerializer, summary="Cancel it")
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, subscriber_code: str) -> Response:
        """SUBSCRIPTION_CANCELLATION, by the customer (default), the seller or Hotmart's admin."""
        return self.act(request, CancelSerializer, services.subscription_cancel)

    @extend_schema(request=SwitchPlanSerializer, responses=SaleOutcomeSerializer, summary="Switch its plan")
    @action(detail=True, methods=["post"], url_path="switch-plan")
    def switch_plan(self, request: Request, subscriber_code: str) -> Response:
        """SWITCH_PLAN: an ACTIVE subscription moves to another plan of its product, priced from the next charge."""
        return self.act(request, SwitchPlanSerializer, services.subscription_switch_plan)

    @extend_schema(request=ChargeDaySerializer, responses=SaleOutcomeSerializer, summary="Change its charge day")
    @action(detail=True, methods=["post"], url_path="charge-day")
    def charge_day(self, request: Request, subscriber_code: str) -> Response:
        """UPDATE_SUBSCRIPTION_CHARGE_DATE: an ACTIVE subscription is charged on another day of the month."""
        return self.act(request, ChargeDaySerializer, services.subscription_change_charge_day)


@extend_schema(tags=["transactions"])
class CartAbandonmentViewSet(viewsets.GenericViewSet):
    queryset = Event.objects.none()

    @extend_schema(request=CartAbandonSerializer, responses={201: SaleOutcomeSerializer}, summary="Abandon a cart")
    def create(self, request: Request) -> Response:
        """A visitor filled in the checkout and left without paying: PURCHASE_OUT_OF_SHOPPING_CART (to the
        affiliate's configurations too when the visit came through its hotlink). No transaction is created."""
        data = validated(CartAbandonSerializer, request.data, rules=product_rule(request.user.pk))
        product = product_or_400(request.user.pk, data.pop("product"))
        with service_errors():
            outcome = services.cart_abandon(owner=request.user, product=product, **data)
        return outcome_response(outcome, request, status_code=status.HTTP_201_CREATED)
