from django.contrib import admin

from organizations.models import Bank, Branch


@admin.register(Bank)
class BankAdmin(admin.ModelAdmin):
    list_display = ["name", "jurisdiction"]
    list_filter = [("jurisdiction", admin.EmptyFieldListFilter)]  # banks that cannot escalate yet
    search_fields = ["name"]


@admin.register(Branch)
class BranchAdmin(admin.ModelAdmin):
    list_display = ["name", "bank", "address"]
    list_filter = ["bank"]
    search_fields = ["name", "bank__name"]
