from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.scope import feed_groups


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "alerts/dashboard.html", {"has_feed": bool(feed_groups(request.user))})  # type: ignore[arg-type]
