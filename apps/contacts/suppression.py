"""The suppression list: people who objected, unsubscribed or were erased.

Only the keyed hash of the normalised identifier is stored. Callers pass
normalised values (``apps.core.identifiers.normalize_email``/``normalize_phone``).
"""

from collections.abc import Iterable

from apps.contacts.models import SuppressionEntry
from apps.core.identifiers import identifier_hash

Reason = SuppressionEntry.Reason
Kind = SuppressionEntry.Kind


def suppression_add(
    *,
    reason: str,
    emails: Iterable[str] = (),
    phones: Iterable[str] = (),
    actor=None,
) -> int:
    """Add the identifiers to the suppression list; return how many were new.

    Adding an identifier that is already suppressed changes nothing, so
    repeating an unsubscribe or an erasure is harmless.
    """
    entries = [
        SuppressionEntry(
            identifier_hash=identifier_hash(value),
            kind=kind,
            reason=reason,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        for kind, values in ((Kind.EMAIL, emails), (Kind.PHONE, phones))
        for value in values
        if value
    ]
    if not entries:
        return 0
    hashes = [entry.identifier_hash for entry in entries]
    existing = set(
        SuppressionEntry.objects.filter(identifier_hash__in=hashes).values_list(
            "identifier_hash", flat=True
        )
    )
    SuppressionEntry.objects.bulk_create(entries, ignore_conflicts=True)
    return len(set(hashes) - existing)


def suppressed_hashes(hashes: Iterable[str]) -> set[str]:
    """Return the subset of ``hashes`` that are on the suppression list."""
    return set(
        SuppressionEntry.objects.filter(identifier_hash__in=list(hashes)).values_list(
            "identifier_hash", flat=True
        )
    )


def is_suppressed(*, email: str = "", phone: str = "") -> bool:
    hashes = [identifier_hash(value) for value in (email, phone) if value]
    return bool(hashes) and bool(suppressed_hashes(hashes))
