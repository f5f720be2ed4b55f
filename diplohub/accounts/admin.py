from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from diplohub.accounts import services
from diplohub.accounts.models import ApiToken, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        (_("Hub"), {"fields": ["language", "organization"]}),
    )
    list_display = ["username", "email", "first_name", "last_name", "is_staff"]
    list_filter = [*BaseUserAdmin.list_filter, "groups"]
    autocomplete_fields = ["organization"]


class ApiTokenAddForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ["user", "name"]
        help_texts = {"name": _("What the token is for, e.g. 'newsletter sync script'.")}


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "hint", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "hint", "user__username"]
    readonly_fields = ["user", "hint", "created_at", "last_used_at"]
    fields = ["name", "user", "hint", "created_at", "last_used_at", "revoked_at"]
    autocomplete_fields = ["user"]
    actions = ["revoke"]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):  # type: ignore[no-untyped-def]
        if obj is None:
            kwargs["form"] = ApiTokenAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None):  # type: ignore[no-untyped-def]
        if obj is None:
            # A token acts as its user: staff make tokens for themselves only.
            return ["user", "name"] if request.user.is_superuser else ["name"]
        return self.fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None):  # type: ignore[no-untyped-def]
        return self.readonly_fields if obj is not None else []

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        user = obj.user if request.user.is_superuser else cast(User, request.user)
        token, raw = services.api_token_create(user=user, name=obj.name)
        obj.pk = token.pk
        obj.user = token.user
        obj.key_hash, obj.hint, obj.created_at = token.key_hash, token.hint, token.created_at
        # Shown this once (the message lives only until the next page); only the hash is kept.
        messages.warning(
            request,
            _("Copy the new token now, it will not be shown again: %(raw)s") % {"raw": raw},
        )

    @admin.action(description=_("Revoke the selected tokens"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count = 0
        for token in queryset.filter(revoked_at__isnull=True):
            services.api_token_revoke(token=token)
            count += 1
        self.message_user(request, _("%(count)d tokens revoked.") % {"count": count})
