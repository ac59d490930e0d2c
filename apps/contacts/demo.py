"""Invented demo data of the contacts app: two vendors, two lists, 36 contacts.

The register app's demo runs first and creates activity TRT-001; when it is
missing, a minimal activity in force is created so the contacts have one.
Every name and address is invented (``example.com``). Safe to run twice.
"""

from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta

from django.utils import timezone

from apps.contacts.models import Audience
from apps.contacts.models import ConsentClaim
from apps.contacts.models import ConsentRecord
from apps.contacts.models import Contact
from apps.contacts.models import ContactList
from apps.contacts.models import Provenance
from apps.contacts.models import Vendor
from apps.contacts.services import contact_unsubscribe
from apps.register.models import LawfulBasis
from apps.register.models import ProcessingActivity

ACTIVITY_REFERENCE = "TRT-001"
FIRST_NAMES = [
    "Camille",
    "Hugo",
    "Léa",
    "Arthur",
    "Inès",
    "Jules",
    "Manon",
    "Théo",
    "Chloé",
    "Louis",
    "Zoé",
    "Gabriel",
]
LAST_NAMES = ["Martin", "Bernard", "Dubois", "Moreau", "Laurent", "Garnier"]
COMPANIES = [
    ("Atelier Exemple Mécanique", "atelier-exemple", "Achats"),
    ("Fictiva Logistique", "fictiva", "Opérations"),
    ("Démo Conseil RH", "demo-conseil", "Ressources humaines"),
    ("Imaginaire Systèmes", "imaginaire", "Informatique"),
    ("Modèle Distribution", "modele-distribution", "Ventes"),
    ("Prototype Industries", "prototype-industries", "Direction"),
]
JOB_TITLES = {
    "Achats": "Responsable achats",
    "Opérations": "Directrice des opérations",
    "Ressources humaines": "Responsable RH",
    "Informatique": "DSI",
    "Ventes": "Directeur commercial",
    "Direction": "Gérante",
}
CONTACT_COUNT = 36


def _activity() -> ProcessingActivity:
    activity = ProcessingActivity.objects.filter(reference=ACTIVITY_REFERENCE).first()
    if activity is not None:
        return activity
    return ProcessingActivity.objects.create(
        reference=ACTIVITY_REFERENCE,
        name="Prospection commerciale B2B",
        purposes="Prospection commerciale auprès des entreprises",
        lawful_basis=LawfulBasis.LEGITIMATE_INTERESTS,
        legitimate_interest="Développer la clientèle professionnelle.",
        concerns_recipients_profession=True,
        status=ProcessingActivity.Status.IN_FORCE,
    )


def _vendors_and_lists(today: date) -> tuple[ContactList, ContactList]:
    datapro, _ = Vendor.objects.get_or_create(
        name="DataPro Leads SARL",
        defaults={
            "contact_name": "Service clients DataPro",
            "contact_email": "clients@datapro-leads.example.com",
            "contract_reference": "DPL-2026-014",
            "dpa_signed_on": date(2026, 1, 15),
            "dpa_reference": "DPA-DPL-2026",
            "collection_method": "Annuaires professionnels publics et salons.",
            "consent_claim": ConsentClaim.OPT_OUT,
            "objection_instructions": "Écrire à opposition@datapro-leads.example.com",
        },
    )
    express, _ = Vendor.objects.get_or_create(
        name="B2B Fichiers Express",
        defaults={
            "contact_name": "Équipe location",
            "contact_email": "location@b2b-fichiers.example.com",
            "contract_reference": "BFE-LOC-77",
            "collection_method": "Formulaires de livres blancs.",
            "consent_claim": ConsentClaim.OPT_IN,
            "objection_instructions": "Lien de désinscription dans chaque message.",
        },
    )
    purchased, _ = ContactList.objects.get_or_create(
        vendor=datapro,
        name="Décideurs industrie Rhône-Alpes",
        defaults={
            "acquisition": ContactList.Acquisition.PURCHASE,
            "acquired_on": today - timedelta(days=PURCHASED_DAYS_AGO),
            "collection_method": "Annuaires professionnels publics.",
            "consent_claim": ConsentClaim.OPT_OUT,
        },
    )
    rented, _ = ContactList.objects.get_or_create(
        vendor=express,
        name="Directions achats (location échue)",
        defaults={
            "acquisition": ContactList.Acquisition.RENTAL,
            "acquired_on": today - timedelta(days=RENTED_DAYS_AGO),
            "licence_ends_on": today - timedelta(days=35),
            "collection_method": "Formulaires de livres blancs.",
            "consent_claim": ConsentClaim.OPT_IN,
        },
    )
    return purchased, rented


# Consumers held on consent, under the consent-based newsletter activity of
# the register's demo, entered directly rather than from a vendor's list.
B2C_NUMBERS = (33, 34, 35)
B2C_ACTIVITY_REFERENCE = "TRT-004"
# Days between the purchased list's acquisition and today. The vendor collected
# its contacts before that day.
PURCHASED_DAYS_AGO = 60
RENTED_DAYS_AGO = 400
# Contacts from this number on came from the rented list.
RENTED_FROM = 26


def _collected_days_ago(number: int) -> int:
    """Return when the vendor collected a contact: before its lists' acquisition.

    Contacts 27 to 29 are past the 3-year prospect limit, for the retention demo.
    """
    if number in (27, 28, 29):
        return 3 * 365 + 40
    if number >= RENTED_FROM and number not in B2C_NUMBERS:
        return RENTED_DAYS_AGO + number
    return PURCHASED_DAYS_AGO + number


def _contact_fields(number: int, activity, now) -> dict:
    first = FIRST_NAMES[number % len(FIRST_NAMES)]
    last = LAST_NAMES[number % len(LAST_NAMES)]
    company, domain, function = COMPANIES[number % len(COMPANIES)]
    b2c = number in B2C_NUMBERS
    ascii_first = first.lower().translate(str.maketrans("éèëïô", "eeeio"))
    return {
        "first_name": first,
        "last_name": last,
        "phone": f"+3361000{number:04d}",
        "job_title": "" if b2c else JOB_TITLES[function],
        "job_function": "" if b2c else function,
        "company": "" if b2c else company,
        "company_domain": "" if b2c else f"{domain}.example.com",
        "city": "Lyon",
        "country": "BE" if number % 9 == 4 else "FR",
        "audience": Audience.B2C if b2c else Audience.B2B,
        "processing_activity": activity,
        "lawful_basis": LawfulBasis.CONSENT
        if b2c
        else LawfulBasis.LEGITIMATE_INTERESTS,
        # Noon in the local time zone, so that the local day is the one
        # counted from the lists' acquisition day, whatever the hour of the
        # seeding and the clock changes in between.
        "collected_at": timezone.make_aware(
            datetime.combine(
                timezone.localdate(now) - timedelta(days=_collected_days_ago(number)),
                time(12),
            )
        ),
        "email": f"{ascii_first}.{last.lower()}{number}@{domain}.example.com",
    }


def seed_demo(*, password: str, stdout) -> None:
    now = timezone.now()
    activity = _activity()
    purchased, rented = _vendors_and_lists(timezone.localdate())

    b2c_activity = (
        ProcessingActivity.objects.filter(reference=B2C_ACTIVITY_REFERENCE).first()
        or activity
    )
    contacts = []
    for number in range(CONTACT_COUNT):
        b2c = number in B2C_NUMBERS
        fields = _contact_fields(number, b2c_activity if b2c else activity, now)
        contact, created = Contact.objects.get_or_create(
            email=fields.pop("email"), defaults=fields
        )
        contacts.append(contact)
        if number < 30:
            Provenance.objects.get_or_create(
                contact=contact,
                contact_list=purchased,
                defaults={"row_number": number + 2},
            )
        if number >= RENTED_FROM and not b2c:
            Provenance.objects.get_or_create(
                contact=contact,
                contact_list=rented,
                defaults={"row_number": number - RENTED_FROM + 2},
            )
        if created and number in (33, 34):
            ConsentRecord.objects.create(
                contact=contact,
                channel=ConsentRecord.Channel.EMAIL,
                state=ConsentRecord.State.GRANTED,
                recorded_at=now - timedelta(days=20),
                evidence="Case cochée sur le formulaire du livre blanc (démo)",
            )

    # Each list's rows were imported on the day it was acquired.
    for contact_list in (purchased, rented):
        imported_at = timezone.make_aware(
            datetime.combine(contact_list.acquired_on, time(10))
        )
        Provenance.objects.filter(contact_list=contact_list).update(
            imported_at=imported_at
        )

    restricted = contacts[5]
    if restricted.status == Contact.Status.ACTIVE:
        restricted.status = Contact.Status.RESTRICTED
        restricted.save(update_fields=["status", "updated_at"])
    contact_unsubscribe(contact=contacts[7], source="données de démonstration")

    stdout.write(
        f"contacts: {len(contacts)} contacts from lists {purchased.pk} and "
        f"{rented.pk} (activity {activity.reference})"
    )
