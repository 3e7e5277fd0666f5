"""API resources: configurations, products, REST hooks, affiliates and the account, always the caller's own.

Thin views: a serializer parses, one service or selector acts, a serializer renders. Another producer's id
answers 404, exactly like an id that does not exist.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalogue.events import HOOK_EVENTS, PayloadVersion
from configurations import selectors, services
from configurations.models import Affiliation, Configuration, Product
from configurations.serializers import (
    AccountSerializer,
    AccountUpdateSerializer,
    AffiliationListSerializer,
    AffiliationQuerySerializer,
    AffiliationSerializer,
    ConfigurationListSerializer,
    ConfigurationSerializer,
    ConfigurationWriteSerializer,
    DisableSerializer,
    HookEventListSerializer,
    HookListSerializer,
    HookSerializer,
    HookSubscribeSerializer,
    ProductCreateSerializer,
    ProductListSerializer,
    ProductSerializer,
    TestPostSerializer,
)
from history.publishing import (
    configuration_reenable,
    configuration_remove,
    configuration_stop,
    configuration_test_post,
)
from history.serializers import NotificationSummarySerializer
from web.api.errors import service_errors, validated
from web.api.views import OwnedObjectViewSet


def product_or_400(
    owner_id: int, hotmart_id: int | None, field: str = "product", *, or_affiliated: bool = False
) -> Product | None:
    """The caller's product with this Hotmart id (None for None), or a 400 naming ``field``. With
    ``or_affiliated``, also a product the caller sells as an affiliate (its configurations may be scoped to it)."""
    if hotmart_id is None:
        return None
    if or_affiliated:
        product = selectors.product_get_for_configuration(user_id=owner_id, hotmart_id=hotmart_id)
    else:
        product = selectors.product_get(owner_id=owner_id, hotmart_id=hotmart_id)
    if product is None:
        also = " or one you are an affiliate of" if or_affiliated else ""
        raise ValidationError(
            {field: [f"You have no product {hotmart_id}{also}; list yours with GET /api/v1/products."]}
        )
    return product


def product_rule(owner_id: int):
    """For ``validated``: the product named in the request must be the caller's, checked with the other fields."""
    return lambda values: product_or_400(owner_id, values.get("product"))


def _configuration_rules(owner, configuration: Configuration | None = None, *, partial: bool = False):
    """The service's checks of a configuration's values, for ``validated``: with the serializer's, one 400
    names every bad field (an unknown product, a URL refused, a name taken) at once."""

    def rules(values: dict) -> None:
        problems: dict = {}
        product = configuration.product if configuration is not None else None
        if "product" in values or not partial:
            try:
                product = product_or_400(owner.pk, values.get("product"), or_affiliated=True)
            except ValidationError as exc:
                problems.update(exc.detail)

        def value(field: str, default):
            if field in values:
                return values[field]
            return getattr(configuration, field) if partial else default

        try:
            services.configuration_validate(
                owner=owner,
                name=value("name", ""),
                events=value("events", []),
                url=value("url", ""),
                product=product,
                payload_version=value("payload_version", PayloadVersion.V2),
                instance=configuration,
            )
        except DjangoValidationError as exc:
            for field, messages in exc.message_dict.items():
                problems.setdefault(field, messages)
        if problems:
            raise ValidationError(problems)

    return rules


@extend_schema(tags=["configurations"])
class ConfigurationViewSet(OwnedObjectViewSet):
    """Webhook configurations: which events, all products or one, which URL; active or disabled."""

    queryset = Configuration.objects.none()  # for the schema; every query goes through the selectors
    object_name = "configuration"

    def fetch(self, *, owner_id: int, object_id: int) -> Configuration | None:
        return selectors.configuration_get(owner_id=owner_id, configuration_id=object_id)

    @extend_schema(responses=ConfigurationListSerializer, summary="List your configurations")
    def list(self, request: Request) -> Response:
        configurations = selectors.configuration_list(owner_id=request.user.pk)
        return Response({"items": ConfigurationSerializer(configurations, many=True).data})

    @extend_schema(request=ConfigurationWriteSerializer, responses={201: ConfigurationSerializer}, summary="Create")
    def create(self, request: Request) -> Response:
        """Create an active configuration; a bad URL, unknown events or a name you already use are refused."""
        data = validated(ConfigurationWriteSerializer, request.data, rules=_configuration_rules(request.user))
        product = product_or_400(request.user.pk, data["product"], or_affiliated=True)
        with service_errors():
            configuration = services.configuration_create(
                owner=request.user,
                name=data["name"],
                events=data["events"],
                url=data["url"],
                product=product,
                payload_version=data.get("payload_version", PayloadVersion.V2),
            )
        return Response(ConfigurationSerializer(configuration).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=ConfigurationSerializer, summary="Read a configuration")
    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(ConfigurationSerializer(self.get_object()).data)

    @extend_schema(request=ConfigurationWriteSerializer, responses=ConfigurationSerializer, summary="Replace")
    def update(self, request: Request, pk: str) -> Response:
        """Replace name, events, URL and product (and the payload version, when given); the status stays."""
        return self._update(request, partial=False)

    @extend_schema(request=ConfigurationWriteSerializer, responses=ConfigurationSerializer, summary="Change")
    def partial_update(self, request: Request, pk: str) -> Response:
        """Change some of name, events, URL, product and payload version; the status stays as it is."""
        return self._update(request, partial=True)

    def _update(self, request: Request, *, partial: bool) -> Response:
        configuration = self.get_object()
        data = validated(
            ConfigurationWriteSerializer,
            request.data,
            partial=partial,
            rules=_configuration_rules(request.user, configuration, partial=partial),
        )
        product = configuration.product
        if "product" in data or not partial:
            product = product_or_400(request.user.pk, data.get("product"), or_affiliated=True)
        with service_errors():
            configuration = services.configuration_update(
                configuration=configuration,
                name=data.get("name", configuration.name),
                events=data.get("events", configuration.events),
                url=data.get("url", configuration.url),
                product=product,
                payload_version=data.get("payload_version"),
            )
        return Response(ConfigurationSerializer(configuration).data)

    @extend_schema(responses={204: None}, summary="Remove a configuration (its history stays)")
    def destroy(self, request: Request, pk: str) -> Response:
        configuration_remove(configuration=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=ConfigurationSerializer, summary="Enable a configuration")
    @action(detail=True, methods=["post"])
    def enable(self, request: Request, pk: str) -> Response:
        configuration = self.get_object()
        configuration_reenable(configuration=configuration)  # also offers (on the dashboard) to resend what it missed
        return Response(ConfigurationSerializer(configuration).data)

    @extend_schema(request=DisableSerializer, responses=ConfigurationSerializer, summary="Disable a configuration")
    @action(detail=True, methods=["post"])
    def disable(self, request: Request, pk: str) -> Response:
        """Disable a configuration; its pending notifications stop."""
        configuration = self.get_object()
        data = validated(DisableSerializer, request.data)
        configuration_stop(configuration_id=configuration.pk, reason=data["reason"])
        configuration.refresh_from_db()
        return Response(ConfigurationSerializer(configuration).data)

    @extend_schema(
        request=TestPostSerializer, responses={202: NotificationSummarySerializer}, summary="Send a test post"
    )
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk: str) -> Response:
        """Send a sample payload of an event to this configuration now, marked as a test (one attempt)."""
        configuration = self.get_object()
        data = validated(TestPostSerializer, request.data)
        with service_errors():
            notification = configuration_test_post(
                owner=request.user, configuration=configuration, event_type=data["event_type"]
            )
        return Response(NotificationSummarySerializer(notification).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(tags=["products"])
class ProductViewSet(viewsets.GenericViewSet):
    """The products you sell; simulated events happen to them."""

    queryset = Product.objects.none()

    @extend_schema(responses=ProductListSerializer, summary="List your products")
    def list(self, request: Request) -> Response:
        products = selectors.product_list(owner_id=request.user.pk)
        return Response({"items": ProductSerializer(products, many=True).data})

    @extend_schema(request=ProductCreateSerializer, responses={201: ProductSerializer}, summary="Add a product")
    def create(self, request: Request) -> Response:
        data = validated(ProductCreateSerializer, request.data)
        with service_errors(hotmart_id="id"):
            product = services.product_create(
                owner=request.user,
                name=data["name"],
                hotmart_id=data.get("id"),
                price=data["price"],
                currency=data["currency"],
                is_subscription=data["is_subscription"],
                is_physical=data["is_physical"],
                warranty_days=data["warranty_days"],
                support_email=data["support_email"],
            )
        return Response(ProductSerializer(product).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["hooks"])
class HookViewSet(OwnedObjectViewSet):
    """REST hooks for automation tools (Zapier, n8n, Make): subscribe a URL to an event, unsubscribe it.

    A subscription is a configuration marked as created by an integration; when its target answers
    410 Gone it is unsubscribed automatically.
    """

    queryset = Configuration.objects.none()
    object_name = "hook"

    def fetch(self, *, owner_id: int, object_id: int) -> Configuration | None:
        return selectors.hook_get(owner_id=owner_id, hook_id=object_id)

    @extend_schema(responses=HookListSerializer, summary="List your REST hook subscriptions")
    def list(self, request: Request) -> Response:
        return Response({"items": HookSerializer(selectors.hook_list(owner_id=request.user.pk), many=True).data})

    @extend_schema(request=HookSubscribeSerializer, responses={201: HookSerializer}, summary="Subscribe")
    def create(self, request: Request) -> Response:
        data = validated(HookSubscribeSerializer, request.data)
        with service_errors():
            hook = services.hook_subscribe(owner=request.user, target_url=data["target_url"], event=data["event"])
        return Response(HookSerializer(hook).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=HookSerializer, summary="Read a subscription")
    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(HookSerializer(self.get_object()).data)

    @extend_schema(responses={204: None}, summary="Unsubscribe (its history stays)")
    def destroy(self, request: Request, pk: str) -> Response:
        configuration_remove(configuration=self.get_object(), reason="REST hook unsubscribed by its integration.")
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses=HookEventListSerializer, summary="The hook events and the event types of each")
    @action(detail=False, methods=["get"])
    def events(self, request: Request) -> Response:
        items = [{"event": name, "event_types": list(types)} for name, types in HOOK_EVENTS.items()]
        return Response({"items": items})


@extend_schema(tags=["affiliates"])
class AffiliationViewSet(viewsets.GenericViewSet):
    """The affiliates of your products: who sells which product through its hotlink, for what share."""

    queryset = Affiliation.objects.none()

    @extend_schema(
        parameters=[AffiliationQuerySerializer], responses=AffiliationListSerializer, summary="List your affiliates"
    )
    def list(self, request: Request) -> Response:
        """Each affiliation: the affiliate, its code (give it as `affiliate_code` for a hotlink sale), the product,
        the commission and the hotlink; oldest first."""
        query = validated(AffiliationQuerySerializer, request.query_params.dict())
        product = product_or_400(request.user.pk, query.get("product"))
        affiliations = selectors.affiliation_list(
            producer_id=request.user.pk, product_id=product.pk if product else None
        )
        return Response({"items": AffiliationSerializer(affiliations, many=True).data})


@extend_schema(tags=["account"])
class AccountView(APIView):
    """Your account: the hottok sent in every notification's X-HOTMART-HOTTOK header, and what your affiliates
    see."""

    @extend_schema(responses=AccountSerializer, summary="Read your account and hottok")
    def get(self, request: Request) -> Response:
        account, _ = services.account_get_or_create(user=request.user)
        return Response(AccountSerializer(account).data)

    @extend_schema(request=AccountUpdateSerializer, responses=AccountSerializer, summary="Change your account")
    def patch(self, request: Request) -> Response:
        """Choose whether your affiliates' notifications carry the buyer's data (and the billet or PIX codes of
        the sales made through their hotlinks)."""
        data = validated(AccountUpdateSerializer, request.data)
        account, _ = services.account_get_or_create(user=request.user)
        account = services.account_buyer_data_sharing_set(account=account, allowed=data["affiliates_see_buyer_data"])
        return Response(AccountSerializer(account).data)


@extend_schema(tags=["account"])
class HottokRegenerateView(APIView):
    @extend_schema(request=None, responses=AccountSerializer, summary="Replace your hottok")
    def post(self, request: Request) -> Response:
        """Notifications sent from now on carry the new hottok; update your receiver."""
        account, _ = services.account_get_or_create(user=request.user)
        account = services.account_hottok_regenerate(account=account)
        return Response(AccountSerializer(account).data)
