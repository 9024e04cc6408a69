import pytest

from pulumi_aoai_finetune.errors import ConfigurationError
from pulumi_aoai_finetune.settings import ProviderSettings


class FakeConfig(dict):
    def get(self, key):  # the dynamic provider's Config.get takes a namespaced key
        return super().get(key)


def test_defaults_target_azure_with_default_credential():
    s = ProviderSettings.load(None, environ={})
    assert s.arm_endpoint == "https://management.azure.com"
    assert s.credential == "default" and s.allow_insecure_loopback is False


def test_stack_config_wins_over_environment():
    cfg = FakeConfig({"aoai-finetune:armEndpoint": "http://127.0.0.1:1", "aoai-finetune:pollInterval": "0.5",
                      "aoai-finetune:allowInsecureLoopback": "true"})
    s = ProviderSettings.load(cfg, environ={"AOAI_FT_ARM_ENDPOINT": "https://other", "AOAI_FT_MAX_RETRIES": "2"})
    assert s.arm_endpoint == "http://127.0.0.1:1"
    assert s.poll_interval == 0.5 and s.allow_insecure_loopback is True and s.max_retries == 2


@pytest.mark.parametrize("env, message", [
    ({"AOAI_FT_CREDENTIAL": "magic"}, "aoai-finetune:credential"),
    ({"AOAI_FT_POLL_INTERVAL": "soon"}, "aoai-finetune:pollInterval"),
    ({"AOAI_FT_POLL_INTERVAL": "-1"}, "pollInterval must be a positive"),
    ({"AOAI_FT_ALLOW_INSECURE_LOOPBACK": "perhaps"}, "allowInsecureLoopback"),
    ({"AOAI_FT_ARM_ENDPOINT": "management.azure.com"}, "armEndpoint"),
])
def test_bad_settings_name_the_key(env, message):
    with pytest.raises(ConfigurationError) as err:
        ProviderSettings.load(None, environ=env)
    assert message in str(err.value)


def test_credentials_come_from_secret_config_or_the_environment_and_are_never_shown():
    cfg = FakeConfig({"aoai-finetune:apiKey": " cfg-key ", "aoai-finetune:accessToken": "cfg-token",
                      "aoai-finetune:credential": "token"})
    s = ProviderSettings.load(cfg, environ={"AZURE_OPENAI_API_KEY": "env-key"})
    assert (s.api_key, s.access_token) == ("cfg-key", "cfg-token")  # config wins, trimmed
    assert "cfg-key" not in repr(s) and "cfg-token" not in repr(s)
    env = ProviderSettings.load(None, environ={"AZURE_OPENAI_API_KEY": "env-key", "AOAI_FT_ACCESS_TOKEN": "env-token"})
    assert (env.api_key, env.access_token) == ("env-key", "env-token")
    assert ProviderSettings.load(None, environ={}).api_key == ""
