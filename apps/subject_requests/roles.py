ROLE_PERMISSIONS = {
    "dpo": [
        "subject_requests.view_subjectrequest",
        "subject_requests.add_subjectrequest",
        "subject_requests.change_subjectrequest",
        "subject_requests.view_erasureproof",
    ],
    "compliance_officer": [
        "subject_requests.view_subjectrequest",
        "subject_requests.view_erasureproof",
    ],
}
