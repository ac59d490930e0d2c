ROLE_PERMISSIONS = {
    "compliance_officer": [
        "register.view_processingactivity",
        "register.add_processingactivity",
        "register.change_processingactivity",
        "register.delete_processingactivity",
        "register.view_retentionrule",
        "register.add_retentionrule",
        "register.change_retentionrule",
        "register.delete_retentionrule",
    ],
    "dpo": [
        "register.view_processingactivity",
        "register.add_processingactivity",
        "register.change_processingactivity",
        "register.view_retentionrule",
        "register.add_retentionrule",
        "register.change_retentionrule",
    ],
    "sales": ["register.view_processingactivity"],
}
