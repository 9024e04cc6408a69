"""Drive the Terraform provider at the protocol level, as the CLI does: start the plugin process, read
its go-plugin handshake, connect over mutual TLS to the socket it announces, and call the tfplugin6
RPCs with msgpack values."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import grpc
import msgpack

from pulumi_aoai_finetune.adapters.terraform import wire
from pulumi_aoai_finetune.adapters.terraform.server import MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE

LAUNCHER = Path(sys.executable).with_name("terraform-provider-aoai")


def client_certificate() -> tuple[bytes, bytes]:
    """The CLI's side of AutoMTLS: a key pair and self-signed certificate, made as the plugin makes its own."""
    from pulumi_aoai_finetune.adapters.terraform.server import _certificate

    cert, key = _certificate()
    return cert, key


def server_pem(handshake_cert: str) -> bytes:
    der = base64.b64decode(handshake_cert + "=" * (-len(handshake_cert) % 4))
    body = base64.encodebytes(der).decode()
    return f"-----BEGIN CERTIFICATE-----\n{body}-----END CERTIFICATE-----\n".encode()


class Plugin:
    """One provider process and a gRPC client on it."""

    def __init__(self, env: dict[str, str], cwd: Path, *, client_cert: tuple[bytes, bytes] | None = None) -> None:
        from tf.gen import grpc_controller_pb2_grpc, tfplugin_pb2 as pb, tfplugin_pb2_grpc

        self.pb = pb
        cert, key = client_cert or client_certificate()
        full_env = {**env, MAGIC_COOKIE_KEY: MAGIC_COOKIE_VALUE, "PLUGIN_CLIENT_CERT": cert.decode()}
        self.proc = subprocess.Popen([str(LAUNCHER)], env=full_env, cwd=cwd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        parts = line.split("|")
        assert len(parts) == 6 and parts[:2] == ["1", "6"] and parts[2] == "unix" and parts[4] == "grpc", line
        self.handshake = parts
        creds = grpc.ssl_channel_credentials(root_certificates=server_pem(parts[5]), private_key=key,
                                             certificate_chain=cert)
        self.channel = grpc.secure_channel(f"unix://{parts[3]}", creds,
                                           options=[("grpc.ssl_target_name_override", "localhost")])
        self.stub = tfplugin6_stub = tfplugin_pb2_grpc.ProviderStub(self.channel)
        self.controller = grpc_controller_pb2_grpc.GRPCControllerStub(self.channel)
        self.rpc = tfplugin6_stub

    # -- values --------------------------------------------------------------------------------------
    def dyn(self, value: Any):
        return self.pb.DynamicValue(msgpack=wire.pack(value))

    @staticmethod
    def undyn(value) -> Any:
        return wire.unpack(value.msgpack) if value.msgpack else None

    # -- calls ---------------------------------------------------------------------------------------
    def schema(self):
        return self.rpc.GetProviderSchema(self.pb.GetProviderSchema.Request())

    def configure(self, config: dict) -> list:
        full = {name: None for name in schema_provider_names()}
        full.update(config)
        return list(self.rpc.ConfigureProvider(self.pb.ConfigureProvider.Request(config=self.dyn(full))).diagnostics)

    def plan(self, type_name: str, prior: dict | None, config: dict | None, prior_private: bytes = b""):
        proposed = None if config is None else {**(prior or {}), **config}
        return self.rpc.PlanResourceChange(self.pb.PlanResourceChange.Request(
            type_name=type_name, prior_state=self.dyn(prior), proposed_new_state=self.dyn(proposed),
            config=self.dyn(config), prior_private=prior_private))

    def apply(self, type_name: str, prior: dict | None, planned: dict | None, config: dict | None,
              planned_private: bytes = b""):
        return self.rpc.ApplyResourceChange(self.pb.ApplyResourceChange.Request(
            type_name=type_name, prior_state=self.dyn(prior), planned_state=self.dyn(planned),
            config=self.dyn(config), planned_private=planned_private))

    def read(self, type_name: str, state: dict, private: bytes = b""):
        return self.rpc.ReadResource(self.pb.ReadResource.Request(type_name=type_name,
                                                                  current_state=self.dyn(state), private=private))

    def import_(self, type_name: str, id_: str):
        return self.rpc.ImportResourceState(self.pb.ImportResourceState.Request(type_name=type_name, id=id_))

    def stop(self):
        return self.rpc.StopProvider(self.pb.StopProvider.Request())

    def close(self) -> None:
        from tf.gen import grpc_controller_pb2

        try:
            self.controller.Shutdown(grpc_controller_pb2.Empty(), timeout=5)
        except grpc.RpcError:
            pass
        self.channel.close()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.stderr = self.proc.stderr.read()


def schema_provider_names() -> list[str]:
    from pulumi_aoai_finetune.adapters.terraform import schema

    return [a.name for a in schema.PROVIDER]


def config_for(type_name: str, **values) -> dict:
    """A full configuration object: every attribute of the type, null unless given (as the CLI sends)."""
    from pulumi_aoai_finetune.adapters.terraform import schema

    out = {}
    for attr in schema.RESOURCES[type_name]:
        if attr.kind == "computed":
            out[attr.name] = None
        else:
            out[attr.name] = values.pop(attr.name, None)
    assert not values, f"not attributes of {type_name}: {sorted(values)}"
    return out


def dynamic(value: Any) -> list:
    """A value for a ``dynamic`` attribute, with its cty type, as the CLI sends it."""
    cty_type, wire_value = wire.infer(value)
    return [json.dumps(cty_type).encode(), wire_value]


def write_chat_jsonl(path: Path, n: int) -> Path:
    """``n`` valid chat examples."""
    path.write_text("".join(json.dumps({"messages": [
        {"role": "user", "content": f"What is {i} + {i}?"},
        {"role": "assistant", "content": f"{2 * i}."}]}) + "\n" for i in range(n)), encoding="utf-8")
    return path


def diagnostics(response) -> list[tuple[str, str, str]]:
    names = {0: "invalid", 1: "error", 2: "warning"}
    return [(names.get(d.severity, str(d.severity)), d.summary, d.detail) for d in response.diagnostics]
