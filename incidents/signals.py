"""What the incident policy tells the rest of Switchboard, once the change is committed.

The alerts app listens (alerts/apps.py): an opened outage starts an alert, a resolved incident
ends it. Incidents know nothing of who listens, so the layers keep pointing one way.
"""

from django.dispatch import Signal

# sender=Incident, incident=<Incident>: a producer opened it (incidents.policy.report).
incident_opened = Signal()
# sender=Incident, incident=<Incident>: a person or a producer resolved it (Incident.resolve).
incident_resolved = Signal()
# sender=Incident, incident=<Incident>, entry=<TimelineEntry>: a person posted an update for the public
# (Incident.post_update). The owner notices app tells the owners who subscribed.
public_update_posted = Signal()
