"""Generate the claims ledger and the errata page from the claim registry (placeholder)."""

if __name__ == "__main__":
    pass
