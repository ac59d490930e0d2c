"""Where Registre stores personal data: one finder and one eraser per domain app.

Each domain app that stores personal data provides ``personal_data.py`` with:

``find(*, emails, phones, names) -> list[PersonalDataMatch]``
    every record that holds one of the normalised e-mails, E.164 phones or
    full names (case-insensitive);
``erase(*, contact_ids, emails, phones) -> dict[str, int]``
    delete every record derived from those contacts or identifiers that is
    not reached through a contact id, and return how many records of each
    kind were removed (labels, no data);
``CONTACT_ID_COLUMNS: list[ContactIdColumn]``
    the app's columns that hold contact ids. The contacts app's eraser
    deletes (or unlinks) their rows in the same statement as the contacts.
    Foreign keys to a contact are found without being declared; declaring
    one only names its kind in the counts.
``IDENTIFIER_COLUMNS: list[IdentifierColumns]``
    the app's tables whose rows contain a normalised e-mail or phone. The
    contacts app's eraser deletes the rows that contain the erased person's
    identifiers in its statement, so the app's ``erase`` skips them.

Subject-rights requests and the retention job call the functions below, so an
app that starts storing personal data only has to add its module here.
"""

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.apps import apps


@dataclass(frozen=True)
class PersonalDataMatch:
    """One record found for a person: its kind, id and why it matched."""

    kind: str
    record_id: int | str
    label: str
    matched_on: str
    url: str = ""


@dataclass(frozen=True)
class ContactIdColumn:
    """A field whose rows go with the contact whose id it holds.

    ``kind`` labels the rows in an erasure's counts. With ``unlink`` the field
    is set to NULL instead of the row being deleted.
    """

    model: type
    field: str
    kind: str
    unlink: bool = False


@dataclass(frozen=True)
class IdentifierColumns:
    """A model whose rows go with the person whose e-mail or phone they contain.

    ``kind`` labels the rows in an erasure's counts. The fields hold values
    normalised as ``apps.core.identifiers`` does. Rows matching ``keep``, a
    function that returns a ``Q``, are left alone. When ``may_hold_rows``
    returns False, the table is known to be empty and is skipped.
    """

    model: type
    kind: str
    email_field: str = "email"
    phone_field: str = "phone"
    keep: Any = None
    may_hold_rows: Any = None


def _providers():
    for app_config in apps.get_app_configs():
        if not app_config.name.startswith("apps."):
            continue
        try:
            yield import_module(f"{app_config.name}.personal_data")
        except ModuleNotFoundError:
            continue


def _app_name(module) -> str:
    return module.__name__.rsplit(".", 2)[-2]


def personal_data_sources() -> list[str]:
    """Return the app names searched, to show the DPO what was looked at."""
    return [_app_name(module) for module in _providers()]


def contact_id_columns() -> list[ContactIdColumn]:
    """Return every app's declared columns that hold contact ids."""
    return [
        column
        for module in _providers()
        for column in getattr(module, "CONTACT_ID_COLUMNS", ())
    ]


def identifier_columns() -> list[IdentifierColumns]:
    """Return every app's declared tables of rows holding identifiers."""
    return [
        columns
        for module in _providers()
        for columns in getattr(module, "IDENTIFIER_COLUMNS", ())
    ]


def personal_data_find(
    *,
    emails: Collection[str] = (),
    phones: Collection[str] = (),
    names: Collection[str] = (),
) -> list[PersonalDataMatch]:
    """Return every record of any app that contains one of the identifiers or names.

    Runs of spaces in a name count as one, as a name is typed.
    NOTE: the finders compare names with the database's ``LOWER``, which on
    SQLite folds ASCII letters only: there, "Émile" does not find "ÉMILE".
    """
    names = [" ".join(name.split()) for name in names]
    matches: list[PersonalDataMatch] = []
    for module in _providers():
        finder = getattr(module, "find", None)
        if finder is not None:
            matches.extend(finder(emails=emails, phones=phones, names=names))
    return matches


def personal_data_erase(
    *,
    contact_ids: Collection[int] = (),
    emails: Collection[str] = (),
    phones: Collection[str] = (),
    skip_apps: Collection[str] = (),
) -> dict[str, int]:
    """Erase every record derived from the contacts or identifiers, in every app.

    ``skip_apps`` names apps (``contacts``) whose eraser the caller runs
    itself. The caller owns the transaction: wrap the call in
    ``transaction.atomic`` so that a failure leaves nothing half-erased.
    """
    counts: Counter[str] = Counter()
    for module in _providers():
        if _app_name(module) in skip_apps:
            continue
        eraser = getattr(module, "erase", None)
        if eraser is not None:
            counts.update(eraser(contact_ids=contact_ids, emails=emails, phones=phones))
    return {kind: count for kind, count in counts.items() if count}
