"""The printable A4 sign of a bank's recognition notice, in Vietnamese and English, from the same
text its entrance displays show (entrance.views.notice_for; Law 91/2025: notice of recording)."""

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from entrance.views import bilingual, notice_for
from organizations.models import Bank

HEADING = gettext_noop("Face recognition in operation")
PURPOSE = gettext_noop(
    "Purpose: the security of this branch. Faces are compared with police watchlists; a face that matches "
    "no one is deleted at once."
)
CONTACT = gettext_noop("Questions, access or deletion requests: ask at the counter for the data protection officer.")


def render_sign(bank: Bank) -> str:
    with translation.override("vi"):
        title = _(HEADING)
    return render_to_string(
        "privacy/sign.html",
        {
            "bank": bank,
            "title": title,
            "notice": notice_for(bank),
            "heading": bilingual(HEADING),
            "purpose": bilingual(PURPOSE),
            "contact": bilingual(CONTACT),
        },
    )
