from typing import Any

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _

from privacy.actions import last_report, report_reminder_due

register = template.Library()


@register.simple_tag(takes_context=True)
def privacy_reminder(context: dict[str, Any]) -> str:
    """On the admin's front page, for the data protection officer: the impact assessment is due
    (none yet, or the last is older than BANKWATCH_PRIVACY_REPORT_REMINDER_DAYS)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_data_protection_officer", False) or not report_reminder_due():
        return ""
    last = last_report()
    since = (
        _("The last impact assessment was produced on %(date)s, more than six months ago.")
        % {"date": timezone.localtime(last.produced_at).strftime("%Y-%m-%d")}
        if last
        else _("No impact assessment has been produced yet.")
    )
    return format_html(
        '<ul class="messagelist" id="privacy-reminder"><li class="warning">{} <a href="{}">{}</a></li></ul>',
        since,
        reverse("admin:privacy_assessment"),
        _("Review and produce it now."),
    )
