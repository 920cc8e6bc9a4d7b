from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "role", "bank", "jurisdiction", "is_active"]
    list_filter = ["role", "bank", "is_active"]
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        ("BankWatch", {"fields": ["role", "bank", "branches", "is_security_manager", "jurisdiction", "language"]}),
    )
    filter_horizontal = ["branches", "groups", "user_permissions"]
