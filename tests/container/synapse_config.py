"""Writes a homeserver.yaml for the container test's Synapse on the host.

It starts from deploy/synapse/homeserver.yaml (the file the Synapse compose
example mounts), so that file is checked by a real Synapse too, and changes
only what running outside a container and under a test needs: paths under
DIR instead of /data, 127.0.0.1:PORT, every rate limit lifted, logs to a file.

Usage: python synapse_config.py DEPLOY_CONFIG DIR PORT  (Synapse's venv python,
which has PyYAML).
"""

import sys

import yaml

source, directory, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(source) as f:
    config = yaml.safe_load(f)


def relocate(value):
    if isinstance(value, str) and value.startswith("/data/"):
        return directory + value[len("/data"):]
    if isinstance(value, dict):
        return {k: relocate(v) for k, v in value.items()}
    if isinstance(value, list):
        return [relocate(v) for v in value]
    return value


config = relocate(config)
for listener in config["listeners"]:
    listener["port"] = port
    listener["bind_addresses"] = ["127.0.0.1"]
config["public_baseurl"] = f"http://127.0.0.1:{port}/"
config["log_config"] = f"{directory}/log.yaml"

UNLIMITED = {"per_second": 10000, "burst_count": 100000}
RATE_LIMITS = {
    "rc_message": None,
    "rc_registration": None,
    "rc_registration_token_validity": None,
    "rc_login": ["address", "account", "failed_attempts"],
    "rc_admin_redaction": None,
    "rc_joins": ["local", "remote"],
    "rc_joins_per_room": None,
    "rc_key_requests": None,
    "rc_3pid_validation": None,
    "rc_invites": ["per_room", "per_user", "per_issuer"],
    "rc_third_party_invite": None,
    "rc_media_create": None,
    "rc_presence": ["per_user"],
    "rc_delayed_event_mgmt": None,
    "rc_room_creation": None,
    "rc_reports": None,
    "rc_user_directory": None,
    "rc_profile": None,
}
for name, keys in RATE_LIMITS.items():
    config[name] = dict(UNLIMITED) if keys is None else {k: dict(UNLIMITED) for k in keys}

with open(f"{directory}/homeserver.yaml", "w") as f:
    yaml.safe_dump(config, f, sort_keys=False)
with open(f"{directory}/log.yaml", "w") as f:
    yaml.safe_dump(
        {
            "version": 1,
            "formatters": {"precise": {"format": "%(asctime)s - %(name)s - %(levelname)s - %(message)s"}},
            "handlers": {
                "file": {
                    "class": "logging.FileHandler",
                    "formatter": "precise",
                    "filename": f"{directory}/homeserver.log",
                }
            },
            "root": {"level": "WARNING", "handlers": ["file"]},
            "disable_existing_loggers": False,
        },
        f,
    )
