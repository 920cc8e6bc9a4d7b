from organizations.models import Bank, Branch


def get_or_create_branch(bank_name: str, branch_name: str, jurisdiction: str = "") -> Branch:
    """The branch, creating it and its bank when missing; a new bank gets `jurisdiction` (empty: none)."""
    bank, _ = Bank.objects.get_or_create(name=bank_name, defaults={"jurisdiction": jurisdiction.strip()})
    branch, _ = Branch.objects.get_or_create(bank=bank, name=branch_name)
    return branch
