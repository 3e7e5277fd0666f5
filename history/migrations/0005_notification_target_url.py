from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("history", "0004_lanes_in_the_row"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="target_url",
            field=models.TextField(
                blank=True, default="", help_text="Set only for a receiver check of a bare URL."
            ),
        ),
    ]
