_EDIT_REGISTER = [
    "register.view_processingactivity",
    "register.add_processingactivity",
    "register.change_processingactivity",
    "register.view_whole_register",
    "register.export_register",
    "register.import_register",
    "register.view_retentionrule",
    "register.add_retentionrule",
    "register.change_retentionrule",
    "register.view_referenceterm",
    "register.add_referenceterm",
    "register.change_referenceterm",
]

ROLE_PERMISSIONS = {
    "compliance_officer": _EDIT_REGISTER
    + [
        "register.delete_processingactivity",
        "register.delete_retentionrule",
        "register.delete_referenceterm",
    ],
    "dpo": list(_EDIT_REGISTER),
    # Sales reads only the activities that cover its contacts (see selectors).
    "sales": ["register.view_processingactivity"],
}
