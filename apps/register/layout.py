"""The register's spreadsheet layout, shared by the exports and the import.

The workbook follows the CNIL's simplified register template: a summary sheet
listing the activities ("Liste des traitements") and one record sheet per
activity ("fiche de registre") with labels in column A and values in column B,
followed by one table per part. Labels are the template's French wording.
"""

import datetime
import re
import unicodedata
from typing import NamedTuple

from django.utils import timezone
from django.utils import translation

from apps.core.models import Organisation
from apps.register.models import LawfulBasis
from apps.register.models import ProcessingActivity
from apps.register.models import RetentionRule
from apps.register.models import Sensitivity
from apps.register.models import Transfer

SUMMARY_TITLE = "Registre des activités de traitement"
# GDPR Art. 30(2): a processor records the categories of processing it carries
# out on behalf of each controller, in the words of the French text.
PROCESSOR_SUMMARY_TITLE = (
    "Registre des catégories d'activités de traitement effectuées pour le "
    "compte de responsables de traitement (article 30.2 du RGPD)"
)
# The page header of the PDF has room for a short title only.
PROCESSOR_SHORT_TITLE = "Registre du sous-traitant (article 30.2 du RGPD)"
SUMMARY_SHEET = "Liste des traitements"
RECORD_TITLE = "Fiche de registre"
# The label of the export's date and time, which the import compares with the
# activities' last change. The CSV has it in a column of each activity row.
EXPORT_TIME_LABEL = "Date de l'export"
CONTROLLER_LABEL = "Responsable de traitement"
PROCESSOR_LABEL = "Sous-traitant"
CONTROLLERS_SERVED_LABEL = "Responsables pour le compte desquels nous agissons"

# Labels that earlier exports gave to record fields, which the import still reads.
FORMER_RECORD_LABELS = {"Responsable de la fiche (identifiant)": "owner"}

# Activity fields of a record sheet: (field, label, kind).
# Registre maintains the dates of ``MAINTAINED_FIELDS`` itself, so the import
# reads them but does not write them.
RECORD_FIELDS = [
    ("name", "Nom du traitement", "text"),
    ("reference", "N° / RÉF", "text"),
    ("started_on", "Date de création du traitement", "date"),
    ("created_at", "Date de création de la fiche", "date"),
    ("updated_at", "Mise à jour de la fiche", "date"),
    ("description", "Description du traitement", "text"),
    ("role", "Rôle de l'organisme", "role"),
    ("joint_controllers", "Responsable(s) conjoint(s)", "text"),
    ("controllers_served", CONTROLLERS_SERVED_LABEL, "text"),
    ("purposes", "Finalité(s) du traitement effectué", "text"),
    ("lawful_basis", "Base légale", "lawful_basis"),
    ("legitimate_interest", "Intérêt légitime poursuivi", "text"),
    (
        "concerns_recipients_profession",
        "Messages en rapport avec la profession du destinataire",
        "bool",
    ),
    (
        "special_category_condition",
        "Condition de l'article 9 (données sensibles)",
        "text",
    ),
    ("criminal_data_authority", "Fondement de l'article 10 (infractions)", "text"),
    ("data_sources", "Sources des données", "text"),
    ("security_measures", "Mesures de sécurité", "text"),
    ("dpia_required", "AIPD requise", "optional_bool"),
    ("dpia_done", "AIPD réalisée", "bool"),
    ("dpia_reference", "Référence de l'AIPD", "text"),
    ("status", "Statut", "status"),
    ("retired_on", "Date de retrait", "date"),
    ("owner", "Responsable de la fiche", "owner"),
    ("last_reviewed_on", "Dernière revue", "date"),
    ("next_review_on", "Prochaine revue", "date"),
]

MAINTAINED_FIELDS = {"updated_at", "retired_on"}

# Part tables of a record sheet: part -> (title, [(field, header, kind)]).
PART_TABLES = {
    "data_subjects": (
        "Catégories de personnes concernées",
        [("label", "Catégorie", "text"), ("details", "Précisions", "text")],
    ),
    "data_categories": (
        "Catégories de données personnelles concernées",
        [
            ("label", "Catégorie", "text"),
            ("details", "Description", "text"),
            ("sensitivity", "Sensibilité", "sensitivity"),
        ],
    ),
    "recipients": (
        "Destinataires",
        [
            ("label", "Type de destinataire", "text"),
            ("details", "Précisions", "text"),
            ("third_country", "Pays tiers ou organisation internationale", "bool"),
        ],
    ),
    "processors": (
        "Sous-traitants",
        [
            ("name", "Sous-traitant", "text"),
            ("service", "Prestation", "text"),
            ("country", "Pays", "text"),
            ("dpa_signed_on", "Contrat de sous-traitance signé le", "date"),
        ],
    ),
    "transfers": (
        "Transferts hors UE",
        [
            ("recipient", "Destinataire", "text"),
            ("country", "Pays", "text"),
            ("safeguard", "Type de garanties", "safeguard"),
            ("documentation", "Liens vers la documentation", "text"),
        ],
    ),
    "retention_rules": (
        "Durées de conservation",
        [
            ("data_category", "Catégorie de données", "text"),
            ("record_type", "Enregistrements concernés", "record_type"),
            ("duration", "Durée", "int"),
            ("unit", "Unité", "unit"),
            ("start_event", "Point de départ", "start_event"),
            ("start_event_other", "Point de départ (autre, en clair)", "text"),
            ("action", "À l'échéance", "action"),
            ("notes", "Notes", "text"),
        ],
    ),
}

CHOICES = {
    "role": ProcessingActivity.Role,
    "lawful_basis": LawfulBasis,
    "status": ProcessingActivity.Status,
    "sensitivity": Sensitivity,
    "safeguard": Transfer.Safeguard,
    "record_type": RetentionRule.RecordType,
    "unit": RetentionRule.Unit,
    "start_event": RetentionRule.StartEvent,
    "action": RetentionRule.Action,
}

YES = "Oui"
NO = "Non"
UNKNOWN = "À décider"


def sensitive_data_label(activity: ProcessingActivity) -> str:
    """Return the summary's "Données sensibles ?" value: "Oui" when a data
    category of ``activity`` is special (Art. 9) or criminal (Art. 10)."""
    sensitive = any(
        item.sensitivity != Sensitivity.STANDARD
        for item in activity.data_categories.all()
    )
    return YES if sensitive else NO


def normalize_label(value) -> str:
    """Return a comparable form of a label: NFKC, lower case, plain apostrophes,
    single spaces, without a trailing colon."""
    text = unicodedata.normalize("NFKC", str(value or ""))
    text = text.replace("’", "'").replace("\u00a0", " ").lower()
    text = re.sub(r"\s+", " ", text).strip()
    return text.rstrip(" :").strip()


def choice_label(kind: str, value: str) -> str:
    """Return the French label of a choice, as the exports write it."""
    if not value:
        return ""
    with translation.override("fr"):
        return str(CHOICES[kind](value).label)


def choice_lookup(kind: str) -> dict[str, str]:
    """Map every accepted spelling of a choice (code, French, English) to its code."""
    lookup: dict[str, str] = {}
    for value in CHOICES[kind].values:
        lookup[normalize_label(value)] = value
        for language in ("fr", "en"):
            with translation.override(language):
                lookup[normalize_label(CHOICES[kind](value).label)] = value
    return lookup


def format_value(kind: str, value):
    """Return the cell value of a field for the spreadsheet exports."""
    if kind == "bool":
        return YES if value else NO
    if kind == "optional_bool":
        if value is None:
            return UNKNOWN
        return YES if value else NO
    if kind == "owner":
        return owner_text(value)
    if kind == "date":
        if isinstance(value, datetime.datetime):
            return timezone.localtime(value).date()
        return value
    if kind in CHOICES:
        return choice_label(kind, value)
    return value if value is not None else ""


def owner_text(user) -> str:
    """Return the person in charge as "Full Name (login)", or the login alone.

    The import reads the login back from the brackets.
    """
    if user is None:
        return ""
    full_name = user.get_full_name().strip()
    if full_name:
        return f"{full_name} ({user.get_username()})"
    return user.get_username()


def record_labels() -> dict[str, tuple[str, str]]:
    """Return each record field's ``(name, kind)`` under its normalised label,
    former labels included."""
    kinds = {name: (name, kind) for name, _label, kind in RECORD_FIELDS}
    labels = {normalize_label(label): kinds[name] for name, label, _k in RECORD_FIELDS}
    for label, name in FORMER_RECORD_LABELS.items():
        labels[normalize_label(label)] = kinds[name]
    return labels


def register_titles(*, processor_record: bool) -> tuple[str, str]:
    """Return the register's title and the short one for page headers.

    ``processor_record`` selects the processor's record (Art. 30(2)) instead
    of the controller's (Art. 30(1)).
    """
    if processor_record:
        return PROCESSOR_SUMMARY_TITLE, PROCESSOR_SHORT_TITLE
    return SUMMARY_TITLE, SUMMARY_TITLE


class RecordPart(NamedTuple):
    """One record of an export: the controller's (Art. 30(1)) or the
    processor's (Art. 30(2)), with its activities."""

    processor_record: bool
    activities: list


def record_parts(activities, *, processor_record: bool) -> list[RecordPart]:
    """Return the records that ``activities`` make up, the controller's first.

    An organisation that is both controller and processor keeps two records
    under Art. 30, so an export that mixes both roles gets both, each with its
    own title and identity block. ``processor_record`` makes the whole export
    the processor's record, even without activities.
    """
    activities = list(activities)
    if processor_record:
        return [RecordPart(True, activities)]
    served = [a for a in activities if a.role == ProcessingActivity.Role.PROCESSOR]
    own = [a for a in activities if a.role != ProcessingActivity.Role.PROCESSOR]
    parts = [RecordPart(False, own)] if own or not served else []
    if served:
        parts.append(RecordPart(True, served))
    return parts


def organisation_rows(
    organisation: Organisation,
    *,
    processor_record: bool = False,
    exported_at: datetime.datetime | None = None,
) -> list[list]:
    """Return the organisation's identity block, as the CNIL template opens with.

    The organisation is the controller, or the processor in the processor's
    record (Art. 30(2)(a)), whose activities then name the controllers served.
    The last row is the export's local date and time, ``exported_at`` or now.
    """
    dpo = (
        organisation.dpo_name,
        organisation.dpo_email,
        organisation.dpo_phone,
        ", ".join(
            line.strip()
            for line in organisation.dpo_address.splitlines()
            if line.strip()
        ),
    )
    role = PROCESSOR_LABEL if processor_record else CONTROLLER_LABEL
    return [
        [f"{role} :", organisation.name],
        ["Numéro d'immatriculation :", organisation.registration_number],
        ["Adresse :", organisation.address],
        ["Téléphone :", organisation.phone],
        ["Adresse mél :", organisation.email],
        ["Représentant légal :", organisation.legal_representative],
        ["Représentant dans l'UE :", organisation.eu_representative],
        [
            "Délégué à la protection des données (DPO) :",
            " · ".join(part for part in dpo if part),
        ],
        [f"{EXPORT_TIME_LABEL} :", exported_at or export_time()],
    ]


def organisation_labels() -> set[str]:
    """Return the normalised labels of the identity block, for the CSV reader."""
    labels = {
        normalize_label(label)
        for label, _value in organisation_rows(Organisation(), processor_record=False)
    }
    return labels | {normalize_label(PROCESSOR_LABEL)}


def export_time() -> datetime.datetime:
    """Return the local time now, rounded up to the second, without a time zone.

    Spreadsheet cells have no time zone, so the exports write local time and
    the import reads it back in the project's time zone. Rounding up keeps an
    activity saved in the second before the export from counting as changed
    after it. NOTE: a save in the rest of the export's second counts as made
    before it, so a re-import would overwrite it without a warning.
    """
    now = timezone.localtime().replace(tzinfo=None)
    if now.microsecond:
        now += datetime.timedelta(seconds=1)
    return now.replace(microsecond=0)
