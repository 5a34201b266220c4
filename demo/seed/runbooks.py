"""The demo's runbooks: restoring the wiki, rebooting the dom0, getting into the colo, vz1."""

from hosts.models import Runbook

RESTORE_WIKI = """\
Restores wiki1 (Atlas Wiki) onto a fresh VM from the nightly backup in S3 and the WAL that
wiki1 ships to store1. Takes four to six hours, mostly waiting for downloads. The steps marked
**(new)** were missing during the dom0 outage.

1. **(new) Make a VM that can run PostgreSQL 8.3.** The backup restores only into 8.3: use
   Debian 5.0, or build 8.3 from source on something newer. 2 vCPUs, 4 GB RAM, and a separate
   300 GB volume mounted on /srv/postgresql *before* you restore (not the instance's scratch disk).
2. Install the versions in wiki1's *Software* list: PostgreSQL 8.3, duplicity, lighttpd and
   memcached. Check `duplicity --version`: an older duplicity cannot read the backup sets.
3. Create the system user the wiki runs as: `adduser --system --group atlas`.
4. **(new) Give the backup script its S3 credentials.** Copy `wiki-backup` from
   store1:/srv/tools/. It reads `S3_ACCESS_KEY_ID` and `S3_SECRET_ACCESS_KEY` from
   /etc/atlas/backup.env (mode 600); take them from the backup target “wiki1 nightly (S3)”
   in Switchboard (revealing them is recorded on the incident). Never put them in the script.
5. Point it at the bucket: `DESTINATION=s3://demo-wiki-backups/wiki1/duplicity/`, with the
   endpoint shown on the backup target.
6. Restore: `./wiki-backup --restore /srv/restore`. Load the base backup into
   /srv/postgresql/8.3/main, copy the WAL segments from store1:/srv/wal/wiki1/ and add a
   `recovery.conf` whose `restore_command` reads them. Start PostgreSQL and wait for
   “archive recovery complete”. Check the newest edit is there.
7. **(new) Turn encryption on.** Set `ENCRYPT_KEY` in /etc/atlas/backup.env to the co-op's
   backup key and run one backup; `duplicity collection-status` must report it encrypted.
   Switchboard's backup check marks the target *Unencrypted* otherwise.
8. From the restored /etc copy only: `lighttpd/`, the `lighttpd-ssl` init script (a copy of
   lighttpd's, needed for HTTPS), `memcached.conf` (port **11311**; on the default port every
   page is slow) and `postgresql.conf` (keep the tuning; comment out `archive_command` for now).
9. Start memcached, lighttpd and lighttpd-ssl. Open the VM's IP address in a browser: the
   front page should load.
10. Load-test a few pages (`ab -n 200 -c 5`). Expect well over 50 requests/second; around 12
    means memcached is on the wrong port.
11. **(new) Re-enable WAL shipping:** put the VM's SSH key on store1, uncomment
    `archive_command`, and check the heartbeat “wiki1 WAL shipping” turns green within 15 minutes.
12. Point atlas.example.org and www.atlas.example.org at the new address; update wiki1's IP
    addresses in Switchboard.
13. Reboot the VM once and check everything comes back by itself. Record the drill here.
"""

AFTER_DOM0_REBOOT = """\
xen1's guests do not start by themselves, on purpose: a crash loop must not keep restarting
the wiki's database.

1. **Before a planned reboot**, stop the wiki's database first: `xm console wiki1`, then
   `/etc/init.d/postgresql-8.3 stop`; then `xm shutdown -w -a`.
2. If the dom0 does not come back, it is probably waiting at a filesystem-check prompt.
   Someone on site answers it (see Foghorn Street Colo's access list), or use the serial
   console server at U40.
3. Check the dom0: `xm list` shows only Domain-0; `df -h` shows /srv/xen mounted.
4. Start the database guest first: `xm create /etc/xen/wiki1.cfg`. On wiki1, wait for
   “database system is ready” in /var/log/postgresql/postgresql-8.3-main.log.
5. `xm create /etc/xen/blog1.cfg`.
6. On wiki1 start memcached, lighttpd and lighttpd-ssl (wiki1's startup steps).
7. Check the monitors of xen1, wiki1 and blog1 are green and say so on the incident.
"""

FOGHORN_RUNBOOK = """\
1. Look at the site's access list in Switchboard: who holds a badge or key *today*. Call them
   (tap the number); mind their local time.
2. Call the security desk (+1 555 0150) at least 30 minutes ahead; give your name as it is on
   the co-op's access list and account DEMO-COLO-118.
3. Bring photo ID. Badge holders sign in at the ground-floor badge desk and go up alone.
4. Escort-only volunteers wait at the desk until a badge or key holder collects them; the
   escort stays with them and signs them out.
5. Rack R3, cage 2, 4th floor. PDU foghorn-pdu1 at the top: outlets 1–2 are xen1, 3 is
   store1, 4 is the switch (never cycle it). Serial console server at U40.
6. Before leaving, write what you did on the incident or the machine's page.
"""

VZ1_RUNBOOK = """\
1. Ask Lakeshore Remote Hands (+1 555 0160, account LKS-DEMO-4417) to read the console to you.
2. If Windows is at the logon screen, the auto-logon failed: ask them to log on as VZADMIN
   with the password from the co-op's password store; the batch script then runs.
3. If the Virtuozzo service is stopped, ask for a reboot once. If it still fails, stop and
   raise it on the co-op list: do not reinstall without a copy of the containers.
4. Check the ten containers' monitors; restart single ones with `vzctl restart <CTID>`.
"""


def seed_runbooks(s, sites, machines, guests):
    """The restore, reboot, site-access and vz1 runbooks."""
    s.ensure(
        Runbook,
        {"title": "Restore the wiki from backup", "guest": guests["wiki1"]},
        {
            "body": RESTORE_WIKI,
            "last_exercised_at": s.days_ago(40),
            "last_exercised_note": "Followed during the dom0 outage; steps 1, 4, 7 and 11 added afterwards.",
        },
    )
    s.ensure(Runbook, {"title": "After a dom0 reboot", "machine": machines["xen1"]}, {"body": AFTER_DOM0_REBOOT})
    s.ensure(
        Runbook, {"title": "Getting into Foghorn Street Colo", "site": sites["foghorn"]}, {"body": FOGHORN_RUNBOOK}
    )
    s.ensure(Runbook, {"title": "vz1 does not come back", "machine": machines["vz1"]}, {"body": VZ1_RUNBOOK})
