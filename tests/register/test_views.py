import datetime
import io
import json
import os
import stat
import time

import pytest
from django import forms as forms_module
from django.contrib.admin import site as admin_site
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.forms.models import model_to_dict
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from openpyxl import load_workbook

from apps.breaches.models import Breach
from apps.contacts.models import Contact
from apps.core.models import AuditEvent
from apps.register.forms import PART_FORMSETS
from apps.register.forms import ActivityForm
from apps.register.layout import PROCESSOR_SUMMARY_TITLE
from apps.register.models import LawfulBasis
from apps.register.models import ProcessingActivity
from apps.register.models import ReferenceTerm
from apps.register.models import Transfer
from apps.register.services import CHILD_FIELDS
from tests.register.factories import ActivityFactory
from tests.register.factories import complete_activity
from tests.register.test_imports import CNIL_FILE

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def _management(prefix, total=0, initial=0):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def _activity_post(**fields) -> dict:
    data = {
        "reference": "TRT-900",
        "name": "Enquête de satisfaction",
        "role": ProcessingActivity.Role.CONTROLLER,
        "purposes": "Mesurer la satisfaction des clients",
        "lawful_basis": LawfulBasis.LEGITIMATE_INTERESTS,
        "legitimate_interest": "Améliorer nos services",
        "security_measures": "Accès restreint",
        "status": ProcessingActivity.Status.DRAFT,
        "dpia_required": "unknown",
    }
    data.update(fields)
    for prefix in (
        "data_subjects",
        "data_categories",
        "recipients",
        "processors",
        "retention_rules",
    ):
        data.update(_management(prefix))
    data.update(_management("transfers", total=1))
    data.update(
        {
            "transfers-0-recipient": "Sondages Inc.",
            "transfers-0-country": "Canada",
            "transfers-0-safeguard": Transfer.Safeguard.ADEQUACY,
            "transfers-0-documentation": "",
        }
    )
    return data


def test_list_shows_activities(client_for, compliance_officer):
    activity = complete_activity(compliance_officer)

    response = client_for(compliance_officer).get(reverse("register:activity-list"))

    assert response.status_code == 200
    assert activity.reference in response.content.decode()


def test_list_filters_incomplete(client_for, compliance_officer):
    complete = complete_activity(compliance_officer, reference="OK-001")
    incomplete = ActivityFactory(reference="KO-001", security_measures="")

    response = client_for(compliance_officer).get(
        reverse("register:activity-list"), {"incomplete": "on"}
    )

    references = [a.reference for a in response.context["activities"]]
    assert references == [incomplete.reference]
    assert complete.reference not in references


def test_pages_flag_activity_refusing_b2b_lists(client_for, compliance_officer):
    """GIVEN a complete activity on legitimate interests without the profession box
    WHEN the compliance officer opens the register and the activity
    THEN both pages show that B2B lists cannot be imported under it.
    """
    blocked = complete_activity(
        compliance_officer,
        reference="LI-001",
        lawful_basis=LawfulBasis.LEGITIMATE_INTERESTS,
        legitimate_interest="Prospection commerciale",
        concerns_recipients_profession=False,
    )
    ready = complete_activity(
        compliance_officer,
        reference="LI-002",
        lawful_basis=LawfulBasis.LEGITIMATE_INTERESTS,
        legitimate_interest="Prospection commerciale",
        concerns_recipients_profession=True,
    )
    client = client_for(compliance_officer)

    listing = client.get(reverse("register:activity-list")).content.decode()
    blocked_page = client.get(reverse("register:activity-detail", args=[blocked.pk]))
    ready_page = client.get(reverse("register:activity-detail", args=[ready.pk]))

    assert listing.count('data-import-blocked="profession"') == 1
    assert 'data-import-blocked="profession"' in blocked_page.content.decode()
    assert blocked_page.context["missing"] == []
    assert 'data-import-blocked="profession"' not in ready_page.content.decode()


def test_list_filters_processor_record(client_for, compliance_officer):
    ActivityFactory(reference="C-1")
    ActivityFactory(reference="P-1", role=ProcessingActivity.Role.PROCESSOR)

    response = client_for(compliance_officer).get(
        reverse("register:activity-list"), {"role": "processor"}
    )

    assert [a.reference for a in response.context["activities"]] == ["P-1"]


def test_list_filters_status_and_search(client_for, compliance_officer):
    ActivityFactory(reference="A-1", name="Paie", status="draft")
    ActivityFactory(reference="A-2", name="Paie des intérimaires", status="in_force")
    ActivityFactory(reference="A-3", name="Newsletter", status="in_force")

    response = client_for(compliance_officer).get(
        reverse("register:activity-list"), {"status": "in_force", "search": "paie"}
    )

    assert [a.reference for a in response.context["activities"]] == ["A-2"]


def test_create_with_transfer(client_for, compliance_officer):
    client = client_for(compliance_officer)

    response = client.post(reverse("register:activity-create"), _activity_post())

    activity = ProcessingActivity.objects.get(reference="TRT-900")
    assert response.status_code == 302
    assert activity.transfers.get().country == "Canada"


def test_create_rejects_missing_interest(client_for, compliance_officer):
    response = client_for(compliance_officer).post(
        reverse("register:activity-create"), _activity_post(legitimate_interest="")
    )

    assert response.status_code == 400
    assert "legitimate interest" in response.content.decode()
    assert not ProcessingActivity.objects.exists()


def test_create_in_force_rejects_incomplete(client_for, compliance_officer):
    data = _activity_post(
        status=ProcessingActivity.Status.IN_FORCE,
        lawful_basis="",
        legitimate_interest="",
        security_measures="",
    )
    data["transfers-0-country"] = "États-Unis"
    data["transfers-0-safeguard"] = ""

    response = client_for(compliance_officer).post(
        reverse("register:activity-create"), data
    )

    errors = response.context["form"].errors["status"]
    assert response.status_code == 400
    assert "lawful basis" in errors[0]
    assert "safeguard of the transfer to Sondages Inc." in errors[0]
    assert "security measures" in errors[0]
    assert not ProcessingActivity.objects.exists()


def test_create_draft_saves_incomplete(client_for, compliance_officer):
    data = _activity_post(lawful_basis="", legitimate_interest="")

    response = client_for(compliance_officer).post(
        reverse("register:activity-create"), data
    )

    assert response.status_code == 302
    assert ProcessingActivity.objects.get().status == "draft"


def test_sales_cannot_edit_activity(client_for, sales_user):
    activity = ActivityFactory()

    client = client_for(sales_user)
    page = client.get(reverse("register:activity-edit", args=[activity.pk]))
    response = client.post(
        reverse("register:activity-edit", args=[activity.pk]),
        _activity_post(reference=activity.reference, name="Changé"),
    )

    assert page.status_code == 403
    assert response.status_code == 403
    activity.refresh_from_db()
    assert activity.name != "Changé"


@pytest.mark.parametrize("version", [None, "not-a-date"])
def test_edit_without_version_rejected(client_for, compliance_officer, version):
    client = client_for(compliance_officer)
    client.post(reverse("register:activity-create"), _activity_post())
    activity = ProcessingActivity.objects.get(reference="TRT-900")
    edit = _activity_post(name="Enquête annuelle")
    edit.update(_management("transfers", total=1, initial=1))
    edit["transfers-0-id"] = str(activity.transfers.get().pk)
    edit["transfers-0-activity"] = str(activity.pk)
    if version is not None:
        edit["loaded_version"] = version

    response = client.post(
        reverse("register:activity-edit", args=[activity.pk]),
        edit,
        HTTP_ACCEPT_LANGUAGE="en",
    )

    activity.refresh_from_db()
    assert response.status_code == 400
    assert "does not say which version" in response.content.decode()
    assert activity.name == "Enquête de satisfaction"


def test_list_review_without_date_to_schedule(client_for, compliance_officer):
    complete_activity(compliance_officer, next_review_on=None)
    complete_activity(
        compliance_officer, reference="OLD-1", next_review_on=datetime.date(2020, 1, 1)
    )

    response = client_for(compliance_officer).get(
        reverse("register:activity-list"), HTTP_ACCEPT_LANGUAGE="fr"
    )

    assert "à planifier" in response.text
    assert "échue" in response.text
    assert "échus" not in response.text


def test_stale_edit_does_not_undo_later_save(client_for, compliance_officer):
    client = client_for(compliance_officer)
    client.post(reverse("register:activity-create"), _activity_post())
    activity = ProcessingActivity.objects.get(reference="TRT-900")
    url = reverse("register:activity-edit", args=[activity.pk])
    loaded = client.get(url).context["form"].initial["loaded_version"]

    def edit(name):
        data = _activity_post(name=name)
        data.update(_management("transfers", total=1, initial=1))
        data["transfers-0-id"] = str(activity.transfers.get().pk)
        data["transfers-0-activity"] = str(activity.pk)
        data["loaded_version"] = loaded
        return data

    first = client.post(url, edit("Saved first"))
    second = client.post(url, edit("Saved from a stale page"))

    activity.refresh_from_db()
    assert first.status_code == 302
    assert second.status_code == 400
    assert "after you opened the page" in second.text
    assert second.text.count("after you opened the page") == 1
    assert activity.name == "Saved first"


def test_crlf_resave_adds_no_version(client_for, compliance_officer):
    """GIVEN an activity whose texts have LF line breaks
    WHEN its edit form is saved unchanged from a browser, which sends CRLF
    THEN neither its history nor the audit trail records a change."""
    client = client_for(compliance_officer)
    client.post(
        reverse("register:activity-create"),
        _activity_post(purposes="Mesurer\r\nComparer"),
    )
    activity = ProcessingActivity.objects.get(reference="TRT-900")
    url = reverse("register:activity-edit", args=[activity.pk])
    form = client.get(url).context["form"]
    data = _activity_post(purposes="Mesurer\r\nComparer")
    data.update(_management("transfers", total=1, initial=1))
    data["transfers-0-id"] = str(activity.transfers.get().pk)
    data["transfers-0-activity"] = str(activity.pk)
    data["loaded_version"] = form.initial["loaded_version"]
    versions = activity.history.count()

    response = client.post(url, data)

    assert response.status_code == 302
    assert activity.history.count() == versions
    assert not AuditEvent.objects.filter(action="register.activity.changed").exists()


def test_activity_form_crlf_not_changed(compliance_officer):
    activity = complete_activity(compliance_officer, purposes="Mesurer\nComparer")
    data = {
        name: value
        for name, value in model_to_dict(activity).items()
        if value is not None
    }
    data["purposes"] = "Mesurer\r\nComparer"

    form = ActivityForm(data=data, instance=activity)

    assert "purposes" not in form.changed_data


def test_sales_cannot_create_activity(client_for, sales_user):
    response = client_for(sales_user).post(
        reverse("register:activity-create"), _activity_post()
    )

    assert response.status_code == 403


def test_sales_sees_only_activities_of_contacts(client_for, sales_user):
    used = ActivityFactory(reference="USED-1")
    ActivityFactory(reference="UNUSED-1")
    Contact.objects.create(
        email="prospect@example.test",
        collected_at=timezone.now(),
        processing_activity=used,
    )

    client = client_for(sales_user)
    listing = client.get(reverse("register:activity-list"))

    assert [a.reference for a in listing.context["activities"]] == ["USED-1"]


def test_sales_gets_404_for_unused_activity(client_for, sales_user):
    unused = ActivityFactory()

    response = client_for(sales_user).get(
        reverse("register:activity-detail", args=[unused.pk])
    )

    assert response.status_code == 404


def test_sales_cannot_export(client_for, sales_user):
    response = client_for(sales_user).get(
        reverse("register:register-export", args=["xlsx"])
    )

    assert response.status_code == 403


def test_export_follows_list_filters(client_for, compliance_officer):
    ActivityFactory(reference="TRT-CTRL", role="controller")
    ActivityFactory(reference="TRT-PROC", role="processor")
    client = client_for(compliance_officer)

    response = client.get(
        reverse("register:register-export", args=["csv"]) + "?role=processor"
    )
    listing = client.get(reverse("register:activity-list") + "?role=processor")

    text = response.content.decode("utf-8-sig")
    assert response.status_code == 200
    assert "TRT-PROC" in text
    assert "TRT-CTRL" not in text
    assert "export/csv/?role=processor" in listing.text


def test_export_with_invalid_filter_is_rejected(client_for, compliance_officer):
    response = client_for(compliance_officer).get(
        reverse("register:register-export", args=["csv"]) + "?role=nobody"
    )

    assert response.status_code == 400
    assert "nobody" in response.content.decode()


def test_outsider_cannot_read_register(client_for, outsider):
    response = client_for(outsider).get(reverse("register:activity-list"))

    assert response.status_code == 403


def test_detail_names_missing_items(client_for, compliance_officer):
    activity = ActivityFactory(lawful_basis="")

    response = client_for(compliance_officer).get(
        reverse("register:activity-detail", args=[activity.pk])
    )

    codes = [item.code for item in response.context["missing"]]
    assert "lawful_basis" in codes
    assert "retention_rules" in codes
    assert 'data-missing="lawful_basis"' in response.content.decode()


def test_history_shows_edit_diff(client_for, compliance_officer):
    client = client_for(compliance_officer)
    client.post(reverse("register:activity-create"), _activity_post())
    activity = ProcessingActivity.objects.get(reference="TRT-900")
    edit = _activity_post(name="Enquête annuelle")
    edit.update(_management("transfers", total=1, initial=1))
    edit["transfers-0-id"] = str(activity.transfers.get().pk)
    edit["transfers-0-activity"] = str(activity.pk)
    edit["loaded_version"] = activity.updated_at.isoformat()

    client.post(reverse("register:activity-edit", args=[activity.pk]), edit)
    response = client.get(reverse("register:activity-history", args=[activity.pk]))

    latest = response.context["entries"][0]
    assert latest.action == "changed"
    assert latest.user == compliance_officer
    assert [(c.old, c.new) for c in latest.changes] == [
        ("Enquête de satisfaction", "Enquête annuelle")
    ]
    assert activity.transfers.count() == 1


def test_history_dates_in_local_format(client_for, compliance_officer):
    client = client_for(compliance_officer)
    client.post(reverse("register:activity-create"), _activity_post())
    activity = ProcessingActivity.objects.get(reference="TRT-900")
    edit = _activity_post(next_review_on="2027-01-15")
    edit.update(_management("transfers", total=1, initial=1))
    edit["transfers-0-id"] = str(activity.transfers.get().pk)
    edit["transfers-0-activity"] = str(activity.pk)
    edit["loaded_version"] = activity.updated_at.isoformat()
    client.post(reverse("register:activity-edit", args=[activity.pk]), edit)

    response = client.get(
        reverse("register:activity-history", args=[activity.pk]),
        HTTP_ACCEPT_LANGUAGE="fr",
    )

    (change,) = response.context["entries"][0].changes
    assert change.new == "15/01/2027"


def test_export_downloads_each_format(client_for, compliance_officer):
    activity = complete_activity(compliance_officer)
    client = client_for(compliance_officer)

    for file_format, signature in (
        ("xlsx", b"PK"),
        ("ods", b"PK"),
        ("csv", b"\xef\xbb\xbf"),
        ("pdf", b"%PDF"),
    ):
        response = client.get(
            reverse("register:activity-export", args=[activity.pk, file_format])
        )
        assert response.status_code == 200
        assert response.content.startswith(signature)
        assert activity.reference in response["Content-Disposition"]


def test_import_preview_then_confirm(client_for, compliance_officer):
    client = client_for(compliance_officer)
    csv_text = (
        "Type de ligne,N° / RÉF,Nom du traitement,Statut\n"
        "Traitement,IMP-1,Importé,draft\n"
    )
    upload = SimpleUploadedFile("register.csv", csv_text.encode("utf-8"))

    preview = client.post(reverse("register:import"), {"file": upload})

    assert preview.status_code == 200
    assert preview.context["report"].activities[0]["outcome"] == "created"
    assert not ProcessingActivity.objects.exists()
    token = preview.context["token"]
    confirm = client.post(
        reverse("register:import"), {"action": "confirm", "token": token}
    )
    assert confirm.status_code == 302
    assert ProcessingActivity.objects.get().reference == "IMP-1"


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (["IMP-1"], "Registre importé : 1 traitement lu."),
        (["IMP-1", "IMP-2"], "Registre importé : 2 traitements lus."),
    ],
)
def test_import_confirm_count_in_french(client_for, compliance_officer, rows, expected):
    client = client_for(compliance_officer)
    csv_text = "Type de ligne,N° / RÉF,Nom du traitement,Statut\n" + "".join(
        f"Traitement,{reference},Importé {reference},draft\n" for reference in rows
    )
    upload = SimpleUploadedFile("register.csv", csv_text.encode("utf-8"))
    french = {"HTTP_ACCEPT_LANGUAGE": "fr"}
    preview = client.post(reverse("register:import"), {"file": upload}, **french)

    confirm = client.post(
        reverse("register:import"),
        {"action": "confirm", "token": preview.context["token"]},
        follow=True,
        **french,
    )

    assert expected in confirm.content.decode()


def test_import_cancel_writes_nothing(client_for, compliance_officer):
    client = client_for(compliance_officer)
    upload = SimpleUploadedFile(
        "register.csv",
        b"Type de ligne,N\xc2\xb0 / R\xc3\x89F,Nom du traitement\nTraitement,C-1,X\n",
    )
    preview = client.post(reverse("register:import"), {"file": upload})

    client.post(
        reverse("register:import"),
        {"action": "cancel", "token": preview.context["token"]},
    )

    assert not ProcessingActivity.objects.exists()


def test_import_rejects_other_extension(client_for, compliance_officer):
    upload = SimpleUploadedFile("register.pdf", b"%PDF-1.4")

    response = client_for(compliance_officer).post(
        reverse("register:import"), {"file": upload}
    )

    assert response.status_code == 400
    assert "register.pdf is not an .xlsx, .ods or .csv file" in (
        response.content.decode()
    )


def test_import_rejected_lists_problems(client_for, compliance_officer):
    upload = SimpleUploadedFile("register.ods", io.BytesIO(b"garbage").read())

    response = client_for(compliance_officer).post(
        reverse("register:import"), {"file": upload}
    )

    assert response.context["report"].has_errors
    assert "Confirm the import" not in response.content.decode()


def test_import_error_names_uploaded_file(client_for, compliance_officer):
    upload = SimpleUploadedFile("binary.xlsx", bytes(range(256)) * 4)

    response = client_for(compliance_officer).post(
        reverse("register:import"), {"file": upload}, HTTP_ACCEPT_LANGUAGE="fr"
    )

    messages = " ".join(p.message for p in response.context["report"].problems)
    assert "binary.xlsx n'a pas pu être lu" in messages
    assert "zip" not in messages.lower()
    assert "register_imports" not in response.content.decode()


def test_dashboard_panel_counts(client_for, compliance_officer):
    draft = ActivityFactory(status="draft", security_measures="")

    response = client_for(compliance_officer).get(reverse("core:dashboard"))

    panel = next(
        p for p in response.context["panels"] if p.template == "register/panel.html"
    )
    assert dict(panel.context["by_status"])["Draft"] == 1
    assert panel.context["incomplete"] == [draft]
    assert "Draft: <strong>1</strong>" in response.content.decode()


def test_dashboard_panel_french_spacing(client_for, compliance_officer):
    ActivityFactory(status="draft", security_measures="")

    response = client_for(compliance_officer).get(
        reverse("core:dashboard"), HTTP_ACCEPT_LANGUAGE="fr"
    )

    assert "Brouillon : <strong>1</strong>" in response.content.decode()
    assert "1 traitement incomplet :" in response.content.decode()


def test_dashboard_panel_english_colon_without_space(client_for, compliance_officer):
    ActivityFactory(status="draft", security_measures="")

    response = client_for(compliance_officer).get(
        reverse("core:dashboard"), HTTP_ACCEPT_LANGUAGE="en"
    )

    assert "1 incomplete activity:" in response.content.decode()


def test_reference_list_add_and_remove(client_for, compliance_officer):
    client = client_for(compliance_officer)

    client.post(
        reverse("register:reference-terms"),
        {
            "kind": "data_subject",
            "label": "Visiteurs de salon",
            "sensitivity": "standard",
        },
    )
    term = ReferenceTerm.objects.get(label="Visiteurs de salon")
    client.post(reverse("register:reference-terms"), {"delete": term.pk})

    assert not ReferenceTerm.objects.filter(pk=term.pk).exists()
    assert AuditEvent.objects.filter(action="register.term.added").count() == 1
    assert AuditEvent.objects.filter(action="register.term.deleted").count() == 1


def test_reference_list_rejects_duplicate(client_for, compliance_officer):
    ReferenceTerm.objects.create(kind="recipient", label="Comptable")

    response = client_for(compliance_officer).post(
        reverse("register:reference-terms"),
        {"kind": "recipient", "label": "Comptable", "sensitivity": "standard"},
    )

    assert response.status_code == 400
    assert ReferenceTerm.objects.filter(label="Comptable").count() == 1


@pytest.mark.parametrize("term_id", ["abc", "", "-1"])
def test_reference_list_delete_of_bad_id_not_found(
    client_for, compliance_officer, term_id
):
    response = client_for(compliance_officer).post(
        reverse("register:reference-terms"), {"delete": term_id}
    )

    assert response.status_code == 404


def test_sales_cannot_change_reference_lists(client_for, sales_user):
    response = client_for(sales_user).post(
        reverse("register:reference-terms"),
        {"kind": "recipient", "label": "Intrus", "sensitivity": "standard"},
    )

    assert response.status_code == 403


def test_dpo_creates_activity(client_for, dpo):
    response = client_for(dpo).post(
        reverse("register:activity-create"), _activity_post()
    )

    assert response.status_code == 302
    assert ProcessingActivity.objects.filter(reference="TRT-900").exists()


@pytest.mark.skipif(
    not CNIL_FILE.exists(), reason=f"the CNIL template is not at {CNIL_FILE}"
)
def test_import_cnil_template_through_page(client_for, compliance_officer):
    client = client_for(compliance_officer)
    upload = SimpleUploadedFile(CNIL_FILE.name, CNIL_FILE.read_bytes())

    preview = client.post(reverse("register:import"), {"file": upload})
    client.post(
        reverse("register:import"),
        {"action": "confirm", "token": preview.context["token"]},
    )

    activity = ProcessingActivity.objects.get(reference="1 - Exemple")
    assert activity.transfers.get().country == "Andorre"
    assert activity.history.first().history_user == compliance_officer
    assert AuditEvent.objects.filter(action="register.imported").count() == 1


def test_edit_page_keeps_part_fields(client_for, compliance_officer):
    expected = {part: list(fields) for part, fields in CHILD_FIELDS.items()}

    client_for(compliance_officer).get(reverse("register:activity-create"))

    assert expected == CHILD_FIELDS
    assert all("activity" not in fields for fields in CHILD_FIELDS.values())


def _retention_post(activity, *, duration="3", rule_id=""):
    data = _activity_post(reference=activity.reference, name=activity.name)
    data.update(_management("transfers"))
    data.update(_management("retention_rules", total=1, initial=1 if rule_id else 0))
    data.update(
        {
            "retention_rules-0-id": str(rule_id),
            "retention_rules-0-data_category": "Coordonnées",
            "retention_rules-0-record_type": "contact",
            "retention_rules-0-duration": duration,
            "retention_rules-0-unit": "years",
            "retention_rules-0-start_event": "collection",
            "retention_rules-0-action": "delete",
        }
    )
    return data


def test_edit_zero_duration_shows_error(client_for, compliance_officer):
    activity = ActivityFactory()

    response = client_for(compliance_officer).post(
        reverse("register:activity-edit", args=[activity.pk]),
        _retention_post(activity, duration="0"),
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert "The duration must be at least 1" in html
    assert 'class="errorlist' in html
    assert not activity.retention_rules.exists()


def test_edit_duration_input_min_is_one(client_for, compliance_officer):
    activity = ActivityFactory()

    response = client_for(compliance_officer).get(
        reverse("register:activity-edit", args=[activity.pk])
    )

    html = response.content.decode()
    assert 'name="retention_rules-0-duration" min="1"' in html


def test_edit_duration_above_maximum(client_for, compliance_officer):
    activity = ActivityFactory()

    response = client_for(compliance_officer).post(
        reverse("register:activity-edit", args=[activity.pk]),
        _retention_post(activity, duration="10000"),
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert "A duration of 10000 years is above the maximum of 100 years" in html
    assert not activity.retention_rules.exists()


def test_edit_of_deleted_row_shows_error(client_for, compliance_officer):
    activity = complete_activity(
        compliance_officer, status=ProcessingActivity.Status.DRAFT
    )
    rule = activity.retention_rules.get()
    stale_id = rule.pk
    rule.delete()

    response = client_for(compliance_officer).post(
        reverse("register:activity-edit", args=[activity.pk]),
        _retention_post(activity, duration="5", rule_id=stale_id),
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert '<tr class="row-errors">' in html
    assert "This row was deleted after you opened the page" in html


def test_edit_with_row_of_other_activity_rejected(client_for, compliance_officer):
    """GIVEN two activities with a retention rule each
    WHEN the first one's form is posted with the second one's rule id
    THEN nothing is saved: no rule is deleted, re-created or moved.
    """
    activity = complete_activity(
        compliance_officer, reference="TRT-A", status=ProcessingActivity.Status.DRAFT
    )
    other = complete_activity(
        compliance_officer, reference="TRT-B", status=ProcessingActivity.Status.DRAFT
    )
    own_rule = activity.retention_rules.get()
    other_rule = other.retention_rules.get()

    data = _retention_post(activity, duration="5", rule_id=other_rule.pk)
    data["loaded_version"] = activity.updated_at.isoformat()

    response = client_for(compliance_officer).post(
        reverse("register:activity-edit", args=[activity.pk]), data
    )

    assert response.status_code == 400
    assert "is not one of the activity&#x27;s rows" in response.content.decode()
    assert list(activity.retention_rules.all()) == [own_rule]
    assert list(other.retention_rules.all()) == [other_rule]


def test_edit_with_row_id_twice_rejected(client_for, compliance_officer):
    activity = complete_activity(
        compliance_officer, reference="TRT-A", status=ProcessingActivity.Status.DRAFT
    )
    own_rule = activity.retention_rules.get()
    data = _retention_post(activity, duration="5", rule_id=own_rule.pk)
    data.update(_management("retention_rules", total=2, initial=2))
    for name in list(data):
        if name.startswith("retention_rules-0-"):
            data[name.replace("-0-", "-1-")] = data[name]
    data["loaded_version"] = activity.updated_at.isoformat()

    response = client_for(compliance_officer).post(
        reverse("register:activity-edit", args=[activity.pk]), data
    )

    assert response.status_code == 400
    assert "appears twice" in response.content.decode()
    assert list(activity.retention_rules.all()) == [own_rule]


def test_row_errors_include_non_field():
    form = PART_FORMSETS["recipients"](prefix="recipients").empty_form
    form.cleaned_data = {}
    form.add_error(None, "Row-level problem")

    assert list(form.row_errors()) == ["Row-level problem"]


def test_officer_deletes_unused_activity(client_for, compliance_officer):
    activity = ActivityFactory(
        reference="TRT-DEL", status=ProcessingActivity.Status.DRAFT
    )
    client = client_for(compliance_officer)
    delete_url = reverse("register:activity-delete", args=[activity.pk])

    detail = client.get(reverse("register:activity-detail", args=[activity.pk]))
    page = client.get(delete_url)
    response = client.post(delete_url)

    assert delete_url in detail.text
    assert page.status_code == 200
    assert response.status_code == 302
    assert not ProcessingActivity.objects.filter(pk=activity.pk).exists()
    event = AuditEvent.objects.get(action="register.activity.deleted")
    assert event.details == {"reference": "TRT-DEL"}


def test_save_after_deletion_names_it(client_for, compliance_officer):
    """GIVEN a draft open for editing in one tab and deleted in another,
    WHEN the first tab saves, THEN the page shows that the draft was deleted
    and that nothing was saved, instead of a bare "not found"."""
    activity = ActivityFactory(
        reference="TRT-DEL", status=ProcessingActivity.Status.DRAFT
    )
    client = client_for(compliance_officer)
    edit_url = reverse("register:activity-edit", args=[activity.pk])
    client.post(reverse("register:activity-delete", args=[activity.pk]))

    saved = client.post(edit_url, _activity_post(reference="TRT-DEL"), follow=True)
    opened = client.get(edit_url, follow=True)

    history_url = reverse("register:activity-history", args=[activity.pk])
    assert saved.redirect_chain == [(history_url, 302)]
    assert "TRT-DEL was deleted on" in saved.text
    assert "so your changes were not saved" in saved.text
    assert "so it cannot be edited" in opened.text
    assert not ProcessingActivity.objects.filter(reference="TRT-DEL").exists()


def test_activity_in_use_is_not_deleted(client_for, compliance_officer):
    activity = ActivityFactory(reference="TRT-USED")
    Contact.objects.create(
        email="utilise@example.com",
        collected_at=timezone.now(),
        processing_activity=activity,
    )

    response = client_for(compliance_officer).post(
        reverse("register:activity-delete", args=[activity.pk]), follow=True
    )

    assert ProcessingActivity.objects.filter(pk=activity.pk).exists()
    assert "cannot be deleted" in response.text
    assert not AuditEvent.objects.filter(action="register.activity.deleted").exists()


def test_dpo_cannot_delete_activity(client_for, dpo):
    activity = ActivityFactory()

    response = client_for(dpo).post(
        reverse("register:activity-delete", args=[activity.pk])
    )

    assert response.status_code == 403
    assert ProcessingActivity.objects.filter(pk=activity.pk).exists()


def _typed_in_browser_post() -> dict:
    """A new activity as a browser submits it: textareas with CRLF line breaks."""
    data = _activity_post(
        reference="TRT-100",
        purposes="Gestion des candidatures\r\nConstitution d'un vivier",
        security_measures="Accès par rôle\r\nJournalisation",
    )
    data["transfers-0-documentation"] = "Contrat du 02/01/2026\r\nAnnexe 2"
    return data


def test_form_stores_lf_line_breaks(client_for, compliance_officer):
    client_for(compliance_officer).post(
        reverse("register:activity-create"), _typed_in_browser_post()
    )

    activity = ProcessingActivity.objects.get(reference="TRT-100")
    assert activity.purposes == "Gestion des candidatures\nConstitution d'un vivier"
    assert activity.security_measures == "Accès par rôle\nJournalisation"
    assert activity.transfers.get().documentation == "Contrat du 02/01/2026\nAnnexe 2"


@pytest.mark.parametrize("file_format", ["xlsx", "ods", "csv"])
def test_browser_activity_reimports_unchanged(
    client_for, compliance_officer, file_format
):
    client = client_for(compliance_officer)
    client.post(reverse("register:activity-create"), _typed_in_browser_post())
    activity = ProcessingActivity.objects.get(reference="TRT-100")
    versions = activity.history.count()
    export = client.get(reverse("register:register-export", args=[file_format]))
    upload = SimpleUploadedFile(f"registre.{file_format}", export.content)

    preview = client.post(reverse("register:import"), {"file": upload})
    client.post(
        reverse("register:import"),
        {"action": "confirm", "token": preview.context["token"]},
    )

    entries = preview.context["report"].activities

    assert [(entry["reference"], entry["outcome"]) for entry in entries] == [
        ("TRT-100", "unchanged")
    ]
    assert activity.history.count() == versions


def test_processor_export_titles_file(client_for, compliance_officer):
    complete_activity(
        compliance_officer,
        reference="SST-001",
        role=ProcessingActivity.Role.PROCESSOR,
        controllers_served="Client Exemple SA, Paris",
    )
    complete_activity(compliance_officer, reference="TRT-001")

    response = client_for(compliance_officer).get(
        reverse("register:register-export", args=["xlsx"]) + "?role=processor"
    )

    workbook = load_workbook(io.BytesIO(response.content))
    summary = workbook["Liste des traitements"]
    assert summary["A1"].value == PROCESSOR_SUMMARY_TITLE
    assert summary["A2"].value == "Sous-traitant :"
    assert workbook.sheetnames == ["Liste des traitements", "SST-001"]
    assert "registre-sous-traitant-" in response["Content-Disposition"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", "registre-20"),
        ("?status=draft", "registre-extrait-20"),
        ("?search=zzzz", "registre-extrait-20"),
        ("?role=processor", "registre-sous-traitant-20"),
        ("?role=processor&status=draft", "registre-sous-traitant-extrait-20"),
    ],
)
def test_filtered_export_named_extract(client_for, compliance_officer, query, expected):
    complete_activity(compliance_officer, reference="TRT-001")

    response = client_for(compliance_officer).get(
        reverse("register:register-export", args=["csv"]) + query
    )

    assert f'filename="{expected}' in response["Content-Disposition"]


def test_import_nul_character_is_rejected(client_for, compliance_officer):
    upload = SimpleUploadedFile(
        "register.csv",
        "Type de ligne,N° / RÉF,Nom du traitement\nTraitement,NUL-1,A\x00B\n".encode(),
    )

    response = client_for(compliance_officer).post(
        reverse("register:import"), {"file": upload}
    )

    assert response.status_code == 200
    problem = response.context["report"].problems[0]
    assert (problem.row, problem.column) == (2, "C")
    assert "NUL character" in problem.message
    assert not ProcessingActivity.objects.exists()


@pytest.fixture
def staging_folders(settings, tmp_path):
    settings.REGISTER_IMPORT_ROOT = tmp_path / "private"
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.REGISTER_IMPORT_ROOT, settings.MEDIA_ROOT


def _preview_upload(client):
    upload = SimpleUploadedFile(
        "register.csv",
        "Type de ligne,N° / RÉF,Nom du traitement\nTraitement,S-1,Essai\n".encode(),
    )
    return client.post(reverse("register:import"), {"file": upload})


def test_import_file_staged_outside_media(
    client_for, compliance_officer, staging_folders
):
    private, media = staging_folders

    _preview_upload(client_for(compliance_officer))

    staged = list(private.iterdir())
    assert len(staged) == 1
    assert stat.S_IMODE(staged[0].stat().st_mode) == 0o600
    assert stat.S_IMODE(private.stat().st_mode) == 0o700
    assert not (media / "register_imports").exists()


def test_stale_staged_files_deleted_on_upload(
    client_for, compliance_officer, staging_folders
):
    private, media = staging_folders
    private.mkdir()
    stale = private / "0123abcd.csv"
    stale.write_text("ancien")
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(stale, (two_days_ago, two_days_ago))
    recent = private / "4567cdef.csv"
    recent.write_text("récent")
    legacy = media / "register_imports" / "89abef01.xlsx"
    legacy.parent.mkdir(parents=True)
    legacy.write_text("ancien emplacement")

    _preview_upload(client_for(compliance_officer))

    assert not stale.exists()
    assert recent.exists()
    assert not legacy.exists()


def test_import_confirm_deletes_staged_file(
    client_for, compliance_officer, staging_folders
):
    private, _media = staging_folders
    client = client_for(compliance_officer)
    preview = _preview_upload(client)

    client.post(
        reverse("register:import"),
        {"action": "confirm", "token": preview.context["token"]},
    )

    assert list(private.iterdir()) == []
    assert ProcessingActivity.objects.get().reference == "S-1"


def test_delete_refusal_counts_referring_records(client_for, compliance_officer):
    activity = ActivityFactory(
        reference="TRT-USED", status=ProcessingActivity.Status.DRAFT
    )
    for number in range(3):
        Contact.objects.create(
            email=f"utilise{number}@example.com",
            collected_at=timezone.now(),
            processing_activity=activity,
        )

    response = client_for(compliance_officer).post(
        reverse("register:activity-delete", args=[activity.pk]), follow=True
    )

    assert "other records refer to it: 3 contacts." in response.text


def _unchanged_post(page) -> dict:
    """Return the data a browser submits for an edit page left as rendered."""
    data = {}
    all_forms = [page.context["form"]]
    for _part, _title, formset in page.context["formsets"]:
        all_forms.append(formset.management_form)
        all_forms.extend(formset.forms)
    for form in all_forms:
        for bound in form:
            value = bound.value()
            if isinstance(bound.field.widget, forms_module.NullBooleanSelect):
                data[bound.html_name] = {True: "true", False: "false"}.get(
                    value, "unknown"
                )
            elif isinstance(bound.field.widget, forms_module.CheckboxInput):
                if value:
                    data[bound.html_name] = "on"
            elif value is not None:
                data[bound.html_name] = str(value)
    return data


def test_parts_only_save_moves_updated_at(client_for, compliance_officer):
    activity = complete_activity(compliance_officer)
    before = activity.updated_at
    client = client_for(compliance_officer)
    url = reverse("register:activity-edit", args=[activity.pk])
    data = _unchanged_post(client.get(url))
    data["retention_rules-0-duration"] = "2"

    response = client.post(url, data)

    activity.refresh_from_db()
    assert response.status_code == 302
    assert activity.retention_rules.get().duration == 2
    assert activity.updated_at > before
    assert activity.history.count() == 1


def test_stale_parts_edit_is_rejected(compliance_officer, dpo):
    """GIVEN two users who opened the same activity's edit page
    WHEN both change only its retention rules, one after the other
    THEN the second save is rejected and the first one's change is kept.
    """
    activity = complete_activity(compliance_officer)
    url = reverse("register:activity-edit", args=[activity.pk])
    officer_client, dpo_client = Client(), Client()
    officer_client.force_login(compliance_officer)
    dpo_client.force_login(dpo)
    officer_data = _unchanged_post(officer_client.get(url))
    dpo_data = _unchanged_post(dpo_client.get(url))
    officer_data["retention_rules-0-duration"] = "2"
    dpo_data["retention_rules-0-duration"] = "5"

    first = officer_client.post(url, officer_data)
    second = dpo_client.post(url, dpo_data)

    assert first.status_code == 302
    assert second.status_code == 400
    assert "after you opened the page" in second.text
    assert activity.retention_rules.get().duration == 2


def test_detail_updated_date_follows_parts(client_for, compliance_officer):
    activity = complete_activity(compliance_officer)
    ProcessingActivity.objects.filter(pk=activity.pk).update(
        updated_at=timezone.now() - datetime.timedelta(days=400)
    )
    client = client_for(compliance_officer)
    url = reverse("register:activity-edit", args=[activity.pk])
    data = _unchanged_post(client.get(url))
    data["retention_rules-0-duration"] = "2"

    client.post(url, data)
    page = client.get(reverse("register:activity-detail", args=[activity.pk]))

    activity.refresh_from_db()
    assert activity.updated_at.date() == timezone.now().date()
    assert (
        date_format(timezone.localtime(activity.updated_at), "SHORT_DATETIME_FORMAT")
        in page.text
    )


def test_officer_edit_page_offers_delete(client_for, compliance_officer):
    activity = complete_activity(compliance_officer)

    page = client_for(compliance_officer).get(
        reverse("register:activity-edit", args=[activity.pk])
    )

    assert 'name="retention_rules-0-DELETE"' in page.text


def test_dpo_edit_page_offers_no_delete(client_for, dpo, compliance_officer):
    activity = complete_activity(compliance_officer)

    page = client_for(dpo).get(reverse("register:activity-edit", args=[activity.pk]))

    assert "-DELETE" not in page.text


def test_officer_deletes_retention_rule(client_for, compliance_officer):
    activity = complete_activity(
        compliance_officer, status=ProcessingActivity.Status.DRAFT
    )
    client = client_for(compliance_officer)
    url = reverse("register:activity-edit", args=[activity.pk])
    data = _unchanged_post(client.get(url))
    data["retention_rules-0-DELETE"] = "on"

    response = client.post(url, data)

    assert response.status_code == 302
    assert not activity.retention_rules.exists()


def test_dpo_delete_box_is_ignored(client_for, dpo, compliance_officer):
    activity = complete_activity(
        compliance_officer, status=ProcessingActivity.Status.DRAFT
    )
    client = client_for(dpo)
    url = reverse("register:activity-edit", args=[activity.pk])
    data = _unchanged_post(client.get(url))
    data["retention_rules-0-DELETE"] = "on"

    client.post(url, data)

    assert activity.retention_rules.count() == 1


def test_dpo_cannot_drop_rule_from_post(client_for, dpo, compliance_officer):
    activity = complete_activity(
        compliance_officer, status=ProcessingActivity.Status.DRAFT
    )
    client = client_for(dpo)
    url = reverse("register:activity-edit", args=[activity.pk])
    data = _unchanged_post(client.get(url))
    data.update(_management("retention_rules"))

    response = client.post(url, data)

    assert response.status_code == 400
    assert "not allowed to delete retention rules" in response.text
    assert activity.retention_rules.count() == 1


@pytest.fixture
def editor_without_add_rule(db, django_user_model):
    """A user who may edit the register but not add retention rules."""
    user = django_user_model.objects.create_user(username="noa")
    codenames = [
        "view_processingactivity",
        "change_processingactivity",
        "view_whole_register",
        "view_retentionrule",
        "change_retentionrule",
        "delete_retentionrule",
    ]
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="register", codename__in=codenames
        )
    )
    return user


def test_edit_page_without_add_offers_no_row(
    client_for, editor_without_add_rule, compliance_officer
):
    activity = complete_activity(compliance_officer)

    page = client_for(editor_without_add_rule).get(
        reverse("register:activity-edit", args=[activity.pk])
    )

    assert 'name="retention_rules-0-duration"' in page.text
    assert 'name="retention_rules-1-duration"' not in page.text
    assert 'data-prefix="retention_rules"' not in page.text


def test_rule_added_without_permission_is_rejected(
    client_for, editor_without_add_rule, compliance_officer
):
    activity = complete_activity(
        compliance_officer, status=ProcessingActivity.Status.DRAFT
    )
    client = client_for(editor_without_add_rule)
    url = reverse("register:activity-edit", args=[activity.pk])
    data = _unchanged_post(client.get(url))
    data["retention_rules-TOTAL_FORMS"] = "2"
    data.update(
        {
            "retention_rules-1-data_category": "Historique des échanges",
            "retention_rules-1-record_type": "other",
            "retention_rules-1-duration": "1",
            "retention_rules-1-unit": "years",
            "retention_rules-1-start_event": "collection",
            "retention_rules-1-action": "delete",
        }
    )

    response = client.post(url, data)

    assert response.status_code == 400
    assert "not allowed to add retention rules" in response.text
    assert activity.retention_rules.count() == 1


def _breach_for(activity):
    now = timezone.now()
    breach = Breach.objects.create(
        reference="BRE-2026-900",
        title="Envoi au mauvais destinataire",
        aware_at=now,
        detected_at=now,
    )
    breach.activities.add(activity)
    return breach


def test_admin_delete_goes_to_register_page(admin_client, compliance_officer):
    activity = complete_activity(compliance_officer)
    breach = _breach_for(activity)

    response = admin_client.post(
        reverse("admin:register_processingactivity_delete", args=[activity.pk]),
        {"post": "yes"},
    )

    assert response.status_code == 302
    assert response.url == reverse("register:activity-delete", args=[activity.pk])
    assert ProcessingActivity.objects.filter(pk=activity.pk).exists()
    assert list(breach.activities.all()) == [activity]


def test_admin_change_page_links_to_register(admin_client, compliance_officer):
    activity = complete_activity(compliance_officer)

    page = admin_client.get(
        reverse("admin:register_processingactivity_change", args=[activity.pk])
    )

    delete_url = reverse("admin:register_processingactivity_delete", args=[activity.pk])
    assert delete_url not in page.text
    assert reverse("register:activity-detail", args=[activity.pk]) in page.text


def test_admin_bulk_delete_is_unavailable(admin_client, compliance_officer):
    activity = complete_activity(compliance_officer)
    breach = _breach_for(activity)
    changelist = reverse("admin:register_processingactivity_changelist")

    page = admin_client.get(changelist)
    response = admin_client.post(
        changelist,
        {"action": "delete_selected", "_selected_action": [activity.pk], "post": "yes"},
    )

    assert 'value="delete_selected"' not in page.text
    assert response.status_code in (200, 302)
    assert ProcessingActivity.objects.filter(pk=activity.pk).exists()
    assert list(breach.activities.all()) == [activity]


def test_deleted_draft_history_page_shows_versions(client_for, compliance_officer):
    """GIVEN a draft activity that the officer deletes
    WHEN the officer follows the redirect
    THEN the history page lists its versions, as the confirmation page states.
    """
    activity = complete_activity(
        compliance_officer, reference="TRT-GONE", status=ProcessingActivity.Status.DRAFT
    )
    client = client_for(compliance_officer)

    confirm = client.get(reverse("register:activity-delete", args=[activity.pk]))
    response = client.post(
        reverse("register:activity-delete", args=[activity.pk]), follow=True
    )

    assert "history of versions stays available" in confirm.text
    assert response.status_code == 200
    assert 'id="deleted-notice"' in response.text
    assert "Routeur SA" in response.text


def test_delete_page_of_in_force_activity(client_for, compliance_officer):
    activity = complete_activity(compliance_officer, reference="TRT-KEEP")
    client = client_for(compliance_officer)

    page = client.get(reverse("register:activity-delete", args=[activity.pk]))
    response = client.post(
        reverse("register:activity-delete", args=[activity.pk]), follow=True
    )

    assert 'class="danger"' not in page.text
    assert "Retire an activity in force instead" in page.text
    assert "so it cannot be deleted" in response.text
    assert ProcessingActivity.objects.filter(pk=activity.pk).exists()


def test_import_preview_confirms_overwrite(client_for, compliance_officer):
    """GIVEN an XLSX export, then a later edit of the activity
    WHEN the older file is imported without ticking the activity, then with it
    THEN the first import keeps the edit and the second one replaces it.
    """
    client = client_for(compliance_officer)
    activity = complete_activity(compliance_officer, reference="TRT-OLD")
    export = client.get(reverse("register:register-export", args=["xlsx"]))
    ProcessingActivity.objects.filter(pk=activity.pk).update(
        purposes="Edited later",
        updated_at=timezone.now() + datetime.timedelta(seconds=2),
    )

    def preview():
        upload = SimpleUploadedFile("registre.xlsx", export.content)
        return client.post(reverse("register:import"), {"file": upload})

    unticked = preview()
    confirmed = client.post(
        reverse("register:import"),
        {"action": "confirm", "token": unticked.context["token"]},
        follow=True,
    )
    kept = ProcessingActivity.objects.get(pk=activity.pk).purposes
    ticked = preview()
    client.post(
        reverse("register:import"),
        {"action": "confirm", "token": ticked.context["token"], "overwrite": "TRT-OLD"},
    )

    assert "“Edited later” → “Prospection commerciale”" in unticked.text
    assert 'name="overwrite" value="TRT-OLD"' in unticked.text
    assert kept == "Edited later"
    assert "Not imported, because they were changed" in confirmed.text
    assert ProcessingActivity.objects.get(pk=activity.pk).purposes == (
        "Prospection commerciale"
    )


def test_form_rejects_description_above_limit(client_for, compliance_officer):
    response = client_for(compliance_officer).post(
        reverse("register:activity-create"),
        _activity_post(description="x" * 10_001),
    )

    assert response.status_code == 400
    assert response.context["form"].errors["description"] == [
        "This text has 10001 characters, above the maximum of 10000. Shorten "
        "it, or keep the details in a document and refer to it here."
    ]
    assert not ProcessingActivity.objects.exists()


def test_xlsx_export_rejects_over_long_text(client_for, compliance_officer):
    complete_activity(compliance_officer, reference="TRT-LONG")
    # Text saved before the limits existed, written past the service.
    ProcessingActivity.objects.update(description="x" * 40_000)
    client = client_for(compliance_officer)

    xlsx = client.get(reverse("register:register-export", args=["xlsx"]))
    csv_file = client.get(reverse("register:register-export", args=["csv"]))

    assert xlsx.status_code == 400
    assert "TRT-LONG!B8 “Description du traitement” (40000)" in xlsx.text
    assert csv_file.status_code == 200
    assert "x" * 40_000 in csv_file.content.decode("utf-8-sig")


def test_import_preview_confirms_removal(client_for, compliance_officer):
    client = client_for(compliance_officer)
    activity = complete_activity(compliance_officer, reference="TRT-ROWS")
    export = client.get(reverse("register:register-export", args=["csv"]))
    activity.processors.create(name="Added after the export")
    ProcessingActivity.objects.filter(pk=activity.pk).update(
        updated_at=activity.updated_at
    )
    upload = SimpleUploadedFile("registre.csv", export.content)

    preview = client.post(reverse("register:import"), {"file": upload})
    client.post(
        reverse("register:import"),
        {
            "action": "confirm",
            "token": preview.context["token"],
            "remove_missing": "TRT-ROWS",
        },
    )

    assert "“Added after the export”: missing from the file, kept" in preview.text
    assert 'name="remove_missing" value="TRT-ROWS"' in preview.text
    assert list(activity.processors.values_list("name", flat=True)) == ["Routeur SA"]


def test_import_preview_offers_overwrite_for_removal(
    client_for, compliance_officer, tmp_path
):
    """GIVEN an XLSX export minus one recipient row, and a save of the
    activity in Registre after the export
    WHEN the file is previewed, then confirmed with both ticks
    THEN the preview offers the overwrite, and the import removes the row.
    """
    client = client_for(compliance_officer)
    activity = complete_activity(compliance_officer, reference="TRT-LATE")
    activity.recipients.create(label="Comptabilité")
    export = client.get(reverse("register:register-export", args=["xlsx"]))
    path = tmp_path / "registre.xlsx"
    path.write_bytes(export.content)
    workbook = load_workbook(path)
    sheet = workbook["TRT-LATE"]
    row = next(cell.row for cell in sheet["A"] if cell.value == "Comptabilité")
    sheet.delete_rows(row)
    workbook.save(path)
    ProcessingActivity.objects.filter(pk=activity.pk).update(
        updated_at=timezone.now() + datetime.timedelta(seconds=2)
    )
    upload = SimpleUploadedFile("registre.xlsx", path.read_bytes())

    preview = client.post(reverse("register:import"), {"file": upload})
    confirmed = client.post(
        reverse("register:import"),
        {
            "action": "confirm",
            "token": preview.context["token"],
            "overwrite": "TRT-LATE",
            "remove_missing": "TRT-LATE",
        },
        follow=True,
    )

    assert 'name="overwrite" value="TRT-LATE"' in preview.text
    assert 'name="remove_missing" value="TRT-LATE"' in preview.text
    assert "changed in Registre after the export</span>" in preview.text
    assert "Not imported" not in confirmed.text
    assert list(activity.recipients.values_list("label", flat=True)) == [
        "Service commercial"
    ]


def test_form_counts_crlf_as_one_character(client_for, compliance_officer):
    """A 7,799-character text of 2,600 lines is 10,398 characters with the
    browser's CRLF line breaks, above the 10,000 maximum."""
    text = "\r\n".join(["ab"] * 2600)

    response = client_for(compliance_officer).post(
        reverse("register:activity-create"), _activity_post(purposes=text)
    )

    activity = ProcessingActivity.objects.get(reference="TRT-900")
    assert response.status_code == 302
    assert len(activity.purposes) == 7799
    assert "\r" not in activity.purposes


def test_admin_rejects_return_to_draft(rf, admin_user, compliance_officer):
    activity = complete_activity(compliance_officer, reference="ADM-1")
    request = rf.post("/")
    request.user = admin_user
    model_admin = admin_site._registry[ProcessingActivity]
    form_class = model_admin.get_form(request, activity)
    data = {
        name: value
        for name, value in model_to_dict(activity).items()
        if value is not None
    }
    data["status"] = ProcessingActivity.Status.DRAFT

    form = form_class(data=data, instance=activity)

    assert not form.is_valid()
    assert "ADM-1 has been in force" in form.errors["status"][0]


def test_admin_stores_lf_line_breaks(rf, admin_user, compliance_officer):
    activity = complete_activity(compliance_officer, reference="ADM-2")
    activity.purposes = "Ligne 1\r\nLigne 2"
    request = rf.post("/")
    request.user = admin_user
    model_admin = admin_site._registry[ProcessingActivity]

    model_admin.save_model(request, activity, form=None, change=True)

    activity.refresh_from_db()
    assert activity.purposes == "Ligne 1\nLigne 2"


def test_delete_page_of_former_activity_in_force(client_for, compliance_officer):
    activity = complete_activity(compliance_officer, reference="TRT-WAS")
    ProcessingActivity.objects.filter(pk=activity.pk).update(
        status=ProcessingActivity.Status.DRAFT
    )
    client = client_for(compliance_officer)

    page = client.get(reverse("register:activity-delete", args=[activity.pk]))
    response = client.post(
        reverse("register:activity-delete", args=[activity.pk]), follow=True
    )

    detail = client.get(reverse("register:activity-detail", args=[activity.pk]))

    assert 'class="danger"' not in page.text
    assert reverse("register:activity-delete", args=[activity.pk]) not in detail.text
    assert "Only a draft that was never in force can be deleted" in page.text
    assert "its history shows it was in force" in response.text
    assert ProcessingActivity.objects.filter(pk=activity.pk).exists()


def test_import_preview_french_wording(client_for, compliance_officer, tmp_path):
    complete_activity(compliance_officer, reference="FR-1")
    client = client_for(compliance_officer)
    french = {"HTTP_ACCEPT_LANGUAGE": "fr"}
    export = client.get(reverse("register:register-export", args=["xlsx"]))
    path = tmp_path / "registre.xlsx"
    path.write_bytes(export.content)
    workbook = load_workbook(path)
    sheet = workbook["FR-1"]
    for cells in sheet.iter_rows():
        if cells[0].value == "Description du traitement":
            cells[1].value = "Nouvelle description"
    row = next(cell.row for cell in sheet["A"] if cell.value == "Service commercial")
    sheet.delete_rows(row)
    workbook.save(path)
    upload = SimpleUploadedFile("registre.xlsx", path.read_bytes())

    preview = client.post(reverse("register:import"), {"file": upload}, **french)

    text = preview.content.decode()
    nbsp = "\u00a0"
    assert f"Description : «{nbsp}{nbsp}» → «{nbsp}Nouvelle description{nbsp}»" in text
    assert (
        f"Destinataire «{nbsp}Service commercial{nbsp}» : conservation, car la "
        "ligne manque dans le fichier ; catégorie de destinataires : "
        f"«{nbsp}Service commercial{nbsp}»" in text
    )
    assert f"«{nbsp}{nbsp}» → «{nbsp}Service commercial" not in text
    assert "absence dans le fichier" not in text


def test_import_preview_lists_new_activity(client_for, compliance_officer, tmp_path):
    """GIVEN an export whose activity was deleted since, WHEN it is uploaded
    again, THEN the preview lists the values and rows that the new activity
    will have, so that they can be checked before confirming."""
    activity = complete_activity(compliance_officer, reference="NEW-1")
    client = client_for(compliance_officer)
    export = client.get(reverse("register:register-export", args=["xlsx"]))
    activity.delete()
    upload = SimpleUploadedFile("registre.xlsx", export.content)

    preview = client.post(
        reverse("register:import"), {"file": upload}, HTTP_ACCEPT_LANGUAGE="en"
    )

    [entry] = preview.context["report"].activities
    assert entry["outcome"] == "created"
    [purposes] = [change for change in entry["fields"] if change["field"] == "purposes"]
    assert purposes["new"] == activity.purposes
    assert f"Purposes: “{activity.purposes}”" in preview.text
    assert "Recipient “Service commercial”: added" in preview.text
    assert all(change["field"] != "notice_token" for change in entry["fields"])


def test_history_of_deleted_draft_in_french(client_for, compliance_officer):
    activity = ActivityFactory(status=ProcessingActivity.Status.DRAFT)
    client = client_for(compliance_officer)
    client.post(reverse("register:activity-delete", args=[activity.pk]))

    page = client.get(
        reverse("register:activity-history", args=[activity.pk]),
        HTTP_ACCEPT_LANGUAGE="fr",
    )

    assert "Supprimé" in page.text
    assert "Effacé" not in page.text


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0001-01-01", "too far in the past: check the year, which must be 1900"),
        ("2026-02-31", "“2026-02-31” is not a valid date"),
    ],
)
def test_implausible_review_date_is_named(
    client_for, compliance_officer, value, message
):
    response = client_for(compliance_officer).post(
        reverse("register:activity-create"),
        _activity_post(last_reviewed_on=value),
    )

    assert response.status_code == 400
    assert message in response.context["form"].errors["last_reviewed_on"][0]
    assert not ProcessingActivity.objects.filter(reference="TRT-900").exists()


def test_next_review_in_year_9999_is_rejected(client_for, compliance_officer):
    response = client_for(compliance_officer).post(
        reverse("register:activity-create"),
        _activity_post(next_review_on="9999-12-31"),
    )

    assert response.status_code == 400
    message = response.context["form"].errors["next_review_on"][0]
    value = date_format(datetime.date(9999, 12, 31), "SHORT_DATE_FORMAT")
    assert f"{value} is too far in the future" in message
    assert not ProcessingActivity.objects.filter(reference="TRT-900").exists()


def test_next_review_in_ten_years_is_saved(client_for, compliance_officer):
    next_review = timezone.localdate().replace(day=1, month=1)
    next_review = next_review.replace(year=next_review.year + 10)

    response = client_for(compliance_officer).post(
        reverse("register:activity-create"),
        _activity_post(next_review_on=next_review.isoformat()),
    )

    assert response.status_code == 302
    activity = ProcessingActivity.objects.get(reference="TRT-900")
    assert activity.next_review_on == next_review


def test_processor_agreement_date_before_1900_is_rejected(
    client_for, compliance_officer
):
    data = _activity_post()
    data.update(_management("processors", total=1))
    data.update(
        {
            "processors-0-name": "Routeur SA",
            "processors-0-country": "France",
            "processors-0-dpa_signed_on": "1899-12-31",
        }
    )

    response = client_for(compliance_officer).post(
        reverse("register:activity-create"), data
    )

    assert response.status_code == 400
    assert "too far in the past" in response.content.decode()


def test_processing_start_shown_and_not_in_the_future(client_for, compliance_officer):
    client = client_for(compliance_officer)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)

    rejected = client.post(
        reverse("register:activity-create"),
        _activity_post(started_on=tomorrow.isoformat()),
    )
    saved = client.post(
        reverse("register:activity-create"), _activity_post(started_on="2019-03-01")
    )

    assert rejected.status_code == 400
    assert "is in the future" in rejected.context["form"].errors["started_on"][0]
    activity = ProcessingActivity.objects.get(reference="TRT-900")
    assert saved.status_code == 302
    assert activity.started_on == datetime.date(2019, 3, 1)
    page = client.get(reverse("register:activity-detail", args=[activity.pk]))
    assert "Processing started on" in page.content.decode()


def test_list_invalid_filter_shows_error(client_for, compliance_officer):
    complete_activity(compliance_officer, reference="TRT-101")

    response = client_for(compliance_officer).get(
        reverse("register:activity-list"), {"role": "bogus"}
    )

    content = response.content.decode()
    assert response.status_code == 200
    assert 'role="alert"' in content
    assert "bogus" in content
    assert response.context["activities"] == []


@pytest.mark.parametrize("file_format", ["xlsx", "ods"])
def test_pasted_control_characters_round_trip(
    client_for, compliance_officer, tmp_path, capsys, file_format
):
    """GIVEN purposes pasted with ESC and BEL characters, which XLSX and ODS
    cannot hold, WHEN the register is exported and the file re-imported,
    THEN the activity reads as unchanged."""
    client_for(compliance_officer).post(
        reverse("register:activity-create"),
        _activity_post(purposes="Prospection\x1b[0m B2B\x07 ciblée"),
    )
    output = tmp_path / f"register.{file_format}"
    call_command("export_register", format=file_format, output=str(output))
    capsys.readouterr()

    call_command("import_register", str(output), dry_run=True)

    activity = ProcessingActivity.objects.get(reference="TRT-900")
    summary = json.loads(capsys.readouterr().out)
    assert activity.purposes == "Prospection[0m B2B ciblée"
    assert [entry["outcome"] for entry in summary["activities"]] == ["unchanged"]
