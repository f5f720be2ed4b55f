from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from diplohub.accounts.models import ApiToken, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        ("Hub", {"fields": ["language", "organization"]}),
    )
    list_display = ["username", "email", "first_name", "last_name", "is_staff"]
    autocomplete_fields = ["organization"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "hint", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["hint", "created_at", "last_used_at"]
    autocomplete_fields = ["user"]
