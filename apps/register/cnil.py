"""Reading one record sheet ("fiche de registre") of the CNIL's register template.

The template is a vertical form with a label in column A and the value in
column B. Each section starts with a long help text in column A whose last line
is the heading, such as "Catégories de personnes concernées". Numbered rows
follow ("Catégorie de personnes 1"), with the value in B and details in E.
Drop-down cells show "Sélectionnez un élément dans cette liste" until a value
is chosen, so the reader skips that placeholder.
"""

import re

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core.text import text_shortened
from apps.register.cells import ERROR
from apps.register.cells import INFO
from apps.register.cells import WARNING
from apps.register.cells import cell_text
from apps.register.cells import cell_value
from apps.register.cells import last_line
from apps.register.layout import normalize_label
from apps.register.models import ProcessingActivity
from apps.register.models import RetentionRule
from apps.register.models import Sensitivity
from apps.register.models import Transfer

# Section headings (last line of column A, normalised) and the section they open.
SECTIONS = {
    "acteurs": "actors",
    "description du traitement": "description",
    "finalité(s) du traitement effectué": "purposes",
    "catégories de données personnelles concernées": "data",
    "données sensibles": "sensitive",
    "catégories de personnes concernées": "subjects",
    "destinataires": "recipients",
    "mesures de sécurité": "security",
    "transferts hors ue": "transfers",
}

SAFEGUARDS = {
    "clauses contractuelles types (cct)": Transfer.Safeguard.SCC,
    "clauses contractuelles types": Transfer.Safeguard.SCC,
    "règles d'entreprise contraignantes (bcr)": Transfer.Safeguard.BCR,
    "règles d'entreprise contraignantes": Transfer.Safeguard.BCR,
    "pays adéquat": Transfer.Safeguard.ADEQUACY,
    "décision d'adéquation": Transfer.Safeguard.ADEQUACY,
    "code de conduite": Transfer.Safeguard.CODE_OF_CONDUCT,
    "certification": Transfer.Safeguard.CERTIFICATION,
    "dérogations (art 49)": Transfer.Safeguard.DEROGATION,
    "dérogations": Transfer.Safeguard.DEROGATION,
}

# "1 an et 6 mois ...": a period of years and months, counted in months.
_YEARS_AND_MONTHS = re.compile(
    r"^(?P<years>\d+)\s*(?:ans?|années?)\s*(?:et|,)?\s*"
    r"(?P<months>\d+)\s*mois\b\s*(?P<rest>.*)$"
)
# "1 an et demi", "1 an 1/2" or "1 an ½" (1⁄2 once NFKC-normalised): a year
# and a half, counted in months.
_YEARS_AND_HALF = re.compile(
    r"^(?P<years>\d+)\s*(?:ans?|années?)(?:\s+et\s+demie?\b|\s*1\s*[/⁄]\s*2)"
    r"\s*(?P<rest>.*)$"
)
# "Jusqu'à la fin de la relation commerciale + 3 ans": the event first.
_UNTIL_EVENT_PLUS = re.compile(
    r"^jusqu'\s*(?:à|au|aux)\s+(?:la\s+|l')?(?P<event>.+?)\s*\+\s*"
    r"(?P<duration>\d+)\s*(?P<unit>ans?|années?|mois|jours?)\b[\s.]*$"
)
_RETENTION = re.compile(
    r"^(?P<duration>\d+)\s*(?P<unit>ans?|années?|mois|jours?)\b[\s,]*"
    r"(?:(?:à compter|à partir|après)\s+)?"
    # The preposition is left out ("du versement de la paie" gives "versement
    # de la paie"), because the rule's sentence quotes an event typed in words.
    r"(?:(?:du|des|de)\s+|d')?"
    r"(?P<event>.*)$"
)
# The words that introduce a start event, left alone at the end of a period.
_BARE_PREPOSITIONS = frozenset(
    {
        "après",
        "de",
        "du",
        "des",
        "d",
        "à compter",
        "à compter de",
        "à partir",
        "à partir de",
        "dès",
        "depuis",
    }
)
_UNITS = {"an": "years", "ans": "years", "année": "years", "années": "years"}
_UNITS |= {"mois": "months", "jour": "days", "jours": "days"}

# The template's rows of contact details that the organisation profile
# replaces, with the words that follow "The contact details" in the message.
# They are whole phrases because French merges "de" with the article ("du").
_ACTOR_ROWS = {
    "responsable du traitement": gettext_lazy("of the controller"),
    "délégué à la protection des données": gettext_lazy(
        "of the data protection officer"
    ),
    "société du dpo (si celui-ci est externe)": gettext_lazy("of the DPO's company"),
    "représentant": gettext_lazy("of the representative"),
}

PLACEHOLDER = "sélectionnez un élément dans cette liste"


def _is_placeholder(text: str) -> bool:
    return normalize_label(text).startswith(PLACEHOLDER)


class CnilRecordReader:
    """Read one CNIL record sheet through a ``RegisterParser`` (for its problems)."""

    def __init__(self, parser, sheet):
        self.parser = parser
        self.sheet = sheet
        self.fields: dict = {"status": ProcessingActivity.Status.DRAFT}
        self.parts: dict[str, list[dict]] = {
            "data_subjects": [],
            "data_categories": [],
            "recipients": [],
            "transfers": [],
            "retention_rules": [],
        }
        self.purposes: list[str] = []
        self.security: list[str] = []
        self.created_on = None
        self.reference_row = 0
        # The cell each value was read from, keyed as in
        # ``ParsedActivity.locations``.
        self.locations: dict = {}
        # The current section's heading row, whose columns B to F hold the
        # headers of the rows below it.
        self.heading: list = []

    def text(self, row, column) -> str:

        value = cell_text(cell_value(row, column))
        return "" if _is_placeholder(value) else value

    def problem(self, level, row_index, column_index, message) -> None:
        self.parser._problem(level, self.sheet, row_index, column_index, message)

    def locate(self, key, row_index, column_index, row=None) -> None:
        """Record the cell of a value, with the heading of its column, or the
        label in column A of ``row`` for a single value."""
        if row is not None:
            header = last_line(cell_value(row, 0))
        else:
            header = last_line(cell_value(self.heading, column_index))
        self.parser._locate(
            self.locations, key, self.sheet, row_index, column_index, header
        )

    def read(self):

        section = None
        for index, row in enumerate(self.sheet.rows):
            label = normalize_label(last_line(row[0] if row else None))
            if label in SECTIONS:
                section = SECTIONS[label]
                self.heading = row
                continue
            if label == "nom du traitement":
                self.fields["name"] = self.text(row, 1)
                self.locate((None, None, "name"), index, 1, row)
                self.reference_row = index
            elif label == "n° / réf":
                self.fields["reference"] = self.text(row, 1)
                self.locate((None, None, "reference"), index, 1, row)
            elif label == "date de création du traitement":
                self.created_on = self.parser._convert(
                    "date", row[1] if len(row) > 1 else None, self.sheet, index, 1
                )
                if self.created_on is not None:
                    self.fields["started_on"] = self.created_on
            elif label == "mise à jour du traitement":
                # The template's last update of the record is its last review.
                updated_on = self.parser._convert(
                    "date", row[1] if len(row) > 1 else None, self.sheet, index, 1
                )
                if updated_on is not None:
                    self.fields["last_reviewed_on"] = updated_on
                    self.locate((None, None, "last_reviewed_on"), index, 1, row)
            elif section is not None and label:
                self._section_row(section, label, index, row)

        if not self.fields.get("name"):
            self.problem(
                INFO,
                None,
                None,
                _("Sheet skipped: 'Nom du traitement' is empty (a blank model sheet)."),
            )
            return None
        self.fields["purposes"] = "\n".join(self.purposes)
        self.fields["security_measures"] = "\n".join(self.security)
        self.problem(
            WARNING,
            self.reference_row,
            None,
            _(
                "The CNIL template has no lawful basis, status or owner: the "
                "activity %(reference)s is imported as a draft; choose its lawful "
                "basis on its page. Its retention rules end with deletion, "
                "because the template does not say what happens at the end."
            )
            % {"reference": self.fields.get("reference") or self.fields["name"]},
        )
        return self.parser._finish(
            self.sheet,
            self.reference_row,
            self.fields,
            self.parts,
            self.created_on,
            locations=self.locations,
        )

    def _section_row(self, section, label, index, row) -> None:

        if section == "actors":
            values = [self.text(row, column) for column in range(1, 8)]
            if label.startswith("responsable(s) conjoint(s)"):
                if any(values):
                    self.fields["joint_controllers"] = " · ".join(
                        v for v in values if v
                    )
                    self.fields["role"] = ProcessingActivity.Role.JOINT_CONTROLLER
                    self.locate((None, None, "joint_controllers"), index, 1, row)
            elif any(values) and label in _ACTOR_ROWS:
                self.problem(
                    INFO,
                    index,
                    1,
                    _(
                        "The contact details %(actor)s are not imported: the "
                        "organisation profile holds the controller and the DPO."
                    )
                    % {"actor": _ACTOR_ROWS[label]},
                )
        elif section == "purposes":
            value = self.text(row, 1)
            if value:
                if not self.purposes:
                    self.locate((None, None, "purposes"), index, 1, row)
                self.purposes.append(value)
        elif section in ("data", "sensitive"):
            self._data_row(section, index, row)
        elif section == "subjects" and label.startswith("catégorie de personnes"):
            value = self.text(row, 1)
            if value:
                self._locate_row("data_subjects", index, {"label": 1, "details": 4})
                self.parts["data_subjects"].append(
                    {"label": value, "details": self.text(row, 4)}
                )
        elif section == "recipients" and label.startswith("destinataire"):
            value = self.text(row, 1)
            if value:
                self._locate_row(
                    "recipients",
                    index,
                    {"label": 1, "details": 4, "third_country": 1},
                )
                self.parts["recipients"].append(
                    {
                        "label": value,
                        "details": self.text(row, 4),
                        "third_country": normalize_label(value).startswith(
                            "destinataires dans des pays tiers"
                        ),
                    }
                )
        elif section == "security" and label.startswith("mesure de sécurité"):
            value = self.text(row, 1)
            details = self.text(row, 4)
            if value:
                if not self.security:
                    self.locate((None, None, "security_measures"), index, 1, row)
                self.security.append(f"{value} : {details}" if details else value)
        elif section == "transfers" and label.startswith("organisme destinataire"):
            self._transfer_row(index, row)

    def _locate_row(self, part: str, index: int, columns: dict[str, int]) -> None:
        """Record the cells of the part row about to be appended, whose fields
        are in ``columns`` (field name to column index)."""
        position = len(self.parts[part])
        for name, column in columns.items():
            self.locate((part, position, name), index, column)
        self.locate((part, position, None), index, min(columns.values()))

    def _data_row(self, section, index, row) -> None:

        description = self.text(row, 1)
        retention = self.text(row, 4)
        if not (description or retention):
            return
        category = last_line(row[0])
        sensitivity = Sensitivity.STANDARD
        if section == "sensitive":
            sensitivity = (
                Sensitivity.CRIMINAL
                if "pénales" in normalize_label(category)
                else Sensitivity.SPECIAL
            )
        self._locate_row(
            "data_categories", index, {"label": 0, "details": 1, "sensitivity": 0}
        )
        self.parts["data_categories"].append(
            {"label": category, "details": description, "sensitivity": sensitivity}
        )
        if retention:
            rule = self._retention_rule(category, retention, index)
            if rule is not None:
                # Column E contains the whole rule, so every field points at it.
                self._locate_row("retention_rules", index, {"duration": 4})
                self.parts["retention_rules"].append(rule)

    def _retention_rule(self, category, text, index) -> dict | None:

        match = _period_match(normalize_label(text))
        if match is None:
            self.problem(
                ERROR,
                index,
                4,
                _(
                    "“%(value)s” is not a retention period Registre can read; write "
                    "it as a number, a unit and the starting event, e.g. "
                    "'5 ans à compter de la fin du contrat'."
                )
                % {"value": text_shortened(text)},
            )
            return None
        # A full stop or comma after the period ("3 ans.") is not an event,
        # and neither is the rest of a period that was not read ("et 2 semaines").
        event_text = match["event"].strip(" .,;")
        if event_text.startswith(("et ", "+")):
            event_text = ""
        if normalize_label(event_text).rstrip("'’ ") in _BARE_PREPOSITIONS:
            # "30 jours après" or "6 mois à compter de" names no event either.
            event_text = ""
        if not event_text:
            self.problem(
                ERROR,
                index,
                4,
                _(
                    "“%(value)s” does not say from which event the period runs; "
                    "add it, e.g. '%(period)s à compter de la collecte'."
                )
                % {
                    "value": text_shortened(text),
                    "period": f"{match['duration']} {match['unit']}",
                },
            )
            return None
        event = _start_event(normalize_label(event_text))
        return {
            "data_category": category,
            "record_type": RetentionRule.RecordType.OTHER,
            "duration": int(match["duration"]),
            "unit": _UNITS[match["unit"]],
            "start_event": event,
            "start_event_other": event_text
            if event == RetentionRule.StartEvent.OTHER
            else "",
            "action": RetentionRule.Action.DELETE,
            "notes": _imported_note(text),
        }

    def _transfer_row(self, index, row) -> None:

        recipient = self.text(row, 1)
        country = self.text(row, 2)
        safeguard_text = self.text(row, 3)
        documentation = self.text(row, 5)
        if not (recipient or country or safeguard_text):
            return
        if not country:
            self.problem(
                ERROR,
                index,
                2,
                _("The transfer to “%(recipient)s” has no country; fill in column C.")
                % {"recipient": text_shortened(recipient)},
            )
            return
        key = normalize_label(safeguard_text)
        safeguard = SAFEGUARDS.get(key, "")
        if key == "privacy shield":
            self.problem(
                WARNING,
                index,
                3,
                _(
                    "The Privacy Shield was invalidated by the EU Court of Justice "
                    "on 16 July 2020 (case C-311/18); the transfer is imported "
                    "without a safeguard, choose a valid one."
                ),
            )
        elif key and not safeguard:
            self.problem(
                ERROR,
                index,
                3,
                _("“%(value)s” is not a known safeguard; use one of: %(accepted)s.")
                % {
                    "value": text_shortened(safeguard_text),
                    "accepted": " | ".join(sorted(set(SAFEGUARDS))),
                },
            )
            return
        self._locate_row(
            "transfers",
            index,
            {"recipient": 1, "country": 2, "safeguard": 3, "documentation": 5},
        )
        self.parts["transfers"].append(
            {
                "recipient": recipient or country,
                "country": country,
                "safeguard": safeguard,
                "documentation": documentation,
            }
        )


def _period_match(text: str) -> dict | None:
    """Return the duration, unit and event text of a retention period, or None.

    Besides "5 ans à compter de la fin du contrat", it reads "1 an et 6 mois
    ..." and "1 an et demi ..." as 18 months, and "jusqu'à la fin du contrat
    + 3 ans" as 3 years from the end of the contract.
    """
    if match := _YEARS_AND_MONTHS.match(text):
        months = 12 * int(match.group("years")) + int(match.group("months"))
        rest = _RETENTION.match(f"{months} mois {match.group('rest')}")
        return rest.groupdict() if rest else None
    if match := _YEARS_AND_HALF.match(text):
        months = 12 * int(match.group("years")) + 6
        rest = _RETENTION.match(f"{months} mois {match.group('rest')}")
        return rest.groupdict() if rest else None
    if match := _UNTIL_EVENT_PLUS.match(text):
        return match.groupdict()
    match = _RETENTION.match(text)
    return match.groupdict() if match else None


def _imported_note(text: str) -> str:
    """Return the rule's note in French, the template's language, so that the
    same file gives the same note in any user's language."""
    with translation.override("fr"):
        return _("Imported from the CNIL template: %(text)s") % {"text": text}


def _start_event(event: str) -> str:
    events = RetentionRule.StartEvent
    if "collecte" in event and "dernier contact" in event:
        return events.COLLECTION_OR_LAST_CONTACT
    if "dernier contact" in event:
        return events.LAST_CONTACT
    if "collecte" in event:
        return events.COLLECTION
    if "fin du contrat" in event or "fin de la relation" in event:
        return events.END_OF_CONTRACT
    if "clôture de la demande" in event:
        return events.REQUEST_CLOSED
    if "clôture de la violation" in event:
        return events.BREACH_CLOSED
    return events.OTHER
