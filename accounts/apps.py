from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "People and roles"

    def ready(self) -> None:
        from django.contrib import admin

        from accounts import signals  # noqa: F401  (connects the sign-in throttling receivers)
        from accounts.forms import ThrottledAdminAuthenticationForm

        # The admin's sign-in form says "locked out" like ours does.
        admin.site.login_form = ThrottledAdminAuthenticationForm
