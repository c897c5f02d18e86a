"""Forwarding takes over the postback endpoints, deliveries and attempts from `tracker`.

State only: the tables exist (made by tracker's migrations) and keep their rows, indexes and
constraints; the next migration renames them. The content types move too, so the permissions
and admin log entries that point at them follow the models.
"""

import django.db.models.deletion
import uuid
from django.db import migrations, models


MODELS = ("postbackendpoint", "delivery", "deliveryattempt")


def content_types_move(apps, schema_editor, *, source="tracker", target="forwarding"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in MODELS:
        if not ContentType.objects.using(db).filter(app_label=target, model=model).exists():
            ContentType.objects.using(db).filter(app_label=source, model=model).update(
                app_label=target
            )


def content_types_move_back(apps, schema_editor):
    content_types_move(apps, schema_editor, source="forwarding", target="tracker")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('accounts', '0001_initial'),
        ('campaigns', '0003_access_invitation'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('tracker', '0005_forwarding_becomes_an_app'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Delivery',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('conversion_id', models.BigIntegerField(blank=True, db_index=True, null=True)),
                        ('event_id', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                        ('event_key', models.CharField(max_length=64)),
                        ('event', models.CharField(choices=[('approved', 'Approved'), ('pending', 'Pending'), ('rejected', 'Rejected'), ('reversed', 'Reversed'), ('test', 'Test')], max_length=16)),
                        ('payload', models.JSONField(default=dict)),
                        ('status', models.CharField(choices=[('pending', 'Pending'), ('delivered', 'Delivered'), ('failed', 'Failed (gave up)'), ('cancelled', 'Cancelled')], default='pending', max_length=16)),
                        ('attempt_count', models.PositiveSmallIntegerField(default=0)),
                        ('max_attempts', models.PositiveSmallIntegerField(default=8)),
                        ('next_attempt_at', models.DateTimeField(blank=True, null=True)),
                        ('locked_until', models.DateTimeField(blank=True, null=True)),
                        ('delivered_at', models.DateTimeField(blank=True, null=True)),
                        ('last_status_code', models.PositiveSmallIntegerField(blank=True, null=True)),
                        ('last_error', models.CharField(blank=True, max_length=500)),
                        ('created_at', models.DateTimeField(db_index=True)),
                        ('updated_at', models.DateTimeField()),
                    ],
                    options={
                        'verbose_name_plural': 'deliveries',
                        'ordering': ['-id'],
                        'db_table': 'tracker_delivery',
                    },
                ),
                migrations.CreateModel(
                    name='DeliveryAttempt',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('attempt_number', models.PositiveSmallIntegerField()),
                        ('attempted_at', models.DateTimeField()),
                        ('request_url', models.TextField()),
                        ('status_code', models.PositiveSmallIntegerField(blank=True, null=True)),
                        ('latency_ms', models.PositiveIntegerField(default=0)),
                        ('response_excerpt', models.TextField(blank=True)),
                        ('error', models.CharField(blank=True, max_length=500)),
                        ('is_success', models.BooleanField(default=False)),
                        ('delivery', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='attempts', to='forwarding.delivery')),
                    ],
                    options={
                        'ordering': ['id'],
                        'db_table': 'tracker_deliveryattempt',
                    },
                ),
                migrations.CreateModel(
                    name='PostbackEndpoint',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(blank=True, max_length=100)),
                        ('url', models.CharField(max_length=2000)),
                        ('method', models.CharField(choices=[('GET', 'GET (values in the URL)'), ('POST', 'POST (values as a JSON body)')], default='GET', max_length=4)),
                        ('events', models.JSONField(default=list)),
                        ('is_active', models.BooleanField(default=True)),
                        ('secret', models.CharField(max_length=100)),
                        ('previous_secret', models.CharField(blank=True, max_length=100)),
                        ('previous_secret_expires_at', models.DateTimeField(blank=True, null=True)),
                        ('failing_since', models.DateTimeField(blank=True, null=True)),
                        ('last_success_at', models.DateTimeField(blank=True, null=True)),
                        ('disabled_at', models.DateTimeField(blank=True, null=True)),
                        ('disabled_reason', models.CharField(blank=True, max_length=255)),
                        ('created_at', models.DateTimeField()),
                        ('updated_at', models.DateTimeField()),
                        ('affiliate', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='postback_endpoints', to='accounts.affiliate')),
                        ('campaign', models.ForeignKey(blank=True, help_text="Only this campaign's events; empty for every campaign.", null=True, on_delete=django.db.models.deletion.CASCADE, related_name='postback_endpoints', to='campaigns.campaign')),
                    ],
                    options={
                        'ordering': ['-id'],
                        'db_table': 'tracker_postbackendpoint',
                    },
                ),
                migrations.AddField(
                    model_name='delivery',
                    name='endpoint',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='forwarding.postbackendpoint'),
                ),
                migrations.AddIndex(
                    model_name='postbackendpoint',
                    index=models.Index(fields=['affiliate', 'is_active'], name='endpoint_affiliate'),
                ),
                migrations.AddIndex(
                    model_name='delivery',
                    index=models.Index(condition=models.Q(('status', 'pending')), fields=['next_attempt_at'], name='delivery_due'),
                ),
                migrations.AddIndex(
                    model_name='delivery',
                    index=models.Index(fields=['endpoint', 'created_at'], name='delivery_endpoint_time'),
                ),
                migrations.AddIndex(
                    model_name='delivery',
                    index=models.Index(fields=['status', 'created_at'], name='delivery_status_time'),
                ),
                migrations.AddConstraint(
                    model_name='delivery',
                    constraint=models.UniqueConstraint(fields=('endpoint', 'conversion_id', 'event_key'), name='delivery_once_per_event'),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_move, content_types_move_back),
    ]
