from organizations.models import Bank, Branch


def get_or_create_branch(bank_name: str, branch_name: str) -> Branch:
    bank, _ = Bank.objects.get_or_create(name=bank_name)
    branch, _ = Branch.objects.get_or_create(bank=bank, name=branch_name)
    return branch
