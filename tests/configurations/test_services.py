"""Configuration services refuse bad input with a message per field and keep odd but valid text intact."""

import pytest
from django.core.exceptions import ValidationError

from configurations.models import Configuration
from configurations.services import configuration_create, configuration_update
from tests.factories import ProductFactory, UserFactory


def create(owner, **overrides):
    fields = {"name": "Members area", "events": ["PURCHASE_APPROVED"], "url": "https://example.com/hook"}
    return configuration_create(owner=owner, **{**fields, **overrides})


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "bell\x07"}, "name"),
        ({"name": "zero\u200bwidth"}, "name"),
        ({"name": "bidi\u202eevil"}, "name"),
        ({"events": []}, "events"),
        ({"events": ["PURCHASE_EXPLODED"]}, "events"),
        ({"url": "ftp://example.com"}, "url"),
        ({"url": "https://example.com/\x00"}, "url"),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(db, overrides, field):
    owner = UserFactory()
    with pytest.raises(ValidationError) as caught:
        create(owner, **overrides)
    assert field in caught.value.message_dict
    assert not Configuration.objects.exists()


def test_names_are_unique_per_owner_only(db):
    owner = UserFactory()
    create(owner)
    with pytest.raises(ValidationError) as caught:
        create(owner)
    assert "already have" in caught.value.message_dict["name"][0]
    assert create(UserFactory()).name == "Members area"


def test_unicode_and_html_in_names_are_kept_as_typed(db):
    name = "Área <script>alert('ç')</script> 🚀"
    assert create(UserFactory(), name=name).name == name


def test_a_product_of_another_owner_is_refused(db):
    owner = UserFactory()
    with pytest.raises(ValidationError) as caught:
        create(owner, product=ProductFactory())
    assert "product" in caught.value.message_dict


def test_events_are_deduplicated_and_kept_in_catalogue_order(db):
    configuration = create(UserFactory(), events=["purchase_refunded", "PURCHASE_APPROVED", "PURCHASE_REFUNDED"])
    assert configuration.events == ["PURCHASE_APPROVED", "PURCHASE_REFUNDED"]


def test_update_keeps_the_status_and_checks_like_create(db):
    owner = UserFactory()
    configuration = create(owner)
    create(owner, name="Other")
    with pytest.raises(ValidationError) as caught:
        configuration_update(
            configuration=configuration, name="Other", events=["PURCHASE_APPROVED"], url="https://a.com/", product=None
        )
    assert "name" in caught.value.message_dict
    updated = configuration_update(
        configuration=configuration, name="Renamed", events=["CLUB_FIRST_ACCESS"], url="https://b.com/", product=None
    )
    assert (updated.name, updated.events, updated.url, updated.status) == (
        "Renamed",
        ["CLUB_FIRST_ACCESS"],
        "https://b.com/",
        "active",
    )
