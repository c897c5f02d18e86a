"""Six indexes every converting postback wrote and nothing reads.

- `conversion.click`, `.campaign` and `.affiliate`: `conversion_per_click`, `conv_campaign_time`
  and `conv_affiliate_time` already lead with each of them.
- The `varchar_pattern_ops` twins of `postbacklog.key`, `.click_id` and `.transaction_id` that
  Django adds on PostgreSQL for LIKE 'prefix%': every search of the log is exact (their plain
  B-tree indexes stay).

Measured: 14 to 15 % less WAL per postback (5,695 and 5,699 bytes with these indexes and the
ledger's two of payouts 0003, 4,844 to 4,898 without; docs/performance.md).
"""

import django.db.models.deletion
from django.db import migrations, models

from core.db.migrations import pattern_indexes_drop


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("campaigns", "0001_initial"),
        ("tracker", "0003_reporting_rollups"),
    ]

    operations = [
        migrations.AlterField(
            model_name="conversion",
            name="affiliate",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="conversions",
                to="accounts.affiliate",
            ),
        ),
        migrations.AlterField(
            model_name="conversion",
            name="campaign",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="conversions",
                to="campaigns.campaign",
            ),
        ),
        migrations.AlterField(
            model_name="conversion",
            name="click",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="conversions",
                to="tracker.click",
            ),
        ),
        pattern_indexes_drop(
            [
                ("tracker_postbacklog_key_36b42f5a_like", "tracker_postbacklog", "key"),
                ("tracker_postbacklog_click_id_df6b71c3_like", "tracker_postbacklog", "click_id"),
                (
                    "tracker_postbacklog_transaction_id_4b8d5f87_like",
                    "tracker_postbacklog",
                    "transaction_id",
                ),
            ]
        ),
    ]
