import hashlib
import json

import pytest
from django.urls import reverse

from apps.contacts.models import ConsentRecord
from apps.contacts.models import Contact
from apps.contacts.models import SuppressionEntry
from apps.contacts.suppression import is_suppressed
from apps.contacts.suppression import suppression_add
from apps.core.identifiers import identifier_hash
from apps.core.models import AuditEvent
from apps.register.models import LawfulBasis
from tests.contacts.factories import ContactFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

TOKEN = "test-token-0123456789abcdef0123456789"


@pytest.fixture(autouse=True)
def api_tokens(settings):
    settings.API_TOKENS = ["other-token-abcdefabcdefabcdefabcdef", TOKEN]


def _post(client, url_name, body, token=TOKEN):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(
        reverse(url_name),
        data=json.dumps(body),
        content_type="application/json",
        headers=headers,
    )


def test_check_reports_suppressed(client):
    suppression_add(reason="unsubscribed", emails=["ana.martin@example.com"])

    response = _post(
        client,
        "contacts:api-suppression-check",
        {"emails": [" Ana.Martin@Example.com ", "paul@example.com", "not-an-address"]},
    )

    results = response.json()["emails"]
    assert response.status_code == 200
    assert results[0]["suppressed"] is True
    assert results[0]["reason"] == "suppression_list"
    assert results[0]["normalized"] == "ana.martin@example.com"
    assert results[1]["suppressed"] is False
    assert results[2]["suppressed"] is False
    assert "not-an-address" in results[2]["error"]


def test_check_handles_phones(client):
    suppression_add(reason="objected", phones=["+33612345678"])

    response = _post(
        client, "contacts:api-suppression-check", {"phones": ["06 12 34 56 78"]}
    )

    assert response.json()["phones"][0]["suppressed"] is True


def test_check_reports_restricted_contact(client):
    """GIVEN a contact whose processing the person asked to restrict, which
    a sending tool may still hold from an earlier campaign file, WHEN the
    tool checks its identifiers, THEN nothing may be sent to them."""
    ContactFactory(
        email="limitee@example.com",
        phone="+33655443322",
        status=Contact.Status.RESTRICTED,
    )
    ContactFactory(email="active@example.com", phone="+33655443311")

    response = _post(
        client,
        "contacts:api-suppression-check",
        {
            "emails": ["limitee@example.com", "active@example.com"],
            "phones": ["06 55 44 33 22"],
        },
    )

    emails = response.json()["emails"]
    [phone] = response.json()["phones"]
    assert (emails[0]["suppressed"], emails[0]["reason"]) == (True, "restricted")
    assert (emails[1]["suppressed"], emails[1]["reason"]) == (False, None)
    assert (phone["suppressed"], phone["reason"]) == (True, "restricted")


@pytest.mark.parametrize("token", ["", "wrong-token"])
def test_bad_token_rejected(client, token):
    response = _post(
        client, "contacts:api-suppression-check", {"emails": ["a@example.com"]}, token
    )

    assert response.status_code == 401
    assert "token" in response.json()["error"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_no_configured_token_rejects(client, settings):
    settings.API_TOKENS = []

    response = _post(
        client, "contacts:api-suppression-check", {"emails": ["a@example.com"]}
    )

    assert response.status_code == 401


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "at least one"),
        ({"emails": "a@example.com"}, "'emails' is 'a@example.com': send a list"),
        ({"emails": None}, "'emails' is null: send a list of strings"),
        ({"phones": ["0612345678", 612345678]}, "'phones'[1] is 612345678: send"),
        ({"email": ["a@example.com"]}, "Unknown key 'email': this endpoint reads"),
        ({"emails": ["a@example.com"] * 1001}, "at most 1000"),
    ],
)
def test_bad_batch_rejected(client, body, message):
    response = _post(client, "contacts:api-suppression-check", body)

    assert response.status_code == 400
    assert message in response.json()["error"]


def test_invalid_json_rejected(client):
    response = client.post(
        reverse("contacts:api-suppression-check"),
        data="{not json",
        content_type="application/json",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )

    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ('{"emails": ' + "[" * 100_000 + "]" * 100_000 + "}", "nests arrays"),
        ('{"phones": [' + "9" * 5_000 + "]}", "a number of 5000 digits"),
        (
            '{"emails": ["a@example.com"], "reason": "objected", '
            '"reason": "unsubscribed"}',
            "The key 'reason' appears twice",
        ),
        ('{"' + "k" * 100_000 + '": 1}', "Unknown key 'kkkk"),
        ('{"emails": [NaN]}', "has NaN, which is not JSON"),
        ('{"emails": [-Infinity]}', "has -Infinity, which is not JSON"),
        ('{"emails": [1e999999]}', "a number too large to read"),
    ],
    ids=[
        "deep nesting",
        "huge integer",
        "duplicate key",
        "long unknown key",
        "NaN",
        "infinity",
        "huge float",
    ],
)
def test_hostile_json_rejected_with_api_message(client, data, message):
    response = client.post(
        reverse("contacts:api-suppression-check"),
        data=data,
        content_type="application/json",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert message in error
    assert "sys.set_int_max_str_digits" not in error
    assert "not valid JSON" not in error
    assert len(error) < 500


def test_get_not_allowed(client):
    response = client.get(reverse("contacts:api-suppression-check"))

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json() == {"error": "Only POST is allowed on this endpoint."}


def test_report_unsubscribes_updates_contacts(client):
    contact = ContactFactory(email="lea.dubois@example.com")

    response = _post(
        client,
        "contacts:api-unsubscribes",
        {"emails": ["LEA.DUBOIS@example.com", "new@example.com", "bad"]},
    )

    body = response.json()
    contact.refresh_from_db()
    assert response.status_code == 200
    assert body["added"] == 2
    assert body["contacts_updated"] == 1
    assert body["invalid"][0]["input"] == "bad"
    assert contact.status == Contact.Status.UNSUBSCRIBED
    assert is_suppressed(email="new@example.com")
    assert AuditEvent.objects.filter(
        action="contacts.suppression.batch_reported"
    ).exists()


def test_report_names_its_token(client):
    other = "other-token-abcdefabcdefabcdefabcdef"
    body = {"emails": ["lea.dubois@example.com"]}

    _post(client, "contacts:api-unsubscribes", body)
    _post(client, "contacts:api-unsubscribes", body, token=other)

    events = AuditEvent.objects.filter(
        action="contacts.suppression.batch_reported"
    ).order_by("pk")
    assert [event.details["api_token"] for event in events] == [
        hashlib.sha256(TOKEN.encode()).hexdigest()[:12],
        hashlib.sha256(other.encode()).hexdigest()[:12],
    ]


def test_report_twice_is_harmless(client):
    ContactFactory(email="lea.dubois@example.com")
    body = {"emails": ["lea.dubois@example.com"], "reason": "objected"}

    _post(client, "contacts:api-unsubscribes", body)
    second = _post(client, "contacts:api-unsubscribes", body).json()

    assert second["added"] == 0
    assert second["already_suppressed"] == 1
    assert second["contacts_updated"] == 0
    assert SuppressionEntry.objects.count() == 1
    assert Contact.objects.get().status == Contact.Status.OBJECTED


def _report(client, email, reason):
    body = {"emails": [email], "reason": reason}
    return _post(client, "contacts:api-unsubscribes", body).json()


def _entry_reason(email):
    return SuppressionEntry.objects.get(identifier_hash=identifier_hash(email)).reason


def test_objection_moves_unsubscribed_contact(client, settings):
    """GIVEN a contact that the e-mailing tool reported as unsubscribed
    WHEN the tool reports that the same person objected
    THEN the contact is objected, its one suppression entry records the
    objection, and a second withdrawn consent records the request."""
    settings.LANGUAGE_CODE = "en"
    contact = ContactFactory(
        email="lea.dubois@example.com", lawful_basis=LawfulBasis.CONSENT
    )
    _report(client, contact.email, "unsubscribed")

    body = _report(client, contact.email, "objected")

    contact.refresh_from_db()
    assert body["added"] == 0
    assert body["already_suppressed"] == 1
    assert body["contacts_updated"] == 1
    assert contact.status == Contact.Status.OBJECTED
    assert SuppressionEntry.objects.count() == 1
    assert _entry_reason(contact.email) == SuppressionEntry.Reason.OBJECTED
    evidence = list(
        ConsentRecord.objects.filter(contact=contact)
        .order_by("pk")
        .values_list("evidence", flat=True)
    )
    assert evidence == [
        "e-mailing tool, through the API (unsubscribed)",
        "e-mailing tool, through the API (objected)",
    ]


def test_repeated_objection_changes_nothing(client):
    contact = ContactFactory(
        email="lea.dubois@example.com", lawful_basis=LawfulBasis.CONSENT
    )
    _report(client, contact.email, "unsubscribed")
    _report(client, contact.email, "objected")

    body = _report(client, contact.email, "objected")

    contact.refresh_from_db()
    event = AuditEvent.objects.filter(
        action="contacts.suppression.batch_reported"
    ).latest("pk")
    assert body["added"] == 0
    assert body["contacts_updated"] == 0
    assert contact.status == Contact.Status.OBJECTED
    assert _entry_reason(contact.email) == SuppressionEntry.Reason.OBJECTED
    assert ConsentRecord.objects.filter(contact=contact).count() == 2
    assert event.details["suppression_objected"] == 0
    assert event.details["contact_ids"] == []


def test_unsubscribe_after_objection_keeps_objection(client):
    contact = ContactFactory(
        email="lea.dubois@example.com", lawful_basis=LawfulBasis.CONSENT
    )
    _report(client, contact.email, "objected")

    body = _report(client, contact.email, "unsubscribed")

    contact.refresh_from_db()
    assert body["contacts_updated"] == 0
    assert contact.status == Contact.Status.OBJECTED
    assert _entry_reason(contact.email) == SuppressionEntry.Reason.OBJECTED
    assert ConsentRecord.objects.filter(contact=contact).count() == 1


def test_objection_without_contact_updates_entry(client):
    _report(client, "lea.dubois@example.com", "unsubscribed")

    body = _report(client, "lea.dubois@example.com", "objected")

    assert body["added"] == 0
    assert body["already_suppressed"] == 1
    assert body["contacts_updated"] == 0
    assert _entry_reason("lea.dubois@example.com") == SuppressionEntry.Reason.OBJECTED


def test_objection_audit_keeps_ids_and_counts(client):
    unsubscribed = ContactFactory(email="lea.dubois@example.com")
    active = ContactFactory(email="hugo.bernard@example.com")
    _report(client, unsubscribed.email, "unsubscribed")

    _post(
        client,
        "contacts:api-unsubscribes",
        {"emails": [unsubscribed.email, active.email], "reason": "objected"},
    )

    event = AuditEvent.objects.filter(
        action="contacts.suppression.batch_reported"
    ).latest("pk")
    assert event.count == 2
    assert event.details["reason"] == "objected"
    assert event.details["added"] == 1
    assert event.details["suppression_objected"] == 1
    assert event.details["contacts_updated"] == 2
    assert event.details["contacts_unsubscribed_before"] == 1
    assert sorted(event.details["contact_ids"]) == [unsubscribed.pk, active.pk]
    assert "@" not in json.dumps(event.details)
    assert "dubois" not in json.dumps(event.details)


def test_report_rejects_misspelt_reason_key(client):
    response = _post(
        client,
        "contacts:api-unsubscribes",
        {"emails": ["a@example.com"], "raison": "objected"},
    )

    assert response.status_code == 400
    assert "Unknown key 'raison'" in response.json()["error"]
    assert "'reason'" in response.json()["error"]
    assert not SuppressionEntry.objects.exists()


def test_report_rejects_unknown_reason(client):
    response = _post(
        client,
        "contacts:api-unsubscribes",
        {"emails": ["a@example.com"], "reason": "erased"},
    )

    assert response.status_code == 400
    assert "'erased'" in response.json()["error"]


def _email_of_length(length: int) -> str:
    """Return a valid address of ``length`` characters (at least 70)."""
    domain_length = length - 65
    labels = []
    remaining = domain_length - len(".com")
    while remaining > 0:
        label = min(63, remaining)
        labels.append("b" * label)
        remaining -= label + 1
    domain = ".".join(labels) + ".com"
    local = "a" * (length - 1 - len(domain))
    return f"{local}@{domain}"


def test_longest_email_accepted(client):
    email = _email_of_length(254)

    response = _post(client, "contacts:api-suppression-check", {"emails": [email]})

    assert len(email) == 254
    assert response.status_code == 200
    assert response.json()["emails"][0]["error"] is None


@pytest.mark.parametrize(
    ("key", "valid", "value", "limit"),
    [
        ("emails", "ana@example.com", "a" * 300 + "@example.com", "254"),
        ("phones", "06 12 34 56 78", "06 12 34 56 78" + " " * 30, "40"),
    ],
)
def test_long_identifier_rejected(client, key, valid, value, limit):
    response = _post(client, "contacts:api-suppression-check", {key: [valid, value]})

    error = response.json()["error"]
    assert response.status_code == 400
    assert f"'{key}'[1]" in error
    assert f"at most {limit}" in error
    assert f"has {len(value)} characters" in error
    assert value not in response.content.decode()


def test_five_megabyte_email_rejected(client):
    value = "a" * (5 * 1024 * 1024) + "@example.com"

    response = _post(client, "contacts:api-unsubscribes", {"emails": [value]})

    assert response.status_code == 413
    assert "at most 2097152 bytes" in response.json()["error"]
    assert len(response.content) < 1000
    assert SuppressionEntry.objects.count() == 0


def test_body_limit_follows_django_setting(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100

    response = _post(
        client, "contacts:api-suppression-check", {"emails": ["a@example.com"] * 20}
    )

    assert response.status_code == 413
    assert "at most 100 bytes" in response.json()["error"]


def test_body_size_checked_after_token(client):
    response = _post(
        client, "contacts:api-suppression-check", {"emails": ["a" * 3_000_000]}, ""
    )

    assert response.status_code == 401


def test_errors_in_english_whatever_the_language(client):
    response = client.post(
        reverse("contacts:api-suppression-check"),
        data=json.dumps({"emails": ["not-an-address"]}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {TOKEN}", "Accept-Language": "fr"},
    )

    reason = response.json()["emails"][0]["error"]
    assert "is not a valid e-mail address" in reason


def test_negative_content_length_rejected(client):
    response = client.generic(
        "POST",
        reverse("contacts:api-suppression-check"),
        data=b"",
        content_type="application/json",
        headers={"Authorization": f"Bearer {TOKEN}"},
        CONTENT_LENGTH="-5",
    )

    assert response.status_code == 400
    assert "Content-Length" in response.json()["error"]


def _phone_suppressed(client, phone):
    body = _post(client, "contacts:api-suppression-check", {"phones": [phone]}).json()
    return body["phones"][0]["suppressed"]


def test_objection_suppresses_contact_phone(client):
    """GIVEN a contact with an e-mail and a phone
    WHEN the e-mailing tool reports an objection for the e-mail
    THEN the phone goes on the suppression list too, and the response and the
    audit event count it."""
    contact = ContactFactory(email="lea.dubois@example.com", phone="+33612345678")

    body = _report(client, contact.email, "objected")

    event = AuditEvent.objects.filter(
        action="contacts.suppression.batch_reported"
    ).latest("pk")
    assert _phone_suppressed(client, "06 12 34 56 78")
    assert _entry_reason(contact.phone) == SuppressionEntry.Reason.OBJECTED
    assert body["added"] == 1
    assert body["contact_identifiers_added"] == 1
    assert event.details["contact_identifiers_added"] == 1
    assert "+336" not in json.dumps(event.details)


def test_objection_turns_unsubscribed_phone_into_objection(client):
    contact = ContactFactory(email="lea.dubois@example.com", phone="+33612345678")
    suppression_add(reason="unsubscribed", phones=[contact.phone])

    body = _report(client, contact.email, "objected")

    event = AuditEvent.objects.filter(
        action="contacts.suppression.batch_reported"
    ).latest("pk")
    assert body["contact_identifiers_added"] == 0
    assert _entry_reason(contact.phone) == SuppressionEntry.Reason.OBJECTED
    assert event.details["suppression_objected"] == 1


def test_unsubscribe_suppresses_contact_phone(client):
    contact = ContactFactory(email="lea.dubois@example.com", phone="+33612345678")

    body = _report(client, contact.email, "unsubscribed")

    assert body["contact_identifiers_added"] == 1
    assert _phone_suppressed(client, contact.phone)
    assert _entry_reason(contact.phone) == SuppressionEntry.Reason.UNSUBSCRIBED


def test_chunked_body_without_length_rejected(client):
    response = client.generic(
        "POST",
        reverse("contacts:api-suppression-check"),
        data=b"",
        content_type="application/json",
        headers={"Authorization": f"Bearer {TOKEN}", "Transfer-Encoding": "chunked"},
        CONTENT_LENGTH="",
    )

    assert response.status_code == 411
    assert "Content-Length" in response.json()["error"]


def _post_as(client, content_type):
    """Post a valid check body under ``content_type``."""
    return client.post(
        reverse("contacts:api-suppression-check"),
        data=json.dumps({"emails": ["jean.dupont@example.com"]}),
        content_type=content_type,
        headers={"Authorization": f"Bearer {TOKEN}"},
    )


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "application/xml"]
)
def test_non_json_content_type_rejected(client, content_type):
    response = _post_as(client, content_type)

    assert response.status_code == 415
    assert "Content-Type: application/json" in response.json()["error"]


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "text/plain"]
)
def test_json_content_types_accepted(client, content_type):
    response = _post_as(client, content_type)

    assert response.status_code == 200
