# The parts of an activity whose rows the activity form adds, changes and
# deletes. Each needs its own permission, as retention rules do.
_PART_MODELS = [
    "datasubjectcategory",
    "personaldatacategory",
    "recipient",
    "processor",
    "transfer",
    "retentionrule",
]

_EDIT_REGISTER = [
    "register.view_processingactivity",
    "register.add_processingactivity",
    "register.change_processingactivity",
    "register.view_whole_register",
    "register.export_register",
    "register.import_register",
    *(
        f"register.{action}_{model}"
        for model in _PART_MODELS
        for action in ("view", "add", "change")
    ),
    "register.view_referenceterm",
    "register.add_referenceterm",
    "register.change_referenceterm",
]

ROLE_PERMISSIONS = {
    "compliance_officer": _EDIT_REGISTER
    + [
        "register.delete_processingactivity",
        *(f"register.delete_{model}" for model in _PART_MODELS),
        "register.delete_referenceterm",
    ],
    # The DPO edits the register but deletes nothing in it.
    "dpo": list(_EDIT_REGISTER),
    # Sales reads only the activities that cover its contacts (see selectors).
    "sales": ["register.view_processingactivity"],
}
