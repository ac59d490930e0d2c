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


# Civilities that a requester may or may not write before their name.
TITLES = frozenset(
    {
        "m",
        "mr",
        "mme",
        "mlle",
        "mrs",
        "ms",
        "miss",
        "madame",
        "monsieur",
        "mademoiselle",
        "dr",
        "docteur",
        "pr",
        "professeur",
        "me",
        "maitre",
    }
)


def requesters_named_alike(first: str, second: str) -> bool:
    """Tell whether two requesters' names name the same person.

    Civilities are left out, so "Mme Anne Roux" and "Anne ROUX" match. A
    name may have more words than the other ("Anne Marie Roux"), but a
    surname alone ("Roux") matches only "Roux": it could be anyone's.
    """
    words = [name_words(name) - TITLES for name in (first, second)]
    shorter, longer = sorted(words, key=len)
    if not shorter:
        return False
    return shorter == longer or (len(shorter) >= 2 and shorter <= longer)
