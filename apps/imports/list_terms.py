"""Rules on the terms of a vendor list: its dates, licence and consent claims.

The upload form calls ``list_terms_check`` to show an error beside its field,
and ``import_job_create`` calls it for every caller, the ``import_contacts``
command included.
"""

import datetime

from dateutil.relativedelta import relativedelta
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from apps.contacts.models import Audience
from apps.contacts.models import ConsentClaim
from apps.contacts.models import ContactList
from apps.imports.errors import ImportInputError
from apps.register.models import LawfulBasis
from apps.register.models import ProcessingActivity
from apps.register.models import RetentionRule
from apps.retention.policy import PROSPECT_DEFAULT_YEARS
from apps.retention.policy import local_today
from apps.retention.policy import rule_duration

# Earliest acquisition date accepted whatever the register's rules are. An
# earlier date is a typing error (0001-01-01, or 1925 for 2025).
ACQUIRED_ON_EARLIEST = datetime.date(2000, 1, 1)
# Start events that the retention job counts from on a contact. It uses the
# collection date when the person has never made contact.
# NOTE: this repeats the choice that ``contact_start_q`` makes in
# apps/retention/selectors.py, so change both together.
CONTACT_START_EVENTS = {
    RetentionRule.StartEvent.COLLECTION,
    RetentionRule.StartEvent.LAST_CONTACT,
    RetentionRule.StartEvent.COLLECTION_OR_LAST_CONTACT,
}
REMOVING_ACTIONS = {RetentionRule.Action.DELETE, RetentionRule.Action.ANONYMISE}
# Lawful bases under which ``contact_contactability`` lets a prospect be
# e-mailed, by audience. French CPCE L.34-5 allows professionals on an
# opt-out basis and consumers only with their prior consent.
PROSPECTING_BASES = {
    Audience.B2B: (LawfulBasis.LEGITIMATE_INTERESTS, LawfulBasis.CONSENT),
    Audience.B2C: (LawfulBasis.CONSENT,),
}


def date_display(value: datetime.date) -> str:
    """Return ``value`` in the active language's short format (05/12/2026 in French)."""
    return date_format(value, "SHORT_DATE_FORMAT")


def list_terms_check(
    *,
    acquisition: str,
    acquired_on: datetime.date,
    licence_ends_on: datetime.date | None,
    consent_claim: str,
    audience: str,
    lawful_basis: str,
    processing_activity=None,
) -> None:
    """Raise ``ImportInputError``, naming its field, for the first term rejected.

    Besides the dates and the licence, the terms must allow the batch's
    contacts to be contacted. Those checks repeat the conditions of
    ``apps.contacts.services.contact_contactability`` that the batch sets.
    """
    _choices_check(
        acquisition=acquisition,
        consent_claim=consent_claim,
        audience=audience,
        lawful_basis=lawful_basis,
    )
    _acquired_on_check(acquired_on=acquired_on, activity=processing_activity)
    _licence_check(
        acquisition=acquisition,
        acquired_on=acquired_on,
        licence_ends_on=licence_ends_on,
    )
    _consent_check(
        consent_claim=consent_claim, audience=audience, lawful_basis=lawful_basis
    )
    _audience_basis_check(audience=audience, lawful_basis=lawful_basis)
    _activity_check(
        activity=processing_activity, audience=audience, lawful_basis=lawful_basis
    )


def _acquired_on_check(*, acquired_on: datetime.date, activity) -> None:
    if acquired_on > timezone.localdate():
        raise ImportInputError(
            _(
                "The acquisition date %(date)s is in the future; give the date the "
                "list was received."
            )
            % {"date": date_display(acquired_on)},
            field="acquired_on",
        )
    if acquired_on < ACQUIRED_ON_EARLIEST:
        raise ImportInputError(
            _(
                "The acquisition date %(date)s is before %(earliest)s, the earliest "
                "date accepted. Give the date the list was received."
            )
            % {
                "date": date_display(acquired_on),
                "earliest": date_display(ACQUIRED_ON_EARLIEST),
            },
            field="acquired_on",
        )

    # New contacts take the acquisition date, or an earlier date from the
    # file, as their collection date. So a list older than its retention
    # period would be removed by the next run.
    limit = removal_limit(activity)
    if limit is None:
        return
    last_due_day, rule = limit
    if acquired_on <= last_due_day:
        raise ImportInputError(
            _(
                "The acquisition date %(date)s is too old. It becomes the collection "
                "date of the new contacts, and the retention rule “%(rule)s” would "
                "make the next retention run remove them. Give the date the list "
                "was received. The earliest date accepted is %(earliest)s."
            )
            % {
                "date": date_display(acquired_on),
                "rule": rule,
                "earliest": date_display(last_due_day + datetime.timedelta(days=1)),
            },
            field="acquired_on",
        )


def removal_limit(activity) -> tuple[datetime.date, str] | None:
    """Return the last collection day that a retention run today removes.

    The day comes with the description of the rule that removes it, and None
    means that no rule removes the contacts. The rules are chosen as the
    retention plan chooses them. An activity with a contact rule counted from
    collection or last contact follows its own rules, and any other batch
    follows the default prospect rule.
    """
    today = local_today()
    rules = []
    if activity is not None:
        rules = [
            rule
            for rule in activity.retention_rules.all()
            if rule.record_type == RetentionRule.RecordType.CONTACT
            and rule.start_event in CONTACT_START_EVENTS
        ]
    if not rules:
        # The same words as the retention page's step for these contacts.
        default_rule = _(
            "Prospects without an applicable rule: %(years)s years from collection "
            "or last contact from the person, then delete"
        ) % {"years": PROSPECT_DEFAULT_YEARS}
        return today - relativedelta(years=PROSPECT_DEFAULT_YEARS), default_rule

    # The rule with the shortest period has the latest last day and removes
    # the contacts first. Archiving rules keep the contacts.
    limits = [
        (today - rule_duration(rule), rule.describe())
        for rule in rules
        if rule.action in REMOVING_ACTIONS
    ]
    return max(limits, default=None)


def _licence_check(
    *,
    acquisition: str,
    acquired_on: datetime.date,
    licence_ends_on: datetime.date | None,
) -> None:
    rental = acquisition == ContactList.Acquisition.RENTAL
    if rental and not licence_ends_on:
        raise ImportInputError(
            _("A rented list needs the date its licence ends."),
            field="licence_ends_on",
        )
    if licence_ends_on and not rental:
        # Retention removes a list when its licence ends only if it is a
        # rental, so a licence end on a purchase would be shown but ignored.
        raise ImportInputError(
            _(
                "A licence end (%(date)s) applies only to a rented list, but the "
                "acquisition chosen is “%(acquisition)s”. Choose “%(rental)s” as "
                "the acquisition or leave the licence end empty."
            )
            % {
                "date": date_display(licence_ends_on),
                "acquisition": ContactList.Acquisition(acquisition).label,
                "rental": ContactList.Acquisition.RENTAL.label,
            },
            field="licence_ends_on",
        )
    if licence_ends_on and licence_ends_on < acquired_on:
        raise ImportInputError(
            _("The licence end %(end)s is before the acquisition date %(start)s.")
            % {
                "end": date_display(licence_ends_on),
                "start": date_display(acquired_on),
            },
            field="licence_ends_on",
        )

    # A licence that ends on day D still allows use on D (Europe/Paris), as
    # the retention job counts it.
    today = local_today()
    if licence_ends_on and licence_ends_on < today:
        raise ImportInputError(
            _(
                "The licence of this rented list ended on %(date)s, before today "
                "(%(today)s), so the next retention run would remove its contacts. "
                "Correct the licence end, or have the vendor extend the licence "
                "before importing the list."
            )
            % {"date": date_display(licence_ends_on), "today": date_display(today)},
            field="licence_ends_on",
        )


def _choices_check(
    *, acquisition: str, consent_claim: str, audience: str, lawful_basis: str
) -> None:
    if acquisition not in ContactList.Acquisition.values:
        raise ImportInputError(
            _("Unknown acquisition %(value)s; use purchase or rental.")
            % {"value": acquisition},
            field="acquisition",
        )
    if consent_claim not in ConsentClaim.values:
        raise ImportInputError(
            _("Unknown consent claim %(value)s; use one of: %(choices)s.")
            % {"value": consent_claim, "choices": ", ".join(ConsentClaim.values)},
            field="consent_claim",
        )
    if audience not in Audience.values:
        raise ImportInputError(
            _("Unknown audience %(value)s; use b2b or b2c.") % {"value": audience},
            field="audience",
        )
    if lawful_basis not in LawfulBasis.values:
        raise ImportInputError(
            _("Unknown lawful basis %(value)s; use one of: %(choices)s.")
            % {"value": lawful_basis, "choices": ", ".join(LawfulBasis.values)},
            field="lawful_basis",
        )


def _consent_check(*, consent_claim: str, audience: str, lawful_basis: str) -> None:
    claim = ConsentClaim(consent_claim).label
    if audience == Audience.B2C and consent_claim != ConsentClaim.OPT_IN:
        # French CPCE L.34-5: e-mail prospecting of consumers needs prior
        # consent, so a B2C list without an opt-in claim cannot be used.
        raise ImportInputError(
            _(
                "A B2C list must come with prior consent (opt-in), but this list's "
                "consent claim is “%(claim)s”. Ask the vendor for opt-in evidence "
                "or import it as B2B."
            )
            % {"claim": claim},
            field="consent_claim",
        )
    if lawful_basis == LawfulBasis.CONSENT and consent_claim != ConsentClaim.OPT_IN:
        # Consent as a lawful basis (GDPR Art. 6(1)(a)) is given by each person
        # beforehand. An opt-out claim, or no claim, shows no such consent.
        raise ImportInputError(
            _(
                "The lawful basis “%(basis)s” needs the prior consent of each "
                "person, but the vendor's consent claim is “%(claim)s”. Ask the "
                "vendor for opt-in evidence and choose “%(opt_in)s”, or choose "
                "another lawful basis such as “%(interests)s”."
            )
            % {
                "basis": LawfulBasis.CONSENT.label,
                "claim": claim,
                "opt_in": ConsentClaim.OPT_IN.label,
                "interests": LawfulBasis.LEGITIMATE_INTERESTS.label,
            },
            field="lawful_basis",
        )


def _audience_basis_check(*, audience: str, lawful_basis: str) -> None:
    if lawful_basis in PROSPECTING_BASES[audience]:
        return
    basis = LawfulBasis(lawful_basis).label
    if audience == Audience.B2C:
        message = _(
            "The lawful basis “%(basis)s” does not allow e-mail prospecting of "
            "consumers (B2C), who must have given their prior consent. Choose "
            "“%(consent)s” with the vendor's opt-in evidence."
        )
    else:
        message = _(
            "The lawful basis “%(basis)s” does not allow e-mail prospecting of "
            "professionals (B2B), so no contact of this batch could be contacted. "
            "Choose “%(interests)s” or “%(consent)s”."
        )
    raise ImportInputError(
        message
        % {
            "basis": basis,
            "consent": LawfulBasis.CONSENT.label,
            "interests": LawfulBasis.LEGITIMATE_INTERESTS.label,
        },
        field="lawful_basis",
    )


def _activity_check(*, activity, audience: str, lawful_basis: str) -> None:
    if activity is None:
        raise ImportInputError(
            _(
                "No processing activity is chosen, and a contact outside the "
                "register's activities can never be contacted. Choose the "
                "activity in force that covers this prospecting, with the lawful "
                "basis “%(basis)s”."
            )
            % {"basis": LawfulBasis(lawful_basis).label},
            field="processing_activity",
        )
    names = {"reference": activity.reference, "name": activity.name}
    if not activity.lawful_basis:
        raise ImportInputError(
            _(
                "The processing activity %(reference)s (%(name)s) has no lawful "
                "basis in the register. Record its lawful basis in the register, "
                "or choose another activity."
            )
            % names,
            field="processing_activity",
        )
    if activity.lawful_basis != lawful_basis:
        # The contactability rule reads the contact's own basis, which the
        # batch sets, so a contact must not claim a basis its activity lacks.
        values = {
            **names,
            "activity_basis": activity.get_lawful_basis_display(),
            "basis": LawfulBasis(lawful_basis).label,
        }
        field = "lawful_basis"
        if audience == Audience.B2C:
            # Consumers need consent, so the batch's basis is not the one to
            # change.
            field = "processing_activity"
            message = _(
                "The processing activity %(reference)s (%(name)s) relies on the "
                "lawful basis “%(activity_basis)s”, but consumers (B2C) can only "
                "be prospected on “%(basis)s”. Choose an activity that relies on "
                "“%(basis)s”."
            )
        elif activity.lawful_basis not in PROSPECTING_BASES[audience]:
            # Taking the activity's basis for the batch would fail the
            # audience check, so only another activity helps.
            field = "processing_activity"
            message = _(
                "The processing activity %(reference)s (%(name)s) relies on the "
                "lawful basis “%(activity_basis)s”, which does not allow e-mail "
                "prospecting of professionals (B2B). Choose an activity that "
                "relies on “%(basis)s”."
            )
        else:
            message = _(
                "The processing activity %(reference)s (%(name)s) relies on the "
                "lawful basis “%(activity_basis)s”, but the batch's lawful basis "
                "is “%(basis)s”. Choose “%(activity_basis)s” for the batch, or an "
                "activity that relies on “%(basis)s”."
            )
        raise ImportInputError(message % values, field=field)
    if audience == Audience.B2B and activity.rejects_b2b_opt_out_lists:
        profession = ProcessingActivity._meta.get_field(
            "concerns_recipients_profession"
        ).verbose_name
        raise ImportInputError(
            _(
                "The processing activity %(reference)s (%(name)s) does not state "
                "that its messages concern the recipient's profession, which B2B "
                "prospecting on “%(basis)s” needs. If they do, tick “%(field)s” on "
                "the activity in the register. Otherwise import the list on "
                "“%(consent)s”, under an activity that relies on it, with the "
                "vendor's opt-in evidence."
            )
            % {
                **names,
                "basis": LawfulBasis.LEGITIMATE_INTERESTS.label,
                "field": profession,
                "consent": LawfulBasis.CONSENT.label,
            },
            field="processing_activity",
        )
