"""Helpers for the proof of erasure and for the request page after an erasure.

``request_erase`` in ``services`` performs the erasure. ``SuppressionTally``
lets its proof list each kind of suppression entry the erasure added, and
``search_after_erasure`` keeps the search that found the person on the page.
"""

import logging
from collections import Counter
from collections.abc import Collection
from collections.abc import Mapping

from django.db.models import Q

from apps.contacts.models import Contact
from apps.contacts.models import SuppressionEntry
from apps.core.identifiers import identifier_hash

logger = logging.getLogger(__name__)

Kind = SuppressionEntry.Kind


class SuppressionTally:
    """The suppression entries that one erasure adds, counted by identifier kind.

    ``person_erase`` lists the given e-mails and phones and those of every
    contact it erases, but returns only how many entries were new. Read
    ``SuppressionTally`` inside the erasure's transaction, after the contacts
    write lock and before ``person_erase``, so that it reads the contacts the
    erasure will select. ``added_by_kind`` then counts the new entries by kind.
    """

    def __init__(
        self,
        *,
        contact_ids: Collection[int],
        emails: Collection[str],
        phones: Collection[str],
        replaced_hashes: Mapping[str, str] | None = None,
    ):
        self.kinds = _suppressed_identifiers(
            contact_ids=contact_ids, emails=emails, phones=phones
        )
        self.kinds.update(replaced_hashes or {})
        self.listed_before = set(
            SuppressionEntry.objects.filter(
                identifier_hash__in=list(self.kinds)
            ).values_list("identifier_hash", flat=True)
        )

    def identifier_kinds(self) -> list[str]:
        """Return the kinds of every identifier the erasure puts on the list."""
        return sorted(set(self.kinds.values()))

    def added_by_kind(self, added: int) -> dict[str, int]:
        """Return the new entries by kind, given ``person_erase``'s count of them.

        The entries listed before the erasure are not new. When the counts
        disagree, another transaction listed one of the identifiers meanwhile
        (an unsubscribe, say), so the entries with reason *erased* are read.
        """
        new = {
            value: kind
            for value, kind in self.kinds.items()
            if value not in self.listed_before
        }
        counts = Counter(new.values())
        if sum(counts.values()) != added:
            logger.warning(
                "erasure expected %d new suppression entries and added %d; "
                "recounting them",
                sum(counts.values()),
                added,
            )
            counts = Counter(
                SuppressionEntry.objects.filter(
                    identifier_hash__in=list(new),
                    reason=SuppressionEntry.Reason.ERASED,
                ).values_list("kind", flat=True)
            )
        return {kind: counts[kind] for kind in self.identifier_kinds()}


def _suppressed_identifiers(*, contact_ids, emails, phones) -> dict[str, str]:
    """Return the hash and kind of each identifier that an erasure suppresses.

    They are the given e-mails and phones and those of the contacts that
    ``apps.contacts.erasure`` selects: by id, by e-mail, or by phone when the
    contact has no e-mail.
    """
    kinds = {identifier_hash(value): Kind.EMAIL.value for value in emails if value}
    kinds.update(
        {identifier_hash(value): Kind.PHONE.value for value in phones if value}
    )
    condition = Q(pk__in=list(contact_ids))
    if emails:
        condition |= Q(email__in=list(emails))
    if phones:
        condition |= Q(phone__in=list(phones), email="")
    contacts = Contact.objects.filter(condition).values_list("email_hash", "phone_hash")
    for email_hash, phone_hash in contacts:
        if email_hash:
            kinds[email_hash] = Kind.EMAIL.value
        if phone_hash:
            kinds[phone_hash] = Kind.PHONE.value
    return kinds


def search_without_contacts(search: dict, contact_ids) -> dict:
    """Return the stored search without its matches of the erased ``contact_ids``.

    Another open request of the person keeps its other matches, so that its
    page no longer lists contacts that an erasure deleted.
    """
    erased = set(contact_ids)
    matches = search.get("matches", [])
    remaining = [
        match
        for match in matches
        if not (match.get("kind") == "contact" and match.get("record_id") in erased)
    ]
    erased_count = len(matches) - len(remaining)
    if not erased_count:
        return search
    return {
        **search,
        "matches": remaining,
        "erased_matches": search.get("erased_matches", 0) + erased_count,
    }


def search_after_erasure(search: dict) -> dict:
    """Return the stored search without its matches, which the erasure deleted.

    When, where and by which identifiers the person was searched stay, with the
    number of matches, so the request page still shows the search that was run.
    """
    if not search:
        return {}
    summary = {key: value for key, value in search.items() if key != "matches"}
    return {
        **summary,
        "matches": [],
        "erased_matches": len(search.get("matches", [])),
    }
