"""Whether a record found by a shared phone names the requester.

Colleagues often share a switchboard number, so a record found by the
requester's phone alone belongs to them only if its name is theirs.
"""

from apps.contacts.search import name_words


def names_requester(requester_name: str, name: str) -> bool:
    """Tell whether every word of ``name`` is a word of ``requester_name``.

    "Martin" and "Alice Martin" name "Mme Alice MARTIN"; "Chantal Martin"
    does not, nor does an empty name, which could be anyone's.
    """
    words = name_words(name)
    return bool(words) and words <= name_words(requester_name)


def requesters_named_alike(first: str, second: str) -> bool:
    """Tell whether two requesters' names name the same person, either one
    with more words than the other: "Mme Anne Roux" and "Anne ROUX"."""
    return names_requester(first, second) or names_requester(second, first)
