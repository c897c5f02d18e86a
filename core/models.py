from django.db import models


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class PendingTask(models.Model):
    """A Celery task a committed change still owes (the outbox of `core.tasks.enqueue_on_commit`).

    Written in the same transaction as the change, deleted once the task is published. A row
    that stays means the broker refused it; `core.tasks.republish_pending_tasks` (beat) publishes
    it later.
    """

    task_name = models.CharField(max_length=200)
    kwargs = models.JSONField(default=dict)
    created_at = models.DateTimeField()
    # When the sweeper may publish it: a minute after it was written (the commit's own publish
    # comes first), then backing off after each failure.
    next_attempt_at = models.DateTimeField(db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")

    def __str__(self) -> str:
        return f"{self.task_name}({self.kwargs})"
