"""English formats for EU readers: numeric dates read and written day first.

Django's ``en`` formats read "01/12/2026" as 12 January, so a French team
using the English interface would record dates a month or more off without
any error. Registre takes British English's numeric formats instead (Django
5.2's ``en_GB``), and writes long dates day first with the 24-hour clock,
"1 February 2027, 14:05", as the French pages and the exports do.
"""

from django.conf.locale.en_GB.formats import DATE_INPUT_FORMATS  # noqa: F401
from django.conf.locale.en_GB.formats import DATETIME_INPUT_FORMATS  # noqa: F401
from django.conf.locale.en_GB.formats import SHORT_DATE_FORMAT  # noqa: F401

# en_GB writes "05/12/2026 3:01 p.m."; the 24-hour clock matches the French
# pages and the exports.
SHORT_DATETIME_FORMAT = "d/m/Y H:i"

DATE_FORMAT = "j F Y"
DATETIME_FORMAT = "j F Y, H:i"
