"""The plugin process: go-plugin handshake, TLS, gRPC service of protocol 6, stop and shutdown.

The protocol's generated stubs come from the PyPI ``tf`` library (``tf.gen``); its servicer and its
runner are replaced where they are wrong for long-running, paid operations (``tf`` 1.2.0):

1. **Stop kills in-flight applies.** ``tf`` shuts the gRPC server down when the CLI sends
   StopProvider (Ctrl-C): a create in progress dies with "plugin did not respond" and an object
   already created is orphaned. Here StopProvider only asks every wait to end
   (:func:`.._wait.request_stop`); the calls answer with what exists; the server stops on the
   go-plugin Shutdown call (or when the CLI closes stdin / goes away). SIGINT, which a terminal
   sends to the whole process group, is ignored, as Go plugins do. The worker pool is larger than
   Terraform's parallelism (10), so StopProvider is served while ten applies wait.
2. **Refined unknowns** (msgpack extension 12) are unknown values here (:mod:`.wire`).
3. **PlanResourceChange** is the controllers' check and diff for creates too, and an update plans
   unknown exactly the outputs it changes (:mod:`.adapter`).
4. **TLS**: ``tf`` caches a 1024-bit RSA key for 7 days under ``$HOME/.cache`` (any process of the
   user may read it, and it outlives the process). Here a P-256 key and certificate are made in
   memory for each process and never written. Like ``tf``, the server does not authenticate the
   client by its certificate: go-plugin's client key is P-521, which gRPC's BoringSSL does not
   accept for client authentication (tried: the CLI then sends no certificate and every call fails
   with PEER_DID_NOT_RETURN_A_CERTIFICATE). The socket's directory (0700) keeps other users out.

Errors reach the user as diagnostics with the message only: never a Python traceback.
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import signal
import sys
import threading
from concurrent import futures
from typing import Any, Optional

from ... import _wait
from ...errors import AoaiFinetuneError
from . import schema, wire
from .adapter import ADAPTERS, Diagnostic, Result, ResourceAdapter, for_terraform

MAGIC_COOKIE_KEY = "TF_PLUGIN_MAGIC_COOKIE"
MAGIC_COOKIE_VALUE = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"
WORKERS = 32  # > Terraform's default parallelism (10): StopProvider is never queued behind applies


def _pb():
    from tf.gen import tfplugin_pb2

    return tfplugin_pb2


def _dyn(value: Any):
    return _pb().DynamicValue(msgpack=wire.pack(value))


def _undyn(value: Any) -> Any:
    """A request's DynamicValue -> wire form (None for null)."""
    if value is None:
        return None
    if value.msgpack:
        return wire.unpack(value.msgpack)
    if value.json:
        return json.loads(value.json)
    return None


def _diagnostics(diags: list[Diagnostic]) -> list:
    pb = _pb()
    out = []
    for d in diags:
        fields = {"severity": pb.Diagnostic.ERROR if d.severity == "error" else pb.Diagnostic.WARNING,
                  "summary": d.summary, "detail": d.detail}
        if d.attribute:
            fields["attribute"] = pb.AttributePath(steps=[pb.AttributePath.Step(attribute_name=d.attribute)])
        out.append(pb.Diagnostic(**fields))
    return out


def _error(exc: BaseException) -> list[Diagnostic]:
    if isinstance(exc, AoaiFinetuneError):
        text = for_terraform(f"{type(exc).__name__}: {exc}")
    else:  # a bug of ours: the message, never a traceback
        text = f"internal error of the aoai provider: {type(exc).__name__}: {exc}"
    return [Diagnostic("error", text.partition("\n")[0][:300], text)]


class ProviderService:
    """The tfplugin6 Provider service (methods named as the protocol's RPCs)."""

    def __init__(self) -> None:
        self._settings = None
        self._settings_error: Optional[str] = None
        self._lock = threading.Lock()
        self.adapters: dict[str, ResourceAdapter] = {cls.type_name: cls(self.settings) for cls in ADAPTERS}

    # -- settings --------------------------------------------------------------------------------
    def settings(self):
        from ...settings import ProviderSettings

        if self._settings_error:
            raise AoaiFinetuneError(self._settings_error)
        with self._lock:
            if self._settings is None:
                self._settings = ProviderSettings.load()
            return self._settings

    # -- schema and metadata ---------------------------------------------------------------------
    def GetMetadata(self, request, context):  # noqa: N802
        pb = _pb()
        return pb.GetMetadata.Response(
            server_capabilities=pb.ServerCapabilities(plan_destroy=False, get_provider_schema_optional=False),
            resources=[pb.GetMetadata.ResourceMetadata(type_name=name) for name in self.adapters])

    def GetProviderSchema(self, request, context):  # noqa: N802
        pb = _pb()
        return pb.GetProviderSchema.Response(
            provider=pb.Schema(version=0, block=schema.block_pb(schema.PROVIDER, "Azure OpenAI fine-tuning")),
            resource_schemas={name: pb.Schema(version=0, block=schema.block_pb(adapter.attrs, adapter.source.description))
                              for name, adapter in self.adapters.items()},
            provider_meta=pb.Schema(version=0, block=pb.Schema.Block()))

    def ValidateProviderConfig(self, request, context):  # noqa: N802
        return _pb().ValidateProviderConfig.Response()

    def ConfigureProvider(self, request, context):  # noqa: N802
        from ... import clients
        from ...controller import load_check_modules
        from ...settings import NAMESPACE, ProviderSettings

        pb = _pb()
        config = _undyn(request.config) or {}
        values = {}
        for name, key in schema.PROVIDER_KEYS.items():
            value = config.get(name)
            if value is not None and not wire.is_wire_unknown(value):
                values[f"{NAMESPACE}:{key}"] = value
        try:
            load_check_modules()
            clients.load_sdks()
            settings = ProviderSettings.load(values)
        except AoaiFinetuneError as exc:
            self._settings_error = for_terraform(str(exc))
            return pb.ConfigureProvider.Response(diagnostics=_diagnostics(_error(exc)))
        with self._lock:
            self._settings, self._settings_error = settings, None
        return pb.ConfigureProvider.Response()

    def ValidateResourceConfig(self, request, context):  # noqa: N802
        return _pb().ValidateResourceConfig.Response()

    def ValidateDataResourceConfig(self, request, context):  # noqa: N802
        return _pb().ValidateDataResourceConfig.Response()

    def UpgradeResourceState(self, request, context):  # noqa: N802
        pb = _pb()
        adapter = self.adapters[request.type_name]
        try:
            raw = json.loads(request.raw_state.json) if request.raw_state.json else {}
            state = {a.name: wire.from_json_state(raw.get(a.name), a.type) for a in adapter.attrs}
        except (ValueError, KeyError, TypeError) as exc:
            return pb.UpgradeResourceState.Response(diagnostics=_diagnostics(
                [Diagnostic("error", f"the state of this {adapter.kind_name} cannot be read: {exc}")]))
        return pb.UpgradeResourceState.Response(upgraded_state=_dyn(state))

    # -- lifecycle -------------------------------------------------------------------------------
    def PlanResourceChange(self, request, context):  # noqa: N802
        pb = _pb()
        adapter = self.adapters[request.type_name]
        try:
            result = adapter.plan(_undyn(request.prior_state), _undyn(request.proposed_new_state),
                                  _undyn(request.config), request.prior_private)
        except Exception as exc:  # noqa: BLE001 - reported as a diagnostic
            return pb.PlanResourceChange.Response(diagnostics=_diagnostics(_error(exc)))
        if any(d.severity == "error" for d in result.diagnostics):
            return pb.PlanResourceChange.Response(diagnostics=_diagnostics(result.diagnostics))
        return pb.PlanResourceChange.Response(
            planned_state=_dyn(result.state), planned_private=result.private,
            requires_replace=[pb.AttributePath(steps=[pb.AttributePath.Step(attribute_name=p) for p in path])
                              for path in result.requires_replace],
            diagnostics=_diagnostics(result.diagnostics), legacy_type_system=result.keeps_imported)

    def ApplyResourceChange(self, request, context):  # noqa: N802
        pb = _pb()
        adapter = self.adapters[request.type_name]
        prior = _undyn(request.prior_state)
        try:
            result = adapter.apply(prior, _undyn(request.planned_state), request.planned_private)
        except Exception as exc:  # noqa: BLE001 - the object is unchanged (or was not created)
            result = Result(state=prior, diagnostics=_error(exc))
            result.private = b""
        response = pb.ApplyResourceChange.Response(new_state=_dyn(result.state),
                                                   diagnostics=_diagnostics(result.diagnostics))
        if result.private:
            response.private = result.private
        return response

    def ReadResource(self, request, context):  # noqa: N802
        pb = _pb()
        adapter = self.adapters[request.type_name]
        current = _undyn(request.current_state)
        try:
            result = adapter.read(current, request.private)
        except Exception as exc:  # noqa: BLE001 - keep what the state says
            return pb.ReadResource.Response(new_state=request.current_state, private=request.private,
                                            diagnostics=_diagnostics(_error(exc)))
        return pb.ReadResource.Response(new_state=_dyn(result.state), private=result.private,
                                        diagnostics=_diagnostics(result.diagnostics))

    def ImportResourceState(self, request, context):  # noqa: N802
        pb = _pb()
        adapter = self.adapters[request.type_name]
        try:
            result = adapter.import_(request.id)
        except Exception as exc:  # noqa: BLE001
            return pb.ImportResourceState.Response(diagnostics=_diagnostics(_error(exc)))
        imported = []
        if result.state is not None:
            imported.append(pb.ImportResourceState.ImportedResource(type_name=request.type_name,
                                                                     state=_dyn(result.state),
                                                                     private=result.private))
        return pb.ImportResourceState.Response(imported_resources=imported,
                                               diagnostics=_diagnostics(result.diagnostics))

    def MoveResourceState(self, request, context):  # noqa: N802
        pb = _pb()
        return pb.MoveResourceState.Response(diagnostics=_diagnostics(
            [Diagnostic("error", "moving state between resource types is not supported by the aoai provider")]))

    def ReadDataSource(self, request, context):  # noqa: N802
        pb = _pb()
        return pb.ReadDataSource.Response(diagnostics=_diagnostics(
            [Diagnostic("error", f"the aoai provider has no data source {request.type_name}")]))

    def GetFunctions(self, request, context):  # noqa: N802
        return _pb().GetFunctions.Response()

    def StopProvider(self, request, context):  # noqa: N802
        # Defect 1 of tf: never stop the server here. Waits end; the calls answer with what exists.
        _wait.request_stop()
        return _pb().StopProvider.Response()


# -- the process ---------------------------------------------------------------------------------
def _certificate() -> tuple[bytes, bytes]:
    """A fresh P-256 key and self-signed certificate (PEM), in memory only."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "aoai-finetune")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=True,
                                         data_encipherment=False, key_agreement=True, key_cert_sign=True,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                           critical=False)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def serve(argv: Optional[list[str]] = None) -> int:
    """Run the plugin: print the handshake line on stdout and serve until Shutdown."""
    import tempfile

    import grpc
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from tf.gen import grpc_controller_pb2 as controller_pb
    from tf.gen import grpc_controller_pb2_grpc as controller_rpc
    from tf.gen import grpc_stdio_pb2_grpc as stdio_rpc
    from tf.gen import tfplugin_pb2_grpc as rpc

    if os.environ.get(MAGIC_COOKIE_KEY) != MAGIC_COOKIE_VALUE:
        print("This binary is a plugin of Terraform and OpenTofu: it is started by `tofu` or `terraform`, not by "
              "hand. See the README, \"Terraform and OpenTofu\", for how to install it.", file=sys.stderr)
        return 1
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the CLI's StopProvider is the way to stop (defect 1)
    sys.tracebacklimit = 0

    done = threading.Event()
    service = ProviderService()
    servicer = type("Servicer", (rpc.ProviderServicer,), {
        name: getattr(service, name, None) or getattr(rpc.ProviderServicer, name)
        for name in dir(rpc.ProviderServicer) if name[:1].isupper()})()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=WORKERS))
    rpc.add_ProviderServicer_to_server(servicer, server)

    class Controller(controller_rpc.GRPCControllerServicer):
        def Shutdown(self, request, context):  # noqa: N802
            done.set()
            return controller_pb.Empty()

    class Stdio(stdio_rpc.GRPCStdioServicer):
        def StreamStdio(self, request, context):  # noqa: N802
            return iter(())

    controller_rpc.add_GRPCControllerServicer_to_server(Controller(), server)
    stdio_rpc.add_GRPCStdioServicer_to_server(Stdio(), server)

    cert_pem, key_pem = _certificate()
    # The client is not authenticated by TLS: go-plugin's client certificate (PLUGIN_CLIENT_CERT) has a
    # P-521 key, which gRPC's TLS stack (BoringSSL) does not offer for client authentication, so the
    # CLI would send none and every call would fail. Who may call is decided by the socket's
    # directory instead: created 0700, only this user can reach the socket.
    credentials = grpc.ssl_server_credentials([(key_pem, cert_pem)])
    with tempfile.TemporaryDirectory(prefix="tf-aoai-") as tmp:
        socket_path = os.path.join(tmp, "plugin.sock")
        server.add_secure_port(f"unix://{socket_path}", credentials)
        server.start()
        der = x509.load_pem_x509_certificate(cert_pem).public_bytes(serialization.Encoding.DER)
        print(f"1|6|unix|{socket_path}|grpc|{base64.b64encode(der).decode().rstrip('=')}", flush=True)

        parent = os.getppid()

        def watch_parent() -> None:  # the CLI died without Shutdown (killed): do not linger
            while not done.wait(1.0):
                if os.getppid() != parent:
                    done.set()

        threading.Thread(target=watch_parent, daemon=True).start()
        done.wait()
        _wait.request_stop()
        server.stop(grace=5).wait()
    return 0


def main() -> None:
    try:
        import tf.gen  # noqa: F401
    except ImportError:
        print("the Terraform provider needs the `tf` package: pip install 'pulumi-aoai-finetune[terraform]'",
              file=sys.stderr)
        raise SystemExit(1)
    raise SystemExit(serve(sys.argv[1:]))
