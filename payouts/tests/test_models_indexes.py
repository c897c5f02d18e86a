"""The indexes on the ledger tables every posting writes, exactly (see
tracker/tests/test_models_indexes.py for why these are pinned)."""

import pytest

from core.tests.schema import index_names

pytestmark = pytest.mark.django_db


def test_ledger_transaction_key_is_unique_without_a_pattern_twin():
    assert index_names("payouts_ledgertransaction") == [
        "ledger_txn_reference",
        "ledger_txn_release_due",
        "payouts_ledgertransaction_actor_id_75032077",
        "payouts_ledgertransaction_idempotency_key_key",
        "payouts_ledgertransaction_pkey",
        "payouts_ledgertransaction_source_transaction_id_key",
    ]


def test_ledger_entry_has_no_single_column_account_index():
    assert index_names("payouts_ledgerentry") == [
        "ledger_entry_account",
        "payouts_ledgerentry_pkey",
        "payouts_ledgerentry_transaction_id_569adca5",
    ]
