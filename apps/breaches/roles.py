"""Permissions of each role on the breach register. Sales has none."""

_READ_WRITE = [
    "breaches.view_breach",
    "breaches.add_breach",
    "breaches.change_breach",
]

ROLE_PERMISSIONS = {
    "dpo": [*_READ_WRITE, "breaches.inform_subjects"],
    "compliance_officer": list(_READ_WRITE),
}
