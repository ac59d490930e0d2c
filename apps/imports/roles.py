"""Permissions of each role on imports: sales imports, the others read reports."""

ROLE_PERMISSIONS = {
    "sales": [
        "imports.view_importjob",
        "imports.add_importjob",
        "imports.change_importjob",
    ],
    "dpo": ["imports.view_importjob"],
    "compliance_officer": ["imports.view_importjob"],
}
