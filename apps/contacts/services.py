"""Business rules of the prospect database: who may be contacted, unsubscribe.

The contactable rule lives here once, in two forms that must agree: a verdict
with reasons for one contact (``contact_contactability``) and a queryset filter
for segments (``contacts_contactable``). Campaign export and the other apps
call them.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime

from django.conf import settings
from django.core import signing
from django.db import models
from django.db import transaction
from django.db.models import Exists
from django.db.models import OuterRef
from django.db.models import Q
from django.db.models import QuerySet
from django.db.models import Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from apps.contacts.models import Audience
from apps.contacts.models import ConsentRecord
from apps.contacts.models import Contact
from apps.contacts.models import ContactList
from apps.contacts.models import Provenance
from apps.contacts.models import SuppressionEntry
from apps.contacts.suppression import suppression_add
from apps.contacts.suppression import suppression_record
from apps.contacts.suppression import suppression_rows_insert
from apps.core.audit import audit_event
from apps.core.audit import audit_record
from apps.core.dates import format_date
from apps.core.identifiers import identifier_hash
from apps.core.models import AuditEvent
from apps.register.models import LawfulBasis
from apps.register.models import ProcessingActivity
from apps.retention.limits import contact_retention
from apps.retention.limits import contacts_past_retention_q
from apps.retention.policy import local_today

logger = logging.getLogger(__name__)

UNSUBSCRIBE_SALT = "contacts.unsubscribe"
# Audit events per INSERT when a batch records one event per contact.
AUDIT_BATCH_SIZE = 1000
# Statuses after which a contact is never contacted again (or not until the DPO
# lifts a restriction).
BLOCKING_STATUSES = {
    Contact.Status.RESTRICTED: _("Processing is restricted (GDPR Art. 18)."),
    Contact.Status.OBJECTED: _("The person objected to prospecting."),
    Contact.Status.UNSUBSCRIBED: _("The person unsubscribed."),
    Contact.Status.ANONYMISED: _("The contact was anonymised."),
}
# The statuses that an unsubscribe or an objection moves a contact from. An
# objection (GDPR Art. 21) covers every channel and every direct-marketing
# processing, so it also replaces an earlier unsubscribe. A restricted contact
# keeps its restriction (GDPR Art. 18) through an unsubscribe: the suppression
# entry records it, and lifting the restriction makes the contact unsubscribed.
# Objected and anonymised contacts never change.
WITHDRAWABLE_STATUSES = {
    SuppressionEntry.Reason.UNSUBSCRIBED: {Contact.Status.ACTIVE},
    SuppressionEntry.Reason.OBJECTED: {
        Contact.Status.ACTIVE,
        Contact.Status.RESTRICTED,
        Contact.Status.UNSUBSCRIBED,
    },
}


@dataclass
class Verdict:
    """Whether a contact may receive a prospecting e-mail, and why not.

    ``codes`` are stable identifiers of the failed conditions (for tests and
    machines); ``reasons`` are the same conditions as translated sentences.
    """

    contactable: bool
    reasons: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)


def _latest_email_consent(contact: Contact, at: datetime) -> str | None:
    record = (
        ConsentRecord.objects.filter(
            contact=contact,
            channel=ConsentRecord.Channel.EMAIL,
            recorded_at__lte=at,
        )
        .order_by("-recorded_at", "-pk")
        .values_list("state", flat=True)
        .first()
    )
    return record


def _is_suppressed(contact: Contact) -> bool:
    hashes = [
        identifier_hash(value) for value in (contact.email, contact.phone) if value
    ]
    return SuppressionEntry.objects.filter(identifier_hash__in=hashes).exists()


def _licence_ended(contact: Contact, at: datetime) -> bool:
    """Return True when every list the contact came from is a rental that ended.

    A contact with no provenance (entered by hand) has no licence to end.
    """
    provenances = Provenance.objects.filter(contact=contact)
    if not provenances.exists():
        return False
    usable = provenances.filter(
        Q(contact_list__licence_ends_on__isnull=True)
        | Q(contact_list__licence_ends_on__gte=timezone.localdate(at))
    )
    return not usable.exists()


def _lawful_basis_failures(contact: Contact, consent: str | None) -> list[tuple]:
    """Return (code, reason) pairs for a lawful basis that does not fit the audience.

    French CPCE L.34-5: a consumer (B2C) needs prior consent, while a
    professional (B2B) may be prospected on an opt-out basis (legitimate
    interests) when the message concerns their profession.
    """
    if consent == ConsentRecord.State.WITHDRAWN:
        return [("consent_withdrawn", _("The person withdrew their e-mail consent."))]
    granted = consent == ConsentRecord.State.GRANTED
    if contact.audience == Audience.B2C:
        if contact.lawful_basis != LawfulBasis.CONSENT or not granted:
            return [
                (
                    "b2c_without_consent",
                    _("A consumer (B2C) needs a granted e-mail consent."),
                )
            ]
        return []

    if contact.lawful_basis == LawfulBasis.CONSENT and granted:
        return []
    if contact.lawful_basis != LawfulBasis.LEGITIMATE_INTERESTS:
        return [
            (
                "b2b_basis_invalid",
                _(
                    "A professional (B2B) needs legitimate interests or a "
                    "granted consent as lawful basis."
                ),
            )
        ]
    activity = contact.processing_activity
    if activity is None or not activity.concerns_recipients_profession:
        return [
            (
                "b2b_not_profession",
                _(
                    "The processing activity does not state that its messages "
                    "concern the recipient's profession."
                ),
            )
        ]
    return []


def contact_contactability(
    contact: Contact, *, at: datetime | None = None, past_retention: Q | None = None
) -> Verdict:
    """Decide whether ``contact`` may receive a prospecting e-mail at ``at``.

    Every failed condition is listed, not only the first, so the contact page
    shows everything that has to change. ``past_retention`` is the condition
    of ``contacts_past_retention_q`` for the day of ``at``: a caller that
    checks many contacts builds it once instead of once per contact.
    """
    at = at or timezone.now()
    if past_retention is None:
        past_retention = contacts_past_retention_q(as_of=local_today(at))
    failures: list[tuple] = []

    if contact.status in BLOCKING_STATUSES:
        failures.append((f"status_{contact.status}", BLOCKING_STATUSES[contact.status]))
    if not contact.email:
        failures.append(("no_email", _("The contact has no e-mail address.")))
    if _is_suppressed(contact):
        failures.append(
            (
                "suppressed",
                _(
                    "The contact's e-mail address or phone number is on the "
                    "suppression list."
                ),
            )
        )

    activity = contact.processing_activity
    if activity is None:
        failures.append(
            ("no_activity", _("The contact is not attached to a processing activity."))
        )
    elif activity.status != ProcessingActivity.Status.IN_FORCE:
        failures.append(
            (
                "activity_not_in_force",
                _("The processing activity %(reference)s is not in force.")
                % {"reference": activity.reference},
            )
        )

    failures.extend(_lawful_basis_failures(contact, _latest_email_consent(contact, at)))
    if _licence_ended(contact, at):
        failures.append(
            ("licence_ended", _("The licence of every list it came from has ended."))
        )
    if Contact.objects.filter(past_retention, pk=contact.pk).exists():
        failures.append(
            (
                "retention_ended",
                _(
                    "Its retention period ended on %(date)s, so it may no longer "
                    "be prospected."
                )
                % {"date": format_date(contact_retention(contact).ends_on)},
            )
        )

    return Verdict(
        contactable=not failures,
        reasons=[str(reason) for _code, reason in failures],
        codes=[code for code, _reason in failures],
    )


def contacts_contactable(
    queryset: QuerySet[Contact], *, at: datetime | None = None
) -> QuerySet[Contact]:
    """Filter ``queryset`` to the contacts that ``contact_contactability`` accepts.

    A contact whose identifier hash is missing (a row written without
    ``Contact.save``) is left out, because the join cannot check its
    suppression. ``contact_hashes_fill`` repairs such rows.
    """
    at = at or timezone.now()
    latest_consent = Subquery(
        ConsentRecord.objects.filter(
            contact=OuterRef("pk"),
            channel=ConsentRecord.Channel.EMAIL,
            recorded_at__lte=at,
        )
        .order_by("-recorded_at", "-pk")
        .values("state")[:1]
    )
    suppressed_email = SuppressionEntry.objects.filter(
        identifier_hash=OuterRef("email_hash")
    )
    suppressed_phone = SuppressionEntry.objects.filter(
        identifier_hash=OuterRef("phone_hash")
    )
    # Lists whose licence ended are few, so their ids are read first. With none,
    # the licence condition is left out of the query. With some, the subqueries
    # look up only the provenance rows of those lists.
    ended_list_ids = list(
        ContactList.objects.filter(
            licence_ends_on__lt=timezone.localdate(at)
        ).values_list("pk", flat=True)
    )
    granted = Q(latest_email_consent=ConsentRecord.State.GRANTED)
    b2c_valid = Q(audience=Audience.B2C) & Q(lawful_basis=LawfulBasis.CONSENT) & granted
    b2b_valid = Q(audience=Audience.B2B) & (
        (Q(lawful_basis=LawfulBasis.CONSENT) & granted)
        | (
            Q(lawful_basis=LawfulBasis.LEGITIMATE_INTERESTS)
            & Q(processing_activity__concerns_recipients_profession=True)
            & (
                Q(latest_email_consent__isnull=True)
                | ~Q(latest_email_consent=ConsentRecord.State.WITHDRAWN)
            )
        )
    )

    contactable = (
        queryset.annotate(latest_email_consent=latest_consent)
        .filter(status=Contact.Status.ACTIVE)
        .exclude(email="")
        .exclude(email_hash="")
        .exclude(~Q(phone="") & Q(phone_hash=""))
        .exclude(Exists(suppressed_email))
        .exclude(Exists(suppressed_phone))
        .filter(processing_activity__status=ProcessingActivity.Status.IN_FORCE)
        .filter(b2c_valid | b2b_valid)
        .exclude(contacts_past_retention_q(as_of=local_today(at)))
    )
    if ended_list_ids:
        provenances = Provenance.objects.filter(contact=OuterRef("pk"))
        contactable = contactable.filter(
            ~Exists(provenances.filter(contact_list__in=ended_list_ids))
            | Exists(provenances.exclude(contact_list__in=ended_list_ids))
        )
    return contactable


def contact_hashes_fill(*, batch_size: int = 2000, contacts=None) -> int:
    """Compute the missing identifier hashes of contacts; return how many rows changed.

    Needed after rows are written with ``bulk_create`` or ``update``, which skip
    ``Contact.save``. ``contacts``, a queryset, limits the fill to its rows.
    Safe to run twice.
    """
    contacts = Contact.objects.all() if contacts is None else contacts
    pending = contacts.filter(
        (Q(email_hash="") & ~Q(email="")) | (Q(phone_hash="") & ~Q(phone=""))
    ).only("pk", "email", "phone")
    changed = []
    for contact in pending.iterator(chunk_size=batch_size):
        contact.email_hash = identifier_hash(contact.email) if contact.email else ""
        contact.phone_hash = identifier_hash(contact.phone) if contact.phone else ""
        changed.append(contact)
    Contact.objects.bulk_update(
        changed, ["email_hash", "phone_hash"], batch_size=batch_size
    )
    if changed:
        logger.info("filled identifier hashes of %d contacts", len(changed))
    return len(changed)


@dataclass(frozen=True)
class UnsubscribeLink:
    """The content of an unsubscribe token: a contact id and its e-mail's keyed hash.

    ``email_hash`` is empty in tokens signed before it was added, and for a
    contact without an e-mail.
    """

    contact_id: int
    email_hash: str = ""


def contact_unsubscribe_token(contact: Contact) -> str:
    """Return the signed token of the contact's public unsubscribe URL.

    The token carries the contact id and the keyed hash of its e-mail, signed
    with ``SECRET_KEY``, so the token of another contact cannot be built without
    the key. The hash lets the link suppress the address after the contact was
    deleted or anonymised. It does not expire, because an unsubscribe link in
    an old message must keep working.
    """
    return _unsubscribe_signer().sign_object(_unsubscribe_payload(contact))


def _unsubscribe_payload(contact: Contact) -> list:
    email_hash = contact.email_hash
    if not email_hash and contact.email:
        email_hash = identifier_hash(contact.email)
    return [contact.pk, email_hash]


def _unsubscribe_signer() -> signing.TimestampSigner:
    # The signer of ``signing.dumps``, which ``unsubscribe_link_read`` reverses
    # with ``signing.loads``.
    return signing.TimestampSigner(salt=UNSUBSCRIBE_SALT)


def unsubscribe_link_read(token: str) -> UnsubscribeLink:
    """Return what ``token`` carries; raise ``signing.BadSignature`` if forged.

    Tokens signed before the e-mail hash was added hold the contact id alone.
    """
    value = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    if isinstance(value, int) and not isinstance(value, bool):
        return UnsubscribeLink(value)
    if (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], int)
        and isinstance(value[1], str)
    ):
        return UnsubscribeLink(value[0], value[1])
    raise signing.BadSignature("The unsubscribe token contains no contact id.")


def contact_from_unsubscribe_token(token: str) -> int:
    """Return the contact id in ``token``; raise ``signing.BadSignature`` if forged."""
    contact_id = unsubscribe_link_read(token).contact_id
    return contact_id


def contact_unsubscribe_url(contact: Contact, *, site_url: str) -> str:
    return contact_unsubscribe_urls(site_url=site_url)(contact)


def contact_page_unsubscribe_url(contact: Contact, *, site_url: str) -> str:
    """Return the unsubscribe URL that the contact's page shows, or "" for none.

    An anonymised contact gets none: its e-mail is blanked, so its token
    would carry no hash and the link would suppress nothing.
    """
    if contact.status == Contact.Status.ANONYMISED:
        return ""
    return contact_unsubscribe_url(contact, site_url=site_url)


def contact_unsubscribe_urls(*, site_url: str) -> Callable[[Contact], str]:
    """Return a function that builds the unsubscribe URL of a contact.

    The URL pattern is resolved once, for files of many contacts. Tokens need
    no quoting, because they contain only URL-safe base64 and colons. The
    contacts need ``email`` and ``email_hash`` loaded.
    """
    marker = "token"
    prefix, suffix = reverse("contacts:unsubscribe", args=[marker]).split(marker)
    signer = _unsubscribe_signer()

    def url(contact: Contact) -> str:
        token = signer.sign_object(_unsubscribe_payload(contact))
        return f"{site_url}{prefix}{token}{suffix}"

    return url


class WithdrawalSource(models.TextChoices):
    """The channel an unsubscribe or objection came through.

    The value is the stable name kept in the audit trail. The label is the
    wording of the withdrawn consent's evidence.
    """

    LINK = "unsubscribe link", _("unsubscribe link")
    ONE_CLICK = "unsubscribe link (one-click)", _("one-click unsubscribe link")
    API = "e-mailing API", _("e-mailing tool, through the API")
    SUBJECT_REQUEST = "subject request", _("request to the DPO")


def _withdrawal_evidence(source: str, reason: str) -> str:
    """Return the evidence of a withdrawn consent in the organisation's language.

    Evidence is a record written once, so it takes ``LANGUAGE_CODE``, not the
    language of the person who followed the link.
    """
    with translation.override(settings.LANGUAGE_CODE):
        source_label = (
            WithdrawalSource(source).label
            if source in WithdrawalSource.values
            else source
        )
        reason_label = (
            SuppressionEntry.Reason(reason).label
            if reason in SuppressionEntry.Reason.values
            else reason
        )
        return str(
            _("%(source)s (%(reason)s)")
            % {"source": source_label, "reason": reason_label}
        )


def _consent_holders(contact_ids) -> set[int]:
    """Return the contacts among ``contact_ids`` that rely on an e-mail consent.

    Those are the contacts held on consent and those with an e-mail consent
    record. An unsubscribe or an objection withdraws their consent. For the
    others, held on legitimate interests, the audit event and the suppression
    entry record the request, so no withdrawn consent is written for them.
    """
    ids = list(contact_ids)
    on_consent = Contact.objects.filter(pk__in=ids, lawful_basis=LawfulBasis.CONSENT)
    with_record = ConsentRecord.objects.filter(
        contact_id__in=ids, channel=ConsentRecord.Channel.EMAIL
    )
    return set(on_consent.values_list("pk", flat=True)) | set(
        with_record.values_list("contact_id", flat=True)
    )


def _withdrawal_status(reason: str) -> str:
    """Return the contact status that an unsubscribe or an objection leads to."""
    if reason == SuppressionEntry.Reason.OBJECTED:
        return Contact.Status.OBJECTED
    return Contact.Status.UNSUBSCRIBED


def unsubscribe_hash_suppress(*, link: UnsubscribeLink, source: str) -> bool:
    """Suppress the e-mail hash of a link whose contact is gone or blanked.

    Returns whether the entry is new. A token without a hash suppresses
    nothing, and the call is logged.
    """
    if not link.email_hash:
        logger.warning(
            "unsubscribe for contact %s: no contact and no e-mail hash to suppress",
            link.contact_id,
        )
        return False
    added = suppression_rows_insert(
        {
            link.email_hash: (
                SuppressionEntry.Kind.EMAIL,
                SuppressionEntry.Reason.UNSUBSCRIBED,
                timezone.now(),
                None,
            )
        }
    )
    audit_record(
        action="contacts.contact.unsubscribed",
        actor_label=source,
        target_type="contacts.contact",
        target_id=link.contact_id,
        details={"removed_before": True, "suppression_added": added},
    )
    return bool(added)


@transaction.atomic
def contact_unsubscribe(
    *,
    contact: Contact,
    reason: str = SuppressionEntry.Reason.UNSUBSCRIBED,
    source: str,
    actor=None,
) -> bool:
    """Unsubscribe ``contact`` for good; return False if nothing had to change.

    The e-mail and phone go on the suppression list, the status becomes
    ``unsubscribed`` (or ``objected``), and a withdrawn e-mail consent records
    the request for a contact that relied on consent. An objection also moves
    an unsubscribed contact to ``objected``. Otherwise a contact already
    objected, unsubscribed or anonymised keeps its status, so a repeated
    request changes nothing.
    """
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    added = suppression_add(
        reason=reason,
        emails=[contact.email] if contact.email else [],
        phones=[contact.phone] if contact.phone else [],
        actor=actor,
    )
    if contact.status not in WITHDRAWABLE_STATUSES[reason]:
        if added:
            # A restricted contact keeps its status through an unsubscribe,
            # but its page still lists the request.
            audit_record(
                action=f"contacts.contact.{_withdrawal_status(reason)}",
                actor=actor,
                actor_label="" if actor else source,
                target=contact,
                details={
                    "source": source,
                    "previous_status": contact.status,
                    "status_kept": True,
                    "suppression_added": added,
                },
            )
        logger.info(
            "withdrawal (%s) of contact %s kept its status %s; %d suppression "
            "entries added",
            reason,
            contact.pk,
            contact.status,
            added,
        )
        return False

    previous = contact.status
    now = timezone.now()
    contact.status = _withdrawal_status(reason)
    contact.save(update_fields=["status", "updated_at"])
    if _consent_holders([contact.pk]):
        ConsentRecord.objects.create(
            contact=contact,
            channel=ConsentRecord.Channel.EMAIL,
            state=ConsentRecord.State.WITHDRAWN,
            recorded_at=now,
            evidence=_withdrawal_evidence(source, reason),
        )
    audit_record(
        action=f"contacts.contact.{contact.status}",
        actor=actor,
        actor_label="" if actor else source,
        target=contact,
        details={"source": source, "previous_status": previous},
    )
    return True


@dataclass(frozen=True)
class WithdrawnContacts:
    """The contacts that one withdrawal moved, with their previous status.

    ``emails`` and ``phones`` are the identifiers of those contacts, so the
    caller can put them on the suppression list.
    """

    previous_statuses: dict[int, str]
    emails: set[str]
    phones: set[str]

    @property
    def contact_ids(self) -> list[int]:
        return sorted(self.previous_statuses)


@transaction.atomic
def contacts_withdraw(
    *, contacts: QuerySet[Contact], reason: str, source: str
) -> WithdrawnContacts:
    """Move ``contacts`` to unsubscribed or objected, withdrawing their consents.

    Only the contacts whose status ``WITHDRAWABLE_STATUSES`` lists for
    ``reason`` move, and the result leaves the others out. The rows stay
    locked until the caller's transaction ends. The caller writes the audit
    event and the suppression entries.
    """
    rows = list(
        contacts.filter(status__in=WITHDRAWABLE_STATUSES[reason])
        .select_for_update()
        .values_list("pk", "status", "email", "phone")
    )
    previous_statuses = {pk: status for pk, status, _email, _phone in rows}
    now = timezone.now()

    Contact.objects.filter(pk__in=previous_statuses).update(
        status=_withdrawal_status(reason), updated_at=now
    )
    evidence = _withdrawal_evidence(source, reason)
    ConsentRecord.objects.bulk_create(
        ConsentRecord(
            contact_id=contact_id,
            channel=ConsentRecord.Channel.EMAIL,
            state=ConsentRecord.State.WITHDRAWN,
            recorded_at=now,
            evidence=evidence,
        )
        for contact_id in sorted(_consent_holders(previous_statuses))
    )
    return WithdrawnContacts(
        previous_statuses=previous_statuses,
        emails={email for _pk, _status, email, _phone in rows if email},
        phones={phone for _pk, _status, _email, phone in rows if phone},
    )


def _withdrawals_record(
    withdrawn: WithdrawnContacts, *, reason: str, source: str
) -> None:
    """Append one audit event per contact that a batch moved, naming that contact.

    The batch's own event targets the suppression list, so the contact's page,
    which lists the events that target the contact, shows these instead.
    """
    status = _withdrawal_status(reason)
    events = [
        audit_event(
            action=f"contacts.contact.{status}",
            actor_label=source,
            target_type=Contact._meta.label_lower,
            target_id=contact_id,
            details={"source": source, "previous_status": previous},
        )
        for contact_id, previous in sorted(withdrawn.previous_statuses.items())
    ]
    AuditEvent.objects.bulk_create(events, batch_size=AUDIT_BATCH_SIZE)


@dataclass
class BatchUnsubscribeResult:
    """Counts of one batch of unsubscribes reported by an e-mailing tool.

    ``contact_identifiers_added`` counts the entries added for the other
    identifiers of the contacts that an objection moved.
    """

    added: int
    already_suppressed: int
    contacts_updated: int
    contact_identifiers_added: int = 0


@transaction.atomic
def contacts_unsubscribe_batch(
    *,
    emails: list[str],
    phones: list[str],
    reason: str,
    source: str,
    api_token: str = "",
) -> BatchUnsubscribeResult:
    """Suppress normalised ``emails`` and ``phones`` and update matching contacts.

    Every matching contact that is active or restricted becomes unsubscribed
    (or objected) with a withdrawn e-mail consent. An objection also moves
    unsubscribed contacts to objected and turns their unsubscribed suppression
    entries into objections. The e-mail and phone of each contact it moves go
    on the suppression list too, as the unsubscribe link does, so that the
    person does not come back in a later list under another address.
    One audit event records the counts, the contact ids and the fingerprint
    of the ``api_token`` that sent the batch, and each moved contact gets an
    event of its own. Repeating a batch changes nothing.
    """
    identifiers = sorted(set(emails)) + sorted(set(phones))
    recorded = suppression_record(reason=reason, emails=set(emails), phones=set(phones))

    # ``<> ''`` lets PostgreSQL use the partial indexes for any number of values.
    matching = Contact.objects.filter(
        (Q(email__in=set(emails)) & ~Q(email=""))
        | (Q(phone__in=set(phones)) & ~Q(phone=""))
    )
    withdrawn = contacts_withdraw(contacts=matching, reason=reason, source=source)
    contact_ids = withdrawn.contact_ids
    _withdrawals_record(withdrawn, reason=reason, source=source)

    other_identifiers = suppression_record(
        reason=reason,
        emails=withdrawn.emails - set(emails),
        phones=withdrawn.phones - set(phones),
    )

    result = BatchUnsubscribeResult(
        added=recorded.added,
        already_suppressed=len(identifiers) - recorded.added,
        contacts_updated=len(contact_ids),
        contact_identifiers_added=other_identifiers.added,
    )
    unsubscribed_before = sum(
        1
        for previous in withdrawn.previous_statuses.values()
        if previous == Contact.Status.UNSUBSCRIBED
    )
    audit_record(
        action="contacts.suppression.batch_reported",
        actor_label=source,
        target_type="contacts.suppressionentry",
        count=len(identifiers),
        details={
            "reason": reason,
            "added": result.added,
            "contact_identifiers_added": result.contact_identifiers_added,
            "suppression_objected": recorded.objected + other_identifiers.objected,
            "contacts_updated": result.contacts_updated,
            "contacts_unsubscribed_before": unsubscribed_before,
            "contact_ids": contact_ids[:1000],
            **({"api_token": api_token} if api_token else {}),
        },
    )
    return result
