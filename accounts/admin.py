from django.contrib import admin

from accounts.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "key_start", "created_at", "last_used_at")
    search_fields = ("name", "user__username")
    readonly_fields = ("key_start", "created_at", "last_used_at")
