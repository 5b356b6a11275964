"""The real settings, and the planted defects' app and middleware (see __init__.py)."""

from birdai.settings import *  # noqa: F403
from birdai.settings import INSTALLED_APPS, MIDDLEWARE

INSTALLED_APPS = [*INSTALLED_APPS, "tests.autograder.planted.apps.PlantedDefectsConfig"]
# Outermost: it sees (and may change) every request and answer as a client would.
MIDDLEWARE = ["tests.autograder.planted.middleware.PlantedDefectMiddleware", *MIDDLEWARE]
