"""Find e-mail addresses and phone numbers typed into a breach's free text.

A breach's title appears on the dashboard, in the breach list and in the
notification draft, so it must not identify anyone. The checks of the breach
form and of ``Breach.clean`` use this module.
"""

import re

import phonenumbers
from django.conf import settings

# A local part, "@", then a domain with at least one dot. It misses quoted
# local parts and domains without a dot.
EMAIL_PATTERN = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")


def identifiers_in_text(text: str) -> list[str]:
    """Return the e-mail addresses and phone numbers in ``text``, in text order.

    A phone number is one that libphonenumber's matcher finds and accepts as a
    valid number, read in ``PHONE_DEFAULT_REGION`` when it has no country code.
    So dates, counts and references such as BRE-2026-001 are not matched, but
    a company's switchboard number is.
    """
    if not text:
        return []

    found = [(match.start(), match.group()) for match in EMAIL_PATTERN.finditer(text)]
    # Blank the addresses first, so the digits of "jean0612345678@example.com"
    # are not reported a second time as a phone number.
    without_emails = EMAIL_PATTERN.sub(lambda match: " " * len(match.group()), text)
    matcher = phonenumbers.PhoneNumberMatcher(
        without_emails,
        settings.PHONE_DEFAULT_REGION,
        leniency=phonenumbers.Leniency.VALID,
    )
    found.extend(
        (match.start, match.raw_string)
        for match in matcher
        if not _inside_word(without_emails, match.start, match.end)
    )
    return [value for _start, value in sorted(found)]


def _inside_word(text: str, start: int, end: int) -> bool:
    """Tell whether the digits at ``text[start:end]`` belong to a longer name.

    Asset and server names such as SRV-0123456789 or PC_0612345678 carry
    digits that read as a valid number but identify no one.
    """
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return before.isalnum() or before in "-_" or after.isalnum() or after in "-_"
