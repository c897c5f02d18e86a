"""The indexes on the tables the click and the postback write, exactly.

Every index is written by every row: a click or a converting postback pays for each one. These
pin the sets, so an index that another already covers (a single-column foreign-key index behind
a composite that leads with the column, or the `varchar_pattern_ops` twin Django adds to an
indexed CharField for prefix searches nobody makes) does not come back unnoticed.
"""

import pytest

from core.tests.schema import index_names

pytestmark = pytest.mark.django_db


def test_click_table_indexes():
    assert index_names("tracker_click") == [
        "click_affiliate_time",
        "click_campaign_time",
        "click_click_id_unique",
        "click_created_brin",
        "click_flagged_time",
        "click_unique_lookup",
        "tracker_click_pkey",
    ]


def test_conversion_table_has_no_index_another_covers():
    assert index_names("tracker_conversion") == [
        "conv_affiliate_time",
        "conv_campaign_time",
        "conv_status_time",
        "conversion_per_click_event",
        "conversion_unique_event_transaction",
        "tracker_conversion_created_at_3bf3e5ff",
        "tracker_conversion_partner_key_id_88559278",
        "tracker_conversion_pkey",
        "tracker_conversion_pricing_rule_id_48f843da",
    ]


def test_postback_log_has_exact_search_indexes_without_pattern_twins():
    assert index_names("tracker_postbacklog") == [
        "postbacklog_outcome",
        "tracker_postbacklog_click_id_df6b71c3",
        "tracker_postbacklog_conversion_id_822b13d0",
        "tracker_postbacklog_key_36b42f5a",
        "tracker_postbacklog_partner_key_id_5b73a756",
        "tracker_postbacklog_pkey",
        "tracker_postbacklog_received_at_05ffefba",
        "tracker_postbacklog_transaction_id_4b8d5f87",
    ]
