from django.contrib import admin

from history.deletion import delete_submission, delete_submissions
from history.models import Submission


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "top_species", "is_bird", "bird_probability", "created_at")
    list_filter = ("is_bird", "model_name")
    search_fields = ("owner__username", "top_species", "original_filename", "sha256")
    readonly_fields = [field.name for field in Submission._meta.fields]

    # Deleting here deletes as the app does: the files too, and the map's counts.
    def delete_model(self, request, obj: Submission) -> None:
        delete_submission(obj)

    def delete_queryset(self, request, queryset) -> None:
        delete_submissions(queryset)
