ROLE_PERMISSIONS = {
    "compliance_officer": [
        "retention.view_retentionrun",
        "retention.run_retention",
    ],
    "dpo": ["retention.view_retentionrun"],
}
