import pytest
from django.core.exceptions import ValidationError

from configurations.validators import validate_target_url
from core.addresses import SANDBOX_POLICY as SANDBOX
from core.addresses import AddressPolicy

PRODUCTION = AddressPolicy(public_only=True)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9000/webhook",
        "https://example.com/hotmart?x=1",
        "http://localhost:8000/hook",
        "http://receiver:8080/hook",  # a docker-compose service name
        "http://[::1]:9000/hook",
        "https://exämple.com.br/hook",
        "  https://example.com/padded  ",
    ],
)
def test_sandbox_accepts_well_formed_http_urls(url):
    assert validate_target_url(url, policy=SANDBOX) == url.strip()


@pytest.mark.parametrize(
    ("url", "code", "words"),
    [
        ("", "required", "Enter the URL"),
        ("example.com/hook", "scheme", "http:// or https://"),
        ("ftp://example.com/hook", "scheme", "http:// or https://"),
        ("javascript:alert(1)", "scheme", "http:// or https://"),
        ("http://", "host", "no host name"),
        ("http://exa mple.com/", "invalid", "spaces"),
        ("http://user:pass@example.com/", "credentials", "user name or password"),
        ("http://example.com:99999/", "port", "port"),
        ("http://example.com:0/", "port", "port"),
        ("http://exa_mple.com/", "host", "not a valid host name"),
        ("http://-bad-.com/", "host", "not a valid host name"),
        ("http://127.1.2.3.4/", "host", "not a valid host name"),
        ("http://example.com/#frag", "fragment", "fragment"),
        ("https://example.com/" + "a" * 2000, "max_length", "longer than 2000"),
    ],
)
def test_bad_urls_are_refused_with_a_message_that_says_why(url, code, words):
    with pytest.raises(ValidationError) as caught:
        validate_target_url(url, policy=SANDBOX)
    assert caught.value.code == code
    assert words in caught.value.messages[0]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://localhost/",
        "http://10.0.0.5/",
        "http://192.168.1.1/",
        "http://169.254.169.254/",
        "http://[::1]/",
        "http://[fd00::1]/",
        "http://0.0.0.0/",
        # the same addresses in IPv6 spellings
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://[64:ff9b::7f00:1]/",
        "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 of the cloud metadata address
        "http://[fe80::1%25eth0]/",
    ],
)
def test_production_refuses_private_and_loopback_literals(url):
    assert validate_target_url(url, policy=SANDBOX)
    with pytest.raises(ValidationError) as caught:
        validate_target_url(url, policy=PRODUCTION)
    assert caught.value.code == "private_address"


@pytest.mark.parametrize("host", ["127.1", "0x7f000001", "2130706433", "0177.0.0.1", "0x7f.1", "0x08080808"])
@pytest.mark.parametrize("policy", [SANDBOX, PRODUCTION], ids=["sandbox", "production"])
def test_an_ip_address_in_another_spelling_is_refused_naming_the_usual_one(host, policy):
    """Resolvers read these as addresses (0x7f000001 is 127.0.0.1), HTTP clients refuse or misread them: never
    saved, in either mode, so nothing judged as a name can reach an address."""
    with pytest.raises(ValidationError) as caught:
        validate_target_url(f"http://{host}/hook", policy=policy)
    assert caught.value.code == "host"
    assert "usual dotted form" in caught.value.messages[0]


def test_production_accepts_public_urls():
    assert validate_target_url("https://hooks.example.com/hotmart", policy=PRODUCTION)
    assert validate_target_url("https://[64:ff9b::808:808]/hotmart", policy=PRODUCTION), "8.8.8.8 through NAT64"
