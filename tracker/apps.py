from django.apps import AppConfig


class TrackerConfig(AppConfig):
    name = "tracker"
    verbose_name = "Tracking"

    def ready(self) -> None:
        from payouts.invoices import invoice_line_labels_register
        from payouts.ledger import CONVERSION_REFERENCE
        from tracker.invoicing import conversion_invoice_labels

        invoice_line_labels_register(
            reference_type=CONVERSION_REFERENCE, labeler=conversion_invoice_labels
        )
