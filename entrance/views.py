"""The entrance display page: full screen on a monitor or tablet at the door, for a paired device only."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.cache import never_cache

from cameras.devices import device_from_request
from cameras.models import DeviceKind
from organizations.models import Bank

PROMPT = gettext_noop("Please remove your helmet, mask and sunglasses")
NOTICE = gettext_noop("Face recognition cameras are in operation at this branch for security.")
SOUND = gettext_noop("Sound")
PAUSED = gettext_noop("Camera paused")


def bilingual(message: str) -> dict[str, str]:
    """One message in Vietnamese and in English, whatever language the page would otherwise use."""
    texts = {}
    for language in ("vi", "en"):
        with translation.override(language):
            texts[language] = _(message)
    return texts


def notice_for(bank: Bank) -> dict[str, str]:
    """The bank's own recognition notice, or the default one (Law 91/2025: notice of recording)."""
    default = bilingual(NOTICE)
    return {"vi": bank.recognition_notice_vi or default["vi"], "en": bank.recognition_notice_en or default["en"]}


@never_cache
def display(request: HttpRequest, camera_id: int) -> HttpResponse:
    device = device_from_request(request, camera_id, DeviceKind.DISPLAY)
    if device is None:
        raise Http404("not a display paired to this camera")
    config = {
        "socket": f"/ws/entrance/{camera_id}/",
        "sound": static("sounds/chime.wav"),
        "idleAfterMs": 1500,  # back to idle this long after the last frame with a covered face
        "staleAfterMs": 3000,  # no frame this long: the live view is marked as paused
    }
    context = {
        "notice": notice_for(device.camera.branch.bank),
        "prompt": bilingual(PROMPT),
        "sound_label": bilingual(SOUND),
        "paused": bilingual(PAUSED),
        "config": config,
    }
    return render(request, "entrance/display.html", context)
