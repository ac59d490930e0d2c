"""Invented demo activities. Other apps' demo data refer to them by reference."""

import datetime

from django.contrib.auth import get_user_model
from django.utils.translation import ngettext

from apps.register.models import LawfulBasis
from apps.register.models import ProcessingActivity
from apps.register.models import RetentionRule
from apps.register.models import Sensitivity
from apps.register.models import Transfer
from apps.register.services import ActivityData
from apps.register.services import activity_save

_IN_FORCE = ProcessingActivity.Status.IN_FORCE
# The core demo's compliance officer, who is in charge of the demo activities.
DEMO_OWNER = "conformite"
_SECURITY = (
    "Contrôle d'accès par rôle et authentification individuelle\n"
    "Chiffrement des sauvegardes et des échanges (TLS)\n"
    "Journal d'audit des exports et des purges"
)


def _rule(category, record_type, years, start_event, action, notes=""):
    return {
        "data_category": category,
        "record_type": record_type,
        "duration": years,
        "unit": RetentionRule.Unit.YEARS,
        "start_event": start_event,
        "action": action,
        "notes": notes,
    }


def _activities(owner) -> list[ActivityData]:
    review = datetime.date(2027, 6, 30)
    reviewed = datetime.date(2026, 6, 30)
    common = {
        "owner": owner,
        "last_reviewed_on": reviewed,
        "next_review_on": review,
        "security_measures": _SECURITY,
        "dpia_required": False,
    }
    return [
        ActivityData(
            fields={
                **common,
                "reference": "TRT-001",
                "name": "Prospection commerciale B2B",
                "description": "Démarchage par e-mail et téléphone de "
                "professionnels dont les coordonnées viennent de fichiers achetés.",
                "purposes": "Prospection commerciale auprès des entreprises\n"
                "Qualification des fichiers de prospects",
                "lawful_basis": LawfulBasis.LEGITIMATE_INTERESTS,
                "legitimate_interest": "Développer la clientèle professionnelle en "
                "proposant des offres liées à l'activité des destinataires.",
                "concerns_recipients_profession": True,
                "data_sources": "Fichiers achetés ou loués auprès de courtiers\n"
                "Sites web professionnels",
                "status": _IN_FORCE,
            },
            parts={
                "data_subjects": [{"label": "Prospects professionnels", "details": ""}],
                "data_categories": [
                    {
                        "label": "Coordonnées professionnelles",
                        "details": "Nom, fonction, e-mail et téléphone professionnels",
                        "sensitivity": Sensitivity.STANDARD,
                    }
                ],
                "recipients": [
                    {
                        "label": "Service interne qui traite les données",
                        "details": "Équipe commerciale",
                        "third_country": False,
                    },
                    {
                        "label": "Sous-traitants",
                        "details": "Routeur d'e-mails",
                        "third_country": True,
                    },
                ],
                "processors": [
                    {
                        "name": "Routeur Exemple Inc.",
                        "service": "Envoi des e-mails de prospection",
                        "country": "États-Unis",
                        "dpa_signed_on": datetime.date(2026, 1, 15),
                    }
                ],
                "transfers": [
                    {
                        "recipient": "Routeur Exemple Inc.",
                        "country": "États-Unis",
                        "safeguard": Transfer.Safeguard.SCC,
                        "documentation": "Clauses contractuelles types du 15/01/2026",
                    }
                ],
                "retention_rules": [
                    _rule(
                        "Coordonnées des prospects",
                        RetentionRule.RecordType.CONTACT,
                        3,
                        RetentionRule.StartEvent.COLLECTION_OR_LAST_CONTACT,
                        RetentionRule.Action.DELETE,
                    )
                ],
            },
        ),
        ActivityData(
            fields={
                **common,
                "reference": "TRT-002",
                "name": "Gestion des demandes d'exercice des droits",
                "purposes": "Répondre aux demandes d'accès, de rectification, "
                "d'effacement, de limitation, de portabilité et d'opposition",
                "lawful_basis": LawfulBasis.LEGAL_OBLIGATION,
                "data_sources": "Directement auprès de la personne",
                "status": _IN_FORCE,
            },
            parts={
                "data_subjects": [
                    {"label": "Personnes exerçant leurs droits", "details": ""}
                ],
                "data_categories": [
                    {
                        "label": "État civil, identité, données d'identification",
                        "details": "Nom, coordonnées, pièce justificative",
                        "sensitivity": Sensitivity.STANDARD,
                    }
                ],
                "recipients": [
                    {
                        "label": "Service interne qui traite les données",
                        "details": "Délégué à la protection des données",
                        "third_country": False,
                    }
                ],
                "retention_rules": [
                    _rule(
                        "Demandes et réponses",
                        RetentionRule.RecordType.SUBJECT_REQUEST,
                        5,
                        RetentionRule.StartEvent.REQUEST_CLOSED,
                        RetentionRule.Action.DELETE,
                    )
                ],
            },
        ),
        ActivityData(
            fields={
                **common,
                "reference": "TRT-003",
                "name": "Registre des violations de données",
                "purposes": "Documenter les violations de données et leur "
                "notification à la CNIL (art. 33 du RGPD)",
                "lawful_basis": LawfulBasis.LEGAL_OBLIGATION,
                "data_sources": "Signalements internes",
                "status": _IN_FORCE,
            },
            parts={
                "data_subjects": [{"label": "Salariés", "details": "Déclarants"}],
                "data_categories": [
                    {
                        "label": "Données de connexion (adresse IP, logs)",
                        "details": "Éléments techniques de l'incident",
                        "sensitivity": Sensitivity.STANDARD,
                    }
                ],
                "recipients": [
                    {
                        "label": "Autorités publiques (sur demande légale)",
                        "details": "CNIL",
                        "third_country": False,
                    }
                ],
                "retention_rules": [
                    _rule(
                        "Fiches de violation",
                        RetentionRule.RecordType.BREACH,
                        5,
                        RetentionRule.StartEvent.BREACH_CLOSED,
                        RetentionRule.Action.DELETE,
                    )
                ],
            },
        ),
        ActivityData(
            fields={
                **common,
                "reference": "TRT-004",
                "name": "Newsletter clients B2C",
                "purposes": "Envoi d'une lettre d'information aux clients "
                "particuliers qui l'ont demandée",
                "lawful_basis": LawfulBasis.CONSENT,
                "data_sources": "Directement auprès de la personne",
                "status": _IN_FORCE,
            },
            parts={
                "data_subjects": [{"label": "Abonnés à la newsletter", "details": ""}],
                "data_categories": [
                    {
                        "label": "Coordonnées",
                        "details": "Adresse e-mail, preuve du consentement",
                        "sensitivity": Sensitivity.STANDARD,
                    }
                ],
                "recipients": [
                    {
                        "label": "Service interne qui traite les données",
                        "details": "Marketing",
                        "third_country": False,
                    }
                ],
                "retention_rules": [
                    _rule(
                        "Abonnés",
                        RetentionRule.RecordType.CONTACT,
                        3,
                        RetentionRule.StartEvent.LAST_CONTACT,
                        RetentionRule.Action.ANONYMISE,
                    )
                ],
            },
        ),
        ActivityData(
            fields={
                **common,
                "reference": "TRT-006",
                "name": "Hébergement des fichiers clients d'un partenaire",
                "role": ProcessingActivity.Role.PROCESSOR,
                "controllers_served": "Partenaire Exemple SARL, 3 place de "
                "l'Exemple, 33000 Bordeaux, dpo@partenaire.example",
                "description": "Hébergement et sauvegarde, pour le compte du "
                "partenaire, de son fichier de clients.",
                "purposes": "Hébergement\nSauvegarde",
                "status": _IN_FORCE,
            },
            parts={
                "processors": [
                    {
                        "name": "Sauvegarde Exemple GmbH",
                        "service": "Sauvegarde externalisée (sous-traitant "
                        "ultérieur autorisé par le partenaire)",
                        "country": "Allemagne",
                        "dpa_signed_on": datetime.date(2025, 9, 1),
                    }
                ],
            },
        ),
        ActivityData(
            fields={
                "owner": None,
                "reference": "TRT-005",
                "name": "Gestion des candidatures",
                "description": "Fiche en cours de rédaction.",
                "purposes": "Recrutement",
                "lawful_basis": "",
                "status": ProcessingActivity.Status.DRAFT,
            },
            parts={
                "data_subjects": [{"label": "Candidats", "details": ""}],
                "data_categories": [
                    {
                        "label": "Données concernant la santé",
                        "details": "Aménagements de poste demandés",
                        "sensitivity": Sensitivity.SPECIAL,
                    }
                ],
                "transfers": [
                    {
                        "recipient": "Plateforme de tests Exemple Ltd",
                        "country": "Inde",
                        "safeguard": "",
                        "documentation": "",
                    }
                ],
            },
        ),
    ]


def seed_demo(*, password: str, stdout) -> None:
    # Activities in force need a person in charge, so the core demo, which
    # seed_demo runs first, must have created this user.
    owner = get_user_model().objects.filter(username=DEMO_OWNER).first()
    if owner is None:
        raise LookupError(
            f"The demo user {DEMO_OWNER!r} was not found; run the core app's "
            "demo first (manage.py seed_demo does)."
        )
    created = 0
    for data in _activities(owner):
        reference = data.fields["reference"]
        if ProcessingActivity.objects.filter(reference=reference).exists():
            continue
        activity_save(data=data, audit=False)
        created += 1
    stdout.write(
        ngettext(
            "register: %(count)d processing activity created",
            "register: %(count)d processing activities created",
            created,
        )
        % {"count": created}
    )
