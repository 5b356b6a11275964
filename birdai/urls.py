from django.contrib import admin
from django.urls import include, path

from birdai import health
from birdai.api import api
from classifier import views as classifier_views

urlpatterns = [
    path("", classifier_views.upload, name="upload"),
    path("api/v1/", api.urls),
    path("account/", include("accounts.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
]
