"""Turning the cells of one file row into a normalised staging row."""

import datetime
import hashlib
import hmac
import re

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from openpyxl.cell.cell import ERROR_CODES

from apps.contacts.search import fold_search_text
from apps.imports.list_terms import ACQUIRED_ON_EARLIEST
from apps.imports.list_terms import date_display
from apps.imports.list_terms import removal_limit
from apps.imports.mapping import IGNORE
from apps.imports.mapping import column_label
from apps.imports.mapping import field_for_header
from apps.imports.mapping import is_nir
from apps.imports.mapping import normalize_header
from apps.imports.normalizers import InvalidValue
from apps.imports.normalizers import cell_text
from apps.imports.normalizers import country_normalize
from apps.imports.normalizers import date_parse
from apps.imports.normalizers import email_candidates
from apps.imports.normalizers import email_display_name_remove
from apps.imports.normalizers import email_is_generic
from apps.imports.normalizers import email_normalize_for_import
from apps.imports.normalizers import email_without_subaddress
from apps.imports.normalizers import phone_normalize
from apps.imports.normalizers import postcode_city_split
from apps.imports.normalizers import registration_normalize
from apps.imports.normalizers import text_clean

# Staging columns in the order ``RowNormalizer.normalize`` returns them.
STAGING_COLUMNS = (
    "row_number",
    "outcome",
    "reason",
    "match_key",
    "email",
    "phone",
    "email_hash",
    "phone_hash",
    "email_base_hash",
    "first_name",
    "last_name",
    "job_title",
    "job_function",
    "company",
    "company_registration",
    "postcode",
    "city",
    "country",
    "collected_at",
    "other_hashes",
)
# The fields whose unmapped columns the suppression check still reads.
OTHER_IDENTIFIER_FIELDS = {"email": "email", "phone": "phone", "mobile": "phone"}
# The words of a header that names an e-mail or phone field, and those that
# qualify it as the person's own ("E-mail 2", "Mail pro", "Tél. fixe"). Any
# other word names someone else's ("E-mail référent", "Mail assistante") or a
# shared line ("Standard"), which must not suppress the person.
_IDENTIFIER_WORDS = frozenset(
    [
        "e",
        "mail",
        "email",
        "mails",
        "courriel",
        "adresse",
        "electronique",
        "tel",
        "telephone",
        "phone",
        "portable",
        "mobile",
        "gsm",
        "fixe",
        "numero",
        "n",
        "no",
        "de",
        "du",
    ]
)
_OWN_QUALIFIERS = frozenset(
    [
        "pro",
        "professionnel",
        "professionnelle",
        "perso",
        "personnel",
        "personnelle",
        "secondaire",
        "autre",
        "principal",
        "principale",
        "direct",
        "directe",
        "bureau",
        "travail",
        "ligne",
        "work",
        "business",
        "personal",
        "other",
        "secondary",
        "main",
    ]
)
TEXT_LIMITS = {
    "first_name": 150,
    "last_name": 150,
    "job_title": 200,
    "job_function": 100,
    "company": 200,
    "postcode": 20,
    "city": 100,
}
REJECTED = "rejected"


# Mapped fields whose values are checked for social-security numbers: the
# free-text ones. An e-mail address, a phone or a date cannot hold one.
NIR_CHECKED_FIELDS = (
    "first_name",
    "last_name",
    "full_name",
    "job_title",
    "job_function",
    "company",
    "company_registration",
    "postcode",
    "city",
    "postcode_city",
)


def _may_be_nir(value) -> bool:
    """Return whether a cell could hold a NIR, by its length or its digits."""
    if isinstance(value, str):
        first = value.lstrip()[:1]
        return 15 <= len(value) <= 21 and first != "" and first in "123478"
    if isinstance(value, int | float):
        return 10**14 <= value < 9 * 10**14
    return False


class RowNormalizer:
    """Normalises rows with one mapping; ``normalize`` returns a staging tuple.

    A row without a usable identifier, with an invalid e-mail address, or
    collected so long ago that the next retention run would remove it, is
    rejected with a reason that names the column. So is a CSV row with more
    values than the header has columns. An invalid optional value (a phone
    beside a valid e-mail, a country, a date) is dropped and noted in the
    reason while the row goes on.
    """

    def __init__(
        self,
        *,
        mapping: dict[str, str],
        headers: list[str],
        delimiter: str = "",
        date1904=False,
        acquired_on: datetime.date | None = None,
        processing_activity=None,
        phone_country: str = "",
        recoded_rows: dict[int, str] | None = None,
    ):
        self.columns = {field: int(index) for index, field in mapping.items() if field}
        # The reader's CSV rows in another encoding than the rest of the file.
        self.recoded_rows = recoded_rows if recoded_rows is not None else {}
        self.nir_checked_fields = tuple(
            field for field in NIR_CHECKED_FIELDS if field in self.columns
        )
        self.headers = headers
        self._header_keys = _header_keys(headers)
        # The header cells that a repeated header row must have: those of
        # the mapped columns, without which the rows below could not be read.
        self._required_keys = {
            self._header_keys[index]
            for index in self.columns.values()
            if index < len(self._header_keys) and self._header_keys[index]
        }
        # Where each header column's value is in the rows, once a repeated
        # header row gave another column order; None while it is the header's.
        self._column_order: list[int | None] | None = None
        # The number of columns of the header that the rows now follow.
        self._width = len(headers)
        # Unmapped columns headed as the person's own e-mail or phone
        # ("E-mail 2", "Tél. fixe"), as (index, "email" or "phone"): a person
        # who objected stays out when the file gives their address only there.
        self.other_identifier_columns = [
            (index, OTHER_IDENTIFIER_FIELDS[field])
            for index, (header, field) in enumerate(
                zip(headers, map(field_for_header, headers), strict=True)
            )
            if field in OTHER_IDENTIFIER_FIELDS
            and index not in self.columns.values()
            and _names_own_identifier(header)
        ]
        # The CSV delimiter, or "" for a spreadsheet, whose cells cannot shift.
        self.delimiter = delimiter
        self.date1904 = date1904
        # A collection date after the list reached us (or after today) is
        # wrong and would start the retention clock late.
        today = timezone.localdate()
        self.latest_collection = min(acquired_on or today, today)
        # The retention rule that the list's acquisition date was checked
        # against, as (last collection day it removes, rule description).
        self.removal_limit = removal_limit(processing_activity)
        # The country of phone numbers and postcodes in rows that name none.
        self.region = phone_country or settings.PHONE_DEFAULT_REGION
        self._hmac = hmac.new(
            settings.IDENTIFIER_HASH_KEY.encode(), digestmod=hashlib.sha256
        )

    def _hash(self, value: str) -> str:
        digest = self._hmac.copy()
        digest.update(value.encode())
        return digest.hexdigest()

    def _label(self, field: str) -> str:
        return column_label(self.headers, self.columns[field])

    def _problem(self, field: str, error) -> str:
        return _("%(column)s: %(problem)s") % {
            "column": self._label(field),
            "problem": error,
        }

    def _present(self, cells: list) -> dict:
        """Return the non-empty mapped values of ``cells``, by field."""
        present = {}
        width = len(cells)
        for field, index in self.columns.items():
            if index < width:
                value = cells[index]
                if value is None or (isinstance(value, str) and not value.strip()):
                    continue
                present[field] = value
        return present

    def _nir_values_drop(self, cells: dict, notes: list[str]) -> None:
        """Leave out the text values that are social-security numbers (NIR).

        A column headed as one is never mapped, but one under another header
        could be. Only a value of NIR length that starts with a NIR's first
        digit is checked in full, which keeps the cost per row low.
        """
        for field in self.nir_checked_fields:
            value = cells.get(field)
            if value is None or not _may_be_nir(value):
                continue
            if is_nir(cell_text(value)):
                del cells[field]
                notes.append(self._problem(field, _("a social-security number (NIR)")))

    def _error_values_drop(self, cells: dict, notes: list[str]) -> None:
        """Leave out the spreadsheet error values, such as #REF! or #N/A.

        A workbook stores them where a formula failed, and they would
        otherwise become a job title or a company. An e-mail address left out
        this way lets the row go on with its phone number.
        """
        for field, value in list(cells.items()):
            if not isinstance(value, str):
                continue
            if value.strip() in ERROR_CODES:
                del cells[field]
                notes.append(
                    self._problem(
                        field,
                        _(
                            "%(value)s is a spreadsheet error, where a formula of "
                            "the file failed"
                        )
                        % {"value": value.strip()},
                    )
                )

    def normalize(self, row_number: int, cells: list) -> tuple:
        # Notes on values left out, and remarks on values kept as they are.
        notes: list[str] = []
        remarks: list[str] = []
        values = dict.fromkeys(STAGING_COLUMNS, "")
        values["row_number"] = row_number
        values["collected_at"] = None
        repeated = self._header_repeat(cells)
        if repeated:
            return self._rejected(values, repeated, {})
        overflow = self._overflow(cells)
        other_hashes = self._other_column_hashes(cells)
        values["other_hashes"] = other_hashes
        if self._column_order is not None:
            cells = [
                cells[index] if index is not None and index < len(cells) else None
                for index in self._column_order
            ]
        cells = self._present(cells)
        if overflow and self.delimiter:
            return self._rejected(values, overflow, cells)
        self._nir_values_drop(cells, notes)
        self._error_values_drop(cells, notes)

        raw_email = cells.get("email")
        if raw_email is not None:
            text = cell_text(raw_email)
            address = email_display_name_remove(text)
            if address is not None:
                remarks.append(
                    self._problem(
                        "email", _("kept only the address inside the angle brackets")
                    )
                )
            try:
                values["email"] = email_normalize_for_import(address or text)
            except InvalidValue as error:
                return self._rejected(values, self._problem("email", error), cells)

        country = cells.get("country")
        if country is not None:
            try:
                values["country"] = country_normalize(cell_text(country))
            except InvalidValue as error:
                notes.append(self._problem("country", error))
        region = values["country"] or self.region

        phone_problems = []
        for field in ("mobile", "phone"):
            raw_phone = cells.get(field)
            if raw_phone is None:
                continue
            if values["phone"]:
                # The mobile column wins, but the suppression list still
                # reads the other number.
                self._other_phone_hash(cell_text(raw_phone), region, other_hashes)
                continue
            try:
                values["phone"] = self._phone(cell_text(raw_phone), region)
            except InvalidValue as error:
                phone_problems.append(self._problem(field, error))
                # A cell of several numbers is invalid, but each is checked.
                self._other_phone_hash(cell_text(raw_phone), region, other_hashes)
        if not values["email"] and not values["phone"]:
            if phone_problems:
                return self._rejected(values, "; ".join(phone_problems), cells)
            return self._rejected(
                values, _("no e-mail address and no phone number in this row"), cells
            )
        notes.extend(phone_problems)

        encoding = self.recoded_rows.pop(row_number, None)
        if encoding:
            remarks.append(_recoded_remark(encoding))
        self._read_texts(cells, values, notes)
        self._read_others(cells, values, notes, remarks)
        rejection = self._read_collection_date(cells, values, notes)
        if rejection:
            return self._rejected(values, rejection, cells)

        if values["email"]:
            values["email_hash"] = self._hash(values["email"])
            base = email_without_subaddress(values["email"])
            if base != values["email"]:
                values["email_base_hash"] = self._hash(base)
        if values["phone"]:
            values["phone_hash"] = self._hash(values["phone"])
            other_hashes.discard(values["phone_hash"])
        other_hashes.discard(values["email_hash"])
        values["other_hashes"] = " ".join(sorted(other_hashes))
        values["match_key"] = self._match_key(values)
        reasons = []
        if notes:
            reasons.append(_("Left out %(problems)s") % {"problems": "; ".join(notes)})
        reasons.extend(remarks)
        if overflow:
            reasons.append(overflow)
        values["reason"] = "; ".join(reasons)
        return tuple(values[column] for column in STAGING_COLUMNS)

    def _header_repeat(self, cells: list) -> str:
        """Return the reason of a row that repeats the header row, or "".

        Two exports pasted into one file repeat the header, maybe with the
        columns in another order, or with columns added when every column of
        the first header is there. The rows below such a row are then read in
        its order, so that no value lands in another column, and the values
        of its added columns are left out as those of unmapped columns are.
        """
        if not self._may_repeat_header(cells):
            return ""
        keys = _header_keys(cells)
        filled = set(key for key in keys if key)
        numbered_keys = _numbered(keys)
        known = set(item for item in _numbered(self._header_keys) if item)
        added = set(item for item in numbered_keys if item) - known
        if (
            len(filled) < 2
            or not self._required_keys <= filled
            or (added and not known <= set(numbered_keys))
        ):
            return ""
        positions = _key_positions(keys)
        order = [
            index if numbered is None else positions.get(numbered)
            for index, numbered in enumerate(_numbered(self._header_keys))
        ]
        if added:
            self._column_order = order
            self._width = _filled_width(cells)
            self._other_columns_follow(cells, keys, order)
            names = [
                cell_text(cell).strip()
                for cell, numbered in zip(cells, numbered_keys, strict=True)
                if numbered in added
            ]
            return ngettext(
                "this row repeats the header row with one more column; the "
                "rows below are read in its order, without its column %(columns)s",
                "this row repeats the header row with more columns; the rows "
                "below are read in its order, without its columns %(columns)s",
                len(names),
            ) % {"columns": ", ".join(f"“{name}”" for name in names)}
        if order == list(range(len(order))):
            self._column_order = None
            self._width = len(self.headers)
            self._other_columns_follow(cells, keys, order)
            return _(
                "this row repeats the header row; the rows below are read as before"
            )
        self._column_order = order
        self._width = _filled_width(cells)
        self._other_columns_follow(cells, keys, order)
        return _(
            "this row repeats the header row with its columns in another "
            "order; the rows below are read in that order"
        )

    def _other_columns_follow(self, cells: list, keys: list[str], order: list) -> None:
        """Point the unmapped identifier columns at a repeated header's
        positions, its added columns included."""
        mapped = {
            order[index]
            for index in self.columns.values()
            if index < len(order) and order[index] is not None
        }
        self.other_identifier_columns = [
            (index, OTHER_IDENTIFIER_FIELDS[key.removeprefix("field:")])
            for index, (cell, key) in enumerate(zip(cells, keys, strict=True))
            if key.removeprefix("field:") in OTHER_IDENTIFIER_FIELDS
            and key.startswith("field:")
            and index not in mapped
            and _names_own_identifier(cell_text(cell))
        ]

    def _may_repeat_header(self, cells: list) -> bool:
        """Tell cheaply whether a row could be a header: a data row almost
        always has an "@" in its e-mail column or a digit in its phone
        columns, and a header has neither."""
        for field in ("email", "phone", "mobile"):
            index = self.columns.get(field)
            if index is not None and self._column_order is not None:
                order = self._column_order
                index = order[index] if index < len(order) else None
            if index is None or index >= len(cells):
                continue
            value = cells[index]
            if value is None or value == "":
                continue
            text = value if isinstance(value, str) else str(value)
            if field == "email":
                identifier_like = "@" in text
            else:
                identifier_like = any(character.isdigit() for character in text)
            if identifier_like:
                return False
        return True

    def _overflow(self, cells: list) -> str:
        """Return the problem of a row with values beyond the header's last column.

        In a CSV file such a row usually contains a value with the delimiter
        in it, which shifts every later value into the wrong column, so the
        row is rejected. A spreadsheet's cells cannot shift, and its values
        in columns without a header are only left out. Empty cells after the
        last value (trailing delimiters) do not count.
        """
        width = self._width
        if not width or not any(cell_text(cell).strip() for cell in cells[width:]):
            return ""
        if not self.delimiter:
            return _(
                "Left out the values after the header's last column, which "
                "have no header"
            )
        values = _filled_width(cells)
        delimiter = "TAB" if self.delimiter == "\t" else f"“{self.delimiter}”"
        return ngettext(
            "%(values)s values for %(columns)s column: a value probably contains "
            "the delimiter %(delimiter)s, which shifts the values after it into "
            "the wrong columns. Quote that value or remove the delimiter from it.",
            "%(values)s values for %(columns)s columns: a value probably contains "
            "the delimiter %(delimiter)s, which shifts the values after it into "
            "the wrong columns. Quote that value or remove the delimiter from it.",
            width,
        ) % {"values": values, "columns": width, "delimiter": delimiter}

    def _phone(self, text: str, region: str) -> str:
        """Normalise a phone number in the row's region, then the default one.

        A row whose country is US may still hold a French number written
        nationally (01 ...); the default region reads it.
        """
        try:
            return phone_normalize(text, region)
        except InvalidValue as error:
            if region == self.region:
                raise
            row_region_error = error
        try:
            return phone_normalize(text, self.region)
        except InvalidValue:
            # The row's region is the one the reader expects to see named.
            raise row_region_error from None

    def _read_texts(self, cells, values, notes):
        full_name = cells.get("full_name")
        if full_name is not None and not (
            cells.get("first_name") or cells.get("last_name")
        ):
            try:
                name = text_clean(full_name, 2 * TEXT_LIMITS["first_name"] + 1)
            except InvalidValue as error:
                notes.append(self._problem("full_name", error))
            else:
                first, _space, last = name.partition(" ")
                if max(len(first), len(last)) > TEXT_LIMITS["first_name"]:
                    notes.append(self._problem("full_name", _("name part too long")))
                else:
                    values["first_name"], values["last_name"] = first, last
        for field, limit in TEXT_LIMITS.items():
            raw = cells.get(field)
            if raw is None:
                continue
            try:
                values[field] = text_clean(raw, limit)
            except InvalidValue as error:
                notes.append(self._problem(field, error))

    def _read_others(self, cells, values, notes, remarks):
        combined = cells.get("postcode_city")
        if combined is not None:
            postcode, city = postcode_city_split(cell_text(combined))
            values["postcode"] = values["postcode"] or postcode[:20]
            values["city"] = values["city"] or city[:100]
        if values["postcode"] and self._french_row(cells, values):
            values["postcode"] = self._french_postcode(values["postcode"], remarks)
        registration = cells.get("company_registration")
        if registration is not None:
            try:
                values["company_registration"] = registration_normalize(
                    cell_text(registration)
                )
            except InvalidValue as error:
                notes.append(self._problem("company_registration", error))

    def _french_row(self, cells: dict, values: dict) -> bool:
        """Return whether the row is French: its country, or else the job's.

        A row whose country cell names a country that was not recognised is
        not taken as French, so its postcode is left as written.
        """
        if values["country"]:
            return values["country"] == "FR"
        country_cell = cells.get("country")
        if country_cell is not None and cell_text(country_cell).strip():
            return False
        return self.region == "FR"

    def _french_postcode(self, postcode: str, remarks: list[str]) -> str:
        """Return a French postcode with a leading zero restored, noting a bad one.

        French postcodes have five digits. A spreadsheet that stores 01000
        as a number, or a CSV file saved from one, drops the leading zero,
        so four digits get it back. Any other form is kept as written, with
        a note, because the row's country may be wrong rather than the code.
        """
        compact = postcode.replace(" ", "")
        if compact.isascii() and compact.isdigit() and len(compact) in (4, 5):
            return compact.zfill(5)
        column = "postcode" if "postcode" in self.columns else "postcode_city"
        remarks.append(
            self._problem(
                column, _("not a French postcode of 5 digits, kept as written")
            )
        )
        return postcode

    def _read_collection_date(self, cells, values, notes) -> str | None:
        """Set ``collected_at`` from the row and return any reason to reject the row.

        The date gets the checks of the list's acquisition date. One later
        than the acquisition date or today is noted and left out, and the
        contact takes the acquisition date. One before 2000 or past the
        retention period rejects the row: the acquisition date would start
        a new retention period for data that the vendor dates far earlier.
        """
        collected = cells.get("collected_on")
        if collected is None:
            return None
        try:
            day = date_parse(collected, date1904=self.date1904)
        except InvalidValue as error:
            notes.append(self._problem("collected_on", error))
            return None
        date_text = _date_as_read(collected, day)

        if day < ACQUIRED_ON_EARLIEST:
            return self._problem(
                "collected_on",
                _(
                    "collection date %(date)s is before %(earliest)s, the "
                    "earliest date accepted, so the contact is too old to "
                    "import. Correct the date if it is wrong."
                )
                % {
                    "date": date_text,
                    "earliest": date_display(ACQUIRED_ON_EARLIEST),
                },
            )
        if day > self.latest_collection:
            # The pipeline then uses the list's acquisition date.
            notes.append(
                self._problem(
                    "collected_on",
                    _(
                        "collection date %(date)s is after %(latest)s, the "
                        "list's acquisition date or today"
                    )
                    % {
                        "date": date_text,
                        "latest": date_display(self.latest_collection),
                    },
                )
            )
            return None

        if self.removal_limit is not None:
            last_due_day, rule = self.removal_limit
            if day <= last_due_day:
                return self._problem(
                    "collected_on",
                    _(
                        "collection date %(date)s is too old, because the "
                        "retention rule “%(rule)s” would make the next retention "
                        "run remove this contact. Correct the date if it is "
                        "wrong. The earliest date accepted is %(earliest)s."
                    )
                    % {
                        "date": date_text,
                        "rule": rule,
                        "earliest": date_display(
                            last_due_day + datetime.timedelta(days=1)
                        ),
                    },
                )
        values["collected_at"] = timezone.make_aware(
            datetime.datetime.combine(day, datetime.time(12))
        )
        return None

    def _match_key(self, values) -> str:
        """Return the identity of the person for in-file deduplication.

        A personal address identifies the person. A generic address
        (contact@, info@) or a phone number is shared inside a company, so
        those keys include the name, in lower case without accents: two
        people behind one switchboard stay two contacts, and "Gaëlle" and
        "GAELLE" stay one.
        """
        email = values["email"]
        if email and not email_is_generic(email):
            return "e:" + email
        name = fold_search_text(f"{values['first_name']}|{values['last_name']}")
        if values["phone"]:
            return f"p:{values['phone']}|{name}"
        return f"g:{email}|{name}"

    def _rejected(self, values, reason: str, cells: dict) -> tuple:
        """Return the staging tuple of a rejected row, without its values.

        The hashes of the identifiers that can still be read stay, so that
        the classification can put a suppressed person's row under
        "suppressed": its cells then stay out of the rejected-rows download.
        """
        values.update(
            dict.fromkeys(
                ("email", "phone", "first_name", "last_name", "company", "city"), ""
            )
        )
        email_hashes, phone_hashes = self._readable_hashes(cells)
        values["email_hash"] = email_hashes[0] if email_hashes else ""
        values["phone_hash"] = phone_hashes[0] if phone_hashes else ""
        others = set(email_hashes[1:] + phone_hashes[1:])
        others.update(values["other_hashes"] or ())
        values["other_hashes"] = " ".join(sorted(others))
        values["outcome"] = REJECTED
        values["reason"] = reason
        return tuple(values[column] for column in STAGING_COLUMNS)

    def _readable_hashes(self, cells: dict) -> tuple[list[str], list[str]]:
        """Return the hashes of the e-mails and of the phones that the row's
        mapped cells still hold in a readable form, the first ones first."""
        email_hashes = []
        raw_email = cells.get("email")
        if raw_email is not None:
            text = cell_text(raw_email)
            address = email_display_name_remove(text) or text
            emails = email_candidates(address)
            email_hashes = [self._hash(email) for email in emails]
            email_hashes += [
                self._hash(email_without_subaddress(email))
                for email in emails
                if email_without_subaddress(email) != email
            ]
        phone_hashes: set[str] = set()
        ordered = []
        for field in ("mobile", "phone"):
            raw_phone = cells.get(field)
            if raw_phone is None:
                continue
            self._other_phone_hash(cell_text(raw_phone), self.region, phone_hashes)
            ordered.extend(sorted(phone_hashes - set(ordered)))
        return email_hashes, ordered

    def _other_column_hashes(self, cells: list) -> set[str]:
        """Return the hashes of the e-mails and phones in the row's unmapped
        identifier columns."""
        hashes: set[str] = set()
        width = len(cells)
        for index, kind in self.other_identifier_columns:
            if index >= width or cells[index] in (None, ""):
                continue
            text = cell_text(cells[index])
            if kind == "email":
                self._other_email_hashes(text, hashes)
            else:
                self._other_phone_hash(text, self.region, hashes)
        return hashes

    def _other_email_hashes(self, text: str, hashes: set[str]) -> None:
        """Add the hashes of the addresses in ``text``, with and without their
        sub-address ("+promo"), as the mapped e-mail column is checked."""
        for email in email_candidates(text):
            hashes.add(self._hash(email))
            base = email_without_subaddress(email)
            if base != email:
                hashes.add(self._hash(base))

    def _other_phone_hash(self, text: str, region: str, hashes: set[str]) -> None:
        """Add the hash of phone ``text`` to ``hashes`` when it reads as valid,
        or of each number it lists ("06 12 34 56 78 / 01 45 00 00 00")."""
        for part in (text, *_PHONE_LIST_SEPARATOR.split(text)):
            try:
                hashes.add(self._hash(self._phone(part, region)))
            except InvalidValue:
                continue
            if part == text:
                return


ENCODING_LABELS = {"utf-8": "UTF-8", "cp1252": "Windows-1252", "latin_1": "Latin-1"}


def _header_keys(cells) -> list[str]:
    """Return the comparison form of each cell, "" for an empty one: the
    field it names ("E-mail" and "Courriel" alike), else its normalised text."""
    keys = []
    for cell in cells:
        if cell in (None, ""):
            keys.append("")
            continue
        field = field_for_header(cell)
        keys.append(
            f"field:{field}" if field != IGNORE else normalize_header(cell_text(cell))
        )
    return keys


# Separators of several phone numbers written in one cell: punctuation, a
# line break (Alt+Enter in a spreadsheet), a spaced dash, or "ou".
_PHONE_LIST_SEPARATOR = re.compile(r"[/,;|\n]|\s+-\s+|\s+(?:ou|or|et|and)\s+")


def _names_own_identifier(header: str) -> bool:
    """Tell whether an e-mail or phone header names the person's own, with
    words such as "2", "pro" or "fixe" beside the field's words only."""
    words = normalize_header(header).replace("-", " ").split()
    return all(
        word in _IDENTIFIER_WORDS or word in _OWN_QUALIFIERS or word.isdigit()
        for word in words
    )


def _filled_width(cells: list) -> int:
    """Return the number of cells up to the last non-empty one."""
    width = len(cells)
    while width and not cell_text(cells[width - 1]).strip():
        width -= 1
    return width


def _numbered(keys: list[str]) -> list[tuple[str, int] | None]:
    """Return each key with its occurrence number, so that two columns
    named alike ("Phone", "Phone") keep their order; None for an empty one."""
    seen: dict[str, int] = {}
    numbered = []
    for key in keys:
        if not key:
            numbered.append(None)
            continue
        seen[key] = seen.get(key, 0) + 1
        numbered.append((key, seen[key]))
    return numbered


def _key_positions(keys: list[str]) -> dict:
    return {
        numbered: index
        for index, numbered in enumerate(_numbered(keys))
        if numbered is not None
    }


def _recoded_remark(encoding: str) -> str:
    return _(
        "read as %(encoding)s, unlike the rest of the file: check its accented letters"
    ) % {"encoding": ENCODING_LABELS.get(encoding, encoding)}


def _date_as_read(cell, day: datetime.date) -> str:
    """Return ``day`` for a message, with the cell's text when it differs.

    A two-digit year such as 01/01/00 then shows how it was read.
    """
    displayed = date_display(day)
    written = cell.strip() if isinstance(cell, str) else ""
    full_forms = {displayed, day.isoformat(), f"{day:%d/%m/%Y}"}
    if not written or written in full_forms:
        return displayed
    return _("%(written)s (read as %(date)s)") % {
        "written": written,
        "date": displayed,
    }
