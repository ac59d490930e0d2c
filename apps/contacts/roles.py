ROLE_PERMISSIONS = {
    "sales": [
        "contacts.view_contact",
        "contacts.add_contact",
        "contacts.change_contact",
        "contacts.view_vendor",
        "contacts.add_vendor",
        "contacts.change_vendor",
        "contacts.view_contactlist",
        "contacts.add_contactlist",
        "contacts.change_contactlist",
        "contacts.view_campaignexport",
        "contacts.export_campaign",
    ],
    "dpo": [
        "contacts.view_contact",
        "contacts.change_contact",
        "contacts.view_vendor",
        "contacts.view_contactlist",
        "contacts.view_suppressionentry",
        "contacts.view_campaignexport",
    ],
    "compliance_officer": [
        "contacts.view_vendor",
        "contacts.view_contactlist",
    ],
}
