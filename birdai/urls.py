from django.conf import settings  # ASSIGNMENT 2
from django.contrib import admin
from django.urls import (
    include,
    path,
    re_path,  # ASSIGNMENT 2
)
from django.views.static import serve  # ASSIGNMENT 2

from birdai import health
from birdai.api import api
from classifier import views as classifier_views

urlpatterns = [
    path("", classifier_views.upload, name="upload"),
    path("api/v1/", api.urls),
    path("account/", include("accounts.urls")),
    path("history/", include("history.urls")),  # ASSIGNMENT 2
    path("map/", include("geo.urls")),  # ASSIGNMENT 2
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
]
# BEGIN ASSIGNMENT 2

if not settings.AWS_STORAGE_BUCKET_NAME:
    # The embedded default keeps photos on the local disk, and Django serves them
    # itself. Their keys are long random names (history/files.py), so a link works
    # like S3's presigned ones: whoever has it may see the photo. With S3, links are
    # signed and expire, and Django serves no files.
    def media_file(request, path):
        return serve(request, path, document_root=settings.MEDIA_ROOT)

    urlpatterns += [re_path(r"^media/(?P<path>.+)$", media_file, name="media")]
# END ASSIGNMENT 2
