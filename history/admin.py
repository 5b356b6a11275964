from django.contrib import admin

from history.models import Submission


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "top_species", "is_bird", "bird_probability", "created_at")
    list_filter = ("is_bird", "model_name")
    search_fields = ("owner__username", "top_species", "original_filename", "sha256")
    readonly_fields = [field.name for field in Submission._meta.fields]
