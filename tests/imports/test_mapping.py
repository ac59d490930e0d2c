"""Header guesses, column labels, duplicate headers and mapping problems."""

import pytest
from django.utils import translation

from apps.imports.mapping import column_label
from apps.imports.mapping import column_labels
from apps.imports.mapping import duplicate_header_groups
from apps.imports.mapping import duplicate_header_warnings
from apps.imports.mapping import field_for_header
from apps.imports.mapping import header_warnings
from apps.imports.mapping import mapping_guess
from apps.imports.mapping import mapping_problems
from apps.imports.mapping import saved_mapping_keys
from apps.imports.models import VendorMapping
from apps.imports.services import import_job_map
from tests.imports.conftest import import_file_created

DUPLICATED = ["Email", "Prénom", "Nom", "Email", "Téléphone"]


def test_column_label_keeps_unique_header():
    assert column_label(DUPLICATED, 1) == "Prénom"


def test_column_label_adds_position_to_shared_header():
    assert column_label(DUPLICATED, 0) == "Email (column 1)"
    assert column_label(DUPLICATED, 3) == "Email (column 4)"


def test_column_label_names_empty_header_by_position():
    assert column_label(["Email", ""], 1) == "column 2"


def test_column_labels_tell_shared_headers_apart():
    assert column_labels(["Phone", "Email", "Phone"]) == [
        "Phone (column 1)",
        "Email",
        "Phone (column 3)",
    ]


def test_duplicate_header_groups_skip_empty_headers():
    headers = ["Email", "", "Nom", "Email", "", "Nom", "Email"]

    assert duplicate_header_groups(headers) == [[0, 3, 6], [2, 5]]


def test_guess_of_duplicated_email_is_warned():
    mapping = mapping_guess(DUPLICATED)

    warnings = duplicate_header_warnings(DUPLICATED, mapping)

    assert mapping.get("0", "") == ""
    assert mapping["3"] == "email"
    assert warnings == [
        "Two columns have the same header (column 1 and column 4, both “Email”). "
        "Column 1 is ignored and column 4 feeds “E-mail”."
    ]


def test_duplicate_warning_follows_chosen_column():
    warnings = duplicate_header_warnings(DUPLICATED, {"0": "email", "3": ""})

    assert warnings == [
        "Two columns have the same header (column 1 and column 4, both “Email”). "
        "Column 1 feeds “E-mail” and column 4 is ignored."
    ]


def test_duplicate_warning_when_all_ignored():
    """Both columns of a header that names a field are ignored: still warned."""
    warnings = duplicate_header_warnings(["Email", "Nom", "Email"], {"1": "last_name"})

    assert len(warnings) == 1
    assert "Column 1 is ignored and column 3 is ignored." in warnings[0]


def test_duplicate_warning_for_three_columns():
    headers = ["Email", "Email", "Email"]

    warnings = duplicate_header_warnings(headers, {"2": "email"})

    assert warnings == [
        "3 columns have the same header (column 1, column 2 and column 3, all "
        "“Email”). Column 1 is ignored, column 2 is ignored and column 3 feeds "
        "“E-mail”."
    ]


def test_no_duplicate_warning_for_ignored_notes():
    headers = ["Email", "Notes", "Notes"]

    assert duplicate_header_warnings(headers, {"0": "email"}) == []


def test_no_duplicate_warning_when_each_column_used():
    headers = ["Tél", "Tél"]

    assert duplicate_header_warnings(headers, {"0": "phone", "1": "mobile"}) == []


def test_mapping_problem_names_columns_and_headers():
    problems = mapping_problems({"0": "email", "3": "email"}, 5, headers=DUPLICATED)

    assert problems == [
        "Column 1 (“Email”) and column 4 (“Email”) are mapped to “E-mail”, but a "
        "field takes one column only. Keep one of them and set the others to "
        "“(ignore this column)”."
    ]


def test_mapping_problem_names_columns_without_headers():
    problems = mapping_problems({"0": "email", "3": "email", "4": "phone"}, 5)

    assert problems == [
        "Column 1 and column 4 are mapped to “E-mail”, but a field takes one "
        "column only. Keep one of them and set the others to “(ignore this "
        "column)”."
    ]


def test_mail_header_is_guessed_as_email():
    assert field_for_header("Mail") == "email"
    assert mapping_guess(["Nom", "Mail", "Tel"]) == {
        "0": "last_name",
        "1": "email",
        "2": "phone",
    }


def test_mail_beside_mail_pro_feeds_one_column():
    """Both headers name the e-mail, and a field takes one column: the last."""
    assert mapping_guess(["Nom", "Mail", "Mail pro", "Tel"]) == {
        "0": "last_name",
        "2": "email",
        "3": "phone",
    }


def test_zoho_designation_is_job_title():
    assert field_for_header("Designation") == "job_title"
    assert field_for_header("Désignation") == "job_title"


def test_competing_headers_warn_about_ignored_column():
    headers = ["Nom", "Mail", "Mail pro", "Tel"]
    mapping = mapping_guess(headers)

    with translation.override("en"):
        warnings = header_warnings(headers, mapping)

    assert mapping["2"] == "email"
    assert "1" not in mapping
    assert len(warnings) == 1
    assert warnings[0].startswith("Column 2 (“Mail”) also looks like “E-mail”")
    assert "column 3 (“Mail pro”)" in warnings[0]


def test_competing_headers_silent_when_both_used():
    headers = ["Téléphone", "Portable"]

    assert header_warnings(headers, {"0": "phone", "1": "mobile"}) == []


@pytest.mark.django_db
def test_saved_mapping_repeated_headers(upload_root, write_file):
    """GIVEN a file with two "Phone" columns mapped to phone and mobile and
    saved for the vendor, WHEN the vendor's next file comes,
    THEN both columns get their field back."""
    content = "Email,Phone,Name,Phone\nanne@example.com,0102030405,Anne,0612345678\n"
    job = import_file_created(write_file("clients.csv", content), vendor_name="Ninja")
    mapping = {"0": "email", "1": "phone", "2": "first_name", "3": "mobile"}
    import_job_map(job=job, mapping=mapping, save_for_vendor=True)

    again = import_file_created(
        write_file("clients2.csv", content), vendor_name="Ninja"
    )

    assert VendorMapping.objects.get().headers["Phone#2"] == "mobile"
    assert again.mapping == mapping


def test_saved_mapping_keys_number_repeated_headers():
    assert saved_mapping_keys(["Phone", "Name", " Phone ", "Phone"]) == [
        "Phone",
        "Name",
        "Phone#2",
        "Phone#3",
    ]


@pytest.mark.parametrize(
    "headers",
    [
        ["Courriel", "Téléphone", "Téléphone 2"],
        ["Courriel", "Téléphone 2", "Téléphone"],
        ["Courriel", "NUMERO TELEPHONE DOSSIER", "NUMERO TELEPHONE 2 DOSSIER"],
        ["Courriel", "Téléphone", "Autre téléphone"],
    ],
)
def test_second_phone_never_replaces_main(headers):
    mapping = mapping_guess(headers)

    main = next(
        index
        for index, header in enumerate(headers)
        if index > 0 and "2" not in header and "Autre" not in header
    )
    assert mapping[str(main)] == "phone"
    assert "mobile" not in mapping.values()
