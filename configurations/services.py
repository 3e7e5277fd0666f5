"""The only code that writes accounts, products and configurations."""

from __future__ import annotations

import base64
import random
import secrets
import string
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application, clear_expired

from catalogue.events import HOOK_EVENTS, PURCHASE_EVENTS, EventType, PayloadVersion
from catalogue.plans import DEFAULT_PLAN_KEYS, PLAN_PERIODS
from configurations.credentials import basic_value
from configurations.models import Account, Affiliation, Configuration, Product, SigningSecret
from configurations.validators import validate_target_url
from core.numbers import NotANumber, finite_decimal

_HOTTOK_ALPHABET = string.ascii_letters + string.digits
HOTTOK_LENGTH = 40


def _new_hottok() -> str:
    return "".join(secrets.choice(_HOTTOK_ALPHABET) for _ in range(HOTTOK_LENGTH))


def account_get_or_create(*, user: AbstractBaseUser) -> tuple[Account, bool]:
    """The user's webhook account, created with a fresh hottok the first time."""
    try:
        return Account.objects.select_related("user").get(user=user), False
    except Account.DoesNotExist:
        pass
    name = user.get_full_name() or user.get_username()
    with transaction.atomic():
        account, created = Account.objects.get_or_create(
            user=user, defaults={"hottok": _new_hottok(), "producer_name": name}
        )
    return account, created


def account_hottok_regenerate(*, account: Account) -> Account:
    """Replace the hottok; notifications sent from now on carry the new one."""
    account.hottok = _new_hottok()
    account.hottok_changed_at = timezone.now()
    account.save(update_fields=["hottok", "hottok_changed_at"])
    return account


PRODUCT_NAME_MAX = 200
PRODUCT_ID_MAX = 10**15  # Hotmart's product ids are 7 digits; this leaves room and fits every database
SIGNING_OVERLAP_MAX = 365 * 86400  # seconds old signing secrets may keep signing after a rotation
PRICE_MAX = Decimal("9999999999.99")  # what Product.price holds (12 digits, 2 after the point)
WARRANTY_DAYS_MAX = 365


def _clean_price(value, field: str, errors: dict[str, str]) -> Decimal | None:
    try:
        price = finite_decimal(value).quantize(Decimal("0.01"))
    except (NotANumber, InvalidOperation):  # NaN, infinity, junk; or too many digits to quantize
        errors[field] = f"{value!r} is not a price, e.g. 97.00."
        return None
    if price < 0:
        errors[field] = "The price cannot be negative."
    elif price > PRICE_MAX:
        errors[field] = f"The price is at most {PRICE_MAX}."
    return price


def _clean_plans(plans, errors: dict[str, str]) -> list[dict[str, str | None]]:
    """[{"key", "price"}] in period order; a price of None follows the product's price (see
    ``catalogue.plans``), and an empty list gives the product the three default plans."""
    cleaned: dict[str, str | None] = {}
    for entry in plans or ():
        entry = entry if isinstance(entry, dict) else {}
        key = str(entry.get("key", "")).strip().lower()
        if key not in PLAN_PERIODS:
            errors["plans"] = f"Unknown plan {key!r}; choose among {', '.join(PLAN_PERIODS)}."
            return []
        if key in cleaned:
            errors["plans"] = f"The {key} plan is given twice."
            return []
        if entry.get("price") in (None, ""):
            cleaned[key] = None
            continue
        price = _clean_price(entry.get("price"), "plans", errors)
        if price is None or "plans" in errors:
            problem = errors.get("plans", "Give its price.")
            errors["plans"] = f"The {key} plan: {problem[0].lower()}{problem[1:]}"
            return []
        cleaned[key] = str(price)
    return [{"key": key, "price": cleaned[key]} for key in PLAN_PERIODS if key in cleaned]


def _clean_product(
    *, name, price, currency, warranty_days, is_subscription: bool, plans
) -> tuple[dict, dict[str, str]]:
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = "Give the product a name."
    elif len(name) > PRODUCT_NAME_MAX:
        errors["name"] = f"The name is longer than {PRODUCT_NAME_MAX} characters."
    price = _clean_price(price, "price", errors)
    currency = (currency or "").strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        errors["currency"] = "The currency is a 3-letter ISO code, e.g. BRL."
    whole = isinstance(warranty_days, int) and not isinstance(warranty_days, bool)
    if not whole or not 0 <= warranty_days <= WARRANTY_DAYS_MAX:
        errors["warranty_days"] = f"The warranty is a whole number of days, 0 to {WARRANTY_DAYS_MAX}."
    plans = _clean_plans(plans, errors) if is_subscription else []
    values = {
        "name": name,
        "price": price,
        "currency": currency,
        "warranty_days": warranty_days,
        "is_subscription": bool(is_subscription),
        "plans": plans,
    }
    return values, errors


def product_create(
    *,
    owner: AbstractBaseUser,
    name: str,
    hotmart_id: int | None = None,
    price: Decimal | str | float = Decimal("97.00"),
    currency: str = "BRL",
    is_subscription: bool = False,
    is_physical: bool = False,
    warranty_days: int = 7,
    support_email: str = "",
    plans: list[dict] | None = None,
) -> Product:
    """Create a product; without ``hotmart_id`` a free 7-digit id is chosen, as Hotmart's look.

    ``plans`` (subscription products): [{"key": "monthly", "price": "97.00"}, ...], keys from
    ``catalogue.plans.PLAN_PERIODS``; left out, the three plans derived from the price.
    """
    values, errors = _clean_product(
        name=name,
        price=price,
        currency=currency,
        warranty_days=warranty_days,
        is_subscription=is_subscription,
        plans=plans,
    )
    if hotmart_id is not None and (
        not 1 <= hotmart_id <= PRODUCT_ID_MAX or Product.objects.filter(hotmart_id=hotmart_id).exists()
    ):
        errors["hotmart_id"] = f"Product id {hotmart_id} is taken or invalid; choose another or leave it out."
    if errors:
        raise ValidationError(errors)
    for _ in range(20):
        candidate = hotmart_id or random.randint(1_000_000, 9_999_999)
        try:
            with transaction.atomic():
                return Product.objects.create(
                    owner=owner,
                    hotmart_id=candidate,
                    is_physical=is_physical,
                    support_email=support_email,
                    **values,
                )
        except IntegrityError:
            if hotmart_id is not None:
                raise ValidationError({"hotmart_id": f"Product id {hotmart_id} is taken; choose another."}) from None
    raise ValidationError({"hotmart_id": "Could not find a free product id; give one explicitly."})


def product_update(
    *,
    product: Product,
    name: str,
    price: Decimal | str | float,
    currency: str,
    is_subscription: bool,
    warranty_days: int,
    plans: list[dict] | None = None,
) -> Product:
    """Change a product: what it is called and costs, its warranty, whether it is sold by subscription, its plans.

    A product keeps its kind once it has sales, and keeps every plan a subscriber is (or was) on: their charges
    and events still name it. Prices may change at any time; new charges use them.
    """
    values, errors = _clean_product(
        name=name,
        price=price,
        currency=currency,
        warranty_days=warranty_days,
        is_subscription=is_subscription,
        plans=plans,
    )
    # The simulator's sales (the ``sales`` app) point at the product; only their existence matters here.
    if values["is_subscription"] != product.is_subscription and product.purchases.exists():
        kind = "a subscription" if product.is_subscription else "a single purchase"
        errors["is_subscription"] = f"The product has sales as {kind}; it stays one. Create another product."
    elif values["is_subscription"] and "plans" not in errors:
        kept = {entry["key"] for entry in values["plans"]} or set(DEFAULT_PLAN_KEYS)
        in_use = set(product.subscriptions.values_list("plan_key", flat=True)) | set(
            product.subscriptions.exclude(previous_plan_key="").values_list("previous_plan_key", flat=True)
        )
        dropped = sorted(in_use - kept, key=list(PLAN_PERIODS).index)
        if dropped:
            errors["plans"] = f"Subscribers are (or were) on the {', '.join(dropped)} plan; it stays sold."
    if errors:
        raise ValidationError(errors)
    for field, value in values.items():
        setattr(product, field, value)
    product.save(update_fields=list(values))
    return product


def configuration_validate(
    *,
    owner: AbstractBaseUser,
    name: str,
    events: Iterable[str],
    url: str,
    product: Product | None,
    payload_version: str,
    instance: Configuration | None = None,
) -> tuple[str, list[str], str]:
    """The name, events and URL as they would be saved, or a ValidationError naming every bad field at once.

    ``instance``: the configuration being changed (its own name is no clash).
    """
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = "Give the configuration a name."
    elif any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in name):
        errors["name"] = "The name contains control or invisible characters; use letters, digits and punctuation."
    elif len(name) > 100:
        errors["name"] = "The name is longer than 100 characters."
    else:
        clash = Configuration.objects.filter(owner=owner, name=name)
        if instance is not None:
            clash = clash.exclude(pk=instance.pk)
        if clash.exists():
            errors["name"] = f"You already have a configuration named {name!r}."
    chosen = []
    unknown = []
    for event in events or ():
        event = str(event).strip().upper()
        if event not in EventType.values:
            unknown.append(event)
        elif event not in chosen:
            chosen.append(event)
    if payload_version not in PayloadVersion.values:
        errors["payload_version"] = f"Unknown payload version {payload_version!r}; choose 2.0.0 or 1.0."
    if unknown:
        errors["events"] = f"Unknown event type {', '.join(unknown)}; valid: {', '.join(EventType.values)}."
    elif not chosen:
        errors["events"] = "Choose at least one event."
    elif payload_version == PayloadVersion.V1 and not set(chosen) <= PURCHASE_EVENTS:
        others = [event for event in EventType.values if event in chosen and event not in PURCHASE_EVENTS]
        errors["events"] = (
            f"The legacy 1.0 postback carries purchase events only; remove {', '.join(others)} or choose version 2.0.0."
        )
    if product is not None and product.owner_id != owner.pk:
        if not Affiliation.objects.filter(affiliate=owner, product=product).exists():
            errors["product"] = "That product is neither yours nor one you are an affiliate of."
    try:
        url = validate_target_url(url)
    except ValidationError as exc:
        errors["url"] = exc.messages[0]
    if errors:
        raise ValidationError(errors)
    ordered = [event for event in EventType.values if event in chosen]
    return name, ordered, url


def configuration_create(
    *,
    owner: AbstractBaseUser,
    name: str,
    events: Iterable[str],
    url: str,
    product: Product | None = None,
    payload_version: str = PayloadVersion.V2,
) -> Configuration:
    """Create an active configuration; refuses a bad URL, unknown events or a product that is not the owner's.

    An affiliate may scope a configuration to a product it is an affiliate of. ``payload_version`` 1.0 (the
    legacy form-encoded postback) only carries purchase events.
    """
    name, events, url = configuration_validate(
        owner=owner, name=name, events=events, url=url, product=product, payload_version=payload_version
    )
    return Configuration.objects.create(
        owner=owner, name=name, events=events, url=url, product=product, payload_version=payload_version
    )


def configuration_update(
    *,
    configuration: Configuration,
    name: str,
    events: Iterable[str],
    url: str,
    product: Product | None,
    payload_version: str | None = None,
) -> Configuration:
    """Change what a configuration listens to, where it sends, or in which version; its status stays."""
    payload_version = payload_version or configuration.payload_version
    name, events, url = configuration_validate(
        owner=configuration.owner,
        name=name,
        events=events,
        url=url,
        product=product,
        payload_version=payload_version,
        instance=configuration,
    )
    configuration.name, configuration.events, configuration.url, configuration.product = name, events, url, product
    configuration.payload_version = payload_version
    configuration.save(update_fields=["name", "events", "url", "product", "payload_version", "updated_at"])
    return configuration


def configuration_enable(*, configuration: Configuration) -> Configuration:
    """Turn it back on with a clean slate: no reason, and the failing clock stopped."""
    configuration.status = Configuration.Status.ACTIVE
    configuration.disabled_reason = ""
    configuration.disabled_at = None
    configuration.failing_since = None
    configuration.save(update_fields=["status", "disabled_reason", "disabled_at", "failing_since", "updated_at"])
    return configuration


def configuration_resend_offer_set(*, configuration: Configuration, since: datetime, until: datetime) -> None:
    """Offer to resend what the configuration missed between ``since`` and ``until`` (it was just enabled)."""
    Configuration.objects.filter(pk=configuration.pk).update(resend_offer_since=since, resend_offer_until=until)
    configuration.resend_offer_since, configuration.resend_offer_until = since, until


def configuration_resend_offer_clear(
    *, configuration: Configuration, covered_by: tuple[datetime, datetime] | None = None
) -> bool:
    """Withdraw the resend offer: declined, or (``covered_by``) a bulk resend of a window that covers it began.

    Answers whether there was one to withdraw.
    """
    offers = Configuration.objects.filter(pk=configuration.pk, resend_offer_since__isnull=False)
    if covered_by is not None:
        start, end = covered_by
        offers = offers.filter(resend_offer_since__gte=start, resend_offer_until__lte=end)
    cleared = bool(offers.update(resend_offer_since=None, resend_offer_until=None))
    if cleared:
        configuration.resend_offer_since = configuration.resend_offer_until = None
    return cleared


def configurations_note_outcomes(*, outcomes: dict[int, tuple[bool, datetime]]) -> tuple[list[int], list[int]]:
    """The last outcome of each configuration in a batch of attempts (id -> (succeeded, when)): start the failing
    clock at a failure, stop it at a success. Answers (the ids that started failing, the ids that recovered);
    writes only what changes, in two statements at most."""
    succeeded = [pk for pk, (ok, _) in outcomes.items() if ok]
    failed = [pk for pk, (ok, _) in outcomes.items() if not ok]
    recovered = list(
        Configuration.objects.filter(pk__in=succeeded, failing_since__isnull=False).values_list("pk", flat=True)
    )
    if recovered:
        Configuration.objects.filter(pk__in=recovered).update(failing_since=None)
    started = list(Configuration.objects.filter(pk__in=failed, failing_since__isnull=True).values_list("pk", flat=True))
    for pk in started:
        Configuration.objects.filter(pk=pk, failing_since__isnull=True).update(failing_since=outcomes[pk][1])
    return started, recovered


def configuration_disable(*, configuration_id: int, reason: str, now: datetime | None = None) -> bool:
    """Disable with a reason and time; False when it was already disabled (the first reason stays)."""
    now = now or timezone.now()
    updated = Configuration.objects.filter(pk=configuration_id, status=Configuration.Status.ACTIVE).update(
        status=Configuration.Status.DISABLED, disabled_reason=reason, disabled_at=now, updated_at=now
    )
    return bool(updated)


def configuration_delete(*, configuration: Configuration) -> None:
    configuration.delete()


def signing_secret_rotate(
    *, configuration: Configuration, overlap_seconds: float = 86400, now: datetime | None = None
) -> SigningSecret:
    """Start signing with a new secret; the current ones keep signing for ``overlap_seconds`` more.

    The first call turns signing on. Answers the new secret, to be shown once to its owner.
    """
    if overlap_seconds < 0:
        raise ValidationError({"overlap": "The overlap cannot be negative."})
    if overlap_seconds > SIGNING_OVERLAP_MAX:
        raise ValidationError({"overlap": f"The overlap is at most {SIGNING_OVERLAP_MAX // 86400} days."})
    now = now or timezone.now()
    with transaction.atomic():
        SigningSecret.objects.filter(configuration=configuration, expires_at__isnull=True).update(
            expires_at=now + timedelta(seconds=overlap_seconds)
        )
        secret = SigningSecret.objects.create(
            configuration=configuration, secret="whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
        )
        Configuration.objects.filter(pk=configuration.pk).update(signing_enabled=True)
    configuration.signing_enabled = True
    return secret


def signing_disable(*, configuration: Configuration) -> None:
    """Stop signing: every secret of the configuration is deleted."""
    with transaction.atomic():
        SigningSecret.objects.filter(configuration=configuration).delete()
        Configuration.objects.filter(pk=configuration.pk).update(signing_enabled=False)
    configuration.signing_enabled = False


def hook_subscribe(*, owner: AbstractBaseUser, target_url: str, event: str) -> Configuration:
    """Subscribe an automation tool's URL to a REST hook event (``order``, ``cart_abandonment``, ...).

    The subscription is an active configuration listening to the event types the hook event stands for,
    marked as created by an integration, named after the event and the target's host.
    """
    event = (event or "").strip().lower()
    if event not in HOOK_EVENTS:
        raise ValidationError({"event": f"Unknown hook event {event!r}; valid: {', '.join(HOOK_EVENTS)}."})
    try:
        host = urlsplit((target_url or "").strip()).hostname or "?"
    except ValueError:
        host = "?"
    for _ in range(5):
        name = _free_configuration_name(owner=owner, base=f"Hook: {event} → {host}"[:90])
        try:
            name, events, url = configuration_validate(
                owner=owner,
                name=name,
                events=HOOK_EVENTS[event],
                url=target_url,
                product=None,
                payload_version=PayloadVersion.V2,
            )
        except ValidationError as exc:
            raise ValidationError({"target_url" if f == "url" else f: m for f, m in exc.message_dict.items()}) from None
        try:
            with transaction.atomic():
                return Configuration.objects.create(
                    owner=owner, name=name, events=events, url=url, created_by_integration=True, hook_event=event
                )
        except IntegrityError:
            continue  # another subscription took the same name at the same moment: choose again
    raise ValidationError({"target_url": "Too many subscriptions at once for this target; try again."})


def _free_configuration_name(*, owner: AbstractBaseUser, base: str) -> str:
    taken = set(Configuration.objects.filter(owner=owner, name__startswith=base).values_list("name", flat=True))
    number = 1
    name = base
    while name in taken:
        number += 1
        name = f"{base} ({number})"
    return name


@dataclass(frozen=True)
class NewCredential:
    """A credential just created, with its secret in the clear: the only moment it exists unhashed."""

    credential: Application
    client_secret: str

    @property
    def basic(self) -> str:
        return basic_value(self.credential.client_id, self.client_secret)


CREDENTIAL_NAME_MAX = 100


def api_credential_create(*, owner: AbstractBaseUser, name: str) -> NewCredential:
    """Create an API credential (an OAuth2 client-credentials application) for the producer.

    Client ID and Secret are UUIDs, as Hotmart's are. Only a hash of the secret is stored, so the caller
    shows it once.
    """
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the credential a name, e.g. the tool that will use it."})
    if len(name) > CREDENTIAL_NAME_MAX:
        raise ValidationError({"name": f"The name is longer than {CREDENTIAL_NAME_MAX} characters."})
    secret = str(uuid.uuid4())
    credential = Application.objects.create(
        user=owner,
        name=name,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret=secret,
        hash_client_secret=True,
        redirect_uris="",
    )
    return NewCredential(credential=credential, client_secret=secret)


def api_credential_revoke(*, credential: Application) -> None:
    """Delete the credential and every token issued with it: requests carrying them are refused from now on."""
    credential.delete()


def api_tokens_clear_expired(*, now: datetime | None = None) -> int:
    """Delete expired access tokens (django-oauth-toolkit's own cleanup); answers how many there were."""
    expired = AccessToken.objects.filter(expires__lt=now or timezone.now()).count()
    if expired:
        clear_expired()
    return expired


# --- Affiliates -------------------------------------------------------------------------------------------


def _new_affiliate_code() -> str:
    """A Hotmart-like affiliate code: a letter, eight digits, a letter (e.g. Q58388177J)."""
    letters = string.ascii_uppercase
    return secrets.choice(letters) + "".join(secrets.choice(string.digits) for _ in range(8)) + secrets.choice(letters)


def account_affiliate_code_ensure(*, account: Account) -> Account:
    """Give the account an affiliate code if it has none yet; the code never changes afterwards."""
    if account.affiliate_code:
        return account
    for _ in range(20):
        code = _new_affiliate_code()
        updated = Account.objects.filter(pk=account.pk, affiliate_code__isnull=True).update(affiliate_code=code)
        if updated:
            account.affiliate_code = code
            return account
        account.refresh_from_db(fields=["affiliate_code"])
        if account.affiliate_code:  # another process gave it one meanwhile
            return account
    raise RuntimeError("could not find a free affiliate code")


def affiliate_register(
    *, username: str, name: str = "", email: str = "", password: str | None = None
) -> AbstractBaseUser:
    """Create an affiliate's user and webhook account (hottok, affiliate code).

    Without a password the user cannot log in until one is set; its configurations can still be managed
    from the command line.
    """
    errors: dict[str, str] = {}
    username = (username or "").strip()
    User = get_user_model()
    if not username:
        errors["username"] = "Give the affiliate a username."
    elif len(username) > 150 or not all(ch.isalnum() or ch in "@.+-_" for ch in username):
        errors["username"] = "Use at most 150 letters, digits and @ . + - _ for the username."
    elif User.objects.filter(username=username).exists():
        errors["username"] = f"The username {username!r} is taken."
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = f"{email!r} is not a valid e-mail address."
    if errors:
        raise ValidationError(errors)
    first, _, last = (name or "").strip().partition(" ")
    with transaction.atomic():
        user = User.objects.create_user(
            username=username, email=email or f"{username}@example.com", first_name=first[:150], last_name=last[:150]
        )
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
        account, _ = account_get_or_create(user=user)
        account_affiliate_code_ensure(account=account)
    return user


def affiliation_create(
    *, affiliate: AbstractBaseUser, product: Product, commission_percent: Decimal | str | float = Decimal("50")
) -> Affiliation:
    """Make ``affiliate`` an affiliate of ``product``: its hotlink sales name it and notify its configurations."""
    errors: dict[str, str] = {}
    if product.owner_id == affiliate.pk:
        errors["affiliate"] = "A producer cannot be an affiliate of its own product."
    elif Affiliation.objects.filter(affiliate=affiliate, product=product).exists():
        errors["affiliate"] = f"{affiliate} is already an affiliate of product {product.hotmart_id}."
    try:
        commission_percent = finite_decimal(commission_percent).quantize(Decimal("0.01"))
        if not Decimal(0) < commission_percent <= Decimal(100):
            errors["commission_percent"] = "The commission is a percentage above 0 and at most 100."
    except (NotANumber, InvalidOperation):
        errors["commission_percent"] = f"{commission_percent!r} is not a percentage, e.g. 40."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        account, _ = account_get_or_create(user=affiliate)
        account_affiliate_code_ensure(account=account)
        for _ in range(20):
            try:
                with transaction.atomic():
                    return Affiliation.objects.create(
                        affiliate=affiliate,
                        product=product,
                        commission_percent=commission_percent,
                        hotlink=_new_affiliate_code(),
                    )
            except IntegrityError:
                continue
    raise ValidationError({"affiliate": "Could not create the hotlink; try again."})


def affiliate_add(
    *,
    product: Product,
    username: str,
    commission_percent: Decimal | str | float = Decimal("50"),
    name: str = "",
    email: str = "",
    password: str | None = None,
) -> tuple[Affiliation, bool]:
    """Make the user ``username`` an affiliate of ``product``, creating its account first when it is new
    (``affiliate_register``); answers the affiliation and whether the account was created. All or nothing."""
    user = get_user_model().objects.filter(username=(username or "").strip()).first()
    created = user is None
    with transaction.atomic():
        if created:
            user = affiliate_register(username=username, name=name, email=email, password=password)
        affiliation = affiliation_create(affiliate=user, product=product, commission_percent=commission_percent)
    return affiliation, created


def account_buyer_data_sharing_set(*, account: Account, allowed: bool) -> Account:
    """The producer's setting: whether its affiliates' notifications carry the buyer's data.

    When allowed, an affiliate also receives the billet link and code (and the PIX code) of the purchases made
    through its hotlink, as Hotmart's help article describes.
    """
    account.affiliates_see_buyer_data = bool(allowed)
    account.save(update_fields=["affiliates_see_buyer_data"])
    return account
