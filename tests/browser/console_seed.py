"""A control room with alerts of several watchlists, for the console's browser tests and the screenshots.

Run in the server's data folder by `manage.py shell -c` after the conftest's SEED (it reuses its
watchlist "Bank robbers" and subject "Tran Van Robber"). Alerts are raised through
alerts.actions.raise_alert, with a square crop of a dataset photo as the camera's face, so the
pages show real faces without waiting for recognition. Everything is at "Console Bank", so no
other test's user sees it. Prints CONSOLE{json} with the ids.
"""

SEED = r"""
import json
from datetime import timedelta
from pathlib import Path
import numpy as np
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image
import io
from accounts.actions import create_user
from alerts.actions import add_sighting, raise_alert
from alerts.frame_queue import new_frame_id
from alerts.models import Observation
from cameras.actions import create_camera
from enrollment.actions import create_subject, create_watchlist
from enrollment.models import ReferencePhoto, Subject, Watchlist

def jpeg(name, size=None, crop=True):
    image = Image.open(Path(DATASET) / name).convert("RGB")
    if crop:
        w, h = image.size
        side = int(min(w, h) * 0.62)
        left, top = (w - side) // 2, max(0, (h - side) // 2 - side // 10)
        image = image.crop((left, top, left + side, top + side)).resize((224, 224))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88)
    return out.getvalue(), image.size

def photo(subject, name):
    data, _ = jpeg(name)
    reference = ReferencePhoto(subject=subject, status="accepted", original_name=name)
    reference.image.save(name, ContentFile(data), save=False)
    reference.face_crop.save(name, ContentFile(data), save=False)
    reference.save()

for username, language in (("vy", "en"), ("vo", "vi")):
    user = create_user(username, "bank_security", PASSWORD, bank_name="Console Bank")
    user.language = language
    user.save(update_fields=["language"])
entrance, _ = create_camera("Console Bank", "Quan 1", "Entrance", role="lobby")
counter, _ = create_camera("Console Bank", "Quan 1", "Counter 2")
create_camera("Console Bank", "Thu Duc", "ATM lobby")
from organizations.models import Bank
Bank.objects.filter(name="Console Bank").update(jurisdiction="Ho Chi Minh City")

robbers = Watchlist.objects.get(name="Bank robbers")
wanted = create_watchlist("Wanted persons", colour="#0b5cad", sound="chime", priority=1)
fraud = create_watchlist("Card fraud", colour="#6a1b9a", sound="beep", priority=3, requires_acknowledgement=False)
robber = Subject.objects.get(full_name="Tran Van Robber")
armed = create_subject(
    wanted,
    "Le Van Dao",
    aliases="Dao Sau, Knife",
    notes="May be armed: carried a knife in the 2025 robbery of a Thu Duc branch.",
    case_reference="HCMC-PC-2025-0117",
    legal_basis="Wanted notice 88/2025 of the HCMC Police",
    armed=True,
    violent=True,
)
forger = create_subject(fraud, "Pham Thi Hoa", aliases="Hoa Card", notes="Uses cloned cards at ATMs.")
photo(armed, "img3.jpg")
photo(forger, "img7.jpg")

def observe(camera, name, score, threshold, seconds_ago):
    face, _ = jpeg(name)
    frame, (w, h) = jpeg(name, crop=False)
    box = [int(w * 0.3), int(h * 0.2), int(w * 0.4), int(h * 0.45)]
    return Observation(
        camera=camera, frame_id=new_frame_id(), seen_at=timezone.now() - timedelta(seconds=seconds_ago),
        score=score, threshold=threshold, box=box, face_crop=face, frame_image=frame,
        embedding=np.random.default_rng(seconds_ago).standard_normal(128).astype(np.float32),
    )

alerts = {}
alerts["robber"] = raise_alert(robber, robbers, [observe(entrance, "img2.jpg", 0.71, 0.363, 300)])
add_sighting(alerts["robber"], observe(counter, "img4.jpg", 0.78, 0.363, 240))
alerts["armed"] = raise_alert(armed, wanted, [observe(entrance, "img12.jpg", 0.58, 0.363, 200)])
add_sighting(alerts["armed"], observe(entrance, "img13.jpg", 0.61, 0.363, 190))
alerts["fraud"] = raise_alert(forger, fraud, [observe(counter, "img8.jpg", 0.43, 0.363, 120)])
alerts["second"] = raise_alert(robber, robbers, [observe(counter, "img5.jpg", 0.66, 0.363, 60)])
print("CONSOLE" + json.dumps({name: alert.pk for name, alert in alerts.items()}))
"""
