"""Alerts by e-mail: who hears of an alert beyond the dashboard, and what the mail says.

Three moments send mail, each queued as the job "alerts.send_alert_mail" once the change is
committed, so neither a review nor the periodic check ever waits on a mail server:

- `unacknowledged`: an alert of a watchlist with an acknowledgement deadline is still new after
  it; to the branch's security staff (bank-wide staff and those assigned to that branch).
- `unacknowledged_escalated`: still new after twice the deadline; to the bank's security managers.
- `escalated`: a reviewer escalated the alert; to the police liaisons of the bank's jurisdiction.

A mail carries no image and no face: the watchlist, the place, the time, the match strength
and a link to the alert, which opens only for someone whose scope includes it. Each mail is
written in its recipient's language.
"""

import logging
from collections import defaultdict

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Role, User
from alerts.models import Alert
from alerts.strength import strength_words

logger = logging.getLogger(__name__)


def branch_staff(alert: Alert) -> QuerySet[User]:
    """The bank's security staff who see the alert's branch: bank-wide ones and those assigned to it."""
    staff = User.objects.filter(is_active=True, role=Role.BANK_SECURITY, bank_id=alert.bank_id).exclude(email="")
    return staff.filter(Q(branches=alert.branch_id) | Q(branches__isnull=True)).distinct()


def security_managers(alert: Alert) -> QuerySet[User]:
    return branch_staff(alert).filter(is_security_manager=True)


def police_liaisons(alert: Alert) -> QuerySet[User]:
    jurisdiction = alert.bank.jurisdiction
    if not jurisdiction:
        return User.objects.none()  # a bank without a jurisdiction escalates to no one
    return User.objects.filter(is_active=True, role=Role.POLICE, jurisdiction=jurisdiction).exclude(email="")


def recipients(alert: Alert, kind: str) -> list[User]:
    chosen = {"unacknowledged": branch_staff, "unacknowledged_escalated": security_managers}.get(kind, police_liaisons)
    return list(chosen(alert).order_by("pk"))


SUBJECT_LINES = {
    "unacknowledged": gettext_lazy("[BankWatch] Alert #%(id)s not acknowledged: %(what)s at %(where)s"),
    "unacknowledged_escalated": gettext_lazy(
        "[BankWatch] Alert #%(id)s still not acknowledged, escalated to you: %(what)s at %(where)s"
    ),
    "escalated": gettext_lazy("[BankWatch] Alert #%(id)s escalated to the police: %(what)s at %(where)s"),
}


def _subject_line(alert: Alert, kind: str) -> str:
    what = alert.watchlist.name if alert.watchlist else _("Covered face")
    return str(SUBJECT_LINES[kind]) % {
        "id": alert.pk,
        "what": what,
        "where": f"{alert.branch.name}, {alert.camera.name}",
    }


def _body(alert: Alert, kind: str) -> str:
    waited = int((timezone.now() - alert.created_at).total_seconds())
    lines = [
        _("Watchlist: %(name)s") % {"name": alert.watchlist.name if alert.watchlist else "-"},
        _("Bank and branch: %(bank)s, %(branch)s") % {"bank": alert.bank.name, "branch": alert.branch.name},
        _("Camera: %(camera)s") % {"camera": alert.camera.name},
        _("Raised at: %(when)s") % {"when": timezone.localtime(alert.created_at).strftime("%d/%m/%Y %H:%M:%S")},
        _("Match: %(strength)s") % {"strength": strength_words(alert.score, alert.threshold)},
    ]
    if kind != "escalated":
        lines.append(_("Nobody has taken it into review for %(seconds)s s.") % {"seconds": waited})
    lines += [
        "",
        _("Open the alert: %(url)s") % {"url": settings.PUBLIC_URL + reverse("alert-detail", args=[alert.pk])},
    ]
    lines += ["", _("A person reviews every alert: a match is not proof of identity.")]
    return "\n".join(lines)


def send_alert_mail(kind: str, alert_id: int) -> int:
    """Mail the alert's recipients for `kind`, each in their language; returns how many were sent to."""
    alert = Alert.objects.select_related("watchlist", "bank", "branch", "camera").get(pk=alert_id)
    by_language: dict[str, list[str]] = defaultdict(list)
    for user in recipients(alert, kind):
        by_language[user.language or settings.LANGUAGE_CODE].append(user.email)
    sent = 0
    for language, addresses in by_language.items():
        with translation.override(language):
            send_mail(_subject_line(alert, kind), _body(alert, kind), None, addresses)
        sent += len(addresses)
    logger.info("alert %s: %s mail sent to %d recipients", alert_id, kind, sent)
    return sent
