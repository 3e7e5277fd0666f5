"""The API's shapes of products, configurations, REST hooks and the account; rules stay in the services."""

from __future__ import annotations

from rest_framework import serializers

from catalogue.events import HOOK_EVENTS, EventType, PayloadVersion
from configurations.models import Account, Affiliation, Configuration, Product
from configurations.validators import receiver_url_validator

# Ids are 64-bit in the database: a bigger number in a request is refused here instead of failing there.
MAX_ID = 2**63 - 1


def id_field(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


# --- Products ---------------------------------------------------------------------------------------------


class ProductSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(source="hotmart_id", help_text="The Hotmart product id sent in payloads.")
    support_email = serializers.CharField(help_text="An e-mail address, or empty.")

    class Meta:
        model = Product
        fields = [
            "id",
            "ucode",
            "name",
            "price",
            "currency",
            "is_subscription",
            "is_physical",
            "warranty_days",
            "support_email",
            "created_at",
        ]
        read_only_fields = fields


class ProductCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    id = id_field(required=False, allow_null=True, help_text="Hotmart product id; leave out for a free random one.")
    price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False, default="97.00")
    currency = serializers.CharField(max_length=3, required=False, default="BRL", help_text="ISO 4217, e.g. BRL.")
    is_subscription = serializers.BooleanField(required=False, default=False)
    is_physical = serializers.BooleanField(required=False, default=False)
    warranty_days = serializers.IntegerField(min_value=0, max_value=365, required=False, default=7)
    support_email = serializers.EmailField(required=False, default="", allow_blank=True, max_length=254)


# --- Configurations ---------------------------------------------------------------------------------------


class ConfigurationSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=EventType.choices))
    product = serializers.IntegerField(
        source="product.hotmart_id", allow_null=True, help_text="Hotmart product id; null: all products."
    )
    scope = serializers.CharField(source="scope_label", help_text="The product's name, or 'All products'.")
    hook_event = serializers.CharField(
        allow_null=True, help_text="The REST hook event it was subscribed for, when an integration created it."
    )
    payload_version = serializers.ChoiceField(
        choices=PayloadVersion.choices,
        help_text="2.0.0: Hotmart's JSON; 1.0: the legacy form-encoded postback (purchase events only).",
    )

    class Meta:
        model = Configuration
        fields = [
            "id",
            "name",
            "events",
            "product",
            "scope",
            "url",
            "payload_version",
            "status",
            "disabled_reason",
            "disabled_at",
            "created_by_integration",
            "hook_event",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["hook_event"] = instance.hook_event or None
        return data


class ConfigurationWriteSerializer(serializers.Serializer):
    """Create (POST) and replace (PUT) take every field; PATCH takes any of them."""

    name = serializers.CharField(max_length=100)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EventType.choices), max_length=len(EventType.choices)
    )
    url = serializers.CharField(max_length=2000, help_text="http(s) URL that receives the POSTs.")
    product = id_field(
        required=False, allow_null=True, default=None, help_text="Hotmart product id; leave out or null: all."
    )
    payload_version = serializers.ChoiceField(
        choices=PayloadVersion.choices,
        required=False,
        help_text="2.0.0 (JSON, the default of a new configuration) or 1.0 (the legacy form-encoded postback, "
        "purchase events only); left out of a change, it stays as it is.",
    )


class DisableSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, default="Disabled by its owner.")


class TestPostSerializer(serializers.Serializer):
    event_type = serializers.ChoiceField(choices=EventType.choices, help_text="Which event's sample payload to send.")


class ConfigurationListSerializer(serializers.Serializer):
    items = ConfigurationSerializer(many=True)


# --- REST hooks -------------------------------------------------------------------------------------------


class HookSerializer(serializers.ModelSerializer):
    target_url = serializers.CharField(source="url")
    event = serializers.CharField(source="hook_event", help_text="The REST hook event, e.g. 'order'.")
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EventType.choices), help_text="The event types it stands for."
    )

    class Meta:
        model = Configuration
        fields = ["id", "target_url", "event", "events", "status", "disabled_reason", "created_at"]
        read_only_fields = fields


class HookEventField(serializers.ChoiceField):
    """A hook event, also as the help article writes it: "Cart abandonment" is ``cart_abandonment``."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = "_".join(data.strip().lower().replace("-", " ").split())
        return super().to_internal_value(data)


class HookSubscribeSerializer(serializers.Serializer):
    target_url = serializers.CharField(
        max_length=2000,
        validators=[receiver_url_validator],
        help_text="Where the automation tool receives the POSTs.",
    )
    event = HookEventField(choices=list(HOOK_EVENTS), help_text="The REST hook event to subscribe to.")


class HookListSerializer(serializers.Serializer):
    items = HookSerializer(many=True)


class HookEventSerializer(serializers.Serializer):
    event = serializers.CharField()
    event_types = serializers.ListField(child=serializers.ChoiceField(choices=EventType.choices))


class HookEventListSerializer(serializers.Serializer):
    items = HookEventSerializer(many=True)


# --- Account ----------------------------------------------------------------------------------------------


class AccountSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")
    hottok = serializers.CharField(help_text="Sent in the X-HOTMART-HOTTOK header of every notification.")
    affiliates_see_buyer_data = serializers.BooleanField(
        help_text="Your affiliates' notifications carry the buyer's data (and the billet or PIX codes of their "
        "hotlink sales)."
    )
    affiliate_code = serializers.CharField(
        allow_null=True, help_text="Your code when you are an affiliate of someone's product; null otherwise."
    )

    class Meta:
        model = Account
        fields = [
            "username",
            "producer_name",
            "hottok",
            "hottok_changed_at",
            "affiliates_see_buyer_data",
            "affiliate_code",
        ]
        read_only_fields = fields


class AccountUpdateSerializer(serializers.Serializer):
    affiliates_see_buyer_data = serializers.BooleanField(
        help_text="Whether your affiliates' notifications carry the buyer's data (and billet or PIX codes)."
    )


# --- Affiliations -----------------------------------------------------------------------------------------


class AffiliationSerializer(serializers.ModelSerializer):
    affiliate = serializers.CharField(source="affiliate.username", help_text="The affiliate's username.")
    affiliate_code = serializers.CharField(
        source="affiliate.webhook_account.affiliate_code",
        help_text="What payloads name the affiliate by; give it as `affiliate_code` for a hotlink sale.",
    )
    product = serializers.IntegerField(source="product.hotmart_id", help_text="Hotmart product id.")
    commission_percent = serializers.DecimalField(max_digits=5, decimal_places=2)

    class Meta:
        model = Affiliation
        fields = ["id", "affiliate", "affiliate_code", "product", "commission_percent", "hotlink", "created_at"]
        read_only_fields = fields


class AffiliationListSerializer(serializers.Serializer):
    items = AffiliationSerializer(many=True)


class AffiliationQuerySerializer(serializers.Serializer):
    product = id_field(required=False, help_text="Only the affiliates of this product of yours.")


class ProductListSerializer(serializers.Serializer):
    items = ProductSerializer(many=True)
