"""Reads of the prospect database: segments, search, keyset pages, list statistics.

Pages use keyset (seek) pagination on (sort key, id): the next page starts
after the last row shown and the previous page ends before the first one, so
page 80,000 costs what page 1 costs, and no ``OFFSET`` or whole-table
``COUNT(*)`` runs on a page load.
"""

import base64
import json
from dataclasses import dataclass
from dataclasses import field

from django.db import connection
from django.db import transaction
from django.db.models import Count
from django.db.models import Exists
from django.db.models import OuterRef
from django.db.models import Q
from django.db.models import QuerySet
from django.db.models import TextField
from django.db.models import Value
from django.db.models.functions import Lower
from django.db.models.functions import Replace
from django.utils.translation import gettext as _
from email_validator import EmailNotValidError

from apps.contacts.models import STATUSES_NOT_ANONYMISED
from apps.contacts.models import CampaignExport
from apps.contacts.models import CampaignExportContact
from apps.contacts.models import Contact
from apps.contacts.models import ContactList
from apps.contacts.models import Provenance
from apps.contacts.models import SuppressionEntry
from apps.contacts.models import Vendor
from apps.contacts.search import FoldedText
from apps.contacts.search import fold_search_text
from apps.contacts.services import contacts_contactable
from apps.core.identifiers import InvalidIdentifier
from apps.core.identifiers import normalize_email
from apps.core.identifiers import normalize_phone
from apps.core.models import AuditEvent
from apps.imports.normalizers import _email_problem

PAGE_SIZE = 50
# The list page counts matching rows up to this number and shows "more than"
# beyond it, so the count stops after that many matching rows.
COUNT_LIMIT = 1000
MIN_FRAGMENT_LENGTH = 3
# A fragment with up to this many matches is searched through the trigram index
# alone; a more common one through the primary key (see ``_fragment_filter``).
FRAGMENT_PROBE_LIMIT = 5000
FRAGMENT_SAMPLE_SIZE = 20_000
# Subject-request audit actions that target the request and name the contacts
# they changed in ``details["contact_ids"]``, or one in ``details["contact_id"]``.
REQUEST_ACTIONS_LISTING_CONTACTS = (
    "subject_requests.contacts.linked",
    "subject_requests.contacts.objected",
    "subject_requests.contacts.restricted",
    "subject_requests.contacts.restriction_lifted",
)
REQUEST_ACTIONS_NAMING_CONTACT = ("subject_requests.contacts.unlinked",)
# Those of the actions above that change the contact's status.
REQUEST_ACTIONS_CHANGING_STATUS = (
    "subject_requests.contacts.objected",
    "subject_requests.contacts.restricted",
    "subject_requests.contacts.restriction_lifted",
)
SUBJECT_REQUEST_VIEW_PERMISSION = "subject_requests.view_subjectrequest"
# An unsubscribe or objection rate above this percentage flags a list or vendor
# whose people probably never agreed to be prospected.
HIGH_OPT_OUT_RATE = 5.0

# Sort name -> field of the keyset. "newest" lists the ids in decreasing
# order. The text sorts are ascending, with the contacts whose field is blank
# last (see ``contact_page``).
SORTS = {
    "newest": "id",
    "name": "last_name",
    "company": "company",
}
# Sorts that list no anonymised contact: they have neither name nor company,
# and the indexes that serve these sorts leave them out.
SORTS_WITHOUT_ANONYMISED = {"name", "company"}


class InvalidQuery(ValueError):
    """A search text, filter or page cursor that cannot be used."""


def contact_search(queryset: QuerySet[Contact], text: str) -> QuerySet[Contact]:
    """Filter ``queryset`` by an exact e-mail or phone, or a name or company fragment.

    Text with an ``@`` is an exact e-mail, text of digits (with ``+``, spaces,
    dots or dashes) an exact phone, anything else a fragment of at least three
    characters matched in "first last company local-part", ignoring case and
    accents (a pg_trgm index on PostgreSQL).
    Raises ``InvalidQuery`` naming the text when it cannot be searched.
    """
    text = text.strip()
    if not text:
        return queryset
    if "@" in text:
        try:
            return queryset.filter(email=normalize_email(text))
        except InvalidIdentifier as error:
            raise InvalidQuery(_email_search_error(text, error)) from error
    if _looks_like_phone(text):
        try:
            return queryset.filter(phone=normalize_phone(text))
        except InvalidIdentifier as error:
            raise InvalidQuery(
                _(
                    "The search “%(text)s” is not a valid phone number: type a "
                    "whole number, such as 06 12 34 56 78 or +33 6 12 34 56 78."
                )
                % {"text": text}
            ) from error
    if len(text) < MIN_FRAGMENT_LENGTH:
        raise InvalidQuery(
            _(
                "The search %(text)r is too short: type at least %(minimum)d "
                "characters of a name or company, or a whole e-mail address."
            )
            % {"text": text, "minimum": MIN_FRAGMENT_LENGTH}
        )
    return _fragment_filter(queryset, fold_search_text(text))


def _email_search_error(text: str, error: InvalidIdentifier) -> str:
    """Return the search error for an invalid address, in the user's language.

    The search gives its own advice (text without @ searches names), so it
    takes the reason from the email-validator error that ``normalize_email``
    chains, translated as imports do. A reason without translation is left out.
    """
    cause = error.__cause__
    reason = ""
    if isinstance(cause, EmailNotValidError):
        reason = _email_problem(cause)
        if reason == str(cause):
            reason = ""
    if reason:
        return _(
            "The search “%(text)s” is not a valid e-mail address (%(reason)s): "
            "type a whole address, such as jean.dupont@company.com, or a name "
            "without @."
        ) % {"text": text, "reason": reason}
    return _(
        "The search “%(text)s” is not a valid e-mail address: type a whole "
        "address, such as jean.dupont@company.com, or a name without @."
    ) % {"text": text}


def _fragment_is_common(fragment: str) -> bool:
    """Return True when the fragment is in at least 0.1 % of the newest contacts.

    Reading the newest ``FRAGMENT_SAMPLE_SIZE`` rows through the primary key
    takes a few milliseconds, while the trigram index needs hundreds of
    milliseconds to list every row of a common trigram.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM (SELECT search_text FROM contacts_contact "
            "ORDER BY id DESC LIMIT %s) AS newest WHERE search_text LIKE %s",
            [FRAGMENT_SAMPLE_SIZE, "%" + _escape_like(fragment) + "%"],
        )
        sample_matches = cursor.fetchone()[0]
    return sample_matches * 1000 >= FRAGMENT_SAMPLE_SIZE


def is_fragment_search(text: str) -> bool:
    """Return True when ``contact_search`` treats ``text`` as a name fragment."""
    text = (text or "").strip()
    return bool(text) and "@" not in text and not _looks_like_phone(text)


def _looks_like_phone(text: str) -> bool:
    return text.lstrip("+").replace(" ", "").replace(".", "").replace("-", "").isdigit()


def contact_count_limit(filters: dict) -> int:
    """Return how far the list page counts matches for these filters.

    A fragment search counts only one page: at 0.1 % to 1 % of the table its
    matches are spread out, and counting 1,001 of them walks hundreds of
    thousands of rows.
    """
    if is_fragment_search(filters.get("q") or ""):
        return PAGE_SIZE
    return COUNT_LIMIT


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _fragment_filter(queryset: QuerySet[Contact], fragment: str) -> QuerySet[Contact]:
    """Filter by a name or company fragment with a plan that suits its frequency.

    Ordered by id with a LIMIT, PostgreSQL walks the primary key and tests
    each row, which is fast for a common fragment but reads the whole table
    for a rare one (about 5 s on 5 million contacts). So a fragment that is
    not common is looked up in the trigram index first (plain index scans off
    so that the index is used), and at most ``FRAGMENT_PROBE_LIMIT`` matches
    become a filter on their ids. A common fragment keeps the plain filter.
    """
    matching = queryset.filter(search_text__contains=fragment)
    if connection.vendor != "postgresql":
        return matching
    if _fragment_is_common(fragment):
        # The planner underestimates common fragments (500 rows expected, 87,000
        # found on 5 million contacts) and reads every match through the
        # trigram index, about 1 s. Matching on lower(search_text), which no
        # index covers, leaves it the walk in page order that stops early.
        return queryset.alias(search_unindexed=Lower("search_text")).filter(
            search_unindexed__contains=fragment
        )

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_indexscan = off")
        # Anonymised contacts have no text to find, and the trigram index
        # leaves them out.
        probe = (
            Contact.objects.filter(search_text__contains=fragment)
            .exclude(status=Contact.Status.ANONYMISED)
            .order_by()
        )
        ids = list(probe.values_list("pk", flat=True)[: FRAGMENT_PROBE_LIMIT + 1])
    if len(ids) > FRAGMENT_PROBE_LIMIT:
        return matching
    return queryset.filter(pk__in=ids)


def contact_segment(*, filters: dict) -> QuerySet[Contact]:
    """Return the contacts matching the cleaned filter form's data (unordered).

    A sort by name or company leaves out anonymised contacts, as its page
    does, so that the count matches the rows listed. Raises ``InvalidQuery``
    for a search text that cannot be used.
    """
    contacts = Contact.objects.all()
    if filters.get("vendor"):
        contacts = contacts.filter(
            Exists(
                Provenance.objects.filter(
                    contact=OuterRef("pk"), contact_list__vendor=filters["vendor"]
                )
            )
        )
    if filters.get("contact_list"):
        contacts = contacts.filter(
            Exists(
                Provenance.objects.filter(
                    contact=OuterRef("pk"), contact_list=filters["contact_list"]
                )
            )
        )
    for name in ("audience", "lawful_basis", "country", "job_function", "status"):
        if filters.get(name):
            contacts = contacts.filter(**{name: filters[name]})
    if filters.get("postcode"):
        contacts = contacts.filter(postcode__istartswith=filters["postcode"])
    if filters.get("city"):
        # La Poste writes SAINT ETIENNE where others write Saint-Étienne.
        folded_city = Replace(
            FoldedText("city"), Value("-"), Value(" "), output_field=TextField()
        )
        contacts = contacts.alias(city_folded=folded_city).filter(
            city_folded=fold_search_text(filters["city"]).replace("-", " ")
        )
    if filters.get("sort") in SORTS_WITHOUT_ANONYMISED:
        contacts = contacts.filter(status__in=STATUSES_NOT_ANONYMISED)
    contactable = filters.get("contactable")
    if contactable == "yes":
        contacts = contacts_contactable(contacts)
    elif contactable == "no":
        # NOTE: this NOT IN over the contactable set cannot use an index. The
        # benchmark does not measure it, and it may take seconds on millions.
        contacts = contacts.exclude(pk__in=contacts_contactable(Contact.objects.all()))
    return contact_search(contacts, filters.get("q") or "")


def _encode_cursor(values: list) -> str:
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, *, value_type: type) -> list:
    """Return the [sort key value, id] of a page link; ``value_type`` is the key's."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidQuery(
            _("The page link %(cursor)r is invalid: go back to the first page.")
            % {"cursor": cursor[:40]}
        ) from error
    if (
        not isinstance(values, list)
        or len(values) != 2
        or not isinstance(values[0], value_type)
        or not isinstance(values[1], int)
        or not _storable(values[0])
        or not _storable(values[1])
    ):
        raise InvalidQuery(
            _("The page link %(cursor)r is invalid: go back to the first page.")
            % {"cursor": cursor[:40]}
        )
    return values


def _storable(value) -> bool:
    """Return whether PostgreSQL can compare ``value`` with a text or bigint column.

    A crafted cursor could carry a NUL character or an integer beyond 64 bits,
    which the database rejects with an error instead of an empty page.
    """
    if isinstance(value, str):
        return "\x00" not in value
    return -(2**63) <= value < 2**63


@dataclass
class KeysetPage:
    """One page of contacts and the cursors of the pages around it.

    ``next_cursor`` is "" on the last page and ``previous_cursor`` "" on the
    first. ``is_first`` is False on any page reached through a cursor, even an
    empty one, so that the page can link back to the first page.
    """

    rows: list
    next_cursor: str = ""
    previous_cursor: str = ""
    is_first: bool = True
    sort: str = "newest"
    extra: dict = field(default_factory=dict)

    @property
    def leaves_out_anonymised(self) -> bool:
        return self.sort in SORTS_WITHOUT_ANONYMISED


def contact_page(
    queryset: QuerySet[Contact],
    *,
    sort: str = "newest",
    after: str = "",
    before: str = "",
    size: int = PAGE_SIZE,
) -> KeysetPage:
    """Return the page of ``queryset`` that follows ``after`` or precedes ``before``.

    Each cursor is the (sort key, id) of a row that a page showed. The seek
    condition ``key >= v AND (key > v OR id > last_id)`` lets the database
    start an index range scan at the cursor instead of skipping rows, and a
    page before the cursor scans the same index backwards. Sorted by name or
    company, contacts with that field blank come after all the others, and
    the page leaves out anonymised contacts. A page before the cursor that
    would come up short is the first page, which is returned whole instead.
    Raises ``InvalidQuery`` for an unknown sort, a damaged cursor, or both
    cursors at once.
    """
    if sort not in SORTS:
        raise InvalidQuery(
            _("The sort %(sort)r is unknown: use one of %(choices)s.")
            % {"sort": sort, "choices": ", ".join(SORTS)}
        )
    if after and before:
        raise InvalidQuery(
            _(
                "The page link asks for the rows after one contact and before "
                "another: go back to the first page."
            )
        )
    key = SORTS[sort]
    value_type = int if key == "id" else str
    if sort in SORTS_WITHOUT_ANONYMISED:
        queryset = queryset.filter(status__in=STATUSES_NOT_ANONYMISED)

    if before:
        position = _decode_cursor(before, value_type=value_type)
        rows = _rows_before(queryset, key, position, limit=size + 1)
        if len(rows) <= size:
            return contact_page(queryset, sort=sort, size=size)
        rows = rows[-size:]
        return KeysetPage(
            rows=rows,
            next_cursor=_cursor_of(rows[-1], key),
            previous_cursor=_cursor_of(rows[0], key),
            is_first=False,
            sort=sort,
        )

    position = _decode_cursor(after, value_type=value_type) if after else None
    rows = _rows_after(queryset, key, position, limit=size + 1)
    next_cursor = ""
    if len(rows) > size:
        rows = rows[:size]
        next_cursor = _cursor_of(rows[-1], key)
    previous_cursor = ""
    if position is not None and rows:
        previous_cursor = _cursor_of(rows[0], key)
    return KeysetPage(
        rows=rows,
        next_cursor=next_cursor,
        previous_cursor=previous_cursor,
        is_first=position is None,
        sort=sort,
    )


def _cursor_of(contact: Contact, key: str) -> str:
    return _encode_cursor([getattr(contact, key), contact.pk])


def _rows_after(queryset, key: str, position: list | None, *, limit: int) -> list:
    """Return up to ``limit`` rows that follow ``position``, in page order."""
    if key == "id":
        # Newest first: the ids decrease down the list.
        if position is not None:
            queryset = queryset.filter(id__lt=position[1])
        return list(queryset.order_by("-id")[:limit])

    if position is not None and position[0] == "":
        blank = queryset.filter(**{key: ""}, id__gt=position[1])
        return list(blank.order_by("id")[:limit])

    # ``key > ''`` holds for every filled value, in any collation, and keeps
    # the index range scan that ``key <> ''`` would lose.
    filled = queryset.filter(**{f"{key}__gt": ""})
    if position is not None:
        value, last_id = position
        filled = filled.filter(
            Q(**{f"{key}__gte": value})
            & (Q(**{f"{key}__gt": value}) | Q(id__gt=last_id))
        )
    rows = list(filled.order_by(key, "id")[:limit])
    if len(rows) < limit:
        blank = queryset.filter(**{key: ""}).order_by("id")
        rows += list(blank[: limit - len(rows)])
    return rows


def _rows_before(queryset, key: str, position: list, *, limit: int) -> list:
    """Return up to ``limit`` rows that precede ``position``, in page order."""
    if key == "id":
        rows = list(queryset.filter(id__gt=position[1]).order_by("id")[:limit])
        rows.reverse()
        return rows

    value, first_id = position
    filled = queryset.filter(**{f"{key}__gt": ""})
    rows = []
    if value == "":
        blank = queryset.filter(**{key: ""}, id__lt=first_id)
        rows = list(blank.order_by("-id")[:limit])
    else:
        filled = filled.filter(
            Q(**{f"{key}__lte": value})
            & (Q(**{f"{key}__lt": value}) | Q(id__lt=first_id))
        )
    if len(rows) < limit:
        rows += list(filled.order_by(f"-{key}", "-id")[: limit - len(rows)])
    rows.reverse()
    return rows


def contact_count_bounded(queryset: QuerySet[Contact], *, limit: int = COUNT_LIMIT):
    """Return (count, more): the count up to ``limit`` and whether there are more.

    The rows are counted in primary-key order, like the first page, so that
    PostgreSQL walks the index and stops after ``limit`` rows. Unordered, it
    planned a scan of the whole table for the contactable filter (about 20 s
    instead of 60 ms on 5 million contacts in ``bench/contacts.py``).
    """
    count = queryset.order_by("-id")[: limit + 1].count()
    return min(count, limit), count > limit


def contact_count_estimate() -> int:
    """Return the number of contacts, estimated from PostgreSQL's statistics.

    An exact ``COUNT(*)`` reads the whole table, so PostgreSQL's planner
    estimate (``pg_class.reltuples``, refreshed by ANALYZE and autovacuum) is
    used. It falls back to an exact count on other databases and on a table
    never analysed.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                [Contact._meta.db_table],
            )
            row = cursor.fetchone()
        if row and row[0] > 0:
            return row[0]
    return Contact.objects.count()


def contact_detail(*, contact_id: int) -> Contact:
    return Contact.objects.select_related("processing_activity").get(pk=contact_id)


def contact_audit_events(contact: Contact, *, user=None) -> QuerySet[AuditEvent]:
    """Return the audit events about ``contact``, newest first.

    These are the events that target the contact and the subject-request
    events that name it in their details. The latter target the request and
    may name other contacts, so a page that lists them shows no details. A
    ``user`` who cannot view subject requests gets only those that changed
    the contact's status: that the person made a request, an access request
    for instance, is for the DPO to know.
    """
    targeted = Q(target_type=Contact._meta.label_lower, target_id=str(contact.pk))
    actions = REQUEST_ACTIONS_LISTING_CONTACTS
    named = Q(action__in=REQUEST_ACTIONS_NAMING_CONTACT, details__contact_id=contact.pk)
    if user is not None and not user.has_perm(SUBJECT_REQUEST_VIEW_PERMISSION):
        actions = REQUEST_ACTIONS_CHANGING_STATUS
        named = Q(pk__in=[])
    if connection.vendor == "postgresql":
        listed = Q(action__in=actions, details__contact_ids__contains=[contact.pk])
    else:
        # Only PostgreSQL can test whether a JSON array contains a value.
        listing = AuditEvent.objects.filter(action__in=actions).values_list(
            "pk", "details"
        )
        listed = Q(
            pk__in=[
                pk
                for pk, details in listing
                if contact.pk in details.get("contact_ids", [])
            ]
        )
    return AuditEvent.objects.filter(targeted | named | listed).select_related("actor")


def contact_provenances(contact: Contact) -> QuerySet[Provenance]:
    return (
        Provenance.objects.filter(contact=contact)
        .select_related("contact_list__vendor")
        .order_by("imported_at", "pk")
    )


def contact_campaign_exports(contact: Contact) -> QuerySet[CampaignExport]:
    export_ids = CampaignExportContact.objects.filter(contact_id=contact.pk).values(
        "export_id"
    )
    return CampaignExport.objects.filter(pk__in=export_ids)


def contact_list_statistics(lists: QuerySet[ContactList]) -> QuerySet[ContactList]:
    """Annotate lists with contact counts and the share that unsubscribed or objected.

    A high unsubscribe or objection rate is a sign of a vendor whose people
    never agreed to hear from us.

    NOTE: the counts aggregate every provenance row of the lists on each page
    load, which is not bounded like the contact list's count.
    """
    opted_out = Q(
        provenances__contact__status__in=[
            Contact.Status.UNSUBSCRIBED,
            Contact.Status.OBJECTED,
        ]
    )
    return lists.select_related("vendor").annotate(
        contact_total=Count("provenances"),
        opted_out_total=Count("provenances", filter=opted_out),
    )


def opt_out_rate(annotated) -> float | None:
    """Return the percentage of contacts that unsubscribed or objected.

    ``annotated`` is a list or vendor annotated by ``contact_list_statistics``
    or ``vendor_statistics``. Returns None when it has no contacts.
    """
    total = getattr(annotated, "contact_total", 0)
    if not total:
        return None
    return 100 * annotated.opted_out_total / total


def vendor_statistics() -> QuerySet[Vendor]:
    return Vendor.objects.annotate(
        list_total=Count("lists", distinct=True),
        contact_total=Count("lists__provenances"),
        opted_out_total=Count(
            "lists__provenances",
            filter=Q(
                lists__provenances__contact__status__in=[
                    Contact.Status.UNSUBSCRIBED,
                    Contact.Status.OBJECTED,
                ]
            ),
        ),
    ).order_by("name")


def suppression_count() -> int:
    return SuppressionEntry.objects.count()


def campaign_export_filters(export) -> list[tuple[str, str]]:
    """Return an export's segment filters as (label, value) pairs for its page.

    Labels are the contact list form's, lists and vendors are named, and the
    search is shown as used or not: its text is not kept.
    """
    from apps.contacts.forms import ContactFilterForm

    form = ContactFilterForm()
    named = {"vendor": Vendor, "contact_list": ContactList}
    pairs = []
    for key, value in export.filters.items():
        if key == "search_used":
            if value:
                pairs.append((str(form.fields["q"].label), _("used")))
            continue
        field = form.fields.get(key)
        if field is None:
            pairs.append((key, str(value)))
            continue
        if key in named:
            record = named[key].objects.filter(pk=value).first()
            text = str(record) if record is not None else f"#{value}"
        else:
            text = str(dict(getattr(field, "choices", ())).get(value, value))
        pairs.append((str(field.label), text))
    return pairs
