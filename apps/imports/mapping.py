"""Column mapping: which column of a vendor file feeds which contact field.

Header text is compared after removing accents, case, punctuation, required
markers (``*``) and parenthesised notes, so ``"Adresse e-mail*"``,
``"ADRESSE MAIL"`` and ``"Zip (s.cp)"`` are all recognised.
"""

import re
import unicodedata
from collections import Counter
from typing import NamedTuple

from django.utils.text import capfirst
from django.utils.text import get_text_list
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

IGNORE = ""

# Registre fields that a column can feed, in the order the mapping form shows.
FIELD_CHOICES = [
    (IGNORE, _("(ignore this column)")),
    ("email", _("E-mail")),
    ("phone", _("Phone")),
    ("mobile", _("Mobile phone")),
    ("first_name", _("First name")),
    ("last_name", _("Last name")),
    ("full_name", _("Full name (first and last)")),
    ("job_title", _("Job title")),
    ("job_function", _("Job function")),
    ("company", _("Company")),
    ("company_registration", _("SIRET or SIREN")),
    ("postcode", _("Postcode")),
    ("city", _("City")),
    ("postcode_city", _("Postcode and city in one column")),
    ("country", _("Country")),
    ("collected_on", _("Collection date")),
]
FIELDS = {value for value, _label in FIELD_CHOICES if value}
FIELD_LABELS = dict(FIELD_CHOICES)
IDENTIFIER_FIELDS = {"email", "phone", "mobile"}
# Fields that place a contact in a business. A B2B list that maps none of them
# gets a warning.
PROFESSIONAL_FIELDS = {"company", "company_registration", "job_title", "job_function"}

# Normalised header text to field. Keys are the output of ``normalize_header``.
HEADER_SYNONYMS = {
    "email": [
        "email",
        "e mail",
        "mail",
        "courriel",
        "adresse mail",
        "adresse email",
        "adresse e mail",
        "adresse courriel",
        "adresses mails",
        "adresse electronique",
        "emailid",
        "email address",
        "e mail address",
        "mail address",
        "author email",
        "adresse electronique dossier",
        "contact email",
        "email contact",
    ],
    "phone": [
        "phone",
        "telephone",
        "tel",
        "tel fixe",
        "telephone fixe",
        "phone number",
        "numero de telephone",
        "n telephones",
        "n telephone",
        "no telephone",
        "numero telephone",
        "telephone professionnel",
        "tel pro",
        "business phone",
        "work phone",
        "numero telephone dossier",
        "ligne directe",
        "standard",
    ],
    "mobile": [
        "mobile",
        "portable",
        "tel portable",
        "telephone portable",
        "mobile phone",
        "cell",
        "cell phone",
        "gsm",
        "mobilephone",
        "tel mobile",
        "telephone mobile",
    ],
    "first_name": [
        "prenom",
        "first name",
        "firstname",
        "given name",
        "prenom beneficiaire",
        "prenom responsable dossier",
        "prenom contact",
        "contact first name",
    ],
    "last_name": [
        "nom",
        "last name",
        "lastname",
        "surname",
        "family name",
        "nom de famille",
        "nom beneficiaire",
        "nom responsable dossier",
        "nom contact",
        "contact last name",
        "nom d usage",
    ],
    "full_name": [
        "nom complet",
        "full name",
        "contact name",
        "contact",
        "nom et prenom",
        "prenom et nom",
        "interlocuteur",
    ],
    "job_title": [
        "fonction",
        "poste",
        "titre",
        "job title",
        "title",
        "intitule de poste",
        "position",
        "role contact",
        # The job title in Zoho contacts exports.
        "designation",
    ],
    "job_function": [
        "service",
        "departement",
        "department",
        "job function",
        "metier",
    ],
    "company": [
        "societe",
        "raison sociale",
        "entreprise",
        "company",
        "company name",
        "organisation",
        "organization",
        "employeur",
        "etablissement",
        "denomination",
        "nom de l entreprise",
        "nom societe",
    ],
    "company_registration": [
        "siret",
        "siren",
        "numero siret",
        "n siret",
        "idprof1",
        "company number",
    ],
    "postcode": [
        "code postal",
        "cp",
        "postcode",
        "postal code",
        "zip",
        "zip code",
        "billing code",
        "billing postal code",
        "code postal ville",
    ],
    "city": ["ville", "city", "commune", "localite", "town", "billing city"],
    "postcode_city": ["cp ville", "code postal et ville"],
    "country": ["pays", "country", "billing country", "code pays", "country code"],
    "collected_on": [
        "date de collecte",
        "collecte le",
        "date collecte",
        "collected on",
        "collection date",
        "date optin",
        "date opt in",
        "date d inscription",
    ],
}
SYNONYM_TO_FIELD = {
    synonym: field
    for field, synonyms in HEADER_SYNONYMS.items()
    for synonym in synonyms
}

# Headers that feed a field only when no other column names it. A French
# pupil or staff export gives both the family name ("Nom de famille") and the
# married or chosen name ("Nom d'usage"). The family name identifies the
# person.
SECONDARY_HEADERS = {"nom d usage"}
# Words that mark a header as a second or backup column ("Téléphone 2",
# "Autre téléphone"), which never replaces the main one.
SECONDARY_HEADER_WORDS = {"2", "3", "secondaire", "autre", "other", "second"}

# A bare "Name" is a company in exports of companies (Dolibarr's third
# parties, Invoice Ninja's clients) and a person elsewhere. It is mapped to
# the company only when person-name columns sit beside it or the file has a
# company registration number.
COMPANY_NAME_HEADERS = {"name"}
PERSON_NAME_FIELDS = {"first_name", "last_name", "full_name"}

# Columns that must never be imported: special categories or national
# identifiers have no place in a prospect database (GDPR Art. 9 and 87).
FORBIDDEN_HEADERS = {
    "nir",
    "numero de securite sociale",
    "securite sociale",
    "n securite sociale",
    "social security number",
    "ssn",
    "numero insee",
}


def normalize_header(text) -> str:
    """Return the comparison form of a header cell (see the module docstring)."""
    value = unicodedata.normalize("NFKD", str(text or ""))
    value = "".join(char for char in value if not unicodedata.combining(char))
    value = re.sub(r"\(.*?\)|\[.*?\]", " ", value.lower())
    value = value.replace("°", " ")
    value = re.sub(r"[^a-z0-9]+", " ", value)
    return " ".join(value.split())


def field_for_header(text) -> str:
    """Return the field that a header names, or ``IGNORE`` when none fits."""
    key = normalize_header(text)
    if not key or _is_forbidden_key(key):
        return IGNORE
    if key in SYNONYM_TO_FIELD:
        return SYNONYM_TO_FIELD[key]
    words = set(key.split())
    # Long cells are titles or instructions, and billing, shipping or fax
    # columns describe the company, not the person.
    if len(words) > 5 or words & {"billing", "shipping", "fax", "livraison"}:
        return IGNORE
    if words & {"portable", "mobile", "gsm"}:
        return "mobile"
    if words & {"email", "courriel", "mail", "mails", "emails"}:
        return "email"
    if words & {"telephone", "telephones", "tel", "phone"}:
        return "phone"
    return IGNORE


# Words and phrases of normalised headers that name a social-security number.
# "insee" alone is left out, because "Code INSEE" is a town's code.
FORBIDDEN_HEADER_WORDS = {"nir", "nia", "secu", "ssn"}
FORBIDDEN_HEADER_PHRASES = (
    "securite sociale",
    "social security",
    "inscription au repertoire",
)
# Headers written without spaces or with dots: "NumSecu", "N° S.S.".
FORBIDDEN_COMPACT_PARTS = ("secu",)
FORBIDDEN_COMPACT_HEADERS = {"nss", "noss", "numss"}
FORBIDDEN_HEADER_NUMBERS = {"ss", "insee"}
NUMBER_WORDS = {"n", "no", "num", "numero", "number"}


def _is_forbidden_key(key: str) -> bool:
    """Return whether a normalised header names a social-security number."""
    words = key.split()
    if key in FORBIDDEN_HEADERS or FORBIDDEN_HEADER_WORDS & set(words):
        return True
    if any(phrase in key for phrase in FORBIDDEN_HEADER_PHRASES):
        return True
    compact = key.replace(" ", "")
    if compact in FORBIDDEN_COMPACT_HEADERS:
        return True
    if any(part in compact for part in FORBIDDEN_COMPACT_PARTS):
        return True
    # "N° SS", "Numéro INSEE": a number word before "ss" or "insee".
    return any(
        word in FORBIDDEN_HEADER_NUMBERS and index and words[index - 1] in NUMBER_WORDS
        for index, word in enumerate(words)
    )


def is_forbidden_header(text) -> bool:
    """Return whether a header names a social-security number (NIR)."""
    return _is_forbidden_key(normalize_header(text))


def is_nir(text: str) -> bool:
    """Return whether ``text`` is a French social-security number with a valid key.

    A NIR has 13 characters and a 2-digit key, spaces and dots allowed. Its first
    digit is 1 to 4, 7 or 8 here, and its department may be 2A or 2B
    (Corsica), which count as 19 and 18. The key is 97 minus the first 13
    digits modulo 97.
    """
    # NOTE: a NIR written without its key (13 characters) is not recognised,
    # because without the key nothing tells it from other 13-digit numbers.
    compact = "".join(text.replace(".", " ").split()).upper()
    if len(compact) != 15 or compact[0] not in "123478":
        return False
    body = compact[:13].replace("2A", "19", 1).replace("2B", "18", 1)
    key = compact[13:]
    if not (body.isascii() and body.isdigit() and key.isascii() and key.isdigit()):
        return False
    return 97 - int(body) % 97 == int(key)


def saved_mapping_keys(headers: list) -> list[str]:
    """Return the key of each column in a vendor's saved mapping.

    The key is the header's text; a header repeated in the file gets its
    occurrence after the first: the second "Phone" column is "Phone#2".
    """
    seen: Counter = Counter()
    keys = []
    for header in headers:
        text = str(header).strip()
        seen[text] += 1
        keys.append(text if seen[text] == 1 else f"{text}#{seen[text]}")
    return keys


def mapping_guess(headers: list, saved: dict | None = None) -> dict[str, str]:
    """Return ``{column index as text: field}`` for the recognised columns.

    A header found in ``saved`` (a vendor's saved mapping, keyed by
    ``saved_mapping_keys``) wins over the synonyms. Each field feeds from one
    column only: when two columns name the same field, the last one is kept,
    because exports such as Invoice Ninja's list the company's columns before
    the contact's under the same header. The preview and the ``import_contacts`` command
    show ``duplicate_header_warnings`` for the columns left out that way. A
    ``SECONDARY_HEADERS`` column, or one with a ``SECONDARY_HEADER_WORDS``
    word, never replaces another. A bare "Name" column
    becomes the company as described at ``COMPANY_NAME_HEADERS``.
    """
    saved = saved or {}
    by_field: dict[str, str] = {}
    company_name_columns = []
    keys = saved_mapping_keys(headers)
    for index, header in enumerate(headers):
        if is_forbidden_header(header):
            continue
        field = saved.get(keys[index], None)
        if field is None:
            field = field_for_header(header)
            key = normalize_header(header)
            if key in COMPANY_NAME_HEADERS:
                company_name_columns.append(str(index))
            secondary = key in SECONDARY_HEADERS or bool(
                set(key.split()) & SECONDARY_HEADER_WORDS
            )
            if secondary and field in by_field:
                continue
        if field and field in FIELDS:
            by_field[field] = str(index)
    names_a_company = PERSON_NAME_FIELDS & by_field.keys() or (
        "company_registration" in by_field
    )
    if company_name_columns and "company" not in by_field and names_a_company:
        by_field["company"] = company_name_columns[0]
    return {
        index: field
        for field, index in sorted(by_field.items(), key=lambda item: int(item[1]))
    }


class MappingProblem(NamedTuple):
    """A reason why a mapping is unusable, with the 0-based columns at fault."""

    message: str
    columns: tuple[int, ...] = ()


def mapping_problems(
    mapping: dict[str, str], column_count: int, *, headers: list | None = None
) -> list[str]:
    """Return what makes ``mapping`` unusable, as messages for the user.

    Columns are named by their position counted from 1, with their header
    when ``headers`` is given.
    """
    located = mapping_problems_with_columns(mapping, column_count, headers=headers)
    return [problem.message for problem in located]


def mapping_problems_with_columns(
    mapping: dict[str, str], column_count: int, *, headers: list | None = None
) -> list[MappingProblem]:
    """Return the problems of ``mapping_problems`` with the columns at fault.

    A problem of no single column, such as a mapping without an e-mail or
    phone column, or a column past the file's last one, has no columns.
    """
    problems = []
    columns_by_field: dict[str, list[int]] = {}
    for index, field in mapping.items():
        if field and index.isdigit():
            columns_by_field.setdefault(field, []).append(int(index))
    for field, columns in sorted(columns_by_field.items()):
        if len(columns) < 2:
            continue
        names = [_column_with_header(headers, index) for index in sorted(columns)]
        message = gettext(
            "%(columns)s are mapped to “%(field)s”, but a field takes one "
            "column only. Keep one of them and set the others to "
            "“%(ignore)s”."
        ) % {
            "columns": capfirst(get_text_list(names, gettext("and"))),
            "field": FIELD_LABELS.get(field, field),
            "ignore": FIELD_LABELS[IGNORE],
        }
        problems.append(MappingProblem(message, tuple(sorted(columns))))
    fields = [field for field in mapping.values() if field]
    for index, field in mapping.items():
        in_file = index.isdigit() and int(index) < column_count
        columns = (int(index),) if in_file else ()
        if field and _holds_forbidden_data(headers, index):
            message = gettext(
                "%(column)s holds social-security numbers, which a prospect "
                "database may not keep: set it to “%(ignore)s”."
            ) % {
                "column": capfirst(_column_with_header(headers, int(index))),
                "ignore": FIELD_LABELS[IGNORE],
            }
            problems.append(MappingProblem(message, columns))
        if field and field not in FIELDS:
            column = (
                _column_with_header(headers, int(index))
                if in_file
                else gettext("column %(index)s") % {"index": index}
            )
            message = str(
                _(
                    "Unknown field %(field)s for %(column)s: use one of "
                    "%(fields)s, or leave the column out."
                )
            ) % {
                "field": field,
                "column": column,
                "fields": ", ".join(value for value, _label in FIELD_CHOICES if value),
            }
            problems.append(MappingProblem(message, columns))
        if not in_file:
            message = str(_("Column %(column)s does not exist in the file.")) % {
                "column": index
            }
            problems.append(MappingProblem(message))
    if not IDENTIFIER_FIELDS & set(fields):
        message = str(
            _(
                "No column is mapped to an e-mail address or a phone number, "
                "so no row could be matched or checked against the "
                "suppression list. Map at least one of them."
            )
        )
        problems.append(MappingProblem(message))
    return problems


def _holds_forbidden_data(headers: list | None, index: str) -> bool:
    if not headers or not index.isdigit() or int(index) >= len(headers):
        return False
    return is_forbidden_header(headers[int(index)])


def _column_name(index: int) -> str:
    return gettext("column %(number)d") % {"number": index + 1}


def _column_with_header(headers: list | None, index: int) -> str:
    header = headers[index] if headers and index < len(headers) else ""
    if not header:
        return _column_name(index)
    return gettext("column %(number)d (“%(header)s”)") % {
        "number": index + 1,
        "header": header,
    }


def column_label(headers: list, index: int) -> str:
    """Return the name of column ``index`` (0-based) for the user.

    The name is the column's header, followed by its position counted from 1
    when another column has the same header ("Phone (column 5)"), or only the
    position when the header is empty.
    """
    header = headers[index] if index < len(headers) else ""
    if not header:
        return _column_name(index)
    if headers.count(header) > 1:
        return gettext("%(header)s (column %(number)d)") % {
            "header": header,
            "number": index + 1,
        }
    return header


def column_labels(headers: list) -> list[str]:
    """Return ``column_label`` of every column, in order."""
    return [column_label(headers, index) for index in range(len(headers))]


def duplicate_header_groups(headers: list) -> list[list[int]]:
    """Return the 0-based indexes of the columns sharing each non-empty header."""
    groups: dict[str, list[int]] = {}
    for index, header in enumerate(headers):
        if header:
            groups.setdefault(header, []).append(index)
    return [columns for columns in groups.values() if len(columns) > 1]


def duplicate_header_warnings(headers: list, mapping: dict[str, str]) -> list[str]:
    """Return a warning for each header shared by columns that may lose data.

    Each field takes one column, so when columns share a header and one of
    them feeds a field, the others are ignored. The warning names the columns
    by position and states which field each feeds. Columns that share a
    header naming no field and are all ignored (two "Notes" columns) get no
    warning.
    """
    warnings = []
    for columns in duplicate_header_groups(headers):
        header = headers[columns[0]]
        fields = [mapping.get(str(index), IGNORE) for index in columns]
        if all(fields) or not (any(fields) or field_for_header(header)):
            continue
        names = [_column_name(index) for index in columns]
        if len(columns) == 2:
            shared = gettext(
                "Two columns have the same header (%(columns)s, both “%(header)s”)."
            )
        else:
            shared = gettext(
                "%(count)d columns have the same header (%(columns)s, all "
                "“%(header)s”)."
            )
        shared = shared % {
            "count": len(columns),
            "columns": get_text_list(names, gettext("and")),
            "header": header,
        }
        uses = []
        for name, field in zip(names, fields, strict=True):
            if field:
                use = gettext("%(column)s feeds “%(field)s”") % {
                    "column": name,
                    "field": FIELD_LABELS.get(field, field),
                }
            else:
                use = gettext("%(column)s is ignored") % {"column": name}
            uses.append(use)
        uses_text = capfirst(get_text_list(uses, gettext("and")))
        warnings.append(f"{shared} {uses_text}.")
    return warnings


def competing_header_warnings(headers: list, mapping: dict[str, str]) -> list[str]:
    """Return a warning for each ignored column whose header names a mapped field.

    "Mail" and "Mail pro" both name the e-mail field, which takes one column,
    so one of them is ignored without any sign on the page. Columns sharing
    the very same header are left to ``duplicate_header_warnings``.
    """
    column_of_field = {field: int(index) for index, field in mapping.items() if field}
    warnings = []
    for index, header in enumerate(headers):
        field = field_for_header(header) if header else ""
        if not field or mapping.get(str(index)):
            continue
        used = column_of_field.get(field)
        if used is None or used == index or headers[used] == header:
            continue
        warning = gettext(
            "%(column)s also looks like “%(field)s”, which is read from "
            "%(used)s, so it is ignored. Choose it for that field if it holds "
            "the better value."
        ) % {
            "column": _column_with_header(headers, index),
            "field": FIELD_LABELS.get(field, field),
            "used": _column_with_header(headers, used),
        }
        warnings.append(capfirst(warning))
    return warnings


def professional_detail_warning(mapping: dict[str, str]) -> str:
    """Return a warning when a B2B list's mapping has no business column, or "".

    Prospecting on an opt-out basis is allowed for people reached in their
    profession. A file without a company, SIRET, job title or job function
    column may well list private individuals, who must have given consent.
    """
    if PROFESSIONAL_FIELDS & set(mapping.values()):
        return ""
    return gettext(
        "No column is mapped to a company, a SIRET or SIREN, a job title or a "
        "job function, so nothing shows that these people are reached in their "
        "profession. Map such a column if the file has one. If the file lists "
        "private individuals, cancel this import: they can be prospected only "
        "in a B2C list with their consent."
    )


def header_warnings(headers: list, mapping: dict[str, str]) -> list[str]:
    """Return the warnings about columns that a mapping leaves out."""
    return duplicate_header_warnings(headers, mapping) + competing_header_warnings(
        headers, mapping
    )
