"""Unit tests of plugin_utils/settings.py: the source's and the filter's arguments."""

import pytest

from ansible_collections.sotsync.nautobot.plugins.plugin_utils import settings as st


# --- arguments ------------------------------------------------------------------------------------
BASE_ARGS = {"port": 5001, "secret": "k", "models": ["device"]}


def test_args_defaults():
    settings = st.validate_args(dict(BASE_ARGS), environ={})
    assert settings.host == "0.0.0.0"
    assert settings.port == 5001
    assert settings.path == "/"
    assert settings.secret == b"k"
    assert settings.max_body_bytes == 1024 * 1024
    assert settings.coalesce_seconds == 0.0
    assert settings.lone_event_seconds == 2.0
    assert settings.ready_statuses == ("Active", "Planned", "Staged")
    assert settings.models == ("dcim.device",)
    assert settings.nautobot_url is None


def test_args_default_models_need_nautobot():
    settings = st.validate_args(
        {"port": "5001", "secret": "k"}, environ={"NAUTOBOT_URL": "http://nb:8080/", "NAUTOBOT_TOKEN": "t"}
    )
    assert settings.models == ("dcim.device", "ipam.ipaddress")
    assert settings.port == 5001
    assert settings.nautobot_url == "http://nb:8080"
    assert settings.nautobot_token == "t"


def test_args_arguments_win_over_environment():
    settings = st.validate_args(
        dict(BASE_ARGS, nautobot_url="https://a", nautobot_token="x"),
        environ={"NAUTOBOT_URL": "http://b", "NAUTOBOT_TOKEN": "y"},
    )
    assert (settings.nautobot_url, settings.nautobot_token) == ("https://a", "x")


def test_args_repr_hides_secrets():
    settings = st.validate_args(
        dict(BASE_ARGS, secret="topsecret", nautobot_url="http://nb", nautobot_token="tok123"), environ={}
    )
    assert "topsecret" not in repr(settings) and "tok123" not in repr(settings)


def test_args_insecure_without_secret():
    settings = st.validate_args({"port": 5001, "insecure_no_signature": "true", "models": "device"}, environ={})
    assert settings.secret is None and settings.insecure_no_signature


def test_args_ignore_rulebook_internals():
    assert st.validate_args(dict(BASE_ARGS, eda_feedback_queue=object()), environ={}).port == 5001


def test_args_tls_pair(tmp_path):
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    cert.write_text("x")
    key.write_text("y")
    settings = st.validate_args(dict(BASE_ARGS, certfile=str(cert), keyfile=str(key)), environ={})
    assert settings.certfile == str(cert)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param({"secret": "k", "models": ["device"]}, "Missing required argument: port", id="no-port"),
        pytest.param(dict(BASE_ARGS, port="http"), "port must be an integer", id="port-text"),
        pytest.param(dict(BASE_ARGS, port=70000), "port must be between 1 and 65535", id="port-range"),
        pytest.param(dict(BASE_ARGS, port=True), "port must be an integer", id="port-bool"),
        pytest.param(dict(BASE_ARGS, port=50.5), "port must be an integer", id="port-float"),
        pytest.param({"port": 5001, "models": ["device"]}, "Missing required argument: secret", id="no-secret"),
        pytest.param(
            {"port": 5001, "secret": "", "models": ["device"]}, "Missing required argument: secret", id="empty-secret"
        ),
        pytest.param(dict(BASE_ARGS, secret=12), "secret must be a string", id="secret-number"),
        pytest.param(
            dict(BASE_ARGS, insecure_no_signature="maybe"), "insecure_no_signature must be true or false", id="bad-bool"
        ),
        pytest.param(dict(BASE_ARGS, certfile="/nonexistent.pem"), "certfile and keyfile go together", id="cert-only"),
        pytest.param(dict(BASE_ARGS, keyfile="/nonexistent.pem"), "certfile and keyfile go together", id="key-only"),
        pytest.param(dict(BASE_ARGS, certfile="/no/c.pem", keyfile="/no/k.pem"), "does not exist", id="missing-files"),
        pytest.param(dict(BASE_ARGS, path="hook"), "path must start with '/'", id="relative-path"),
        pytest.param(dict(BASE_ARGS, max_body_bytes=0), "max_body_bytes must be at least 1", id="zero-body"),
        pytest.param(
            dict(BASE_ARGS, coalesce_seconds=-1), "coalesce_seconds must be a finite number", id="negative-window"
        ),
        pytest.param(dict(BASE_ARGS, coalesce_seconds="soon"), "coalesce_seconds must be a number", id="window-text"),
        pytest.param(dict(BASE_ARGS, models=[]), "models must be a non-empty list", id="no-models"),
        pytest.param(dict(BASE_ARGS, models=["device", "circuit"]), "unknown model 'circuit'", id="unknown-model"),
        pytest.param(
            {"port": 5001, "secret": "k"}, "ipaddress events need a Nautobot", id="ipaddress-without-nautobot"
        ),
        pytest.param(dict(BASE_ARGS, nautobot_url="http://nb"), "nautobot_token is not", id="url-without-token"),
        pytest.param(
            dict(BASE_ARGS, nautobot_url="nb:8080", nautobot_token="t"), "must start with http", id="url-scheme"
        ),
        pytest.param(dict(BASE_ARGS, secert="k"), "unknown argument(s): secert", id="typo"),
        pytest.param("port=5000", "must be a mapping", id="not-a-mapping"),
    ],
)
def test_args_rejected(args, message):
    with pytest.raises(ValueError) as err:
        st.validate_args(args, environ={})
    assert message in str(err.value)


def test_ready_statuses_argument_is_checked():
    assert st.validate_args({"port": 5001, "secret": "k", "models": ["device"], "ready_statuses": "Active, Staged"})
    with pytest.raises(ValueError, match="ready_statuses"):
        st.validate_args({"port": 5001, "secret": "k", "models": ["device"], "ready_statuses": [1]})


def test_filter_args_defaults_and_values():
    assert st.validate_filter_args({}) == st.FilterSettings()
    settings = st.validate_filter_args({"ready_statuses": "Active, Staged", "lone_event_seconds": "0"})
    assert settings == st.FilterSettings(ready_statuses=("Active", "Staged"), lone_event_seconds=0.0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"ready_statuses": "{{ ready_statuses }}"}, "does not template event filter arguments"),
        ({"ready_statuses": [1]}, "ready_statuses must be a list"),
        ({"lone_event_seconds": -1}, "lone_event_seconds must be a finite number"),
        ({"secret": "x"}, "unknown argument(s): secret"),
    ],
)
def test_filter_args_rejected(args, message):
    with pytest.raises(ValueError, match=None) as err:
        st.validate_filter_args(args)
    assert message in str(err.value)
