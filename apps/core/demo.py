"""Invented demo data of the core app: the organisation and one user per role."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from apps.core.models import Organisation
from apps.core.roles import COMPLIANCE_OFFICER
from apps.core.roles import DPO
from apps.core.roles import SALES

DEMO_USERS = {
    "conformite": COMPLIANCE_OFFICER,
    "commercial": SALES,
    "dpo": DPO,
}
# Invented names, shown where an export names the person in charge.
DEMO_NAMES = {
    "conformite": ("Camille", "Exemple"),
    "commercial": ("Sacha", "Fictif"),
    "dpo": ("Bruno", "Fictif"),
}


def seed_demo(*, password: str, stdout) -> None:
    organisation = Organisation.current()
    if not organisation.name:
        organisation.name = "Exemplaire Industries SAS"
        organisation.address = "12 rue de l'Exemple\n69002 Lyon"
        organisation.registration_number = "123 456 782 00010"
        organisation.phone = "+33 4 65 71 00 00"
        organisation.email = "contact@exemplaire.example"
        organisation.legal_representative = "Claire Invent, présidente"
        organisation.dpo_name = "Bruno Fictif"
        organisation.dpo_email = "dpo@exemplaire.example"
        organisation.dpo_phone = "+33 4 65 71 00 01"
        organisation.save()

    User = get_user_model()
    for username, role in DEMO_USERS.items():
        first_name, last_name = DEMO_NAMES[username]
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "email": f"{username}@exemplaire.example",
                "first_name": first_name,
                "last_name": last_name,
            },
        )
        if created:
            user.set_password(password)
            user.save()
        user.groups.add(Group.objects.get(name=role))
    stdout.write(f"core: organisation and users {', '.join(DEMO_USERS)}")
