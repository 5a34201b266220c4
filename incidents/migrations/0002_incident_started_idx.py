"""An index for the newest incidents touching a machine or guest (the timeline on its page)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0001_initial"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="incident",
            index=models.Index(fields=["-started_at"], name="incident_started_idx"),
        ),
    ]
