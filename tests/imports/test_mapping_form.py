"""A rejected mapping form comes back with the user's choices and its errors."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from apps.imports.models import ImportJob
from apps.imports.models import VendorMapping
from tests.imports.conftest import import_file
from tests.imports.conftest import import_file_created

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

# Detected mapping: 0 first_name, 1 last_name, 2 email, 3 phone, 4 company.
FILE = (
    "Prénom;Nom;Courriel;Téléphone;Société;Notes\n"
    "Jean;Dupont;jean.dupont@example.com;06 12 34 56 78;Exemple SA;client\n"
).encode()
DETECTED = {
    "0": "first_name",
    "1": "last_name",
    "2": "email",
    "3": "phone",
    "4": "company",
}


@pytest.fixture
def job(upload_root, write_file):
    job = import_file_created(write_file("liste.csv", FILE))
    assert job.mapping == DETECTED
    return job


def _post_mapping(client, job, choices):
    return client.post(
        reverse("imports:job-mapping", args=[job.pk]),
        choices,
        HTTP_ACCEPT_LANGUAGE="en",
    )


def _selected(content: str, name: str) -> str:
    """Return the value of the selected option of select ``name`` in ``content``."""
    select = re.search(rf'<select name="{name}".*?</select>', content, re.S)
    assert select, f"no select named {name}"
    chosen = re.search(r'<option value="([^"]*)"[^>]*selected', select.group(0))
    return chosen.group(1) if chosen else ""


def _error_after(content: str, name: str) -> str:
    """Return the error list rendered right after select ``name``, or ""."""
    match = re.search(
        rf'<select name="{name}".*?</select>(<ul class="errorlist".*?</ul>)?',
        content,
        re.S,
    )
    return match.group(1) or ""


def test_duplicate_field_keeps_choices(sales_user, client_for, job):
    """GIVEN a pending job with a detected mapping
    WHEN sales changes three columns and maps two of them to the e-mail
    THEN the page comes back with every choice as posted, the error beside
    both e-mail columns, and the saved mapping unchanged."""
    choices = {
        "column_0": "full_name",
        "column_1": "",
        "column_2": "email",
        "column_3": "mobile",
        "column_4": "company",
        "column_5": "email",
        "save_for_vendor": "on",
    }

    response = _post_mapping(client_for(sales_user), job, choices)

    assert response.status_code == 200
    content = response.content.decode()
    for name, value in choices.items():
        if name.startswith("column_"):
            assert _selected(content, name) == value, name
    assert re.search(
        r'<input type="checkbox" name="save_for_vendor"[^>]* checked', content
    )
    problem = "Column 3 (“Courriel”) and column 6 (“Notes”) are mapped to “E-mail”"
    assert problem in _error_after(content, "column_2")
    assert problem in _error_after(content, "column_5")
    assert _error_after(content, "column_3") == ""
    assert 'aria-invalid="true"' in content
    job.refresh_from_db()
    assert job.mapping == DETECTED
    assert not VendorMapping.objects.exists()


def test_no_identifier_error_above_columns(sales_user, client_for, job):
    choices = {
        "column_0": "first_name",
        "column_1": "last_name",
        "column_2": "",
        "column_3": "",
        "column_4": "city",
    }

    response = _post_mapping(client_for(sales_user), job, choices)

    assert response.status_code == 200
    content = response.content.decode()
    form = response.context["mapping_form"]
    assert "No column is mapped to an e-mail address" in form.non_field_errors()[0]
    assert "No column is mapped to an e-mail address" in content
    assert _selected(content, "column_4") == "city"
    assert _selected(content, "column_2") == ""
    job.refresh_from_db()
    assert job.mapping == DETECTED


def test_rejected_form_hides_saved_problems(
    sales_user, client_for, upload_root, write_file
):
    """The saved mapping's problems would contradict the choices shown."""
    job = import_file_created(write_file("sans.csv", b"Nom;Ville\nDupont;Lyon\n"))
    client = client_for(sales_user)
    page = client.get(reverse("imports:job-detail", args=[job.pk]))
    assert page.context["mapping_problems"]

    response = _post_mapping(client, job, {"column_0": "email", "column_1": "email"})

    assert response.context["mapping_problems"] == []
    assert response.context["mapping_form"].errors["column_0"]


def test_rejected_mapping_hides_run_actions(
    sales_user, client_for, upload_root, write_file
):
    """GIVEN a pending job whose saved mapping imports the phone column
    WHEN sales maps two columns to the e-mail and ignores the phone
    THEN the page shows the rejected choices without the dry run and the
    import. Both would run with the saved mapping, and the page says so."""
    job = import_file_created(
        write_file("mail.csv", b"Nom;Mail;Mail pro;Tel\nDupont;a@example.com;;\n")
    )
    assert "phone" in job.mapping.values()
    client = client_for(sales_user)
    check_url = reverse("imports:job-check", args=[job.pk])
    start_url = reverse("imports:job-start", args=[job.pk])
    saved_page = client.get(reverse("imports:job-detail", args=[job.pk]))
    assert check_url in saved_page.content.decode()
    assert start_url in saved_page.content.decode()

    response = _post_mapping(
        client,
        job,
        {"column_0": "last_name", "column_1": "email", "column_2": "email"},
    )

    assert response.status_code == 200
    content = response.content.decode()
    assert _selected(content, "column_3") == ""
    assert check_url not in content
    assert start_url not in content
    assert 'id="mapping-unsaved"' in content
    assert "The dry run and the import use the saved mapping" in content
    assert reverse("imports:job-cancel", args=[job.pk]) in content


def test_valid_mapping_saved_and_redirects(sales_user, client_for, job):
    choices = {"column_2": "email", "column_3": "mobile", "column_4": "company"}

    response = _post_mapping(client_for(sales_user), job, choices)

    assert response.status_code == 302
    job.refresh_from_db()
    assert job.mapping == {"2": "email", "3": "mobile", "4": "company"}


def test_mapping_of_started_job_has_message(sales_user, client_for, job):
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.DONE)

    response = client_for(sales_user).post(
        reverse("imports:job-mapping", args=[job.pk]),
        {"column_2": "email"},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )

    messages = [str(message) for message in response.context["messages"]]
    assert messages == [
        f"The mapping of job #{job.pk} cannot change, because its status is "
        "“done”. The import has ended and its page shows the report. To import "
        "the file again, upload it as a new import."
    ]


def test_mapping_needs_row_permission(django_user_model, client_for, job):
    """The rejected form quotes the file's headers, which are row data."""
    user = django_user_model.objects.create_user("importer", password="x")
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="imports",
            codename__in=["view_importjob", "change_importjob"],
        )
    )

    response = _post_mapping(client_for(user), job, {"column_2": ""})

    assert response.status_code == 403


PRIVATE_PEOPLE = (
    "Prénom;Nom;Courriel;N° CAF\nInès;Dupont;ines.dupont@example.com;1234567\n"
).encode()


def _job_page(client, job):
    response = client.get(
        reverse("imports:job-detail", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="en"
    )
    return response.content.decode()


def test_b2b_list_without_business_column_warned(
    sales_user, client_for, upload_root, write_file
):
    job = import_file_created(write_file("usagers.csv", PRIVATE_PEOPLE))

    content = _job_page(client_for(sales_user), job)

    assert 'id="professional-warning"' in content
    assert "No column is mapped to a company" in content
    assert 'name="professional_use_confirmed"' in content


def test_b2b_list_with_company_not_warned(sales_user, client_for, job):
    content = _job_page(client_for(sales_user), job)

    assert 'id="professional-warning"' not in content
    assert 'name="professional_use_confirmed"' not in content


def test_start_without_statement_shows_error(
    sales_user, client_for, upload_root, write_file
):
    job = import_file_created(write_file("usagers.csv", PRIVATE_PEOPLE))

    response = client_for(sales_user).post(
        reverse("imports:job-start", args=[job.pk]),
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )

    messages = [str(message) for message in response.context["messages"]]
    job.refresh_from_db()
    assert job.status == job.Status.PENDING
    assert any("reached in their profession" in message for message in messages)


def test_b2c_list_not_warned(sales_user, client_for, upload_root, write_file):
    job = import_file_created(
        write_file("usagers.csv", PRIVATE_PEOPLE),
        audience="b2c",
        lawful_basis="consent",
        consent_claim="opt_in",
    )

    content = _job_page(client_for(sales_user), job)

    assert 'id="professional-warning"' not in content


def test_preview_hides_suppressed_person(
    sales_user, client_for, upload_root, write_file
):
    from apps.contacts.suppression import suppression_add
    from apps.imports.selectors import job_preview

    suppression_add(reason="erased", phones=["+33612345678"])
    job = import_file_created(write_file("liste.csv", FILE))

    preview = job_preview(job)
    content = _job_page(client_for(sales_user), job)

    assert preview[0].suppressed
    assert set(preview[0]) == {"•••"}
    assert "jean.dupont@example.com" not in content
    assert "On the suppression list" in content


def test_preview_hides_suppressed_unmapped_cells(upload_root, write_file):
    from apps.contacts.suppression import suppression_add
    from apps.imports.selectors import job_preview

    suppression_add(reason="erased", emails=["theo.bernard@example.com"])
    unknown_headers = (
        "Col A;Col B;Col C\n"
        "theo.bernard@example.com;Théo;06 10 00 00 07\n"
        "autre@example.com;Autre;06 10 00 00 08\n"
    ).encode()
    job = import_file_created(write_file("colonnes.csv", unknown_headers), mapping={})

    preview = job_preview(job)

    assert [row.mentions_suppressed for row in preview] == [True, False]
    assert set(preview[0]) == {"•••"}


def test_preview_tells_referent_from_person(
    sales_user, client_for, upload_root, write_file
):
    """GIVEN a suppressed address in a column the import does not read, WHEN
    the preview shows the row, THEN it hides the values without saying that
    the import skips the row, which it imports from its other columns."""
    from apps.contacts.suppression import suppression_add
    from apps.imports.selectors import job_preview

    suppression_add(reason="objected", emails=["referent@example.org"])
    content = (
        "Courriel;Nom;Référent\npaul.durand@example.com;Durand;referent@example.org\n"
    ).encode()
    path = write_file("referent.csv", content)

    preview = job_preview(import_file_created(path))
    page = _job_page(client_for(sales_user), import_file_created(path))
    job = import_file(path)

    assert (preview[0].suppressed, preview[0].mentions_suppressed) == (False, True)
    assert "the import will skip this row" not in page
    assert "A column that the import does not read" in page
    assert job.counts["created"] == 1
