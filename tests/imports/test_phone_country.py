"""Each import reads national phone numbers in its own default country."""

import io
import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import CommandError
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from apps.contacts.models import Contact
from apps.imports.models import ImportJob
from apps.imports.models import RowResult
from apps.imports.phone_countries import PHONE_COUNTRIES
from apps.imports.phone_countries import phone_country_choices
from apps.imports.phone_country_names import COUNTRY_NAMES
from apps.imports.services import ImportInputError
from tests.imports.conftest import RECENT_ACQUISITION
from tests.imports.conftest import import_file
from tests.imports.conftest import import_file_checked
from tests.imports.conftest import import_file_created
from tests.imports.conftest import prospecting_activity
from tests.imports.conftest import upload_form_post

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

# A Belgian vendor's file without a country column: a Brussels landline and
# a mobile, written nationally, and a second landline as a row's only
# identifier.
BELGIAN_FILE = (
    "Courriel;Nom;Téléphone\n"
    "jean.dupont@example.be;Dupont;02 512 34 56\n"
    ";Peeters;0470 12 34 56\n"
    ";Janssens;02 511 22 33\n"
)


def _phones_by_name() -> dict[str, str]:
    return dict(Contact.objects.values_list("last_name", "phone"))


def test_belgian_numbers_read_as_belgian(upload_root, write_file):
    job = import_file(write_file("belges.csv", BELGIAN_FILE), phone_country="BE")

    assert job.phone_country == "BE"
    assert job.counts["created"] == 3
    assert job.counts["rejected"] == 0
    assert _phones_by_name() == {
        "Dupont": "+3225123456",
        "Peeters": "+32470123456",
        "Janssens": "+3225112233",
    }


def test_belgian_numbers_under_france(upload_root, write_file):
    """Read as French, the landlines are invalid, and 0470 is a French number."""
    job = import_file(write_file("belges.csv", BELGIAN_FILE), phone_country="FR")

    assert job.counts["created"] == 2
    assert job.counts["rejected"] == 1
    dupont = Contact.objects.get(last_name="Dupont")
    assert dupont.phone == ""
    # NOTE: 04 70 is a French landline prefix, so this Belgian mobile is
    # read as a valid French number.
    assert Contact.objects.get(last_name="Peeters").phone == "+33470123456"
    assert not Contact.objects.filter(last_name="Janssens").exists()
    rejected = RowResult.objects.get(job=job, outcome="rejected")
    assert rejected.row_number == 4
    assert "not a valid phone number for region FR" in rejected.reason
    noted = RowResult.objects.get(job=job, row_number=2)
    assert "not a valid phone number for region FR" in noted.reason


def test_default_country_is_the_setting(settings, upload_root, write_file):
    settings.PHONE_DEFAULT_REGION = "BE"

    job = import_file(write_file("belges.csv", BELGIAN_FILE))

    assert job.phone_country == "BE"
    assert _phones_by_name()["Dupont"] == "+3225123456"


def test_row_country_wins_over_default(upload_root, write_file):
    content = (
        "Courriel;Nom;Téléphone;Pays\n"
        "jean.dupont@example.fr;Dupont;06 12 34 56 78;France\n"
        "eva.peeters@example.be;Peeters;0470 12 34 56;\n"
        "noah.meier@example.ch;Meier;044 668 18 00;CH\n"
    )

    import_file(write_file("mixte.csv", content), phone_country="BE")

    assert _phones_by_name() == {
        "Dupont": "+33612345678",
        "Peeters": "+32470123456",
        "Meier": "+41446681800",
    }


def test_dry_run_uses_job_country(upload_root, write_file):
    path = write_file("belges.csv", BELGIAN_FILE)

    belgian = import_file_checked(path, phone_country="BE", list_name="BE")
    french = import_file_checked(path, phone_country="FR", list_name="FR")

    assert belgian.dry_run_summary["counts"]["rejected"] == 0
    assert belgian.dry_run_summary["counts"]["created"] == 3
    assert french.dry_run_summary["counts"]["rejected"] == 1
    assert not Contact.objects.exists()


@pytest.mark.parametrize("code", ["ZZ", "XK", "BEL", ""])
def test_service_rejects_unknown_code(code, upload_root, write_file):
    path = write_file("belges.csv", BELGIAN_FILE)

    if code:
        with pytest.raises(ImportInputError, match=f"“{code}” is not a country code"):
            import_file_created(path, phone_country=code)
    else:
        # An empty code means the setting, as in the form's absence of choice.
        assert import_file_created(path, phone_country=code).phone_country == "FR"


def test_service_accepts_lower_case(upload_root, write_file):
    job = import_file_created(
        write_file("belges.csv", BELGIAN_FILE), phone_country="be"
    )

    assert job.phone_country == "BE"


def test_upload_form_stores_country(sales_user, client_for, upload_root):
    response = upload_form_post(client_for(sales_user), phone_country="BE")

    assert response.status_code == 302
    assert ImportJob.objects.get().phone_country == "BE"


def test_upload_form_rejects_bad_code(sales_user, client_for, upload_root):
    response = upload_form_post(client_for(sales_user), phone_country="ZZ")

    assert response.status_code == 200
    errors = response.context["form"].errors["phone_country"]
    assert errors == ["Select a valid choice. ZZ is not one of the available choices."]
    assert not ImportJob.objects.exists()


def test_upload_form_offers_named_countries(settings, sales_user, client_for):
    settings.PHONE_DEFAULT_REGION = "CH"
    client = client_for(sales_user)

    english = client.get(reverse("imports:job-create"), HTTP_ACCEPT_LANGUAGE="en")
    french = client.get(reverse("imports:job-create"), HTTP_ACCEPT_LANGUAGE="fr")

    assert english.context["form"]["phone_country"].value() == "CH"
    content = english.content.decode()
    assert '<option value="BE">Belgium (BE)</option>' in content
    assert '<option value="XK">' not in content
    assert '<option value="AC">' not in content
    assert '<option value="BE">Belgique (BE)</option>' in french.content.decode()
    assert '<option value="CH" selected>Suisse (CH)</option>' in (
        french.content.decode()
    )


def test_choices_sort_ignores_accents():
    with translation.override("en"):
        labels = [label for _code, label in phone_country_choices()]

    # Sorted by code point, "Å" would come after "Z".
    assert labels[:3] == [
        "Afghanistan (AF)",
        "Åland Islands (AX)",
        "Albania (AL)",
    ]


def test_preview_and_report_show_country(
    sales_user, client_for, upload_root, write_file
):
    client = client_for(sales_user)
    pending = import_file_created(
        write_file("belges.csv", BELGIAN_FILE), phone_country="BE", list_name="A"
    )
    done = import_file(
        write_file("belges2.csv", BELGIAN_FILE), phone_country="BE", list_name="B"
    )

    for job in (pending, done):
        page = client.get(
            reverse("imports:job-detail", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="en"
        )
        assert '<dd id="phone-country">Belgium (BE)</dd>' in page.content.decode()


def _command(*args) -> dict:
    activity = prospecting_activity()
    stdout = io.StringIO()
    call_command(
        "import_contacts",
        *args,
        "--vendor=Fichiers Belges SPRL",
        "--list=Salon Bruxelles",
        f"--acquired-on={RECENT_ACQUISITION.isoformat()}",
        f"--activity={activity.reference}",
        "--professional-use-confirmed",
        stdout=stdout,
    )
    return json.loads(stdout.getvalue())


def test_command_phone_country_option(upload_root, write_file):
    path = write_file("belges.csv", BELGIAN_FILE)

    summary = _command(str(path), "--phone-country=BE")

    assert summary["phone_country"] == "BE"
    assert summary["counts"]["rejected"] == 0
    assert _phones_by_name()["Peeters"] == "+32470123456"


def test_command_without_option_uses_setting(upload_root, write_file):
    summary = _command(str(write_file("belges.csv", BELGIAN_FILE)))

    assert summary["phone_country"] == "FR"
    assert summary["counts"]["rejected"] == 1


def test_command_bad_code_names_value(upload_root, write_file):
    path = write_file("belges.csv", BELGIAN_FILE)

    with pytest.raises(CommandError, match="“Belgique” is not a country code"):
        _command(str(path), "--phone-country=Belgique")
    assert not ImportJob.objects.exists()


def test_country_names_cover_every_country():
    missing = [
        code
        for code in PHONE_COUNTRIES
        if not (COUNTRY_NAMES.get(code, {}).get("en") and COUNTRY_NAMES[code]["fr"])
    ]

    assert missing == [], "run scripts/phone_country_names.py after upgrading"


def test_country_names_skip_locale_module():
    code = (
        "import django, sys; django.setup(); "
        "from apps.imports.phone_countries import phone_country_choices; "
        "phone_country_choices(); "
        "print('phonenumbers.geodata.locale' in sys.modules)"
    )
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}

    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=environment,
        cwd=settings.BASE_DIR,
    )

    assert result.stdout.strip() == "False"
